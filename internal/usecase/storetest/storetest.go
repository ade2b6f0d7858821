// Package storetest is the store's contract as the use cases rely on it,
// one suite run on every implementation: the in-memory store
// (internal/usecase/memstore, in make unit) and the DynamoDB store on the
// local stack (tests/integration). A rule the use cases depend on that
// either store breaks fails here first.
package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/provisioning"
	"github.com/teamusers/usersapi/internal/usecase"
	"github.com/teamusers/usersapi/internal/users"
)

// Backend is what the contract is about: the use cases' interfaces and
// provisioning's (to make a team).
type Backend interface {
	usecase.Store
	usecase.Reads
	usecase.Quotas
	usecase.JobStore
	provisioning.Store
}

// Run checks every clause on b. Each clause makes its own team and
// addresses, so b may be shared with other tests.
func Run(t *testing.T, b Backend) {
	for _, c := range []struct {
		name string
		test func(t *testing.T, f fixture)
	}{
		{"one address is one member per team", oneMemberPerAddress},
		{"a seat is taken only while one is free", seatsAreNeverOversold},
		{"an invitation token opens its member until it is spent or voided", tokens},
		{"a rule's refusal writes nothing", refusalWritesNothing},
		{"a removal frees the seat and the address", removalFrees},
		{"an identity provider's keys are unique in a team", idpKeysAreUnique},
		{"a call is counted once and a day holds at most its limit", callsOnceAndCapped},
		{"a sign-in reported twice is one", signInsOnce},
		{"a quota is taken within its limit and given back", quotas},
		{"a job is checkpointed only from where it was", jobs},
		{"an audited change is in the log with its entry", audited},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.test(t, newFixture(t, b))
		})
	}
}

type fixture struct {
	b      Backend
	ctx    context.Context
	team   users.Team
	owner  users.Member
	domain string
}

func newFixture(t *testing.T, b Backend) fixture {
	t.Helper()
	seats := 3
	domain := strings.ToLower(users.NewID("d")[2:12]) + ".example"
	r, err := provisioning.Service{Store: b, Now: time.Now}.Handle(context.Background(),
		provisioning.Request{Plan: "pro", Seats: &seats, OwnerEmail: "owner@" + domain, Name: "Contract " + domain})
	if err != nil {
		t.Fatal(err)
	}
	team, err := b.GetTeam(context.Background(), r.TeamID)
	if err != nil {
		t.Fatal(err)
	}
	owner, err := b.GetMember(context.Background(), team.ID, team.OwnerMemberID)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{b: b, ctx: context.Background(), team: team, owner: owner, domain: domain}
}

// invited is a new invited member of the team at local@domain.
func (f fixture) invited(local string) users.Member {
	now := time.Now().UTC()
	return users.Member{ID: users.NewID("m"), TeamID: f.team.ID, Email: local + "@" + f.domain, Role: users.RoleUser,
		Status: users.StatusInvitationSent, InvitedAt: now, InvitationSentAt: now, InvitationExpiresAt: now.Add(time.Hour),
		TokenHash: users.HashToken(users.NewID("tok")), LastCall: users.LastCallPending}
}

