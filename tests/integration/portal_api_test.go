package integration

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/keyring"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/provisioning"
	"github.com/teamusers/usersapi/internal/usecase"
	"github.com/teamusers/usersapi/internal/users"
)

// The portal finds its teams: every team the caller belongs to or is
// invited to, by name, with the caller's role and status in it.
func TestMeListsTheCallersTeams(t *testing.T) {
	seats := 5
	svc := provisioning.Service{Store: stack.Store, Now: time.Now}
	a, err := svc.Handle(context.Background(), provisioning.Request{Plan: "pro", Seats: &seats, OwnerEmail: "boss@me.example", Name: "Zeta Works"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := svc.Handle(context.Background(), provisioning.Request{Plan: "free", Seats: &seats, OwnerEmail: "other@me.example", Name: "Alpha Co"})
	if err != nil {
		t.Fatal(err)
	}
	boss := token(t, "boss@me.example", local.TokenOptions{})
	invite(t, a.TeamID, boss, "pat@me.example")
	if _, err := stack.Store.UpdateTeam(context.Background(), b.TeamID, users.TeamChange{}); err != nil {
		t.Fatal(err)
	}
	if err := stack.Store.AddMember(context.Background(), users.Member{ID: users.NewID("m"), TeamID: b.TeamID, Email: "pat@me.example",
		Role: users.RoleAdmin, Status: users.StatusPendingAppLogin, InvitedAt: time.Now(), AcceptedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	var me struct {
		Email string
		Teams []struct {
			TeamID, Name, Plan, Role, Status string
			IsOwner                          bool
		}
	}
	call(t, "GET", "/v1/me", token(t, "Pat@Me.example", local.TokenOptions{}), nil).JSON(t, &me)
	if me.Email != "pat@me.example" || len(me.Teams) != 2 {
		t.Fatalf("me: %+v", me)
	}
	alpha, zeta := me.Teams[0], me.Teams[1] // by name
	if alpha.TeamID != b.TeamID || alpha.Name != "Alpha Co" || alpha.Plan != "free" || alpha.Role != "admin" || alpha.Status != "pending_app_login" {
		t.Fatalf("alpha: %+v", alpha)
	}
	if zeta.TeamID != a.TeamID || zeta.Name != "Zeta Works" || zeta.Plan != "pro" || zeta.Role != "user" || zeta.Status != "invitation_sent" || zeta.IsOwner {
		t.Fatalf("zeta: %+v", zeta)
	}
	call(t, "GET", "/v1/me", token(t, "nobody@me.example", local.TokenOptions{}), nil).JSON(t, &me)
	if len(me.Teams) != 0 {
		t.Fatalf("a stranger's teams: %+v", me.Teams)
	}
	if c := call(t, "GET", "/v1/me", "", nil).Problem(t, 401); c != "unauthorized" {
		t.Fatal(c)
	}
	var s struct {
		Team struct{ ID, Name, Plan string }
	}
	call(t, "GET", "/v1/teams/"+a.TeamID+"/summary", boss, nil).JSON(t, &s)
	if s.Team.ID != a.TeamID || s.Team.Name != "Zeta Works" || s.Team.Plan != "pro" {
		t.Fatalf("summary's team: %+v", s.Team)
	}
	// The invitation names the team and the admin who invited.
	m := waitForMail(t, "pat@me.example", 1)[0]
	if !strings.Contains(m.Subject+m.Body.Text, "Zeta Works") || !strings.Contains(m.Body.Text, "boss@me.example") {
		t.Fatalf("the invitation does not name the team and the inviter: %q %q", m.Subject, m.Body.Text)
	}
}

// An invitee who follows the set-up instructions and signs in to the app
// with the invited, verified address joins at once, without the link.
func TestASignInWithTheInvitedAddressJoins(t *testing.T) {
	team := newTeam(t, "pro", 5, "owner@join.example")
	owner := token(t, "owner@join.example", local.TokenOptions{})
	res := invite(t, team, owner, "new@join.example", "unverified@join.example")
	before := summary(t, team, owner)

	// Not verified by the identity provider: not trusted to join.
	if c := send(t, "POST", "/v1/me/sign-ins", token(t, "unverified@join.example", local.TokenOptions{Unverified: true}), nil, nil).Problem(t, 404); c != "no_team" {
		t.Fatalf("unverified sign-in: %s", c)
	}
	// Verified, with no body at all (as the app may send it).
	r := send(t, "POST", "/v1/me/sign-ins", token(t, "new@join.example", local.TokenOptions{}), nil, nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"status":"active"`) {
		t.Fatalf("sign-in: %d %s", r.Status, r.Body)
	}
	var info memberInfo
	call(t, "GET", "/v1/teams/"+team+"/members/"+res.Results[0].MemberID, owner, nil).JSON(t, &info)
	if info.Status != "active" || info.LastCall != "recently" || info.AcceptedAt == nil || info.FirstSignInAt == nil || info.LastSignInAt == nil {
		t.Fatalf("after joining by sign-in: %+v", info)
	}
	after := summary(t, team, owner)
	if after.Seats.Assigned != before.Seats.Assigned || after.PendingInvitations != before.PendingInvitations-1 || after.NeverUsedApp != before.NeverUsedApp-1 {
		t.Fatalf("counters moved wrong: %+v → %+v", before, after)
	}
	assertCountersMatchRecount(t, team, owner)
	// The link in the invitation now says it was used.
	tok := tokenFrom(t, waitForMail(t, "new@join.example", 1)[0])
	if c := call(t, "POST", "/v1/invitations/accept", "", map[string]string{"token": tok}).Problem(t, 409); c != "already_accepted" {
		t.Fatalf("the link after joining: %s", c)
	}
	// A second sign-in is an ordinary one.
	if r := send(t, "POST", "/v1/me/sign-ins", token(t, "new@join.example", local.TokenOptions{}), nil, nil); r.Status != 200 {
		t.Fatalf("second sign-in: %d %s", r.Status, r.Body)
	}
	if s := summary(t, team, owner); s != after {
		t.Fatalf("a second sign-in moved the counters: %+v → %+v", after, s)
	}
}

// An expired invitation is not joined by signing in: it needs a resend.
func TestASignInDoesNotJoinAnExpiredInvitation(t *testing.T) {
	team := newTeam(t, "pro", 5, "owner@late.example")
	sent := time.Now().Add(-8 * 24 * time.Hour)
	m := users.Member{ID: users.NewID("m"), TeamID: team, Email: "late@late.example", Role: users.RoleUser, Status: users.StatusInvitationSent,
		InvitedAt: sent, InvitationSentAt: sent, InvitationExpiresAt: sent.Add(7 * 24 * time.Hour), TokenHash: users.HashToken("x")}
	if err := stack.Store.AddMember(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if c := send(t, "POST", "/v1/me/sign-ins", token(t, "late@late.example", local.TokenOptions{}), nil, nil).Problem(t, 404); c != "no_team" {
		t.Fatalf("sign-in with an expired invitation: %s", c)
	}
}

// A call reported twice counts once: by its callId, or without one by its
// start and length.
func TestARetriedCallReportCountsOnce(t *testing.T) {
	team := newTeam(t, "pro", 5, "owner@calls.example")
	owner := token(t, "owner@calls.example", local.TokenOptions{})
	app := token(t, "owner@calls.example", local.TokenOptions{})
	started := time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339)
	for _, body := range []map[string]any{
		{"callId": "c-1", "startedAt": started, "durationSeconds": 600},
		{"callId": "c-1", "startedAt": started, "durationSeconds": 600},
		{"startedAt": started, "durationSeconds": 300},
		{"startedAt": started, "durationSeconds": 300},
	} {
		if r := call(t, "POST", "/v1/me/calls", app, body); r.Status != 200 {
			t.Fatalf("call: %d %s", r.Status, r.Body)
		}
	}
	var me struct{ Teams []struct{ MemberID string } }
	call(t, "POST", "/v1/me/sign-ins", app, map[string]string{}).JSON(t, &me)
	r := call(t, "POST", "/v1/teams/"+team+"/usage-report", owner, map[string]any{"memberIds": []string{me.Teams[0].MemberID}})
	if r.Status != 200 {
		t.Fatalf("report: %d %s", r.Status, r.Body)
	}
	lines := strings.Split(strings.TrimSpace(string(r.Body)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], ",2,15") {
		t.Fatalf("two calls of 15 minutes in all, got %q", r.Body)
	}
}

// The list's total is exact for the filters (it comes from the team item
// the authorization reads anyway, so it costs no read of its own).
func TestListTotalsAreExact(t *testing.T) {
	team := newTeam(t, "pro", 60, "owner@totals.example")
	owner := token(t, "owner@totals.example", local.TokenOptions{})
	seed(t, team, 40, time.Now())
	for _, q := range []url.Values{{}, {"status": {"active"}}, {"lastCall": {"recently", "pending"}}, {"role": {"admin"}, "status": {"invitation_sent", "signed_in_with_app"}}} {
		q.Set("limit", "7")
		listAll(t, team, owner, q) // checks every page's total against the rows
	}
	// Every kind of change moves it: a removal, a role change, an invitation.
	all, _ := listAll(t, team, owner, url.Values{"status": {"active"}})
	call(t, "DELETE", "/v1/teams/"+team+"/members/"+all[0].ID, owner, nil)
	call(t, "PATCH", "/v1/teams/"+team+"/members/"+all[1].ID, owner, map[string]string{"role": map[string]string{"user": "admin", "admin": "user"}[all[1].Role]})
	invite(t, team, owner, "late@totals.example")
	assertCountersMatchRecount(t, team, owner)
	var pg page
	call(t, "GET", "/v1/teams/"+team+"/members?limit=1&status=active", owner, nil).JSON(t, &pg)
	if pg.Total == nil || *pg.Total != len(all)-1 {
		t.Fatalf("total %v after removing one of %d", pg.Total, len(all))
	}
}

// A team-wide job says why it skipped members, with a count per reason.
func TestTeamJobsSayWhySkipped(t *testing.T) {
	ctx := context.Background()
	db := local.NewDynamoDB(stack.Services.DynamoDBEndpoint)
	if err := local.EnsureTable(ctx, db, stack.Template, "Table", "jobs-test"); err != nil {
		t.Fatal(err)
	}
	store := dynamo.New(db, "jobs-test") // no stream poller: the test runs the job
	seats := 10
	created, err := provisioning.Service{Store: store, Now: time.Now}.Handle(ctx, provisioning.Request{Plan: "pro", Seats: &seats, OwnerEmail: "owner@jobs.example", Name: "Jobs"})
	if err != nil {
		t.Fatal(err)
	}
	policy := users.DefaultPolicy
	policy.Cooldown = time.Hour
	svc := usecase.Service{Store: store, Tokens: keyring.NewSealer(stack.Config.Secret, "invitation-token"), Policy: policy, Now: time.Now}
	team, err := store.GetTeam(ctx, created.TeamID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Invite(ctx, usecase.TeamOf(team), "owner@jobs.example", []string{"a@jobs.example", "b@jobs.example", "c@jobs.example"}, users.RoleUser); err != nil {
		t.Fatal(err)
	}
	jobs := &usecase.Jobs{Service: svc, JobStore: store, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), PageSize: 2, Reserve: time.Second}
	team, _ = store.GetTeam(ctx, created.TeamID)
	job, err := jobs.Start(ctx, team, users.JobResendInvites, "owner@jobs.example")
	if err != nil {
		t.Fatal(err)
	}
	if err := jobs.Run(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	got, err := store.GetJob(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != "done" || got.Done != 0 || got.Skipped != 3 || got.Reasons["cooldown"] != 3 || got.Failed != 0 || got.TeamName != "Jobs" {
		t.Fatalf("job: %+v", got)
	}
}
