package integration

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/users"
)

func TestTeamEndpointsAuthorizeExactlyAsSpecified(t *testing.T) {
	now := time.Now()
	team := newTeam(t, "pro", 20, "owner@auth.example")
	other := newTeam(t, "pro", 5, "owner@other-auth.example")
	free := newTeam(t, "free", 5, "owner@free-auth.example")
	ms := seed(t, team, 19, now)
	var user, invitedAdmin users.Member
	for _, m := range ms {
		if m.Role == users.RoleUser && m.Status == users.StatusActive && user.ID == "" {
			user = m
		}
	}
	invitedAdmin = users.Member{ID: users.NewID("m"), TeamID: other, Email: "invited-admin@other-auth.example", Role: users.RoleAdmin,
		Status: users.StatusInvitationSent, InvitedAt: now, InvitationExpiresAt: now.Add(time.Hour)}
	if err := stack.Store.AddMember(context.Background(), invitedAdmin); err != nil {
		t.Fatal(err)
	}
	paths := []string{"/v1/teams/%s/summary", "/v1/teams/%s/members", "/v1/teams/%s/members/" + ms[0].ID}
	owner := token(t, "owner@auth.example", local.TokenOptions{})
	cases := []struct {
		name   string
		team   string
		token  string
		status int
		code   string
	}{
		{"no token", team, "", 401, "unauthorized"},
		{"expired token", team, token(t, "owner@auth.example", local.TokenOptions{TTL: -time.Minute}), 401, "unauthorized"},
		{"wrong audience", team, token(t, "owner@auth.example", local.TokenOptions{Audience: "another-app"}), 401, "unauthorized"},
		{"wrong issuer", team, token(t, "owner@auth.example", local.TokenOptions{Issuer: "https://elsewhere.example"}), 401, "unauthorized"},
		{"forged signature", team, forge(t, "owner@auth.example"), 401, "unauthorized"},
		{"a stranger", team, token(t, "nobody@auth.example", local.TokenOptions{}), 404, "team_not_found"},
		{"admin of another team", team, token(t, "owner@other-auth.example", local.TokenOptions{}), 404, "team_not_found"},
		{"no such team", "t_doesnotexist", owner, 404, "team_not_found"},
		{"a malformed team id", "T!..", owner, 404, "team_not_found"},
		{"a user-role member", team, token(t, user.Email, local.TokenOptions{}), 403, "admin_required"},
		{"an admin who has not accepted", other, token(t, invitedAdmin.Email, local.TokenOptions{}), 404, "team_not_found"},
		{"the admin of a free team", free, token(t, "owner@free-auth.example", local.TokenOptions{}), 403, "plan_required"},
		{"the owner, in another case", team, token(t, "Owner@Auth.Example", local.TokenOptions{}), 200, ""},
	}
	for _, c := range cases {
		for _, p := range paths {
			path := sprintf(p, c.team)
			r := call(t, "GET", path, c.token, nil)
			if c.status == 200 {
				if r.Status != 200 {
					t.Errorf("%s: GET %s = %d %s", c.name, path, r.Status, r.Body)
				}
				continue
			}
			if got := r.Problem(t, c.status); got != c.code {
				t.Errorf("%s: GET %s: code %q, want %q", c.name, path, got, c.code)
			}
		}
	}
}

// forge signs a token with a key the gateway does not trust.
func forge(t *testing.T, email string) string {
	k, err := local.NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := k.Mint(email, local.TokenOptions{})
	return tok
}

func TestUnknownRoutesAndMethodsAreProblems(t *testing.T) {
	team := newTeam(t, "pro", 5, "owner@routes.example")
	tok := token(t, "owner@routes.example", local.TokenOptions{})
	for _, c := range []struct{ method, path string }{
		// GET / is the Users page (internal/local/portal.go); other paths and methods are not.
		{"GET", "/v1/nothing"}, {"DELETE", "/v1/teams/" + team + "/summary"}, {"POST", "/"}, {"GET", "/nothing.html"}, {"GET", "/_local/token"},
	} {
		r := call(t, c.method, c.path, tok, nil)
		if r.Status < 400 || r.Status >= 500 {
			t.Errorf("%s %s = %d", c.method, c.path, r.Status)
		}
		r.Problem(t, r.Status)
	}
}

func TestCORSFollowsTheTemplate(t *testing.T) {
	pre := func(origin string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", api.URL+"/v1/teams/t_x/members/bulk", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,idempotency-key")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	ok := pre(local.PortalOrigin)
	if ok.StatusCode != 204 || ok.Header.Get("Access-Control-Allow-Origin") != local.PortalOrigin ||
		!strings.Contains(strings.ToLower(ok.Header.Get("Access-Control-Allow-Headers")), "idempotency-key") ||
		!strings.Contains(ok.Header.Get("Access-Control-Allow-Methods"), "PATCH") {
		t.Fatalf("preflight from the portal: %d %v", ok.StatusCode, ok.Header)
	}
	if other := pre("https://evil.example"); other.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("another origin was allowed: %v", other.Header)
	}
}
