package local

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/teamusers/usersapi/internal/httpapi"
	"github.com/teamusers/usersapi/internal/samtemplate"
)

// DefaultPortalURL is where `make run` serves the Users page by default: the
// gateway itself, so page and API share an origin and CORS never applies.
const DefaultPortalURL = "http://127.0.0.1:3000"

// TokenRoute is the local identity provider's sign-in: any email gets a
// token. It exists only in the local gateway, never in template.yaml.
const TokenRoute = "/_local/token"

// pageRoutes are the page's own URLs: each answers index.html, which reads
// the path itself (the invitation emails link to /invitations/accept).
var pageRoutes = map[string]bool{"/": true, "/index.html": true, "/invitations/accept": true}

// portal serves the Users page (web/) beside the API, the config that
// tells it how to sign in locally, and the local sign-in route. Anything
// else is the gateway's 404 problem.
func portal(keys *Keys) http.Handler {
	var web fs.FS
	if root, err := samtemplate.FindRoot(); err == nil {
		if dir := filepath.Join(root, "web"); isDir(dir) {
			web = os.DirFS(dir)
		}
	}
	notFound := func(w http.ResponseWriter) {
		httpapi.WriteProblem(w, http.StatusNotFound, "route_not_found", "No such route.")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == TokenRoute && r.Method == http.MethodPost:
			mintForPage(w, r, keys)
		case r.Method != http.MethodGet && r.Method != http.MethodHead, web == nil,
			strings.HasPrefix(p, "/v1/"), strings.HasPrefix(p, "/scim/"), strings.HasPrefix(p, "/_local/"):
			notFound(w)
		case p == "/config.json":
			// The deployed page reads the same file from its bucket, with
			// the API URL and the OpenID Connect issuer and client.
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			_ = json.NewEncoder(w).Encode(map[string]any{"apiUrl": "", "auth": map[string]string{"kind": "local", "tokenUrl": TokenRoute}})
		case pageRoutes[p]:
			serveWeb(w, r, web, "index.html")
		default:
			name := strings.TrimPrefix(path.Clean(p), "/")
			if st, err := fs.Stat(web, name); err != nil || st.IsDir() || !fs.ValidPath(name) {
				notFound(w)
				return
			}
			serveWeb(w, r, web, name)
		}
	})
}

func serveWeb(w http.ResponseWriter, r *http.Request, web fs.FS, name string) {
	// No build step and no hashed names: the browser revalidates every file.
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeFileFS(w, r, web, name)
}

// mintForPage is the local sign-in form's back end: {"email"} → {"token"}.
func mintForPage(w http.ResponseWriter, r *http.Request, keys *Keys) {
	var body struct {
		Email string `json:"email"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
	if err := dec.Decode(&body); err != nil {
		httpapi.WriteProblem(w, http.StatusBadRequest, "invalid_json", "Send {\"email\": \"you@example.com\"}.")
		return
	}
	email := strings.TrimSpace(body.Email)
	if at := strings.LastIndexByte(email, '@'); at < 1 || at == len(email)-1 || len(email) > 254 || strings.ContainsAny(email, " \t\r\n") {
		httpapi.WriteProblem(w, http.StatusBadRequest, "invalid_email", "Enter an email address, such as owner@acme.example.")
		return
	}
	tok, err := keys.Mint(email, TokenOptions{})
	if err != nil {
		httpapi.WriteProblem(w, http.StatusInternalServerError, "internal", "Something went wrong on our side; try again.")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]string{"token": tok, "email": email})
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
