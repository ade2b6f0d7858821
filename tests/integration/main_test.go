// Package integration tests the API end to end: real tokens through the
// local gateway, the functions' own handlers, and the local DynamoDB server.
package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/provisioning"
	"github.com/teamusers/usersapi/internal/samtemplate"
	"github.com/teamusers/usersapi/internal/users"
	"github.com/teamusers/usersapi/tests/testkit"
)

var (
	stack *local.Stack
	api   *httptest.Server
	// faultMode: the stand-ins fail as AWS does (FAULT_RATE, FAULT_INDEX_LAG_MS).
	// The client then behaves as a good client of the API does: every POST
	// carries an Idempotency-Key, and a 503 is retried after its Retry-After
	// with the same key. Any other 5xx fails the test.
	faultMode bool
	indexLag  time.Duration
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, err := samtemplate.FindRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	state, err := os.MkdirTemp("", "usersapi-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(state)
	// A short cooldown, so tests can resend without waiting ten minutes
	// (longer on the hostile stack, where an invitation's email may take
	// more than a second to arrive and a resend "right after" it would
	// already be past a one-second cooldown).
	policy := users.DefaultPolicy
	if os.Getenv("FAULT_RATE") != "" || os.Getenv("FAULT_INDEX_LAG_MS") != "" {
		emailCooldown = 3 * time.Second
	}
	policy.Cooldown = emailCooldown
	// Every test accepts from 127.0.0.1: the per-address limit is proved
	// in tests/security, on a stack of its own.
	policy.Limits.AcceptsPerMinute = 1_000_000
	// FAULT_RATE / FAULT_INDEX_LAG_MS / FAULT_SEED make the stand-ins fail as
	// AWS does (unset: no faults); tests can also change them at run time
	// with stack.SetFaults and read stack.FaultCounts.
	faults, err := local.FaultOptionsFromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	faultMode, indexLag = faults.Hostile(), faults.IndexLag
	stack, err = local.Start(context.Background(), local.StackOptions{Root: root, StateDir: filepath.Join(state, "stack"), Policy: &policy, SendRate: 200,
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), Faults: faults,
		// Handlers see a deadline and the gateway enforces it, but at three
		// times the template's Timeout: moto answers one request at a time,
		// far slower than DynamoDB, and `make test` shares two cores with the
		// browser tests. internal/local tests the limits themselves.
		TimeoutScale: 3})
	if err != nil {
		fmt.Fprintln(os.Stderr, "local stack:", err)
		return 1
	}
	defer stack.Stop()
	api = httptest.NewServer(stack.Gateway)
	defer api.Close()
	code := m.Run()
	if faultMode && code == 0 {
		code = checkEveryFaultKind()
	}
	return code
}

// checkEveryFaultKind prints, as make faults does, what the hostile run
// injected, and fails the run unless every kind was injected at least once.
func checkEveryFaultKind() int {
	counts, err := stack.FaultCounts(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "fault counts:", err)
		return 1
	}
	b, _ := json.Marshal(counts)
	fmt.Printf("faults injected: %s; 503s retried by the client: %d\n", b, unavailable.Load())
	code := 0
	for _, k := range local.DynamoDBFaultKinds {
		if counts.DynamoDB[k] == 0 {
			fmt.Fprintf(os.Stderr, "no DynamoDB %s fault was injected: the run proves nothing about it\n", k)
			code = 1
		}
	}
	for _, k := range local.SESFaultKinds {
		if counts.SES[k] == 0 {
			fmt.Fprintf(os.Stderr, "no SES %s fault was injected: the run proves nothing about it\n", k)
			code = 1
		}
	}
	if indexLag > 0 && counts.DynamoDB[local.FaultIndexLagReads] == 0 {
		fmt.Fprintln(os.Stderr, "no index read lagged")
		code = 1
	}
	return code
}

// newTeam provisions a team the way billing does.
func newTeam(t *testing.T, plan string, seats int, owner string) string {
	t.Helper()
	// Named after the owner's domain: "usage.example team".
	resp, err := provisioning.Service{Store: stack.Store, Now: time.Now}.Handle(context.Background(),
		provisioning.Request{Plan: plan, Seats: &seats, OwnerEmail: owner, Name: strings.ToLower(owner[strings.LastIndex(owner, "@")+1:]) + " team"})
	if err != nil {
		t.Fatalf("provision: %v", err)
	}
	return resp.TeamID
}

