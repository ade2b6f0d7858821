package httpapi

import (
	"net/http"
	"strings"

	"github.com/teamusers/usersapi/internal/users"
)

// The team's SCIM tokens, for its admins: made (shown once), listed
// (never the secret again), revoked. The SCIM service itself is scim.go.

type scimTokenJSON struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	CreatedAt *string `json:"createdAt"`
	CreatedBy string  `json:"createdBy,omitempty"`
}

type newSCIMTokenJSON struct {
	scimTokenJSON
	Token   string `json:"token"`   // shown this once; only its hash is kept
	BaseURL string `json:"baseUrl"` // the SCIM service to give the identity provider
}

func tokenJSON(t users.SCIMToken) scimTokenJSON {
	return scimTokenJSON{ID: t.ID, Name: t.Name, CreatedAt: timeJSON(t.CreatedAt), CreatedBy: t.CreatedBy}
}

func createSCIMToken(d Deps) http.HandlerFunc {
	return d.teamHandler(func(w http.ResponseWriter, r *http.Request, a teamAccess) error {
		var body struct {
			Name string `json:"name"`
		}
		if err := decodeJSON(w, r, &body); err != nil {
			return err
		}
		name, err := users.CheckTeamName(body.Name)
		if err != nil {
			return users.Errorf(users.KindInvalid, "invalid_name", "name must be 1 to %d characters of text without line breaks (e.g. \"Okta\").", users.MaxTeamName)
		}
		secret, tok := users.NewSCIMToken(a.Team.ID, name, a.Caller.Email, d.Now().UTC())
		if err := d.SCIM.CreateSCIMToken(r.Context(), tok); err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, newSCIMTokenJSON{scimTokenJSON: tokenJSON(tok), Token: secret, BaseURL: scimBaseURL(r)})
		return nil
	})
}

func listSCIMTokens(d Deps) http.HandlerFunc {
	return d.teamHandler(func(w http.ResponseWriter, r *http.Request, a teamAccess) error {
		toks, err := d.SCIM.SCIMTokens(r.Context(), a.Team.ID)
		if err != nil {
			return err
		}
		out := make([]scimTokenJSON, len(toks))
		for i, t := range toks {
			out[i] = tokenJSON(t)
		}
		writeJSON(w, http.StatusOK, map[string]any{"tokens": out, "baseUrl": scimBaseURL(r)})
		return nil
	})
}

func revokeSCIMToken(d Deps) http.HandlerFunc {
	return d.teamHandler(func(w http.ResponseWriter, r *http.Request, a teamAccess) error {
		id := r.PathValue("tokenId")
		if !validID(id) {
			return users.Errorf(users.KindNotFound, "scim_token_not_found", "No such SCIM token in this team.")
		}
		if err := d.SCIM.RevokeSCIMToken(r.Context(), a.Team.ID, id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// scimBaseURL is the SCIM service's address as the caller reached this
// API: its host, https unless the request says otherwise (the local stack
// is plain http).
func scimBaseURL(r *http.Request) string {
	scheme := "https"
	if p := r.Header.Get("X-Forwarded-Proto"); p != "" {
		scheme = p
	} else if h := r.Host; strings.HasPrefix(h, "127.0.0.1") || strings.HasPrefix(h, "localhost") {
		scheme = "http"
	}
	return scheme + "://" + r.Host + "/scim/v2"
}
