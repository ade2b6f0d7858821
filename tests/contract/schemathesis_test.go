// Package contract holds the API to its document: Schemathesis generates
// requests for every operation of api/openapi.yaml (from its examples, its
// schemas' edges, at random, and along the links between operations) and
// checks every answer against the document. It runs against the local
// stack, with an admin's token for the portal's routes and a SCIM token of
// the same team for the SCIM service's, and the path parameters resolved
// to a seeded team, so the requests reach the handlers rather than
// stopping at 401/404.
package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/provisioning"
	"github.com/teamusers/usersapi/internal/samtemplate"
	"github.com/teamusers/usersapi/internal/users"
)

// Bounds of the run in make test. SCHEMATHESIS_MAX_TIME and
// SCHEMATHESIS_SEED change them (a longer run, another seed).
const (
	maxTime     = 240 // seconds for the whole run, all phases
	maxExamples = 30  // generated cases per operation and phase
	seed        = 20261201
)

func TestTheAPIKeepsItsDocument(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the local stack and runs Schemathesis")
	}
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	st := filepath.Join(root, ".venv", "bin", "schemathesis")
	if _, err := os.Stat(st); err != nil {
		t.Fatalf("Schemathesis is not installed (%v): run make deps", err)
	}
	// SCHEMATHESIS_DIR keeps the configuration and the reports (JUnit,
	// NDJSON) there; SCHEMATHESIS_ARGS adds arguments (one operation:
	// "--include-operation-id listMembers").
	dir := os.Getenv("SCHEMATHESIS_DIR")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// A short cooldown, so resends reach the handler again within the run.
	policy := users.DefaultPolicy
	policy.Cooldown = time.Second
	// The limits high enough that the generated requests reach the
	// handlers (set as a deployer sets them); tests/security proves them.
	stack, err := local.Start(context.Background(), local.StackOptions{Root: root, StateDir: filepath.Join(dir, "stack"), Policy: &policy, SendRate: 200,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), TimeoutScale: 3,
		ParameterOverrides: "InvitationsPerTeamPerDay=1000000 TeamJobsPerTeamPerHour=1000000 AcceptsPerAddressPerMinute=1000000"})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Stop()
	api := httptest.NewServer(stack.Gateway)
	defer api.Close()

	f := seedTeam(t, stack, api.URL)
	config := filepath.Join(dir, "schemathesis.toml")
	doc := filepath.Join(root, "api", "openapi.yaml")
	// Our own checks (hooks.py) are loaded by a top-level key, which TOML
	// wants before the tables.
	cfg := fmt.Sprintf("hooks = %q\n", filepath.Join(root, "tests", "contract", "hooks.py")) + f.config(time.Now()) + f.operationsConfig(t, doc)
	if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--config-file", config, "run", doc, "--url", api.URL,
		"--workers", "1", // more than one hit an internal error of Schemathesis here
		"--max-time", envOr("SCHEMATHESIS_MAX_TIME", strconv.Itoa(maxTime)),
		"--max-examples", strconv.Itoa(maxExamples),
		"--seed", envOr("SCHEMATHESIS_SEED", strconv.Itoa(seed)),
		"--request-timeout", "60",
		"--report", "junit,ndjson", "--report-dir", filepath.Join(dir, "report"),
		"--no-color",
	}
	args = append(args, strings.Fields(os.Getenv("SCHEMATHESIS_ARGS"))...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, st, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SCHEMATHESIS_HOOKS=", "NO_COLOR=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = cmd.Run()
	t.Logf("schemathesis %s (%s):\n%s", strings.Join(args[2:], " "), time.Since(start).Round(time.Second), out.String())
	if err != nil {
		t.Fatalf("Schemathesis found answers that break api/openapi.yaml (%v); fix the code or the document", err)
	}
}

// fixture is what the run's parameters name.
type fixture struct {
	token, team string
	owner       string   // the owner's member id: no request can remove or demote it, so the pinned path stays valid all run
	job         string   // a team job
	invitee     string   // a pending invitee, Resend invite's own (no dictionary names it, so nothing else removes it)
	removable   string   // a member Remove's own: removed once, then 404 (and the run checks the removal stuck)
	switchable  string   // a member Deactivate's and Reactivate's own (the owner cannot be deactivated)
	members     []string // the other members, for memberIds
	tokens      []string // live invitation tokens of another team, which no request of the run resends
	scimToken   string   // the SCIM service's credential (the scimToken scheme)
	spareToken  string   // a SCIM token's id, Revoke's own (never the one the run uses)
	scimUser    string   // a provisioned member, the SCIM reads' and changes' own
	scimDoomed  string   // a provisioned member, SCIM DELETE's own
}

