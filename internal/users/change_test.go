package users

import (
	"errors"
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
	if _, err := RecordActivity(Activity{At: t0, SignIn: true}, t0, 15*time.Minute)(&m); !errors.Is(err, ErrUnchanged) {
		t.Fatalf("a sign-in a minute after the last: %v", err)
	}
	old := Member{Status: StatusPendingAppLogin, LastCall: LastCallNotActive}
	if _, err := RecordActivity(Activity{At: t0, SignIn: true}, t0, 15*time.Minute)(&old); err != nil || old.Status != StatusActive {
		t.Fatalf("a first sign-in: %v %+v", err, old)
	}
	if _, err := AgeRule(t0, DefaultRetention)(&old); !errors.Is(err, ErrUnchanged) {
		t.Fatalf("ageing a member active just now: %v", err)
	}
	if _, err := AgeRule(t0.Add(4*24*time.Hour), DefaultRetention)(&old); err != nil || old.LastCall != LastCallLast7Days {
		t.Fatalf("four days on: %v %+v", err, old)
	}
}