func (f fixture) add(t *testing.T, ms ...users.Member) []error {
	t.Helper()
	adds := make([]users.NewMember, len(ms))
	for i, m := range ms {
		adds[i] = users.Admit(m, nil)
	}
	res, err := f.b.AddMembers(f.ctx, f.team.ID, adds)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (f fixture) assigned(t *testing.T) int {
	t.Helper()
	team, err := f.b.GetTeam(f.ctx, f.team.ID)
	if err != nil {
		t.Fatal(err)
	}
	return team.Counters.Assigned
}

func oneMemberPerAddress(t *testing.T, f fixture) {
	if res := f.add(t, f.invited("ann")); res[0] != nil {
		t.Fatal(res[0])
	}
	if res := f.add(t, f.invited("ann")); !errors.Is(res[0], users.ErrAlreadyMember) {
		t.Fatalf("the same address again: %v", res[0])
	}
	if n := f.assigned(t); n != 2 {
		t.Fatalf("%d seats assigned, want 2 (the owner and ann)", n)
	}
	ms, err := f.b.Memberships(f.ctx, "ann@"+f.domain)
	if err != nil || len(ms) != 1 || ms[0].TeamID != f.team.ID || ms[0].Status != users.StatusInvitationSent {
		t.Fatalf("memberships: %+v %v", ms, err)
	}
}

func seatsAreNeverOversold(t *testing.T, f fixture) {
	// Three seats, the owner holds one: of three invitations in one batch
	// the first two are seated.
	res := f.add(t, f.invited("a"), f.invited("b"), f.invited("c"))
	if res[0] != nil || res[1] != nil || !errors.Is(res[2], users.ErrSeatLimit) {
		t.Fatalf("results %v", res)
	}
	if n := f.assigned(t); n != 3 {
		t.Fatalf("%d seats assigned, want 3", n)
	}
	if _, err := f.b.GetMember(f.ctx, f.team.ID, "m_none"); !errors.Is(err, users.ErrMemberNotFound) {
		t.Fatalf("a member that is not there: %v", err)
	}
}

func tokens(t *testing.T, f fixture) {
	m := f.invited("tok")
	if res := f.add(t, m); res[0] != nil {
		t.Fatal(res[0])
	}
	team, id, accepted, err := f.b.Invitation(f.ctx, m.TokenHash)
	if err != nil || team != f.team.ID || id != m.ID || accepted {
		t.Fatalf("a fresh token: %s %s %v %v", team, id, accepted, err)
	}
	if _, _, err := f.b.UpdateMember(f.ctx, f.team.ID, m.ID, users.AcceptInvitation(m.TokenHash, time.Now().UTC())); err != nil {
		t.Fatal(err)
	}
	if _, _, accepted, err := f.b.Invitation(f.ctx, m.TokenHash); err != nil || !accepted {
		t.Fatalf("a spent token: accepted %v, %v", accepted, err)
	}
	if _, _, _, err := f.b.Invitation(f.ctx, users.HashToken("never issued")); !errors.Is(err, users.ErrInvalidToken) {
		t.Fatalf("a token never issued: %v", err)
	}
}

func refusalWritesNothing(t *testing.T, f fixture) {
	m := f.invited("refused")
	f.add(t, m)
	entries := func() int {
		es, _, err := f.b.AuditLog(f.ctx, f.team.ID, users.AuditQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}
	logged := entries()
	no := errors.New("no")
	_, changed, err := f.b.UpdateMember(f.ctx, f.team.ID, m.ID, func(m *users.Member) (users.Change, error) {
		m.Role = users.RoleAdmin
		return users.Change{Action: users.AuditChangeRole}, no
	})
	if !errors.Is(err, no) || changed {
		t.Fatalf("a refusing rule: changed %v, %v", changed, err)
	}
	after, err := f.b.GetMember(f.ctx, f.team.ID, m.ID)
	if err != nil || after.Role != users.RoleUser {
		t.Fatalf("after a refusal: %s %v", after.Role, err)
	}
	if n := entries(); n != logged {
		t.Fatalf("a refusal wrote %d audit entries", n-logged)
	}
	if _, changed, err := f.b.UpdateMember(f.ctx, f.team.ID, m.ID, func(*users.Member) (users.Change, error) {
		return users.Change{}, users.ErrUnchanged
	}); err != nil || changed {
		t.Fatalf("an unchanging rule: changed %v, %v", changed, err)
	}
}

func removalFrees(t *testing.T, f fixture) {
	m := f.invited("gone")
	f.add(t, m)
	before := f.assigned(t)
	removed, changed, err := f.b.UpdateMember(f.ctx, f.team.ID, m.ID, users.Remove(f.membership(), nil))
	if err != nil || !changed || removed.ID != m.ID {
		t.Fatalf("removal: %+v %v %v", removed.ID, changed, err)
	}
	if n := f.assigned(t); n != before-1 {
		t.Fatalf("%d seats assigned after the removal, want %d", n, before-1)
	}
	if _, err := f.b.GetMember(f.ctx, f.team.ID, m.ID); !errors.Is(err, users.ErrMemberNotFound) {
		t.Fatalf("a removed member: %v", err)
	}
	if _, _, _, err := f.b.Invitation(f.ctx, m.TokenHash); !errors.Is(err, users.ErrInvalidToken) {
		t.Fatalf("a removed invitee's token: %v", err)
	}
	if res := f.add(t, f.invited("gone")); res[0] != nil {
		t.Fatalf("the address again after the removal: %v", res[0])
	}
	if _, _, err := f.b.UpdateMember(f.ctx, f.team.ID, f.owner.ID, users.Remove(f.membership(), nil)); !errors.Is(err, users.ErrOwnerProtected) {
		t.Fatalf("removing the owner: %v", err)
	}
}

func (f fixture) membership() users.Membership {
	return users.Membership{TeamID: f.team.ID, MemberID: f.owner.ID, Role: f.owner.Role, IsOwner: true, Status: f.owner.Status}
}

func idpKeysAreUnique(t *testing.T, f fixture) {
	seats := 10 // seats for every member here: the refusals below are the keys'
	if _, err := f.b.UpdateTeam(f.ctx, f.team.ID, users.TeamChange{Seats: &seats}); err != nil {
		t.Fatal(err)
	}
	a, b := f.invited("idp-a"), f.invited("idp-b")
	a.ExternalID, b.ExternalID = "ext-1", "ext-1"
	if res := f.add(t, a); res[0] != nil {
		t.Fatal(res[0])
	}
	if res := f.add(t, b); !errors.Is(res[0], users.ErrExternalIDTaken) {
		t.Fatalf("the same externalId: %v", res[0])
	}
	c := f.invited("idp-c")
	c.UserName = "Idp-A@" + f.domain
	d := f.invited("idp-d")
	d.UserName = "idp-a@" + strings.ToUpper(f.domain)
	if res := f.add(t, c); res[0] != nil {
		t.Fatal(res[0])
	}
	if res := f.add(t, d); !errors.Is(res[0], users.ErrUserNameTaken) {
		t.Fatalf("the same userName in another case: %v", res[0])
	}
}

func callsOnceAndCapped(t *testing.T, f fixture) {
	end := time.Now().UTC().Truncate(time.Second)
	ok, err := f.b.AddCall(f.ctx, f.team.ID, f.owner.ID, end, 60, "call-1", 2)
	if err != nil || !ok {
		t.Fatalf("a new call: %v %v", ok, err)
	}
	if ok, err := f.b.AddCall(f.ctx, f.team.ID, f.owner.ID, end, 60, "call-1", 2); err != nil || ok {
		t.Fatalf("the same call again: %v %v", ok, err)
	}
	if ok, err := f.b.AddCall(f.ctx, f.team.ID, f.owner.ID, end, 30, "call-2", 2); err != nil || !ok {
		t.Fatalf("a second call: %v %v", ok, err)
	}
	if _, err := f.b.AddCall(f.ctx, f.team.ID, f.owner.ID, end, 30, "call-3", 2); !errors.Is(err, users.ErrDayFull) {
		t.Fatalf("a call over the day's limit: %v", err)
	}
	if call, _, err := f.b.LatestActivity(f.ctx, f.team.ID, f.owner.ID); err != nil || !call.Equal(end) {
		t.Fatalf("latest call %v, want %v (%v)", call, end, err)
	}
}

func signInsOnce(t *testing.T, f fixture) {
	at := time.Now().UTC().Truncate(time.Second)
	in := users.SignIn{TeamID: f.team.ID, MemberID: f.owner.ID, At: at, AppVersion: "1.0", Device: "mac"}
	for range 2 {
		if err := f.b.RecordSignIn(f.ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	n, err := f.b.SignInsOn(f.ctx, f.team.ID, f.owner.ID, users.DayOf(at, time.UTC), 10)
	if err != nil || n != 1 {
		t.Fatalf("%d sign-ins, want 1 (%v)", n, err)
	}
}

func quotas(t *testing.T, f fixture) {
	counter := "team#" + f.team.ID + "#contract"
	window := time.Now().UTC().Truncate(time.Hour)
	claim, _, ok, err := f.b.TakeQuota(f.ctx, counter, window, time.Hour, 3, 4)
	if err != nil || !ok || claim == "" {
		t.Fatalf("take 3 of 4: %v %q, %v", ok, claim, err)
	}
	if _, used, ok, err := f.b.TakeQuota(f.ctx, counter, window, time.Hour, 2, 4); err != nil || ok || used != 3 {
		t.Fatalf("take 2 more of 4: %v (used %d), %v", ok, used, err)
	}
	if _, used, ok, err := f.b.TakeQuota(f.ctx, counter, window, time.Hour, 5, 4); err != nil || ok || used != -1 {
		t.Fatalf("take 5 of 4: %v (used %d), %v", ok, used, err)
	}
	if err := f.b.GiveBackQuota(f.ctx, counter, window, claim, 2); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, err := f.b.TakeQuota(f.ctx, counter, window, time.Hour, 2, 4); err != nil || !ok {
		t.Fatalf("take 2 after giving 2 back: %v, %v", ok, err)
	}
	if _, used, ok, err := f.b.TakeQuota(f.ctx, counter, window, time.Hour, 2, 4); err != nil || ok || used != 3 {
		t.Fatalf("take 2 more after that: %v (used %d), %v", ok, used, err)
	}
}

func jobs(t *testing.T, f fixture) {
	j := users.Job{ID: users.NewID("j"), TeamID: f.team.ID, Kind: users.JobResendInvites, RequestedBy: f.owner.Email, State: "queued", CreatedAt: time.Now().UTC()}
	if err := f.b.CreateJob(f.ctx, j); err != nil {
		t.Fatal(err)
	}
	got, err := f.b.GetJob(f.ctx, j.ID)
	if err != nil || got.TeamID != f.team.ID || got.State != "queued" {
		t.Fatalf("the job: %+v %v", got, err)
	}
	next := got
	next.Position, next.Done, next.State = "m_x", 1, "running"
	if err := f.b.SaveJob(f.ctx, next, ""); err != nil {
		t.Fatalf("a checkpoint from the start: %v", err)
	}
	if err := f.b.SaveJob(f.ctx, next, ""); !errors.Is(err, users.ErrJobMoved) {
		t.Fatalf("a checkpoint from where the job no longer is: %v", err)
	}
	if _, err := f.b.GetJob(f.ctx, users.NewID("j")); err == nil {
		t.Fatal("a job that does not exist was found")
	} else if e, ok := users.AsError(err); !ok || e.Kind != users.KindNotFound {
		t.Fatalf("a job that does not exist: %v", err)
	}
}

func audited(t *testing.T, f fixture) {
	m := f.invited("audited")
	f.add(t, m)
	ctx := users.WithAudit(f.ctx, users.Actor{Kind: users.ActorAdmin, Email: f.owner.Email, Role: users.RoleAdmin}, users.AuditRequest{ID: "r-1"})
	if _, _, err := f.b.UpdateMember(ctx, f.team.ID, m.ID, users.ChangeRole(f.membership(), users.RoleAdmin, nil)); err != nil {
		t.Fatal(err)
	}
	entries, _, err := f.b.AuditLog(f.ctx, f.team.ID, users.AuditQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
		if e.Action == users.AuditChangeRole && (e.TargetID != m.ID || e.Actor.Email != f.owner.Email) {
			t.Fatalf("the role change's entry: %+v", e)
		}
	}
	if len(actions) < 2 || actions[0] != users.AuditChangeRole || actions[1] != users.AuditInvite {
		t.Fatalf("the log, newest first: %v", actions)
	}
}