// seed adds members to a team and returns them as stored.
func seed(t *testing.T, teamID string, n int, now time.Time) []users.Member {
	t.Helper()
	ms := local.DemoMembers(teamID, n, now)
	for i := range ms {
		if err := stack.Store.AddMember(context.Background(), ms[i]); err != nil {
			t.Fatalf("add %s: %v", ms[i].Email, err)
		}
		ms[i].LastCall = users.BucketFor(ms[i].Status, ms[i].LastActiveAt, now, time.UTC)
	}
	return ms
}

func token(t *testing.T, email string, o local.TokenOptions) string {
	t.Helper()
	return testkit.Token(t, stack.Keys, email, o)
}

type response = testkit.Response

// emailCooldown is the test stack's cooldown between two emails to one
// member; pastCooldown waits it out.
var emailCooldown = time.Second

func pastCooldown() { time.Sleep(emailCooldown + 100*time.Millisecond) }

func call(t *testing.T, method, path, tok string, body any) response {
	t.Helper()
	var b []byte
	headers := map[string]string{}
	if body != nil {
		b, _ = json.Marshal(body)
		headers["Content-Type"] = "application/json"
	}
	return send(t, method, path, tok, headers, b)
}

// send makes one request with the given headers and raw body.
func send(t *testing.T, method, path, tok string, headers map[string]string, body []byte) response {
	t.Helper()
	return sendTo(t, api.URL, method, path, tok, headers, body)
}

// sendTo is send to another gateway than the shared stack's. In fault mode
// it is a good client: POSTs carry an Idempotency-Key, a 503 with
// Retry-After is retried with the same key, and nothing else 5xx may come.
func sendTo(t *testing.T, base, method, path, tok string, headers map[string]string, body []byte) response {
	t.Helper()
	if !faultMode {
		return sendOnce(t, base, method, path, tok, headers, body)
	}
	if method == http.MethodPost && headers["Idempotency-Key"] == "" {
		h := map[string]string{"Idempotency-Key": users.NewID("retry")}
		for k, v := range headers {
			h[k] = v
		}
		headers = h
	}
	for attempt := 0; ; attempt++ {
		r := sendOnce(t, base, method, path, tok, headers, body)
		switch {
		case r.Status == http.StatusServiceUnavailable && r.Header.Get("Retry-After") == "":
			t.Errorf("%s %s: 503 without Retry-After: %s", method, path, r.Body)
		case r.Status == http.StatusServiceUnavailable && attempt < 8:
			unavailable.Add(1)
			secs, _ := strconv.Atoi(r.Header.Get("Retry-After"))
			time.Sleep(time.Duration(min(secs, 2)) * time.Second)
			continue
		case r.Status >= 500 && r.Status != http.StatusServiceUnavailable:
			t.Errorf("%s %s: %d, the only 5xx a caller may see is 503: %s", method, path, r.Status, r.Body)
		}
		return r
	}
}

// unavailable counts the 503s retried in fault mode.
var unavailable atomic.Int64

// settleIndexes waits out the index lag, in fault mode, before a read of
// the member list is compared with what was just written: in AWS too, a
// global secondary index follows the table a moment later.
func settleIndexes() {
	if indexLag > 0 {
		time.Sleep(2 * indexLag)
	}
}

func sendOnce(t *testing.T, base, method, path, tok string, headers map[string]string, body []byte) response {
	t.Helper()
	return testkit.Do(t, nil, method, base+path, tok, headers, body)
}

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }

func jsonBytes(v any) ([]byte, error) { return json.Marshal(v) }

func provisionSeats(team string, seats int) (provisioning.Response, error) {
	return provisioning.Service{Store: stack.Store, Now: time.Now}.Handle(context.Background(), provisioning.Request{TeamID: team, Seats: &seats})
}

func provisioningOn(store *dynamo.Store, seats *int) (string, error) {
	r, err := provisioning.Service{Store: store, Now: time.Now}.Handle(context.Background(), provisioning.Request{Plan: "pro", Seats: seats, OwnerEmail: "owner@delivery.example"})
	return r.TeamID, err
}
