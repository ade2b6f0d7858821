package local

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/teamusers/usersapi/internal/httpapi"
	"github.com/teamusers/usersapi/internal/keyring"
	"github.com/teamusers/usersapi/internal/samtemplate"
	"github.com/teamusers/usersapi/internal/users"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// call serves one request through fn as the gateway does.
func call(t *testing.T, fn Function, body []byte, limit time.Duration) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/v1/things", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	route := samtemplate.Route{Function: fn.Name, Method: "POST", Path: "/v1/things", Public: true}
	ev, err := toEvent(r, route, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	integrate(w, r, fn, ev, limit, quiet)
	return w
}

// awsAnswer checks an answer API Gateway itself gives.
func awsAnswer(t *testing.T, w *httptest.ResponseRecorder, status int, message string) {
	t.Helper()
	var body struct{ Message string }
	if w.Code != status || w.Header().Get("Content-Type") != "application/json" || json.Unmarshal(w.Body.Bytes(), &body) != nil || body.Message != message {
		t.Fatalf("got %d %q %s, want %d {\"message\":%q}", w.Code, w.Header().Get("Content-Type"), w.Body.String(), status, message)
	}
}

func ok(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: `{"ok":true}`}, nil
}

// The handler's context ends at the function's Timeout; a function that
// has not answered by then is a function error: 500 Internal Server Error.
func TestFunctionTimeout(t *testing.T) {
	var deadline atomic.Value
	start := time.Now()
	fn := Function{Name: "SlowFunction", Timeout: 100 * time.Millisecond, Handler: func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		if d, ok := ctx.Deadline(); ok {
			deadline.Store(d)
		}
		<-ctx.Done()
		time.Sleep(20 * time.Millisecond) // answers, too late
		return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
	}}
	w := call(t, fn, nil, IntegrationTimeout)
	awsAnswer(t, w, http.StatusInternalServerError, "Internal Server Error")
	d, _ := deadline.Load().(time.Time)
	if d.IsZero() || d.Before(start) || d.After(start.Add(fn.Timeout+time.Second)) {
		t.Fatalf("the handler's deadline was %v (started %v, timeout %v)", d, start, fn.Timeout)
	}
}

// A function's context also ends when it returns; that must never read as
// a timeout, however the two goroutines are scheduled.
func TestFastFunctionsNeverTimeOut(t *testing.T) {
	fn := Function{Name: "Fast", Timeout: 10 * time.Second, Handler: ok}
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 8 { // busy schedulers make the two endings coincide
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 500 {
				if _, err := fn.Invoke(context.Background(), events.APIGatewayV2HTTPRequest{}); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d of 4000 instant invocations reported as failed", n)
	}
}

// The HTTP API waits 30 seconds for an integration; a function allowed to
// run longer gets 503 Service Unavailable at that point and runs on.
func TestIntegrationTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	fn := Function{Name: "LongFunction", Timeout: time.Minute, Handler: func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		<-release
		return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
	}}
	awsAnswer(t, call(t, fn, nil, 50*time.Millisecond), http.StatusServiceUnavailable, "Service Unavailable")
}

// Lambda's 6 MB, each way: an event over it never reaches the function
// (413 Request Too Long); a response over it is a function error (500).
func TestInvocationPayloadLimits(t *testing.T) {
	var ran atomic.Int32
	counting := func(resp string) Function {
		return Function{Name: "F", Timeout: 10 * time.Second, Handler: func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			ran.Add(1)
			return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: resp}, nil
		}}
	}
	small := counting("{}")
	// A body just under 6 MB fits; with the event around it, it may not.
	w := call(t, small, []byte(`"`+strings.Repeat("x", MaxInvokeRequest-2000)+`"`), IntegrationTimeout)
	if w.Code != 200 || ran.Load() != 1 {
		t.Fatalf("an event under 6 MB: %d", w.Code)
	}
	w = call(t, small, []byte(`"`+strings.Repeat("x", MaxInvokeRequest)+`"`), IntegrationTimeout)
	awsAnswer(t, w, http.StatusRequestEntityTooLarge, "Request Too Long")
	if ran.Load() != 1 {
		t.Fatal("the function ran on an event over 6 MB")
	}

	if w := call(t, counting(strings.Repeat("y", MaxInvokeResponse-1000)), nil, IntegrationTimeout); w.Code != 200 || w.Body.Len() != MaxInvokeResponse-1000 {
		t.Fatalf("a response under 6 MB: %d, %d bytes", w.Code, w.Body.Len())
	}
	awsAnswer(t, call(t, counting(strings.Repeat("y", MaxInvokeResponse)), nil, IntegrationTimeout), http.StatusInternalServerError, "Internal Server Error")
}

// A handler that panics or fails is a function error, as in Lambda.
func TestFunctionErrors(t *testing.T) {
	panics := Function{Name: "P", Timeout: time.Second, Handler: func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		panic("boom")
	}}
	awsAnswer(t, call(t, panics, nil, IntegrationTimeout), http.StatusInternalServerError, "Internal Server Error")
	fine := Function{Name: "OK", Timeout: time.Second, Handler: ok}
	if w := call(t, fine, nil, IntegrationTimeout); w.Code != 200 || w.Body.String() != `{"ok":true}` {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

// Through the real gateway: the HTTP API's 10 MB limit comes first (no
// function runs), then Lambda's 6 MB. The routes' handlers are built over
// empty dependencies, so an answer other than these would mean a handler ran.
func TestGatewayPayloadLimits(t *testing.T) {
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	deps := httpapi.NewDeps(nil, keyring.New([]byte("0123456789abcdef0123456789abcdef")), users.DefaultPolicy, quiet, nil)
	gw, err := NewGateway(tmpl, deps, keys, quiet)
	if err != nil {
		t.Fatal(err)
	}
	post := func(n int) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/v1/invitations/accept", bytes.NewReader(bytes.Repeat([]byte("x"), n)))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		gw.ServeHTTP(w, r)
		return w
	}
	if w := post(MaxPayload + 1); w.Code != http.StatusRequestEntityTooLarge || w.Body.String() != "HTTP content length exceeded 10485760 bytes." {
		t.Fatalf("over 10 MB: %d %s", w.Code, w.Body)
	}
	awsAnswer(t, post(7<<20), http.StatusRequestEntityTooLarge, "Request Too Long")
}

// Each route's function gets its template Timeout (Globals merged), and a
// scaled gateway scales it and the HTTP API's 30 s alike.
func TestRouteTimeoutsComeFromTheTemplate(t *testing.T) {
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		scale float64
		want  time.Duration
		limit time.Duration
	}{
		{"GetSummaryFunction", 1, 10 * time.Second, 30 * time.Second},
		{"CsvSelectionFunction", 1, 29 * time.Second, 30 * time.Second},
		{"GetSummaryFunction", 3, 30 * time.Second, 90 * time.Second},
	} {
		fn, limit := function(tmpl, c.name, ok, c.scale)
		if fn.Timeout != c.want || limit != c.limit || fn.Name != c.name {
			t.Errorf("%s ×%v: timeout %v, limit %v", c.name, c.scale, fn.Timeout, limit)
		}
	}
}
