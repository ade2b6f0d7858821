package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/teamusers/usersapi/internal/scim"
	"github.com/teamusers/usersapi/internal/usecase"
	"github.com/teamusers/usersapi/internal/users"
)

// The SCIM service (/scim/v2) for a team's identity provider. The team's
// SCIM token is the credential, checked here by the functions themselves
// rather than by a Lambda authorizer: an authorizer's answer is cached (up
// to an hour) by API Gateway, so a revoked token would keep working until
// the cache forgot it, or, without caching, every request would pay a
// second Lambda invocation. Here the check is one strongly consistent
// read of the token's item beside the team's (one BatchGetItem, which the
// request needs anyway), and a revoked token fails the very next request.
//
// Every change is made by the rules of package users, through the same
// store transactions as the portal's, with the token's name as the audit
// log's actor (kind scim). Errors are SCIM's (scim.Error), never
// problem+json.

// SCIMStore is what the SCIM service and the token routes need of the table.
type SCIMStore interface {
	CreateSCIMToken(ctx context.Context, t users.SCIMToken) error
	SCIMTokens(ctx context.Context, teamID string) ([]users.SCIMToken, error)
	RevokeSCIMToken(ctx context.Context, teamID, tokenID string) error
	SCIMAccess(ctx context.Context, teamID, tokenID string) (users.Team, users.SCIMToken, error)
	GetMember(ctx context.Context, teamID, memberID string) (users.Member, error)
	MemberByEmail(ctx context.Context, teamID, email string) (users.Member, error)
	MemberByUserName(ctx context.Context, teamID, userName string) (users.Member, error)
	MemberByExternalID(ctx context.Context, teamID, externalID string) (users.Member, error)
	MembersByDomain(ctx context.Context, teamID string, offset, count, maxSkip int) ([]users.Member, error)
}

// scimAccess is what a SCIM request knows once its token is checked.
type scimAccess struct {
	Team  users.Team
	Token users.SCIMToken
	Base  string // the service's URL, for locations
}

var errSCIMUnauthorized = scim.Errorf(http.StatusUnauthorized, "", "A valid SCIM token of the team is required (Authorization: Bearer <token>); it may have been revoked.")

// authorizeSCIM checks the bearer token: one that names a team and one of
// its live tokens, whose hash it matches. A team that is not on pro is
// refused, as the portal is.
func (d Deps) authorizeSCIM(r *http.Request) (scimAccess, error) {
	h := r.Header.Get("Authorization")
	scheme, presented, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return scimAccess{}, errSCIMUnauthorized
	}
	presented = strings.TrimSpace(presented)
	teamID, tokenID, ok := users.ParseSCIMToken(presented)
	if !ok || !validID(teamID) || !validID(tokenID) {
		return scimAccess{}, errSCIMUnauthorized
	}
	team, tok, err := d.SCIM.SCIMAccess(r.Context(), teamID, tokenID)
	if e, isDomain := users.AsError(err); isDomain && e.Kind == users.KindNotFound {
		return scimAccess{}, errSCIMUnauthorized
	}
	if err != nil {
		return scimAccess{}, err
	}
	if !tok.Matches(presented) {
		return scimAccess{}, errSCIMUnauthorized
	}
	if team.Plan != users.PlanPro {
		return scimAccess{}, scim.Errorf(http.StatusForbidden, "", "Provisioning needs the team to be on the pro plan.")
	}
	return scimAccess{Team: team, Token: tok, Base: scimBaseURL(r)}, nil
}

// scimHandler checks the token, then runs fn with the token as the actor.
func (d Deps) scimHandler(fn func(w http.ResponseWriter, r *http.Request, a scimAccess) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, err := d.authorizeSCIM(r)
		if err == nil {
			actor := users.Actor{Kind: users.ActorSCIM, Name: a.Token.Name}
			r = r.WithContext(users.WithAudit(r.Context(), actor, requestOf(r.Context())))
			err = fn(w, r, a)
		}
		if err != nil {
			d.writeSCIMFailure(r.Context(), w, err)
		}
	}
}

