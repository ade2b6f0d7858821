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
	call(t, "POST", "/v1/teams/"+tm.ID+"/instructions", tm.Token, nil).json(t, &job)
	waitForJob(t, tm, job.JobID)
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
	}
	ids := map[string]string{"teamId": tm.ID, "memberId": pending.ID, "jobId": job.JobID}
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
		if code := r.problem(t, 403); code != "admin_required" {
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
