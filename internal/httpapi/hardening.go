package httpapi

import (
	"net/http"
	"net/url"
	"slices"

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
// (400 invalid_query), so a misspelt filter is never silently ignored.
func (d Deps) onlyDeclaredQuery(e Endpoint, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" {
			params, err := url.ParseQuery(r.URL.RawQuery)
			if err != nil {
				writeError(r.Context(), d.Log, w, users.Errorf(users.KindInvalid, "invalid_query", "The query string is not valid."))
				return
			}
			for name := range params {
				if !slices.Contains(e.Query, name) {
					writeError(r.Context(), d.Log, w, users.Errorf(users.KindInvalid, "invalid_query", "Unknown parameter %q.", name))
					return
				}
			}
		}
		next(w, r)
	}
}
