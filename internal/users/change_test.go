package users

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func invited() Member {
	return Member{ID: "m_a", TeamID: "t_a", Email: "a@example.com", Role: RoleUser, Status: StatusInvitationSent, LastCall: LastCallPending,
		InvitedAt: t0.Add(-time.Hour), InvitationSentAt: t0.Add(-time.Hour), InvitationExpiresAt: t0.Add(6 * 24 * time.Hour), TokenHash: HashToken("old")}
}

func mailer(m Member) Email {
	return Email{ID: "e_1", Kind: EmailInvitation, To: m.Email, MemberID: m.ID}
}

func TestResendInvitation(t *testing.T) {
	m := invited()
	ch, err := ResendInvitation(HashToken("new"), t0.Add(7*24*time.Hour), t0, 10*time.Minute, mailer)(&m)
	if err != nil {
		t.Fatal(err)
	}
	if m.TokenHash != HashToken("new") || !m.InvitationSentAt.Equal(t0) || !m.InvitationExpiresAt.Equal(t0.Add(7*24*time.Hour)) {
		t.Fatalf("member after resend: %+v", m)
	}
	if ch.Email == nil || ch.Email.ID != "e_1" || m.LastEmail == nil || m.LastEmail.ID != "e_1" || m.LastEmail.State != EmailQueued {
		t.Fatalf("the email is not queued with the change: %+v %+v", ch, m.LastEmail)
	}

	soon := invited()
	soon.InvitationSentAt = t0.Add(-time.Minute)
	_, err = ResendInvitation("h", t0, t0, 10*time.Minute, mailer)(&soon)
	if e, ok := AsError(err); !ok || e.Code != "cooldown" || e.RetryAfter != 9*time.Minute {
		t.Fatalf("within the cooldown: %v", err)
	}
	joined := invited()
	joined.Status = StatusActive
	if _, err := ResendInvitation("h", t0, t0, 0, mailer)(&joined); err != ErrNotPending {
		t.Fatalf("resend to a member who joined: %v", err)
	}
}

func TestAcceptInvitation(t *testing.T) {
	m := invited()
	if _, err := AcceptInvitation(HashToken("other"), t0)(&m); err != ErrInvalidToken {
		t.Fatalf("another token: %v", err)
	}
	late := invited()
	if _, err := AcceptInvitation(HashToken("old"), late.InvitationExpiresAt)(&late); err != ErrTokenExpired {
		t.Fatalf("at the expiry: %v", err)
	}
	ok := invited()
	if _, err := AcceptInvitation(HashToken("old"), t0)(&ok); err != nil {
		t.Fatal(err)
	}
	if ok.Status != StatusPendingAppLogin || ok.LastCall != LastCallNotActive || ok.TokenHash != "" || !ok.AcceptedAt.Equal(t0) {
		t.Fatalf("after accepting: %+v", ok)
	}
	if _, err := AcceptInvitation(HashToken("old"), t0)(&ok); err != ErrInvalidToken {
		t.Fatalf("a second use: %v", err)
	}
}

func TestRosterRules(t *testing.T) {
	admin := Membership{MemberID: "m_admin", Role: RoleAdmin}
	owner := Member{ID: "m_owner", IsOwner: true, Role: RoleAdmin}
	if _, err := Remove(admin, nil)(&owner); err != ErrOwnerProtected {
		t.Fatalf("remove the owner: %v", err)
	}
	self := Member{ID: "m_admin", Role: RoleAdmin}
	if _, err := ChangeRole(admin, RoleUser, nil)(&self); err != ErrSelfChange {
		t.Fatalf("demote oneself: %v", err)
	}
	u := Member{ID: "m_u", Role: RoleUser}
	if _, err := ChangeRole(admin, RoleUser, nil)(&u); !errors.Is(err, ErrUnchanged) {
		t.Fatalf("the same role: %v", err)
	}
	if _, err := ChangeRole(admin, RoleAdmin, nil)(&u); err != nil || u.Role != RoleAdmin {
		t.Fatalf("promote: %v %+v", err, u)
	}
	if ch, err := Remove(admin, nil)(&u); err != nil || !ch.Remove {
		t.Fatalf("remove: %v %+v", err, ch)
	}
}