// scimErrorOf is the SCIM answer to an error: the domain's codes in
// SCIM's words.
func scimErrorOf(err error) (*scim.Error, bool) {
	var se *scim.Error
	if errors.As(err, &se) {
		return se, true
	}
	e, ok := users.AsError(err)
	if !ok {
		return nil, false
	}
	switch {
	case errors.Is(e, users.ErrAlreadyMember):
		return scim.Errorf(http.StatusConflict, scim.TypeUniqueness, "A member of the team has this address already: %s", e.Message), true
	case errors.Is(e, users.ErrExternalIDTaken), errors.Is(e, users.ErrUserNameTaken):
		return scim.Errorf(http.StatusConflict, scim.TypeUniqueness, "%s", e.Message), true
	case errors.Is(e, users.ErrSeatLimit):
		// Not 409: nothing conflicts with a resource, and providers take a
		// 409 on a creation as "the user exists" and go looking for it.
		return scim.Errorf(http.StatusForbidden, "", "Every purchased seat of the team is assigned: buy more seats, or deactivate or remove a member, then retry."), true
	case errors.Is(e, users.ErrOwnerProtected):
		return scim.Errorf(http.StatusBadRequest, scim.TypeMutability, "The team owner stays an active admin at the address billing knows; they cannot be deactivated, demoted, renamed or removed here."), true
	case errors.Is(e, users.ErrMemberNotFound):
		return scim.Errorf(http.StatusNotFound, "", "No such user in this team."), true
	}
	switch e.Kind {
	case users.KindInvalid:
		return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "%s", e.Message), true
	case users.KindNotFound:
		return scim.Errorf(http.StatusNotFound, "", "%s", e.Message), true
	case users.KindConflict:
		return scim.Errorf(http.StatusConflict, "", "%s", e.Message), true
	case users.KindForbidden:
		return scim.Errorf(http.StatusForbidden, "", "%s", e.Message), true
	case users.KindTooLarge:
		return scim.Errorf(http.StatusRequestEntityTooLarge, "", "%s", e.Message), true
	case users.KindUnsupported:
		return scim.Errorf(http.StatusUnsupportedMediaType, "", "%s", e.Message), true
	case users.KindPrecondition:
		return scim.Errorf(http.StatusPreconditionFailed, "", "%s", e.Message), true
	case users.KindRateLimited:
		return scim.Errorf(http.StatusTooManyRequests, "", "%s", e.Message), true
	case users.KindUnavailable:
		return scim.Errorf(http.StatusServiceUnavailable, "", "%s", e.Message), true
	}
	return nil, false
}

