package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/teamusers/usersapi/internal/users"
)

// IdempotencyWindow is how long a POST's first answer is replayed.
const IdempotencyWindow = 24 * time.Hour

// maxIdempotentBody bounds what is read to fingerprint a request (the CSV
// upload is the largest body).
const maxIdempotentBody = 5<<20 + 1

// idempotencyRunning is how long a key stays claimed by a request that
// never finishes (its function timed out) when the request has no
// deadline of its own; with one, the claim lasts until shortly after it.
const idempotencyRunning = 2 * time.Minute

// Idempotency is what the middleware needs of the table.
type Idempotency interface {
	BeginIdempotent(ctx context.Context, scope, key, fingerprint string, running time.Duration) (claim string, stored *users.StoredResponse, err error)
	FinishIdempotent(ctx context.Context, scope, key, claim string, resp users.StoredResponse, keep time.Duration) error
	ForgetIdempotent(ctx context.Context, scope, key, claim string) error
}

// idempotent makes a POST with an Idempotency-Key header answer a replay
// within 24 hours with the first answer, doing nothing again. Keys are
// scoped to the caller (the token's sub), so two callers cannot collide.
func (d Deps) idempotent(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		vals := r.Header.Values("Idempotency-Key")
		if len(vals) == 0 || r.Method != http.MethodPost {
			next(w, r)
			return
		}
		// The API Gateway adapter splits a header at its commas, so a key
		// with a comma arrives as several values: refuse it rather than
		// read only a part of it.
		key := vals[0]
		if !ValidIdempotencyKey(key) || len(vals) > 1 {
			writeError(r.Context(), d.Log, w, users.Errorf(users.KindInvalid, "invalid_idempotency_key", "Idempotency-Key must be 1 to 128 printable characters other than spaces and commas."))
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxIdempotentBody))
		if err != nil {
			writeError(r.Context(), d.Log, w, users.Errorf(users.KindInvalid, "invalid_body", "The body could not be read."))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.New()
		io.WriteString(sum, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery+"\n"+r.Header.Get("Content-Type")+"\n")
		sum.Write(body)
		fp := hex.EncodeToString(sum.Sum(nil))
		// Keys are the caller's own: scoped to the token's sub. A public
		// route has no caller, so there the request itself is the scope and
		// two strangers choosing the same key never meet.
		scope := "public#" + fp
		if c, err := callerFrom(r.Context()); err == nil {
			scope = c.Sub
		}
		scopeKey := scope + "#" + r.URL.Path
		running := idempotencyRunning
		if dl, ok := r.Context().Deadline(); ok {
			running = time.Until(dl) + 30*time.Second
		}
		claim, stored, err := d.Idem.BeginIdempotent(r.Context(), scopeKey, key, fp, running)
		if err != nil {
			writeError(r.Context(), d.Log, w, err)
			return
		}
		if stored != nil {
			for k, v := range stored.Headers {
				w.Header().Set(k, v)
			}
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(stored.Status)
			_, _ = w.Write(stored.Body)
			return
		}
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		next(rec, r)
		ctx := context.WithoutCancel(r.Context())
		forget := rec.status >= 500
		if !forget {
			headers := map[string]string{}
			for _, h := range replayedHeaders {
				if v := rec.header.Get(h); v != "" {
					headers[h] = v
				}
			}
			if err := d.Idem.FinishIdempotent(ctx, scopeKey, key, claim, users.StoredResponse{Status: rec.status, Headers: headers, Body: rec.body.Bytes()}, IdempotencyWindow); err != nil {
				// Release the key rather than leave it "running": a retry runs again.
				d.Log.ErrorContext(ctx, "store idempotent answer", "error", err.Error())
				forget = true
			}
		}
		if forget {
			if err := d.Idem.ForgetIdempotent(ctx, scopeKey, key, claim); err != nil {
				d.Log.ErrorContext(ctx, "forget idempotency key", "error", err.Error())
			}
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body.Bytes())
	}
}

// replayedHeaders are the answer's headers a replay repeats.
var replayedHeaders = []string{"Content-Type", "Content-Disposition", "Retry-After", "Location", "X-Left-Out"}

// ValidIdempotencyKey: 1 to 128 visible ASCII characters, no comma.
func ValidIdempotencyKey(k string) bool {
	return k != "" && len(k) <= 128 && users.PrintableASCII(k) && !strings.Contains(k, ",")
}

type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(s int) {
	if !r.wrote {
		r.status, r.wrote = s, true
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.body.Write(b)
}