func TestActivityRulesSayWhenNothingChanged(t *testing.T) {
	m := Member{Status: StatusActive, LastCall: LastCallRecently, LastActiveAt: t0.Add(-time.Minute), LastSignInAt: t0.Add(-time.Minute)}
	if _, err := RecordActivity(Activity{At: t0, SignIn: true}, t0, time.UTC)(&m); !errors.Is(err, ErrUnchanged) {
		t.Fatalf("a sign-in a minute after the last: %v", err)
	}
	old := Member{Status: StatusPendingAppLogin, LastCall: LastCallNotActive}
	if _, err := RecordActivity(Activity{At: t0, SignIn: true}, t0, time.UTC)(&old); err != nil || old.Status != StatusActive {
		t.Fatalf("a first sign-in: %v %+v", err, old)
	}
	if _, err := AgeRule(t0, DefaultRetention, time.UTC)(&old); !errors.Is(err, ErrUnchanged) {
		t.Fatalf("ageing a member active just now: %v", err)
	}
	if _, err := AgeRule(t0.Add(4*24*time.Hour), DefaultRetention, time.UTC)(&old); err != nil || old.LastCall != LastCallLast7Days {
		t.Fatalf("four days on: %v %+v", err, old)
	}
}

func active(lastActive time.Time) Member {
	m := invited()
	m.Status, m.TokenHash, m.AcceptedAt, m.FirstSignInAt, m.LastActiveAt = StatusActive, "", t0.Add(-60*24*time.Hour), lastActive, lastActive
	m.LastCall = BucketFor(StatusActive, lastActive, t0, time.UTC)
	return m
}

func TestDeactivateFreesTheSeatAndKeepsTheHistory(t *testing.T) {
	admin := Membership{MemberID: "m_admin", Role: RoleAdmin}
	m := active(t0.Add(-2 * time.Hour))
	ch, err := Deactivate(admin, t0, nil)(&m)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != StatusDeactivated || m.LastCall != LastCallNotActive || !m.DeactivatedAt.Equal(t0) || !m.LastActiveAt.Equal(t0.Add(-2*time.Hour)) {
		t.Fatalf("after deactivating: %+v", m)
	}
	if ch.Action != AuditDeactivate || ch.Detail["from"] != "active" || ch.Remove || ch.Email != nil {
		t.Fatalf("the change: %+v", ch)
	}
	if d := CounterDelta(StatusActive, StatusDeactivated); d != (Counters{Assigned: -1}) {
		t.Fatalf("an active member deactivated moves the counters by %+v", d)
	}
	if d := CounterDelta(StatusInvitationSent, StatusDeactivated); d != (Counters{Assigned: -1, PendingInvitations: -1, NeverUsedApp: -1}) {
		t.Fatalf("an invitee deactivated moves the counters by %+v", d)
	}
	if !NextChange(m, DefaultRetention, time.UTC).IsZero() || Age(&m, t0.Add(400*24*time.Hour), DefaultRetention, time.UTC) {
		t.Fatal("the nightly job has something to do for a deactivated member")
	}
	if _, err := Deactivate(admin, t0, nil)(&m); err != ErrUnchanged {
		t.Fatalf("deactivated twice: %v", err)
	}

	// An invitee's open invitation is voided.
	inv := invited()
	if _, err := Deactivate(admin, t0, nil)(&inv); err != nil || inv.TokenHash != "" || inv.Status != StatusDeactivated {
		t.Fatalf("an invitee: %+v %v", inv, err)
	}
	owner := active(t0)
	owner.IsOwner = true
	if _, err := Deactivate(admin, t0, nil)(&owner); err != ErrOwnerProtected {
		t.Fatalf("the owner: %v", err)
	}
	self := active(t0)
	self.ID = "m_admin"
	if _, err := Deactivate(admin, t0, nil)(&self); err != ErrSelfChange {
		t.Fatalf("oneself: %v", err)
	}
	// An identity provider acts as no member: only the owner is out of reach.
	if _, err := Deactivate(Membership{}, t0, nil)(&self); err != nil {
		t.Fatalf("by SCIM: %v", err)
	}
}

func TestADeactivatedMemberDoesNothing(t *testing.T) {
	m := active(t0.Add(-time.Hour))
	m.Status, m.LastCall = StatusDeactivated, LastCallNotActive
	if _, err := RecordActivity(Activity{At: t0, SignIn: true}, t0, time.UTC)(&m); err != ErrMemberDeactivated {
		t.Fatalf("a sign-in: %v", err)
	}
	if ApplyActivity(&m, t0, true, t0, time.UTC) || m.Status != StatusDeactivated {
		t.Fatalf("activity moved a deactivated member: %+v", m)
	}
	if _, err := ResendInvitation("h", t0, t0, 0, mailer)(&m); err != ErrDeactivated {
		t.Fatalf("resend: %v", err)
	}
	if _, err := SendInstructions(t0, 0, mailer)(&m); err != ErrDeactivated {
		t.Fatalf("instructions: %v", err)
	}
	if err := CheckAdmin(Team{Plan: PlanPro}, Membership{Role: RoleAdmin, Status: StatusDeactivated}); err != ErrMemberDeactivated {
		t.Fatalf("a deactivated admin opens the portal: %v", err)
	}
}

