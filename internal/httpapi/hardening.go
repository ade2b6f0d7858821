package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/teamusers/usersapi/internal/scim"
	"github.com/teamusers/usersapi/internal/users"
)

// withSecurityHeaders gives every answer of a function, success or
// problem, the headers no answer of this API goes without: no-store (every
// answer is one caller's view of their team, never for a shared cache) and
// nosniff (a browser never takes a JSON or CSV answer for something it
// would run or render).
func withSecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// onlyDeclaredQuery refuses a query parameter the route does not declare
// (400 invalid_query), so a misspelt filter is never silently ignored. On
// a SCIM route the refusal is SCIM's error, as every answer there is.
func (d Deps) onlyDeclaredQuery(e Endpoint, next http.HandlerFunc) http.HandlerFunc {
	refuse := func(w http.ResponseWriter, r *http.Request, detail string) {
		if e.SCIM {
			writeSCIMError(w, scim.Errorf(http.StatusBadRequest, "", "%s", detail))
			return
		}
		writeError(r.Context(), d.Log, w, users.Errorf(users.KindInvalid, "invalid_query", "%s", detail))
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" {
			params, err := url.ParseQuery(r.URL.RawQuery)
			if err != nil {
				refuse(w, r, "The query string is not valid.")
				return
			}
			for name := range params {
				switch {
				case slices.Contains(strings.Fields(e.Query), name):
				case e.SCIM && (name == "sortBy" || name == "sortOrder"):
					refuse(w, r, "Sorting is not supported (the ServiceProviderConfig says sort.supported false): leave out sortBy and sortOrder.")
					return
				default:
					refuse(w, r, fmt.Sprintf("Unknown parameter %q.", name))
					return
				}
			}
		}
		next(w, r)
	}
}
