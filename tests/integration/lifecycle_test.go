package integration

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/users"
)

type inviteResults struct {
	Results []struct {
		Email, Result, MemberID, Reason string
	}
}

type memberInfo struct {
	row
	LastActiveAt        *string `json:"lastActiveAt"`
	InvitationExpiresAt *string `json:"invitationExpiresAt"`
	AcceptedAt          *string `json:"acceptedAt"`
	FirstSignInAt       *string `json:"firstSignInAt"`
	LastSignInAt        *string `json:"lastSignInAt"`
	LastEmail           *struct {
		Kind, State, Reason string
		At                  *string
	} `json:"lastEmail"`
}

type summaryBody struct {
	Seats              struct{ Purchased, Assigned, Unassigned int }
	PendingInvitations int
	NeverUsedApp       int
}

func summary(t *testing.T, team, tok string) summaryBody {
	t.Helper()
	var s summaryBody
	r := call(t, "GET", "/v1/teams/"+team+"/summary", tok, nil)
	if r.Status != 200 {
		t.Fatalf("summary: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &s)
	return s
}

// recount counts the team's members through the list, as an admin would:
// every member the default list shows holds a seat; deactivated members,
// listed only when asked for, hold none.
func recount(t *testing.T, team, tok string) summaryBody {
	t.Helper()
	all, _ := listAll(t, team, tok, url.Values{"limit": {"100"}})
	off, _ := listAll(t, team, tok, url.Values{"limit": {"100"}, "status": {"deactivated"}})
	for _, r := range off {
		if r.Status != "deactivated" || r.LastCall != "not_active" {
			t.Fatalf("status=deactivated lists %+v", r)
		}
	}
	var s summaryBody
	s.Seats.Assigned = len(all)
	for _, r := range all {
		switch r.Status {
		case "deactivated":
			t.Fatalf("the default list shows a deactivated member: %+v", r)
		case "invitation_sent":
			s.PendingInvitations++
			s.NeverUsedApp++
		case "pending_app_login":
			s.NeverUsedApp++
		}
	}
	return s
}

func assertCountersMatchRecount(t *testing.T, team, tok string) {
	t.Helper()
	got, want := summary(t, team, tok), recount(t, team, tok)
	// Each status's and each bucket's total is checked against its rows.
	for _, st := range users.Statuses {
		listAll(t, team, tok, url.Values{"status": {string(st)}, "limit": {"100"}})
	}
	for _, lc := range users.LastCalls {
		listAll(t, team, tok, url.Values{"lastCall": {string(lc)}, "role": {"admin"}, "limit": {"100"}})
	}
	if got.Seats.Assigned != want.Seats.Assigned || got.PendingInvitations != want.PendingInvitations || got.NeverUsedApp != want.NeverUsedApp ||
		got.Seats.Unassigned != got.Seats.Purchased-got.Seats.Assigned {
		t.Fatalf("summary %+v, recount %+v", got, want)
	}
}

func TestInvitationLifecycle(t *testing.T) {
	team := newTeam(t, "pro", 10, "owner@life.example")
	admin := token(t, "owner@life.example", local.TokenOptions{})
	r := call(t, "POST", "/v1/teams/"+team+"/invitations", admin, map[string]any{
		"emails": []string{"New.Person@Life.example", "not an email", "new.person@life.example", "owner@life.example"}, "role": "user"})
	var res inviteResults
	r.JSON(t, &res)
	if r.Status != 200 || len(res.Results) != 4 || res.Results[0].Result != "invited" || res.Results[0].Email != "new.person@life.example" ||
		res.Results[1].Result != "invalid_email" || res.Results[2].Result != "duplicate_in_request" || res.Results[3].Result != "already_member" {
		t.Fatalf("invite: %d %s", r.Status, r.Body)
	}
	id := res.Results[0].MemberID
	if s := summary(t, team, admin); s.Seats.Assigned != 2 || s.PendingInvitations != 1 || s.NeverUsedApp != 2 {
		t.Fatalf("summary after invite: %+v", s)
	}

	// The email arrives, in text and HTML, with a link carrying the token.
	mails := waitForMail(t, "new.person@life.example", 1)
	// Machine-made (RFC 3834): out-of-office replies do not answer it.
	if a := mails[0].Header("Auto-Submitted"); a != "auto-generated" {
		t.Errorf("the invitation's Auto-Submitted: %q", a)
	}
	tok := tokenFrom(t, mails[0])
	if !strings.Contains(mails[0].Body.HTML, "owner@life.example") || mails[0].From == "" {
		t.Fatalf("invitation email: %+v", mails[0])
	}
	settle(t)
	var info memberInfo
	call(t, "GET", "/v1/teams/"+team+"/members/"+id, admin, nil).JSON(t, &info)
	if info.Status != "invitation_sent" || info.LastCall != "pending" || info.LastEmail == nil || info.LastEmail.Kind != "invitation" || info.LastEmail.State != "sent" {
		t.Fatalf("member information after the email: %+v %+v", info, info.LastEmail)
	}

	// The invitee accepts; the token is single use.
	r = call(t, "POST", "/v1/invitations/accept", "", map[string]string{"token": tok})
	if r.Status != 200 || !strings.Contains(string(r.Body), `"status":"pending_app_login"`) {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
	if c := call(t, "POST", "/v1/invitations/accept", "", map[string]string{"token": tok}).Problem(t, 409); c != "already_accepted" {
		t.Fatalf("second accept: %s", c)
	}
	if s := summary(t, team, admin); s.PendingInvitations != 0 || s.NeverUsedApp != 2 {
		t.Fatalf("summary after accept: %+v", s)
	}

	// First sign-in with the app: active, recently.
	user := token(t, "new.person@life.example", local.TokenOptions{})
	r = call(t, "POST", "/v1/me/sign-ins", user, map[string]string{"appVersion": "2.41.0", "device": "macOS"})
	if r.Status != 200 || !strings.Contains(string(r.Body), `"status":"active","lastCall":"recently"`) {
		t.Fatalf("sign-in: %d %s", r.Status, r.Body)
	}
	call(t, "GET", "/v1/teams/"+team+"/members/"+id, admin, nil).JSON(t, &info)
	if info.Status != "active" || info.LastCall != "recently" || info.AcceptedAt == nil || info.FirstSignInAt == nil || info.LastActiveAt == nil {
		t.Fatalf("member information after sign-in: %+v", info)
	}
	first := *info.LastSignInAt
	version, _, _ := rawMember(t, team, id)

	// The app reports often: the member is written once a day for it, so
	// nothing a row shows moves; member information reads the exact last
	// sign-in from the sign-in records.
	for i := 0; i < 3; i++ {
		if r := call(t, "POST", "/v1/me/sign-ins", user, map[string]string{}); r.Status != 200 {
			t.Fatalf("sign-in again: %d %s", r.Status, r.Body)
		}
		if r := call(t, "POST", "/v1/me/calls", user, map[string]any{"startedAt": time.Now().Add(-time.Minute).Format(time.RFC3339), "durationSeconds": 30}); r.Status != 200 {
			t.Fatalf("call: %d %s", r.Status, r.Body)
		}
	}
	call(t, "GET", "/v1/teams/"+team+"/members/"+id, admin, nil).JSON(t, &info)
	if *info.LastSignInAt < first || info.LastCall != "recently" {
		t.Fatalf("after more sign-ins: last sign-in %s (first %s), %s", *info.LastSignInAt, first, info.LastCall)
	}
	if v, _, _ := rawMember(t, team, id); v != version {
		t.Fatalf("sign-ins and calls the same day wrote the member (version %s → %s)", version, v)
	}
	assertCountersMatchRecount(t, team, admin)

	// Bad activity reports change nothing.
	for _, body := range []map[string]any{
		{"startedAt": time.Now().Add(time.Hour).Format(time.RFC3339), "durationSeconds": 1},
		{"startedAt": time.Now().Format(time.RFC3339), "durationSeconds": -1},
		{"startedAt": "yesterday", "durationSeconds": 1},
		{"durationSeconds": 1},
		{"startedAt": time.Now().Format(time.RFC3339), "durationSeconds": 1, "extra": true},
	} {
		if r := call(t, "POST", "/v1/me/calls", user, body); r.Status != 400 {
			t.Errorf("call %v: %d %s", body, r.Status, r.Body)
		}
	}
	// Someone with no team gets a clear 404.
	if c := call(t, "POST", "/v1/me/sign-ins", token(t, "stranger@life.example", local.TokenOptions{}), map[string]string{}).Problem(t, 404); c != "no_team" {
		t.Fatalf("stranger sign-in: %s", c)
	}
}

func TestResendReplacesTheTokenAndRespectsTheCooldown(t *testing.T) {
	team := newTeam(t, "pro", 5, "owner@resend.example")
	admin := token(t, "owner@resend.example", local.TokenOptions{})
	var res inviteResults
	call(t, "POST", "/v1/teams/"+team+"/invitations", admin, map[string]any{"emails": []string{"late@resend.example"}}).JSON(t, &res)
	id := res.Results[0].MemberID
	old := tokenFrom(t, waitForMail(t, "late@resend.example", 1)[0])

	// Right after the invitation: too soon.
	r := call(t, "POST", "/v1/teams/"+team+"/members/"+id+"/resend-invite", admin, nil)
	if c := r.Problem(t, 429); c != "cooldown" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("resend in cooldown: %s, Retry-After %q", c, r.Header.Get("Retry-After"))
	}
	pastCooldown()
	if r := call(t, "POST", "/v1/teams/"+team+"/members/"+id+"/resend-invite", admin, nil); r.Status != 202 {
		t.Fatalf("resend: %d %s", r.Status, r.Body)
	}
	mails := waitForMail(t, "late@resend.example", 2)
	fresh := tokenFrom(t, mails[1])
	if fresh == old {
		t.Fatal("resend reused the token")
	}
	if c := call(t, "POST", "/v1/invitations/accept", "", map[string]string{"token": old}).Problem(t, 400); c != "invalid_token" {
		t.Fatalf("old token: %s", c)
	}
	if r := call(t, "POST", "/v1/invitations/accept", "", map[string]string{"token": fresh}); r.Status != 200 {
		t.Fatalf("new token: %d %s", r.Status, r.Body)
	}
	// Accepted members are not re-invited.
	pastCooldown()
	if c := call(t, "POST", "/v1/teams/"+team+"/members/"+id+"/resend-invite", admin, nil).Problem(t, 409); c != "not_pending" {
		t.Fatalf("resend to a member: %s", c)
	}
	// Forged and malformed tokens.
	for _, tok := range []string{"", "x", strings.Repeat("A", 43), fresh + "A"} {
		if c := call(t, "POST", "/v1/invitations/accept", "", map[string]string{"token": tok}).Problem(t, 400); c != "invalid_token" {
			t.Errorf("token %q: %s", tok, c)
		}
	}
}
