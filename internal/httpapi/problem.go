// Package httpapi holds one handler constructor per endpoint, the table of
// endpoints (which function serves which route), the caller's identity as
// the API Gateway JWT authorizer hands it over, and the one place where
// errors become problem+json responses.
package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/teamusers/usersapi/internal/users"
)

// problem is an RFC 9457 problem details body with our stable code.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
}

// statusOf is the one table from error kinds to HTTP statuses.
var statusOf = map[users.Kind]int{
	users.KindInternal:     http.StatusInternalServerError,
	users.KindInvalid:      http.StatusBadRequest,
	users.KindUnauthorized: http.StatusUnauthorized,
	users.KindForbidden:    http.StatusForbidden,
	users.KindNotFound:     http.StatusNotFound,
	users.KindConflict:     http.StatusConflict,
	users.KindTooLarge:     http.StatusRequestEntityTooLarge,
	users.KindUnsupported:  http.StatusUnsupportedMediaType,
	users.KindGone:         http.StatusGone,
	users.KindRateLimited:  http.StatusTooManyRequests,
	users.KindUnavailable:  http.StatusServiceUnavailable,
	users.KindPrecondition: http.StatusPreconditionFailed,
}

// writeError turns any error into a problem response. Domain errors carry
// their own message; anything else is logged here, once, and the caller sees
// only that something went wrong on our side.
func writeError(ctx context.Context, log *slog.Logger, w http.ResponseWriter, err error) {
	e, ok := users.AsError(err)
	if !ok || e.Kind == users.KindInternal {
		log.ErrorContext(ctx, "request failed", "error", err.Error())
		e = &users.Error{Kind: users.KindInternal, Code: "internal", Message: "Something went wrong on our side; try again."}
	} else if e.Err != nil {
		log.WarnContext(ctx, "request refused", "code", e.Code, "error", e.Err.Error())
	}
	status := statusOf[e.Kind]
	if e.Kind == users.KindUnavailable {
		log.WarnContext(ctx, "dependency unavailable", "error", fmt.Sprint(e.Err))
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", retryAfter(e.RetryAfter))
	}
	if e.Kind == users.KindUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer`)
	}
	WriteProblem(w, status, e.Code, e.Message)
}

// WriteProblem writes a problem+json body.
func WriteProblem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{
		Type:   "https://docs.usersapi.dev/problems/" + code,
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
		Code:   code,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// retryAfter is a Retry-After header's whole seconds, rounded up.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}
