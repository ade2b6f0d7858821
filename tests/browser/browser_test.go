package browser

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"go.yaml.in/yaml/v3"
)

// browser is one headless Chromium with one tab, and everything the tab
// did: each request with its answer's status, console errors, exceptions.
type browser struct {
	t      *testing.T
	ctx    context.Context
	shots  string
	mu     sync.Mutex
	reqs   map[network.RequestID]*request
	order  []*request
	errors []string // console.error, uncaught exceptions, non-network log errors
	netLog []string // the browser's own "Failed to load resource" lines
}

type request struct {
	Method, URL, IdempotencyKey, ContentType string
	Status                                   int64
}

func startBrowser(t *testing.T) *browser {
	t.Helper()
	profile := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 860),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	b := &browser{t: t, ctx: ctx, reqs: map[network.RequestID]*request{}}
	b.shots = *screenshots
	if b.shots == "" {
		b.shots = t.TempDir()
	}
	if err := os.MkdirAll(b.shots, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx); err != nil { // starts the browser, with no timeout
		t.Fatalf("start chromium (%s): %v", chromium, err)
	}
	if err := chromedp.Listen(ctx, b.record); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, log.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	b.viewport(1280, 800)
	return b
}

func (b *browser) record(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		r := &request{Method: e.Request.Method, URL: e.Request.URL}
		for k, v := range e.Request.Headers {
			switch {
			case strings.EqualFold(k, "Idempotency-Key"):
				r.IdempotencyKey, _ = v.(string)
			case strings.EqualFold(k, "Content-Type"):
				r.ContentType, _ = v.(string)
			}
		}
		b.reqs[e.RequestID] = r
		b.order = append(b.order, r)
	case *network.EventResponseReceived:
		if r, ok := b.reqs[e.RequestID]; ok {
			r.Status = e.Response.Status
		}
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert || e.Type == runtime.ConsoleAPICalledTypeWarning {
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			b.errors = append(b.errors, fmt.Sprintf("console.%s: %s", e.Type, strings.Join(parts, " ")))
		}
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		b.errors = append(b.errors, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber, msg))
	case *log.EventEntryAdded:
		if e.Entry.Level != log.EntryLevelError && e.Entry.Level != log.EntryLevelWarning {
			return
		}
		if e.Entry.Source == log.EntrySourceNetwork {
			b.netLog = append(b.netLog, e.Entry.URL+" "+e.Entry.Text)
			return
		}
		b.errors = append(b.errors, fmt.Sprintf("%s %s: %s %s", e.Entry.Source, e.Entry.Level, e.Entry.Text, e.Entry.URL))
	}
}

// requests returns what the tab sent so far.
func (b *browser) requests() []request {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]request, len(b.order))
	for i, r := range b.order {
		out[i] = *r
	}
	return out
}

// do runs actions, failing the test with a screenshot on error.
func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail("%v", err)
	}
}

func (b *browser) fail(format string, args ...any) {
	b.t.Helper()
	path := filepath.Join(b.t.TempDir(), "failure.png")
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		_ = os.WriteFile(path, png, 0o644)
	}
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if len(body) > 3000 {
		body = body[:3000]
	}
	b.t.Fatalf(format+"\n--- page (screenshot %s):\n%s", append(args, path, body)...)
}

// eval evaluates a JavaScript expression.
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fail("evaluate %s: %v", js, err)
	}
	return v
}

// waitFor polls until the expression is truthy.
func (b *browser) waitFor(what, js string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 40*time.Second)
	defer cancel()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(time.Until(deadline)), chromedp.WithPollingInterval(50*time.Millisecond)))
		if err == nil {
			return
		}
		// A page that reloads itself ends the poll; poll the new page.
		if time.Now().Before(deadline) && pageChanged(err) {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		b.fail("waiting for %s (%s): %v", what, js, err)
	}
}

// pageChanged says the page navigated under a running evaluation, as a page
// that reloads itself does: its JavaScript context is gone.
func pageChanged(err error) bool {
	for _, s := range []string{"navigated or closed", "context was destroyed", "Cannot find context"} {
		if strings.Contains(err.Error(), s) {
			return true
		}
	}
	return false
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(eval[string](b, fmt.Sprintf(`(document.querySelector(%q)?.innerText ?? '')`, sel)))
}

func (b *browser) click(sel string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(sel)))
}

func (b *browser) typeInto(sel, text string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), text))
}

func (b *browser) navigate(u string) {
	b.t.Helper()
	b.do(chromedp.Navigate(u))
}

func (b *browser) viewport(w, h int64) {
	b.t.Helper()
	b.do(chromedp.EmulateViewport(w, h))
}

// shot saves a screenshot of the viewport as <name>.png.
func (b *browser) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.fail("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// documented reads api/openapi.yaml into method + path patterns.
func documented(t *testing.T) map[string][]*regexp.Regexp {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "api", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string][]*regexp.Regexp{}
	param := regexp.MustCompile(`\\\{[^/]+\\\}`)
	for path, ops := range doc.Paths {
		re := regexp.MustCompile("^" + param.ReplaceAllString(regexp.QuoteMeta(path), `[^/]+`) + "$")
		for method := range ops {
			m := strings.ToUpper(method)
			out[m] = append(out[m], re)
		}
	}
	return out
}

var uuid = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// checkRequests fails on any request the page sent to the gateway that is
// neither the page's own files nor a documented API route.
func (b *browser) checkRequests(t *testing.T) {
	t.Helper()
	routes := documented(t)
	page := map[string]bool{"GET /": true, "GET /invitations/accept": true, "GET /config.json": true, "POST /_local/token": true}
	n := 0
	for _, r := range b.requests() {
		u, err := url.Parse(r.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			continue // blob: (the downloaded report), data:
		}
		if "http://"+u.Host != site {
			t.Errorf("request to another origin: %s %s", r.Method, r.URL)
			continue
		}
		key := r.Method + " " + u.Path
		if page[key] {
			continue
		}
		if r.Method == "GET" && !strings.HasPrefix(u.Path, "/v1/") {
			if _, err := os.Stat(filepath.Join(root, "web", filepath.FromSlash(u.Path))); err == nil {
				continue // the page's own files
			}
		}
		ok := false
		for _, re := range routes[r.Method] {
			if re.MatchString(u.Path) {
				ok = true
				break
			}
		}
		if !ok {
			t.Errorf("undocumented request: %s %s", r.Method, u.Path)
		}
		if r.Method == "POST" && !uuid.MatchString(r.IdempotencyKey) {
			t.Errorf("POST %s without an Idempotency-Key (%q)", u.Path, r.IdempotencyKey)
		}
		n++
	}
	if n < 20 {
		t.Errorf("only %d API requests recorded; the recorder is not seeing the page", n)
	}
}

// checkConsole fails on console errors and exceptions, and on network
// errors other than the API's deliberate 4xx answers (which the page shows).
func (b *browser) checkConsole(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errors {
		t.Errorf("console: %s", e)
	}
	// A URL may answer 4xx once and 200 later (a refused file, then a good
	// one): a console line about it is expected when any answer was a 4xx.
	answered4xx := map[string]bool{}
	for _, r := range b.order {
		if r.Status >= 400 && r.Status < 500 {
			answered4xx[r.URL] = true
		}
	}
	for _, line := range b.netLog {
		u, _, _ := strings.Cut(line, " ")
		if !answered4xx[u] {
			t.Errorf("network error in the console (no 4xx answer from that URL): %s", line)
		}
	}
}