// config pins the path parameters and gives the body properties whose
// rules JSON Schema cannot state (they depend on what the table holds or
// on the clock) values from dictionaries, in the fuzzing phase: ids of
// members, tokens of live invitations, addresses that can be invited,
// report periods and call times that hold whatever the other properties
// are. Every other value is generated.
func (f fixture) config(now time.Time) string {
	day := func(d int) string { return now.AddDate(0, 0, d).UTC().Format("2006-01-02") }
	instant := func(d time.Duration) string { return now.Add(d).UTC().Format(time.RFC3339) }
	return fmt.Sprintf(`# Written by tests/contract: the seeded team and an admin's token.
[auth.openapi.bearer]
bearer = %q

[auth.openapi.scimToken]
bearer = %q

[parameters]
"path.teamId" = %q
"path.memberId" = %q
"path.jobId" = %q
"path.tokenId" = %q
"path.userId" = %q
"path.resourceType" = "User"
"path.schemaId" = "urn:ietf:params:scim:schemas:core:2.0:User"
"body.memberIds[*]" = { dictionary = "members" }
"body.token" = { dictionary = "tokens" }
"body.emails[*]" = { dictionary = "emails", probability = 0.5 }
"body.from" = { dictionary = "from" }
"body.to" = { dictionary = "to" }
"query.from" = { dictionary = "from" }
"query.to" = { dictionary = "to" }
"body.startedAt" = { dictionary = "startedAt" }

[dictionaries]
members = { values = %s }
tokens = { values = %s }
# Addresses that can be invited: their member ids feed the links.
emails = { values = %s }
# Any from is before any to, and no period is longer than 366 days.
from = { values = [%q, %q] }
to = { values = [%q, %q] }
# A call that started two days ago has ended, whatever its length (at most a day).
startedAt = { values = [%q, %q] }

# API Gateway's HTTP API routes by method and path, and answers a method no
# route declares with its own 404 before any function runs: no answer of
# ours can be the 405 this check asks for (docs/security.md).
[checks.unsupported_method]
enabled = false
`, f.token, f.scimToken, f.team, f.owner, f.job, f.spareToken, f.scimUser, tomlList(f.members), tomlList(f.tokens), tomlList(newAddresses(40)),
		day(-300), day(-29), day(-3), day(0), instant(-48*time.Hour), instant(-30*24*time.Hour))
}

// operationsConfig has one [[operations]] entry per operation that needs
// one: Resend invite and Remove pinned to their own members, and the
// built-in positive_data_acceptance check told the statuses of the
// refusals the document lists beyond its schemas (x-refused-beyond-schema;
// hooks.py holds those answers to the codes listed).
func (f fixture) operationsConfig(t *testing.T, doc string) string {
	t.Helper()
	raw, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]struct {
			OperationID string              `yaml:"operationId"`
			Refused     map[string][]string `yaml:"x-refused-beyond-schema"`
		} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	pins := map[string]map[string]string{
		"resendInvite":     {"path.memberId": f.invitee},
		"removeMember":     {"path.memberId": f.removable},
		"deactivateMember": {"path.memberId": f.switchable},
		"reactivateMember": {"path.memberId": f.switchable},
		"scimDeleteUser":   {"path.userId": f.scimDoomed},
	}
	var b strings.Builder
	var ids []string
	ops := map[string]map[string][]string{}
	for _, methods := range spec.Paths {
		for _, op := range methods {
			ids = append(ids, op.OperationID)
			ops[op.OperationID] = op.Refused
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		refused, pin := ops[id], pins[id]
		if len(refused) == 0 && pin == nil {
			continue
		}
		fmt.Fprintf(&b, "\n[[operations]]\ninclude-operation-id = %q\n", id)
		for name, v := range pin {
			fmt.Fprintf(&b, "parameters = { %q = %q }\n", name, v)
		}
		if len(refused) > 0 {
			expected := []string{"2xx", "3xx", "401", "403", "404", "409", "429"}
			for status := range refused {
				expected = append(expected, status)
			}
			slices.Sort(expected[7:])
			fmt.Fprintf(&b, "checks.positive_data_acceptance.expected-statuses = %s\n", tomlList(expected))
		}
	}
	return b.String()
}

func newAddresses(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("new%02d@contract.example", i)
	}
	return out
}

func tomlList(vs []string) string {
	b, _ := json.Marshal(vs)
	return string(b)
}

