package httpapi

import (
	"net/http"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/teamusers/usersapi/internal/usecase"
	"github.com/teamusers/usersapi/internal/users"
)

// Quotas are the counters behind users.Limits (the use cases take the
// per-team ones; the edge takes the per-address one below).
type Quotas = usecase.Quotas

// limitBySource counts every request of a public route per source address
// (API Gateway's requestContext.http.sourceIp, which the caller cannot
// set) and minute, before anything else runs: over the limit, 429
// too_many_attempts with Retry-After. The HTTP API's own throttle is per
// route for all callers together, and AWS WAF cannot be attached to an
// HTTP API, so the count is kept in the table.
func (d Deps) limitBySource(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if d.Quotas != nil {
			source := "unknown"
			if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok && rc.HTTP.SourceIP != "" {
				source = rc.HTTP.SourceIP
			}
			window, left := users.Window(d.Now(), users.AcceptWindow)
			_, _, ok, err := d.Quotas.TakeQuota(r.Context(), "ip#"+source+"#accept", window, users.AcceptWindow, 1, d.Limits.AcceptsPerMinute)
			if err == nil && !ok {
				err = users.AcceptLimit(left)
			}
			if err != nil {
				writeError(r.Context(), d.Log, w, err)
				return
			}
		}
		next(w, r)
	}
}
