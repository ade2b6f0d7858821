package usecase_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/keyring"
	"github.com/teamusers/usersapi/internal/provisioning"
	"github.com/teamusers/usersapi/internal/scim"
	"github.com/teamusers/usersapi/internal/usecase"
	"github.com/teamusers/usersapi/internal/usecase/memstore"
	"github.com/teamusers/usersapi/internal/users"
)

// The use cases on the in-memory store: their own rules (quotas taken and
// given back, what reads compose, SCIM's If-Match), in milliseconds.

type world struct {
	ctx   context.Context
	st    *memstore.Store
	svc   usecase.Service
	team  users.Team
	owner users.Member
	clock time.Time
}

func newWorld(t *testing.T, seats int, limits users.Limits) *world {
	t.Helper()
	w := &world{ctx: context.Background(), clock: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	now := func() time.Time { return w.clock }
	w.st = memstore.New(now, time.UTC)
	policy := users.DefaultPolicy
	policy.Limits = limits
	w.svc = usecase.Service{Store: w.st, Reads: w.st, Quotas: w.st, Policy: policy, Now: now,
		Tokens: keyring.NewSealer([]byte("0123456789abcdef0123456789abcdef"), "invitation-token")}
	r, err := provisioning.Service{Store: w.st, Now: now}.Handle(w.ctx, provisioning.Request{Plan: "pro", Seats: &seats, OwnerEmail: "owner@acme.example", Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	if w.team, err = w.st.GetTeam(w.ctx, r.TeamID); err != nil {
		t.Fatal(err)
	}
	if w.owner, err = w.st.GetMember(w.ctx, w.team.ID, w.team.OwnerMemberID); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) actor() users.Membership {
	return users.Membership{TeamID: w.team.ID, MemberID: w.owner.ID, Role: users.RoleAdmin, IsOwner: true, Status: w.owner.Status}
}

func (w *world) invitationsUsed() int {
	window, _ := users.Window(w.clock, users.InvitationWindow)
	return w.st.Used("team#"+w.team.ID+"#invitations", window)
}

func limits(perDay int) users.Limits {
	l := users.DefaultLimits
	l.InvitationsPerDay = perDay
	return l
}

func TestInviteTakesOnlyWhatItSends(t *testing.T) {
	w := newWorld(t, 3, limits(10))
	// Four distinct valid addresses are taken; two fit the free seats, one
	// is not an address and one is a repeat: two are given back.
	res, err := w.svc.Invite(w.ctx, usecase.TeamOf(w.team), w.owner.Email,
		[]string{"a@acme.example", "b@acme.example", "not an address", "A@acme.example", "c@acme.example", "d@acme.example"}, users.RoleUser)
	if err != nil {
		t.Fatal(err)
	}
	var invited int
	for _, r := range res {
		if r.Result == "invited" {
			invited++
		}
	}
	if invited != 2 || w.invitationsUsed() != 2 {
		t.Fatalf("invited %d, the day's count %d: %+v", invited, w.invitationsUsed(), res)
	}
	if n := len(w.st.Outbox()); n != 2 {
		t.Fatalf("%d emails queued, want 2", n)
	}
}

func TestInviteOverTheDaysLimitWritesNothing(t *testing.T) {
	w := newWorld(t, 50, limits(3))
	_, err := w.svc.Invite(w.ctx, usecase.TeamOf(w.team), w.owner.Email, []string{"a@acme.example", "b@acme.example", "c@acme.example", "d@acme.example"}, users.RoleUser)
	var e *users.Error
	if !errors.As(err, &e) || e.Kind != users.KindRateLimited || e.RetryAfter <= 0 {
		t.Fatalf("four invitations over a limit of three: %v", err)
	}
	if n := len(w.st.Outbox()); n != 0 || w.invitationsUsed() != 0 {
		t.Fatalf("after the refusal: %d emails, %d counted", n, w.invitationsUsed())
	}
}

func TestAResendThatIsRefusedGivesItsInvitationBack(t *testing.T) {
	w := newWorld(t, 5, limits(10))
	res, err := w.svc.Invite(w.ctx, usecase.TeamOf(w.team), w.owner.Email, []string{"late@acme.example"}, users.RoleUser)
	if err != nil {
		t.Fatal(err)
	}
	id := res[0].MemberID
	// Within the cooldown: refused, and the invitation it took is back.
	if _, err := w.svc.ResendInvite(w.ctx, usecase.TeamOf(w.team), id, w.owner.Email); !errors.Is(err, users.Cooldown(0)) {
		t.Fatalf("a resend in the cooldown: %v", err)
	}
	if n := w.invitationsUsed(); n != 1 {
		t.Fatalf("the day's count after a refused resend: %d, want 1", n)
	}
	w.clock = w.clock.Add(w.svc.Policy.Cooldown + time.Second)
	m, err := w.svc.ResendInvite(w.ctx, usecase.TeamOf(w.team), id, w.owner.Email)
	if err != nil || m.InvitationSentAt != w.clock {
		t.Fatalf("a resend after the cooldown: %v %v", m.InvitationSentAt, err)
	}
	if n := w.invitationsUsed(); n != 2 {
		t.Fatalf("the day's count after a resend: %d, want 2", n)
	}
}

func TestABulkResendTakesItsInvitationsFirst(t *testing.T) {
	w := newWorld(t, 10, limits(3))
	res, err := w.svc.Invite(w.ctx, usecase.TeamOf(w.team), w.owner.Email, []string{"a@acme.example", "b@acme.example"}, users.RoleUser)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{res[0].MemberID, res[1].MemberID}
	w.clock = w.clock.Add(time.Hour)
	// Two resends with one invitation left in the day: 429, nothing sent.
	if _, err := w.svc.Bulk(w.ctx, w.actor(), w.owner.Email, usecase.TeamOf(w.team), usecase.ActionResendInvite, ids, ""); err == nil {
		t.Fatal("a bulk resend over the day's limit was taken")
	}
	if n := len(w.st.Outbox()); n != 2 {
		t.Fatalf("%d emails, want the 2 invitations only", n)
	}
	// A bulk removal takes nothing from the limit.
	out, err := w.svc.Bulk(w.ctx, w.actor(), w.owner.Email, usecase.TeamOf(w.team), usecase.ActionRemove, append(ids, w.owner.ID), "")
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Result != "done" || out[1].Result != "done" || out[2].Result != "skipped" || out[2].Code != "owner_protected" {
		t.Fatalf("bulk removal: %+v", out)
	}
}

func TestMemberInformationHasTheExactLastActivity(t *testing.T) {
	w := newWorld(t, 5, limits(10))
	end := w.clock.Add(-3 * time.Minute)
	if _, err := w.st.AddCall(w.ctx, w.team.ID, w.owner.ID, end, 60, "k", 10); err != nil {
		t.Fatal(err)
	}
	m, err := w.svc.MemberInfo(w.ctx, w.team.ID, w.owner.ID)
	if err != nil || !m.LastActiveAt.Equal(end) {
		t.Fatalf("last active %v, want %v (%v)", m.LastActiveAt, end, err)
	}
	if _, err := w.svc.MemberInfo(w.ctx, w.team.ID, "m_nobody"); !errors.Is(err, users.ErrMemberNotFound) {
		t.Fatalf("no such member: %v", err)
	}
}

func TestMyTeamsAreByName(t *testing.T) {
	w := newWorld(t, 5, limits(10))
	seats := 2
	other, err := provisioning.Service{Store: w.st, Now: func() time.Time { return w.clock }}.Handle(w.ctx,
		provisioning.Request{Plan: "pro", Seats: &seats, OwnerEmail: "owner@acme.example", Name: "Aardvark"})
	if err != nil {
		t.Fatal(err)
	}
	teams, err := w.svc.MyTeams(w.ctx, "owner@acme.example")
	if err != nil || len(teams) != 2 || teams[0].Team.ID != other.TeamID || teams[1].Team.ID != w.team.ID || !teams[1].Membership.IsOwner {
		t.Fatalf("my teams: %+v %v", teams, err)
	}
}

func TestSettingsNeedAValue(t *testing.T) {
	w := newWorld(t, 5, limits(10))
	if _, err := w.svc.UpdateSettings(w.ctx, w.team.ID, users.TeamChange{}); err == nil {
		t.Fatal("an empty settings change was taken")
	}
	on := true
	team, err := w.svc.UpdateSettings(w.ctx, w.team.ID, users.TeamChange{NotifyOnRevoke: &on})
	if err != nil || !team.Settings.NotifyOnRevoke {
		t.Fatalf("notifyOnRevoke on: %+v %v", team.Settings, err)
	}
}

func TestAnIdentityProvidersChangeHonoursIfMatch(t *testing.T) {
	w := newWorld(t, 5, limits(10))
	m, err := w.svc.ProvisionFromIdP(w.ctx, usecase.TeamOf(w.team), "okta", map[string]any{
		"schemas": []any{scim.SchemaUser}, "userName": "pat@acme.example", "active": true,
		"emails": []any{map[string]any{"value": "pat@acme.example", "primary": true}}})
	if err != nil {
		t.Fatal(err)
	}
	stale := `W/"0"`
	patch := map[string]any{"schemas": []any{scim.SchemaPatchOp}, "Operations": []any{map[string]any{"op": "replace", "path": "active", "value": false}}}
	ops, err := scim.ParsePatch(patch)
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.svc.ChangeFromIdP(w.ctx, usecase.TeamOf(w.team), m.ID, usecase.IdPChange{Method: http.MethodPatch, Doc: patch, Ops: ops, IfMatch: stale})
	var se *scim.Error
	if !errors.As(err, &se) || se.Status != http.StatusPreconditionFailed {
		t.Fatalf("a patch at a stale version: %v", err)
	}
	if got, _ := w.st.GetMember(w.ctx, w.team.ID, m.ID); got.Status == users.StatusDeactivated {
		t.Fatal("the stale patch was applied")
	}
	got, err := w.svc.ChangeFromIdP(w.ctx, usecase.TeamOf(w.team), m.ID, usecase.IdPChange{Method: http.MethodPatch, Doc: patch, Ops: ops, IfMatch: scim.ETag(m)})
	if err != nil || got.Status != users.StatusDeactivated {
		t.Fatalf("a patch at the current version: %s %v", got.Status, err)
	}
	if _, err := w.svc.ChangeFromIdP(w.ctx, usecase.TeamOf(w.team), "m_nobody", usecase.IdPChange{Method: http.MethodDelete}); !errors.As(err, &se) || se.Status != http.StatusNotFound {
		t.Fatalf("a change to no such user: %v", err)
	}
}

// An invitation refuses an address email cannot be sent to (a local part
// beyond ASCII), saying why; an internationalised domain is fine.
func TestInviteRefusesAnAddressEmailCannotReach(t *testing.T) {
	w := newWorld(t, 5, limits(10))
	res, err := w.svc.Invite(w.ctx, usecase.TeamOf(w.team), w.owner.Email, []string{"ånna@acme.example", "anna@bücher.example"}, users.RoleUser)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Result != "invalid_email" || res[0].Reason != users.ReasonLocalNotASCII || res[1].Result != "invited" {
		t.Fatalf("results %+v", res)
	}
	if w.invitationsUsed() != 1 {
		t.Fatalf("the day's count %d, want 1", w.invitationsUsed())
	}
}
