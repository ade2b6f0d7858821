// Package browser tests the Users page (web/) in headless Chromium against
// the local stack: the page as an admin uses it, end to end, with every
// request it sends recorded and checked against the API's documented routes.
package browser

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/provisioning"
	"github.com/teamusers/usersapi/internal/samtemplate"
	"github.com/teamusers/usersapi/internal/users"
	"github.com/teamusers/usersapi/tests/testkit"
)

var screenshots = flag.String("screenshots", "", "save the screenshots of the main states in this folder (make screenshots)")

var (
	stack    *local.Stack
	site     string // the gateway: page and API
	root     string
	chromium string
)

// Cooldown between two emails to one member: long, so that a second
// "Resend invite" is refused with 429 and a Retry-After.
const cooldown = time.Hour

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	if chromium, err = testkit.Chromium("the browser tests"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if root, err = samtemplate.FindRoot(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	state, err := os.MkdirTemp("", "usersapi-browser-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(state)
	// The address first, so that invitation emails link to this gateway.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	site = "http://" + l.Addr().String()
	policy := users.DefaultPolicy
	policy.Cooldown = cooldown
	stack, err = local.Start(context.Background(), local.StackOptions{Root: root, StateDir: filepath.Join(state, "stack"), Policy: &policy, SendRate: 200,
		PortalURL: site, Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		fmt.Fprintln(os.Stderr, "local stack:", err)
		return 1
	}
	defer stack.Stop()
	srv := &http.Server{Handler: stack.Gateway, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()
	return m.Run()
}

// newTeam provisions a pro team the way billing does and fills it with n
// members in every status, bucket and role.
func newTeam(t *testing.T, name, owner string, seats, n int) (string, []users.Member) {
	t.Helper()
	resp, err := provisioning.Service{Store: stack.Store, Now: time.Now}.Handle(context.Background(),
		provisioning.Request{Plan: "pro", Seats: &seats, OwnerEmail: owner, Name: name})
	if err != nil {
		t.Fatalf("provision: %v", err)
	}
	ms := local.DemoMembers(resp.TeamID, n, time.Now())
	for _, m := range ms {
		if err := stack.Store.AddMember(context.Background(), m); err != nil {
			t.Fatalf("add %s: %v", m.Email, err)
		}
	}
	return resp.TeamID, ms
}

// apiClient calls the API directly, to check what the page shows.
type apiClient struct {
	t     *testing.T
	token string
}

func asAdmin(t *testing.T, email string) apiClient {
	tok, err := stack.Keys.Mint(email, local.TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return apiClient{t: t, token: tok}
}

func (c apiClient) do(method, path, contentType string, body []byte, out any) int {
	c.t.Helper()
	h := map[string]string{}
	if contentType != "" {
		h["Content-Type"] = contentType
	}
	r := testkit.Do(c.t, nil, method, site+path, c.token, h, body)
	if out != nil && r.Status < 300 {
		if err := json.Unmarshal(r.Body, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, r.Body)
		}
	}
	return r.Status
}

type problem struct {
	Status       int
	Code, Detail string
}

// problem sends a request the API must refuse, and returns its problem.
func (c apiClient) problem(method, path, contentType string, body []byte) problem {
	c.t.Helper()
	var p problem
	r := testkit.Do(c.t, nil, method, site+path, c.token, map[string]string{"Content-Type": contentType}, body)
	if r.Status < 400 {
		c.t.Fatalf("%s %s: %d, want a refusal", method, path, r.Status)
	}
	r.JSON(c.t, &p)
	return p
}

func (c apiClient) get(path string, out any) {
	c.t.Helper()
	if s := c.do("GET", path, "", nil, out); s != 200 {
		c.t.Fatalf("GET %s: %d", path, s)
	}
}

type row struct {
	ID                string `json:"id"`
	Email             string `json:"email"`
	Status            string `json:"status"`
	LastCall          string `json:"lastCall"`
	Role              string `json:"role"`
	IsOwner           bool   `json:"isOwner"`
	InvitationExpired bool   `json:"invitationExpired"`
	InvitedAt         string `json:"invitedAt"`
	EmailProblem      string `json:"emailProblem"`
}

// all lists every member matching a query, page by page.
func (c apiClient) all(team, query string) []row {
	c.t.Helper()
	var out []row
	cursor := ""
	for {
		var pg struct {
			Members    []row  `json:"members"`
			NextCursor string `json:"nextCursor"`
		}
		q := query + "&limit=100"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		c.get("/v1/teams/"+team+"/members?"+q, &pg)
		out = append(out, pg.Members...)
		if pg.NextCursor == "" {
			return out
		}
		cursor = pg.NextCursor
	}
}

// total is the list's total for a query (no search), as the API counts it.
func (c apiClient) total(team, query string) int {
	c.t.Helper()
	var pg struct {
		Total *int `json:"total"`
	}
	c.get("/v1/teams/"+team+"/members?limit=1&"+query, &pg)
	if pg.Total == nil {
		c.t.Fatalf("no total for %q", query)
	}
	return *pg.Total
}

type summary struct {
	Team struct {
		ID, Name, Plan string
	}
	Seats struct {
		Purchased, Assigned, Unassigned int
	}
	PendingInvitations int
	NeverUsedApp       int
}

// mails reads what the local SES server has sent to an address.
func mails(t *testing.T, to string) []string {
	t.Helper()
	resp, err := http.Get(stack.Services.SESEndpoint + "/store")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var store struct {
		Emails []struct {
			Destination struct{ To []string }
			Body        struct{ HTML, Text string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range store.Emails {
		for _, d := range e.Destination.To {
			if d == to {
				out = append(out, e.Body.Text+"\n"+e.Body.HTML)
			}
		}
	}
	return out
}
