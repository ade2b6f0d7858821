// Package logging owns what the functions write to their logs: one JSON
// object a line (Lambda's JSON log format, the keys CloudWatch expects),
// the invocation's request id on every line written during an invocation
// (and the HTTP API's request id, which its access log shows),
// and no email addresses: an address anywhere in a message or a value
// (an error from SES names the recipient, for instance) is masked to its
// first character and its domain, which is what an operator needs to see
// a pattern (one domain bouncing) without reading the people's addresses.
// To follow one person's email, an operator starts from the member (ids
// are logged) rather than from the address; see docs/runbook.md.
package logging

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
)

// Stdout is the functions' standard output, shared by the logger and the
// metrics writer so that their lines never interleave.
var Stdout io.Writer = &lockedWriter{w: os.Stdout}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// New is a logger writing JSON lines to w at the level Lambda's
// LoggingConfig sets (AWS_LAMBDA_LOG_LEVEL, default INFO).
func New(w io.Writer) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level(os.Getenv("AWS_LAMBDA_LOG_LEVEL")), ReplaceAttr: replace})
	return slog.New(&handler{h})
}

func level(s string) slog.Level {
	switch strings.ToUpper(s) {
	case "DEBUG":
		return slog.LevelDebug
	case "WARN":
		return slog.LevelWarn
	case "ERROR":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// replace names the keys as Lambda's JSON logs do and masks addresses in
// every string value (the message included) and every error.
func replace(groups []string, a slog.Attr) slog.Attr {
	a = lambdacontext.ReplaceAttr(groups, a)
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); strings.Contains(s, "@") {
			a.Value = slog.StringValue(MaskEmails(s))
		}
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			a.Value = slog.StringValue(MaskEmails(err.Error()))
		}
	}
	return a
}

// handler adds the request id of the invocation in ctx and, behind the
// HTTP API, the API's own request id (the access log's requestId).
type handler struct{ slog.Handler }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.AddAttrs(slog.String("requestId", lc.AwsRequestID))
	}
	if api, ok := core.GetAPIGatewayV2ContextFromContext(ctx); ok && api.RequestID != "" {
		r.AddAttrs(slog.String("apiRequestId", api.RequestID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &handler{h.Handler.WithAttrs(attrs)}
}

func (h *handler) WithGroup(name string) slog.Handler { return &handler{h.Handler.WithGroup(name)} }

// MaskEmails replaces every email address in s by its first character,
// "***" and its domain: "alice@example.com" → "a***@example.com".
func MaskEmails(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '@' {
			continue
		}
		start := i
		if start > last && s[start-1] == '"' { // a quoted local part: "john doe"@example.com
			if q := strings.LastIndexByte(s[last:start-1], '"'); q >= 0 {
				start = last + q
			}
		} else {
			for start > last && isLocal(s[start-1]) {
				start--
			}
		}
		end := i + 1
		dot := false
		for end < len(s) && isDomain(s[end]) {
			dot = dot || s[end] == '.'
			end++
		}
		for end > i+1 && (s[end-1] == '.' || s[end-1] == '-') { // a sentence's full stop
			end--
		}
		if start == i || !dot || end == i+1 {
			continue
		}
		b.WriteString(s[last:start])
		_, n := utf8.DecodeRuneInString(s[start:])
		b.WriteString(s[start : start+n])
		b.WriteString("***")
		b.WriteString(s[i:end])
		last, i = end, end-1
	}
	b.WriteString(s[last:])
	return b.String()
}

func isLocal(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", c) >= 0 || c >= 0x80
}

func isDomain(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c >= 0x80
}
