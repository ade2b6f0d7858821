package httpapi

import (
	"context"
	"net/http"
	"time"
)

// answerReserve is the time kept back from the function's deadline to
// write an answer: a handler whose work runs out of time answers 503 with
// Retry-After (its store calls end with the shortened context) instead of
// being cut off by the Lambda timeout, which API Gateway turns into an
// answer of its own.
const answerReserve = time.Second

// withAnswerReserve ends the request's context answerReserve before the
// invocation's deadline, when there is one and it leaves room.
func withAnswerReserve(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if dl, ok := r.Context().Deadline(); ok && time.Until(dl) > 2*answerReserve {
			ctx, cancel := context.WithDeadline(r.Context(), dl.Add(-answerReserve))
			defer cancel()
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}
