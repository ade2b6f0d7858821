package security

import (
	"strings"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/httpapi"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/users"
)

// callerRoutes are the routes any signed-in person may call (their own
// teams, the desktop app's reports); every other route but the public
// accept is an admin route. A route added to the table that is neither
// makes TestEveryAdminRouteRefusesAUserRoleMember fail until it is
// classified here.
var callerRoutes = map[string]bool{"GetMeFunction": true, "RecordSignInFunction": true, "RecordCallFunction": true}

// API5 Broken Function Level Authorization: every admin route, from the
// route table (so a route added tomorrow is covered the day it is added),
// with valid requests from a user-role member of the team: 403
// admin_required, and nothing changes, nobody is emailed. The caller
// routes serve that member.
func TestEveryAdminRouteRefusesAUserRoleMember(t *testing.T) {
	tm := newTeam(t, "bfla.example", 8)
	user := tm.first(t, users.StatusActive, users.RoleUser)
	pending := tm.first(t, users.StatusInvitationSent, users.RoleUser)
	userToken := token(t, user.Email, local.TokenOptions{})
	var job struct{ JobID string }
	call(t, "POST", "/v1/teams/"+tm.ID+"/instructions", tm.Token, nil).JSON(t, &job)
	waitForJob(t, tm, job.JobID)
	tokenID, _ := scimToken(t, tm, "IdP")
	before := snapshot(t, tm)
	mailBefore := mailCount(t)

	// A request each admin route would serve for the owner.
	bodies := map[string]string{
		"InviteFunction":           `{"emails":["new@bfla.example"],"role":"admin"}`,
		"BulkFunction":             `{"action":"change_role","memberIds":["` + user.ID + `"],"role":"admin"}`,
		"ChangeRoleFunction":       `{"role":"admin"}`,
		"UsageReportFunction":      `{"memberIds":["` + user.ID + `"]}`,
		"EmailUsageReportFunction": `{"memberIds":["` + user.ID + `"]}`,
		"CsvSelectionFunction":     "email\n" + user.Email + "\n",
		"CreateScimTokenFunction":  `{"name":"Mallory's IdP"}`,
	}
	ids := map[string]string{"teamId": tm.ID, "memberId": pending.ID, "jobId": job.JobID, "tokenId": tokenID}
	admin := 0
	for _, e := range httpapi.Endpoints {
		method, path := pathOf(e, ids)
		switch {
		case e.Public:
			continue
		case callerRoutes[e.Function]:
			continue
		case !strings.Contains(e.Pattern, "/v1/teams/{teamId}/"):
			t.Errorf("%s (%s) is neither an admin route (under /v1/teams/{teamId}/), a caller route nor public: classify it in callerRoutes or give it the team's authorization", e.Function, e.Pattern)
			continue
		}
		admin++
		ct := "application/json"
		if e.Function == "CsvSelectionFunction" {
			ct = "text/csv"
		}
		var body []byte
		if b, ok := bodies[e.Function]; ok {
			body = []byte(b)
		}
		r := send(t, nil, method, path, userToken, map[string]string{"Content-Type": ct}, body)
		if code := r.Problem(t, 403); code != "admin_required" {
			t.Errorf("%s %s as a user-role member: %s", method, path, code)
		}
		// The same request as the owner is served (the refusal was the role's).
		if method == "GET" {
			if r := send(t, nil, method, path, tm.Token, nil, nil); r.Status != 200 {
				t.Errorf("%s %s as the owner: %d %s", method, path, r.Status, r.Body)
			}
		}
	}
	if admin < 15 {
		t.Fatalf("only %d admin routes in the table", admin)
	}
	time.Sleep(time.Second) // let anything queued reach the deliverer
	if after := snapshot(t, tm); after != before {
		t.Fatalf("the team changed:\nbefore %s\nafter  %s", before, after)
	}
	if n := mailCount(t); n != mailBefore {
		t.Fatalf("%d emails were sent by refused requests", n-mailBefore)
	}
	// The caller routes serve the user-role member.
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/v1/me", ""},
		{"POST", "/v1/me/sign-ins", `{"device":"laptop"}`},
		{"POST", "/v1/me/calls", `{"startedAt":"` + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339) + `","durationSeconds":60}`},
	} {
		r := send(t, nil, c.method, c.path, userToken, map[string]string{"Content-Type": "application/json"}, []byte(c.body))
		if c.body == "" {
			r = send(t, nil, c.method, c.path, userToken, nil, nil)
		}
		if r.Status != 200 {
			t.Errorf("%s %s as a user-role member: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
}

// API5, a deactivated member: an admin turned off (by another admin or by
// the identity provider) keeps a valid token, and every admin route, from
// the route table, refuses it with 403 member_deactivated, as do the
// app's reports; nothing changes. Reactivated, they are served again.
func TestADeactivatedMemberCannotAct(t *testing.T) {
	tm := newTeam(t, "deactivated.example", 10)
	admin := tm.first(t, users.StatusActive, users.RoleAdmin)
	user := tm.first(t, users.StatusActive, users.RoleUser)
	if r := call(t, "POST", "/v1/teams/"+tm.ID+"/members/"+admin.ID+"/deactivate", tm.Token, nil); r.Status != 200 {
		t.Fatalf("deactivate: %d %s", r.Status, r.Body)
	}
	tokenID, _ := scimToken(t, tm, "IdP")
	var job struct{ JobID string }
	call(t, "POST", "/v1/teams/"+tm.ID+"/instructions", tm.Token, nil).JSON(t, &job)
	waitForJob(t, tm, job.JobID)
	before := snapshot(t, tm)
	mailBefore := mailCount(t)
	theirs := token(t, admin.Email, local.TokenOptions{})

	bodies := map[string]string{
		"InviteFunction":           `{"emails":["new@deactivated.example"]}`,
		"BulkFunction":             `{"action":"remove","memberIds":["` + user.ID + `"]}`,
		"ChangeRoleFunction":       `{"role":"admin"}`,
		"UsageReportFunction":      `{"memberIds":["` + user.ID + `"]}`,
		"EmailUsageReportFunction": `{"memberIds":["` + user.ID + `"]}`,
		"CsvSelectionFunction":     "email\n" + user.Email + "\n",
		"CreateScimTokenFunction":  `{"name":"mine"}`,
	}
	ids := map[string]string{"teamId": tm.ID, "memberId": user.ID, "jobId": job.JobID, "tokenId": tokenID}
	routes := 0
	for _, e := range httpapi.Endpoints {
		if e.Public || callerRoutes[e.Function] {
			continue
		}
		routes++
		method, path := pathOf(e, ids)
		ct := "application/json"
		if e.Function == "CsvSelectionFunction" {
			ct = "text/csv"
		}
		var body []byte
		if b, ok := bodies[e.Function]; ok {
			body = []byte(b)
		}
		r := send(t, nil, method, path, theirs, map[string]string{"Content-Type": ct}, body)
		if code := r.Problem(t, 403); code != "member_deactivated" {
			t.Errorf("%s %s as a deactivated admin: %s", method, path, code)
		}
	}
	if routes < 15 {
		t.Fatalf("only %d admin routes in the table", routes)
	}
	for _, c := range []struct{ path, body string }{
		{"/v1/me/sign-ins", `{"device":"laptop"}`},
		{"/v1/me/calls", `{"startedAt":"` + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339) + `","durationSeconds":60}`},
	} {
		r := send(t, nil, "POST", c.path, theirs, map[string]string{"Content-Type": "application/json"}, []byte(c.body))
		if code := r.Problem(t, 403); code != "member_deactivated" {
			t.Errorf("POST %s as a deactivated member: %s", c.path, code)
		}
	}
	time.Sleep(time.Second) // let anything queued reach the deliverer
	if after := snapshot(t, tm); after != before {
		t.Fatalf("the team changed:\nbefore %s\nafter  %s", before, after)
	}
	if n := mailCount(t); n != mailBefore {
		t.Fatalf("%d emails were sent by refused requests", n-mailBefore)
	}
	// Reactivated, the same token is served: the refusals were the deactivation's.
	if r := call(t, "POST", "/v1/teams/"+tm.ID+"/members/"+admin.ID+"/reactivate", tm.Token, nil); r.Status != 200 {
		t.Fatalf("reactivate: %d %s", r.Status, r.Body)
	}
	if r := call(t, "GET", "/v1/teams/"+tm.ID+"/summary", theirs, nil); r.Status != 200 {
		t.Fatalf("the reactivated admin: %d %s", r.Status, r.Body)
	}
}