func TestReactivateReturnsToWhereTheHistoryPuts(t *testing.T) {
	deactivate := func(m Member) Member {
		if _, err := Deactivate(Membership{}, t0.Add(-time.Hour), nil)(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, tc := range []struct {
		name     string
		m        Member
		status   Status
		lastCall LastCall
		expired  bool
	}{
		{"used the app two days ago", active(t0.Add(-48 * time.Hour)), StatusActive, LastCallRecently, false},
		{"used the app 20 days ago", active(t0.Add(-20 * 24 * time.Hour)), StatusActive, LastCallLast30Days, false},
		{"used the app before the retention period", active(t0.Add(-100 * 24 * time.Hour)), StatusSignedInWithApp, LastCallMoreThan30Days, false},
		{"joined, never used the app", func() Member {
			m := invited()
			m.Status, m.LastCall, m.TokenHash, m.AcceptedAt = StatusPendingAppLogin, LastCallNotActive, "", t0.Add(-time.Hour)
			return m
		}(), StatusPendingAppLogin, LastCallNotActive, false},
		{"never joined", invited(), StatusInvitationSent, LastCallPending, true},
	} {
		m := deactivate(tc.m)
		ch, err := Reactivate(t0, DefaultRetention, time.UTC)(&m)
		if err != nil || ch.Action != AuditReactivate || ch.Detail["to"] != string(tc.status) {
			t.Fatalf("%s: %+v %v", tc.name, ch, err)
		}
		if m.Status != tc.status || m.LastCall != tc.lastCall || m.InvitationExpiredAt(t0) != tc.expired || !m.DeactivatedAt.IsZero() || m.TokenHash != "" {
			t.Errorf("%s: reactivated as %+v", tc.name, m)
		}
		if !slices.Contains(PossibleLastCalls(m.Status), m.LastCall) {
			t.Errorf("%s: %s is no bucket of %s", tc.name, m.LastCall, m.Status)
		}
	}
	on := active(t0)
	if _, err := Reactivate(t0, DefaultRetention, time.UTC)(&on); err != ErrUnchanged {
		t.Fatalf("an active member reactivated: %v", err)
	}
	if d := CounterDelta(StatusDeactivated, StatusPendingAppLogin); d != (Counters{Assigned: 1, NeverUsedApp: 1}) {
		t.Fatalf("reactivation moves the counters by %+v", d)
	}
}

func TestTheDefaultListHidesDeactivatedMembers(t *testing.T) {
	for _, f := range (ListQuery{}).Facets() {
		if f.Status == StatusDeactivated {
			t.Fatalf("the default list selects %+v", f)
		}
	}
	f := ListQuery{Statuses: []Status{StatusDeactivated}}.Facets()
	if len(f) != 2 || f[0].LastCall != LastCallNotActive {
		t.Fatalf("status=deactivated selects %+v", f)
	}
	if n := len(ListQuery{Statuses: Statuses}.Facets()); n != 16 {
		t.Fatalf("every status selects %d combinations, want 16", n)
	}
	d := Member{Email: "a@example.com", Status: StatusDeactivated, LastCall: LastCallNotActive, Role: RoleUser}
	if (ListQuery{}).Matches(d) || !(ListQuery{Statuses: []Status{StatusDeactivated}}).Matches(d) || (ListQuery{Q: "a"}).Matches(d) {
		t.Fatal("Matches disagrees with Facets on a deactivated member")
	}
	q, err := ParseListQuery(map[string][]string{"status": {"deactivated"}})
	if err != nil || !slices.Equal(q.Statuses, []Status{StatusDeactivated}) {
		t.Fatalf("status=deactivated: %+v %v", q, err)
	}
}

func TestSCIMTokens(t *testing.T) {
	secret, tok := NewSCIMToken("t_abc", "Okta", "admin@example.com", t0)
	team, id, ok := ParseSCIMToken(secret)
	if !ok || team != "t_abc" || id != tok.ID || !tok.Matches(secret) || tok.Hash == "" || strings.Contains(tok.Hash, secret) {
		t.Fatalf("token %q: %+v %v %v %v", secret, tok, team, id, ok)
	}
	other, _ := NewSCIMToken("t_abc", "Okta", "admin@example.com", t0)
	if tok.Matches(other) || tok.Matches("") {
		t.Fatal("another token matches")
	}
	for _, bad := range []string{"", "scim", "scim.t_abc.sk_1", "jwt.t_abc.sk_1." + strings.Repeat("a", 43), "scim..sk_1." + strings.Repeat("a", 43), "scim.t_abc.sk_1." + strings.Repeat("a", 42)} {
		if _, _, ok := ParseSCIMToken(bad); ok {
			t.Errorf("%q parses", bad)
		}
	}
}
