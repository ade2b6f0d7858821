// Package security holds the OWASP API Security Top 10 (2023) matrix of
// docs/security.md to tests: each applicable row is attacked here, through
// the local gateway with real tokens, on a stack of its own whose limits
// are set low (as a deployer sets the template's parameters) so that they
// can be reached.
package security

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/httpapi"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/provisioning"
	"github.com/teamusers/usersapi/internal/samtemplate"
	"github.com/teamusers/usersapi/internal/users"
	"github.com/teamusers/usersapi/tests/testkit"
)

// The limits of this stack (template parameters).
const (
	invitationsPerDay = 30
	teamJobsPerHour   = 3
	acceptsPerMinute  = 5
	callsPerDay       = 5
	signInsPerDay     = 3
)

var (
	stack *local.Stack
	api   *httptest.Server
	logs  = &local.LogBuffer{} // what the functions logged (the stack's logger, WARN and above)
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	root, err := samtemplate.FindRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	state, err := os.MkdirTemp("", "usersapi-sec-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(state)
	policy := users.DefaultPolicy
	policy.Cooldown = 0
	stack, err = local.Start(context.Background(), local.StackOptions{Root: root, StateDir: filepath.Join(state, "stack"), Policy: &policy, SendRate: 200,
		Log: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})), TimeoutScale: 3,
		ParameterOverrides: fmt.Sprintf("InvitationsPerTeamPerDay=%d TeamJobsPerTeamPerHour=%d AcceptsPerAddressPerMinute=%d CallsPerMemberPerDay=%d SignInsPerMemberPerDay=%d",
			invitationsPerDay, teamJobsPerHour, acceptsPerMinute, callsPerDay, signInsPerDay)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "local stack:", err)
		return 1
	}
	defer stack.Stop()
	api = httptest.NewServer(stack.Gateway)
	defer api.Close()
	return m.Run()
}

// team is a provisioned pro team, its owner's token and some members.
type team struct {
	ID, Owner, Token string
	Members          []users.Member
}

func newTeam(t *testing.T, domain string, members int) team {
	t.Helper()
	return newTeamWithSeats(t, domain, 100, members)
}