// seedTeam makes a pro team of 40 members in every status and bucket, a
// team job, a second team with live invitations, and the owner's token.
func seedTeam(t *testing.T, stack *local.Stack, api string) fixture {
	t.Helper()
	ctx := context.Background()
	provision := func(owner, name string) string {
		seats := 400
		team, err := provisioning.Service{Store: stack.Store, Now: time.Now}.Handle(ctx, provisioning.Request{Plan: "pro", Seats: &seats, OwnerEmail: owner, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return team.TeamID
	}
	mint := func(email string) string {
		tok, err := stack.Keys.Mint(email, local.TokenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	post := func(tok, path string, body any, out any) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", api+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode >= 300 {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
		}
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}

	owner := "owner@contract.example"
	f := fixture{team: provision(owner, "Contract Inc"), token: mint(owner)}
	ms := local.DemoMembers(f.team, 40, time.Now())
	for _, m := range ms {
		if err := stack.Store.AddMember(ctx, m); err != nil {
			t.Fatal(err)
		}
		switch {
		case f.invitee == "" && m.Status == users.StatusInvitationSent:
			f.invitee = m.ID
		case f.removable == "" && m.Status == users.StatusActive:
			f.removable = m.ID
		case f.switchable == "" && m.Status == users.StatusActive:
			f.switchable = m.ID
		default:
			f.members = append(f.members, m.ID)
		}
	}
	var job struct{ JobID string }
	post(f.token, "/v1/teams/"+f.team+"/invitations/resend", struct{}{}, &job)
	f.job = job.JobID
	var me struct {
		Teams []struct{ TeamID, MemberID string }
	}
	post(f.token, "/v1/me/sign-ins", struct{}{}, &me)
	for _, x := range me.Teams {
		if x.TeamID == f.team {
			f.owner = x.MemberID
		}
	}
	if f.owner == "" || f.invitee == "" || f.removable == "" || f.switchable == "" {
		t.Fatalf("seed: %+v", f)
	}
	f.members = append(f.members, f.owner)

	// The SCIM service's fixture: the token the run uses, a spare one for
	// Revoke, and two provisioned members (one for the reads and changes,
	// one for DELETE), made as an identity provider makes them.
	var tok struct{ ID, Token string }
	post(f.token, "/v1/teams/"+f.team+"/scim-tokens", map[string]string{"name": "Contract IdP"}, &tok)
	f.scimToken = tok.Token
	post(f.token, "/v1/teams/"+f.team+"/scim-tokens", map[string]string{"name": "Spare"}, &tok)
	f.spareToken = tok.ID
	for _, who := range []*string{&f.scimUser, &f.scimDoomed} {
		var u struct{ ID string }
		name := fmt.Sprintf("idp%d@contract.example", len(f.scimUser)+len(f.scimDoomed))
		post(f.scimToken, "/scim/v2/Users", map[string]any{"userName": name, "active": true, "emails": []map[string]any{{"value": name, "primary": true}}}, &u)
		*who = u.ID
	}
	if f.scimUser == "" || f.scimDoomed == "" || f.spareToken == "" {
		t.Fatalf("seed SCIM: %+v", f)
	}

	// The accept operation's tokens: invitations to another team, which no
	// request of the run resends (a resend would replace them). The first
	// request with each joins; later ones meet 409 already_accepted.
	other := "owner@elsewhere.example"
	var invited struct {
		Results []struct{ Email, Result string }
	}
	var emails []string
	for i := 0; i < 8; i++ {
		emails = append(emails, fmt.Sprintf("invitee%d@elsewhere.example", i))
	}
	post(mint(other), "/v1/teams/"+provision(other, "Elsewhere Ltd")+"/invitations", map[string]any{"emails": emails}, &invited)
	for _, e := range emails {
		f.tokens = append(f.tokens, waitForToken(t, stack.Services.SESEndpoint, e))
	}
	return f
}

var tokenInLink = regexp.MustCompile(`[?&]token=([A-Za-z0-9_-]{43})`)

// waitForToken reads the invitation token from the email to addr.
func waitForToken(t *testing.T, ses, addr string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(ses + "/store")
		if err != nil {
			t.Fatal(err)
		}
		var store struct {
			Emails []struct {
				Destination struct{ To []string }
				Body        struct{ Text string }
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&store)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range store.Emails {
			if len(m.Destination.To) == 1 && strings.EqualFold(m.Destination.To[0], addr) {
				if tok := tokenInLink.FindStringSubmatch(m.Body.Text); tok != nil {
					return tok[1]
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no invitation email to %s", addr)
	return ""
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