func (d Deps) writeSCIMFailure(ctx context.Context, w http.ResponseWriter, err error) {
	se, ok := scimErrorOf(err)
	if !ok {
		d.Log.ErrorContext(ctx, "request failed", "error", err.Error())
		se = scim.Errorf(http.StatusInternalServerError, "", "Something went wrong on our side; try again.")
	}
	if e, isDomain := users.AsError(err); isDomain && e.RetryAfter > 0 {
		w.Header().Set("Retry-After", retryAfter(e.RetryAfter))
		if e.Err != nil {
			d.Log.WarnContext(ctx, "dependency unavailable", "error", e.Err.Error())
		}
	}
	if se.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="scim"`)
	}
	writeSCIMError(w, se)
}

func writeSCIMError(w http.ResponseWriter, e *scim.Error) {
	writeSCIM(w, e.Status, e.JSON())
}

func scimNotFound(detail string) *scim.Error {
	return scim.Errorf(http.StatusNotFound, "", "%s", detail)
}

func writeSCIM(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", scim.MediaType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// readSCIMBody reads a JSON object sent as application/scim+json or
// application/json (RFC 7644 §3.1 asks for both), at most 1 MiB.
func readSCIMBody(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != scim.MediaType && mt != "application/json") {
			return nil, scim.Errorf(http.StatusUnsupportedMediaType, "", "Send the body as %s (or application/json).", scim.MediaType)
		}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxJSONBody))
	if err != nil {
		return nil, scim.Errorf(http.StatusRequestEntityTooLarge, "", "The body is over %d bytes.", MaxJSONBody)
	}
	return scim.ParseBody(b)
}

// scimDiscovery serves the discovery documents and SCIM's 404 and 405 for
// every other path: static, no token, no table.
func scimDiscovery(d Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		doc, err := scim.Discover(r.Method, r.PathValue("proxy"), scimBaseURL(r))
		if err != nil {
			if err.Status == http.StatusMethodNotAllowed {
				w.Header().Set("Allow", scim.Allow(r.PathValue("proxy")))
			}
			writeSCIMError(w, err)
			return
		}
		// RFC 7644 §4: the query parameters of a search are ignored here,
		// but a filter is refused, so that no client takes its conditions
		// for true.
		if r.URL.Query().Has("filter") {
			writeSCIMError(w, scim.Errorf(http.StatusForbidden, "", "The discovery documents cannot be filtered: leave out filter."))
			return
		}
		writeSCIM(w, http.StatusOK, doc)
	}
}

// scimReadUsers serves GET /Users (a filter, or the team page by page)
// and GET /Users/{userId}.
func scimReadUsers(d Deps) http.HandlerFunc {
	return d.scimHandler(func(w http.ResponseWriter, r *http.Request, a scimAccess) error {
		q, err := scimQuery(r, "filter", "startIndex", "count", "attributes", "excludedAttributes")
		if err != nil {
			return err
		}
		attrs, excluded := q["attributes"], q["excludedAttributes"]
		// Paths that are not attribute paths are refused first, whatever
		// the answer would be (a 304 included).
		if _, err := scim.Project(scim.User{}, attrs, excluded); err != nil {
			return err
		}
		if id := r.PathValue("userId"); id != "" {
			m, err := d.scimMember(r.Context(), a, id)
			if err != nil {
				return err
			}
			w.Header().Set("ETag", scim.ETag(m))
			if inm := strings.Join(r.Header.Values("If-None-Match"), ","); inm != "" && scim.MatchesETag(inm, m) {
				w.WriteHeader(http.StatusNotModified)
				return nil
			}
			out, err := scim.Project(scim.Render(m, a.Base), attrs, excluded)
			if err != nil {
				return err
			}
			writeSCIM(w, http.StatusOK, out)
			return nil
		}
		start, count, err := scim.Paging(q["startIndex"], q["count"])
		if err != nil {
			return err
		}
		var matches []users.Member
		total := 0
		if f := q["filter"]; f != "" {
			if matches, err = d.scimFind(r.Context(), a, f); err != nil {
				return err
			}
			total = len(matches)
			matches = matches[min(start-1, len(matches)):]
			matches = matches[:min(count, len(matches))]
		} else {
			for _, n := range a.Team.Facets {
				total += n // every member, deactivated ones too
			}
			if start <= total && count > 0 {
				matches, err = d.SCIM.MembersByDomain(r.Context(), a.Team.ID, start-1, count, scimMaxSkip)
				if errors.Is(err, users.ErrPageTooFar) {
					return scim.Errorf(http.StatusBadRequest, scim.TypeTooMany,
						"startIndex %d is too far into the team to reach at once: read the pages before it (each page marks where the next begins), or filter by userName, emails.value, externalId or id.", start)
				}
				if err != nil {
					return err
				}
			}
		}
		resources := make([]any, len(matches))
		for i, m := range matches {
			if resources[i], err = scim.Project(scim.Render(m, a.Base), attrs, excluded); err != nil {
				return err
			}
		}
		writeSCIM(w, http.StatusOK, scim.NewList(total, start, resources))
		return nil
	})
}

func (d Deps) scimMember(ctx context.Context, a scimAccess, id string) (users.Member, error) {
	if !validID(id) {
		return users.Member{}, scim.NotFound(id)
	}
	m, err := d.SCIM.GetMember(ctx, a.Team.ID, id)
	if errors.Is(err, users.ErrMemberNotFound) {
		return users.Member{}, scim.NotFound(id)
	}
	return m, err
}

// scimMaxSkip is how many members a page by startIndex may read to reach
// its first one when no page mark is near it (dynamo.MembersByDomain):
// about 11 MB of the ByDomain index in a dozen queries, a second or two of
// the function's ten (decoding them on a 256 MB function's share of a
// CPU is most of it). A provider paging through the team never comes near it.
const scimMaxSkip = 10_000

// scimFind answers a filter: the members its keys find (a strongly
// consistent read each), kept when the whole filter matches them.
func (d Deps) scimFind(ctx context.Context, a scimAccess, filter string) ([]users.Member, error) {
	f, err := scim.ParseFilter(filter)
	if err != nil {
		return nil, err
	}
	keys, ok := f.Keys()
	if !ok {
		return nil, scim.Errorf(http.StatusBadRequest, scim.TypeTooMany,
			"Filter users by userName, emails.value, externalId or id with eq (and-ed with anything else, or several or-ed); other filters would read the whole team.")
	}
	seen := map[string]bool{}
	var out []users.Member
	add := func(m users.Member, err error) error {
		switch {
		case errors.Is(err, users.ErrMemberNotFound):
			return nil
		case err != nil:
			return err
		case seen[m.ID]:
			return nil
		}
		seen[m.ID] = true
		if f.Matches(scim.Document(m)) {
			out = append(out, m)
		}
		return nil
	}
	for _, k := range keys {
		if len(k.Value) > 1024 {
			continue
		}
		switch k.Attr {
		case "userName":
			if err := add(d.SCIM.MemberByUserName(ctx, a.Team.ID, k.Value)); err != nil {
				return nil, err
			}
			// A member the portal invited: their address is their userName.
			if email, reason := users.CheckEmail(k.Value); reason == "" {
				if err := add(d.SCIM.MemberByEmail(ctx, a.Team.ID, email)); err != nil {
					return nil, err
				}
			}
		case "email":
			if email, reason := users.CheckEmail(k.Value); reason == "" {
				if err := add(d.SCIM.MemberByEmail(ctx, a.Team.ID, email)); err != nil {
					return nil, err
				}
			}
		case "externalId":
			if err := add(d.SCIM.MemberByExternalID(ctx, a.Team.ID, k.Value)); err != nil {
				return nil, err
			}
		case "id":
			if validID(k.Value) {
				if err := add(d.SCIM.GetMember(ctx, a.Team.ID, k.Value)); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

// scimQuery reads the query parameters named, each given at most once
// and never empty (SCIM's 400 invalidValue otherwise); the route table
// has refused any other.
func scimQuery(r *http.Request, names ...string) (map[string]string, error) {
	q := r.URL.Query()
	out := make(map[string]string, len(names))
	for _, name := range names {
		switch vs := q[name]; {
		case len(vs) > 1:
			return nil, scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "Parameter %s may be given once.", name)
		case len(vs) == 1 && vs[0] == "":
			return nil, scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "Parameter %s is empty; leave it out instead.", name)
		case len(vs) == 1:
			out[name] = vs[0]
		}
	}
	return out, nil
}

// scimWriteUsers serves POST /Users, PUT, PATCH and DELETE /Users/{userId}.
// The User in the answer is projected by attributes or excludedAttributes
// (RFC 7644 §3.9).
func scimWriteUsers(d Deps) http.HandlerFunc {
	return d.scimHandler(func(w http.ResponseWriter, r *http.Request, a scimAccess) error {
		q, err := scimQuery(r, "attributes", "excludedAttributes")
		if err != nil {
			return err
		}
		project := func(res scim.User) (any, error) { return scim.Project(res, q["attributes"], q["excludedAttributes"]) }
		// Paths that are not attribute paths are refused before anything changes.
		if _, err := project(scim.User{}); err != nil {
			return err
		}
		if r.Method == http.MethodPost {
			doc, err := readSCIMBody(w, r)
			if err != nil {
				return err
			}
			m, err := d.Cases.ProvisionFromIdP(r.Context(), usecase.TeamOf(a.Team), a.Token.Name, doc)
			if err != nil {
				return err
			}
			res := scim.Render(m, a.Base)
			out, err := project(res)
			if err != nil {
				return err
			}
			w.Header().Set("Location", res.Meta.Location)
			w.Header().Set("ETag", res.Meta.Version)
			writeSCIM(w, http.StatusCreated, out)
			return nil
		}
		id := r.PathValue("userId")
		if !validID(id) {
			return scim.NotFound(id)
		}
		change := usecase.IdPChange{Method: r.Method, IfMatch: strings.Join(r.Header.Values("If-Match"), ",")}
		if r.Method != http.MethodDelete {
			if change.Doc, err = readSCIMBody(w, r); err != nil {
				return err
			}
			if r.Method == http.MethodPatch {
				if change.Ops, err = scim.ParsePatch(change.Doc); err != nil {
					return err
				}
			}
		}
		m, err := d.Cases.ChangeFromIdP(r.Context(), usecase.TeamOf(a.Team), id, change)
		if err != nil {
			return err
		}
		if r.Method == http.MethodDelete {
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
		res := scim.Render(m, a.Base)
		out, err := project(res)
		if err != nil {
			return err
		}
		w.Header().Set("ETag", res.Meta.Version)
		writeSCIM(w, http.StatusOK, out)
		return nil
	})
}