// newTeamWithSeats is newTeam with that many seats (the owner takes one).
func newTeamWithSeats(t *testing.T, domain string, seats, members int) team {
	t.Helper()
	owner := "owner@" + domain
	resp, err := provisioning.Service{Store: stack.Store, Now: time.Now}.Handle(context.Background(),
		provisioning.Request{Plan: "pro", Seats: &seats, OwnerEmail: owner, Name: domain})
	if err != nil {
		t.Fatal(err)
	}
	tm := team{ID: resp.TeamID, Owner: owner, Token: token(t, owner, local.TokenOptions{})}
	for _, m := range local.DemoMembers(resp.TeamID, members, time.Now()) {
		m.Email = strings.Replace(m.Email, "@", "."+strings.ReplaceAll(domain, ".", "-")+"@", 1)
		if err := stack.Store.AddMember(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		tm.Members = append(tm.Members, m)
	}
	return tm
}

// first is the first member of the team in a status and role.
func (tm team) first(t *testing.T, s users.Status, r users.Role) users.Member {
	t.Helper()
	for _, m := range tm.Members {
		if m.Status == s && m.Role == r {
			return m
		}
	}
	t.Fatalf("no %s %s in the team", s, r)
	return users.Member{}
}

func token(t *testing.T, email string, o local.TokenOptions) string {
	t.Helper()
	return testkit.Token(t, stack.Keys, email, o)
}

type response = testkit.Response

// call sends a JSON body (nil: none).
func call(t *testing.T, method, path, tok string, body any) response {
	t.Helper()
	var b []byte
	h := map[string]string{}
	if body != nil {
		b, _ = json.Marshal(body)
		h["Content-Type"] = "application/json"
	}
	return send(t, http.DefaultClient, method, path, tok, h, b)
}

func send(t *testing.T, client *http.Client, method, path, tok string, headers map[string]string, body []byte) response {
	t.Helper()
	return testkit.Do(t, client, method, api.URL+path, tok, headers, body)
}

// from is a client whose connections come from another loopback address,
// so the gateway sees another source address (API Gateway's sourceIp).
func from(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// summary is the team's counters, read as its admin.
func summary(t *testing.T, tm team) string {
	t.Helper()
	r := call(t, "GET", "/v1/teams/"+tm.ID+"/summary", tm.Token, nil)
	if r.Status != 200 {
		t.Fatalf("summary: %d %s", r.Status, r.Body)
	}
	return string(r.Body)
}

// snapshot is what an attack must leave as it was: the counters, every
// member of the team as its admin sees them (the deactivated ones too) and
// the team's SCIM tokens.
func snapshot(t *testing.T, tm team) string {
	t.Helper()
	var all []string
	for _, list := range []string{"", "&status=deactivated"} {
		all = append(all, listAll(t, tm, list)...)
	}
	r := call(t, "GET", "/v1/teams/"+tm.ID+"/scim-tokens", tm.Token, nil)
	if r.Status != 200 {
		t.Fatalf("SCIM tokens: %d %s", r.Status, r.Body)
	}
	return summary(t, tm) + strings.Join(all, "\n") + string(r.Body)
}

func listAll(t *testing.T, tm team, filter string) []string {
	t.Helper()
	var all []string
	cursor := ""
	for {
		path := "/v1/teams/" + tm.ID + "/members?limit=100" + filter
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		r := call(t, "GET", path, tm.Token, nil)
		var page struct {
			Members    []json.RawMessage
			NextCursor string
		}
		r.JSON(t, &page)
		for _, m := range page.Members {
			all = append(all, string(m))
		}
		if page.NextCursor == "" {
			return all
		}
		cursor = page.NextCursor
	}
}

// scimToken makes a SCIM token of the team, as its admin does: its id and
// the token itself.
func scimToken(t *testing.T, tm team, name string) (id, tok string) {
	t.Helper()
	r := call(t, "POST", "/v1/teams/"+tm.ID+"/scim-tokens", tm.Token, map[string]string{"name": name})
	var out struct{ ID, Token string }
	r.JSON(t, &out)
	if r.Status != 201 || out.Token == "" {
		t.Fatalf("SCIM token: %d %s", r.Status, r.Body)
	}
	return out.ID, out.Token
}

// scimCall sends a SCIM request with a bearer credential (none if empty).
func scimCall(t *testing.T, method, path, tok string, body any) response {
	t.Helper()
	var b []byte
	h := map[string]string{}
	if body != nil {
		b, _ = json.Marshal(body)
		h["Content-Type"] = "application/scim+json"
	}
	return send(t, nil, method, "/scim/v2"+path, tok, h, b)
}

// waitForToken is the invitation token of the first email to addr.
func waitForToken(t *testing.T, addr string) string {
	t.Helper()
	return waitForNthToken(t, addr, 1)
}

// waitForNthToken is the token of the nth email to addr (from 1).
func waitForNthToken(t *testing.T, addr string, n int) string {
	t.Helper()
	return testkit.Mailbox(stack.Services.SESEndpoint).WaitForToken(t, addr, n)
}

// mailCount is how many emails the local SES has taken, once the stream
// poller has handled everything written so far.
func mailCount(t *testing.T) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	idle := time.Time{}
	for time.Now().Before(deadline) {
		switch {
		case !stack.Poller.Idle():
			idle = time.Time{}
		case idle.IsZero():
			idle = time.Now()
		case time.Since(idle) > 700*time.Millisecond:
			return len(testkit.Mailbox(stack.Services.SESEndpoint).All(t))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the stream poller did not settle")
	return 0
}

// waitForJob waits until a team job has run to its end.
func waitForJob(t *testing.T, tm team, id string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var j struct{ State string }
		call(t, "GET", "/v1/teams/"+tm.ID+"/jobs/"+id, tm.Token, nil).JSON(t, &j)
		if j.State == "done" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("job %s did not finish", id)
}

// pathOf fills a route's pattern: "POST /v1/teams/{teamId}/jobs/{jobId}".
// The SCIM catch-all, which takes any method and path under /scim/v2, is
// asked for its first document.
func pathOf(e httpapi.Endpoint, ids map[string]string) (method, path string) {
	method, path, ok := strings.Cut(e.Pattern, " ")
	if !ok {
		method, path = "GET", strings.Replace(e.Pattern, "{proxy...}", "ServiceProviderConfig", 1)
	}
	for name, v := range ids {
		path = strings.ReplaceAll(path, "{"+name+"}", v)
	}
	return method, path
}
