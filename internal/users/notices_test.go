package users

import (
	"testing"
	"time"
)

func TestNoticesAreTheChangesEmails(t *testing.T) {
	admin := Membership{MemberID: "m_admin", Role: RoleAdmin}
	n := &Notices{TeamID: "t_a", TeamName: "Acme Inc", Settings: DefaultTeamSettings, By: "boss@acme.example", ByMemberID: "m_admin", Now: t0}
	joined := func() Member {
		return Member{ID: "m_j", TeamID: "t_a", Email: "j@acme.example", Role: RoleUser, Status: StatusActive, LastCall: LastCallRecently}
	}

	// A role change queues the notice with the change, as the member's last email.
	m := joined()
	ch, err := ChangeRole(admin, RoleAdmin, n)(&m)
	if err != nil || ch.Email == nil || ch.Email.Kind != EmailRoleChanged || ch.Email.To != "j@acme.example" || ch.Email.MemberID != "m_j" {
		t.Fatalf("role change: %v %+v", err, ch.Email)
	}
	if d := ch.Email.Data; d["teamName"] != "Acme Inc" || d["role"] != "admin" || d["fromRole"] != "user" || d["by"] != "boss@acme.example" || d["at"] != t0.Format(time.RFC3339) {
		t.Fatalf("role change data: %v", d)
	}
	if m.LastEmail == nil || m.LastEmail.ID != ch.Email.ID || m.LastEmail.State != EmailQueued {
		t.Fatalf("lastEmail: %+v", m.LastEmail)
	}
	// The same role: no change, no notice.
	if ch, err := ChangeRole(admin, RoleAdmin, n)(&m); err != ErrUnchanged || ch.Email != nil {
		t.Fatalf("same role: %v %+v", err, ch)
	}
	// An invitee is not a member yet: the role changes quietly.
	inv := invited()
	if ch, err := ChangeRole(admin, RoleAdmin, n)(&inv); err != nil || ch.Email != nil || inv.LastEmail != nil {
		t.Fatalf("invitee's role: %v %+v", err, ch)
	}

	// Removal: a member who joined is told they were removed; the email
	// carries the address and the team's name (the member item goes).
	m = joined()
	ch, err = Remove(admin, n)(&m)
	if err != nil || !ch.Remove || ch.Email == nil || ch.Email.Kind != EmailRemoved || ch.Email.To != m.Email || ch.Email.Data["teamName"] != "Acme Inc" {
		t.Fatalf("removal: %v %+v", err, ch.Email)
	}
	// Removing an invitee revokes the invitation: told so while the team's setting is on.
	inv = invited()
	if ch, _ := Remove(admin, n)(&inv); ch.Email == nil || ch.Email.Kind != EmailInvitationRevoked {
		t.Fatalf("revoke: %+v", ch.Email)
	}
	quiet := *n
	quiet.Settings.NotifyOnRevoke = false
	if ch, _ := Remove(admin, &quiet)(&inv); !ch.Remove || ch.Email != nil {
		t.Fatalf("revoke with the setting off: %+v", ch)
	}
	if ch, _ := Remove(admin, &quiet)(&m); ch.Email == nil || ch.Email.Kind != EmailRemoved {
		t.Fatalf("the setting is about invitations only: %+v", ch.Email)
	}

	// No notice to an address whose last email bounced or was marked as spam,
	// nor to the one who acted, nor without notices.
	for _, state := range []string{EmailBounced, EmailComplained} {
		b := joined()
		b.LastEmail = &EmailState{ID: "e_old", State: state}
		if n.Removal(b) != nil || n.RoleChange(b, RoleAdmin) != nil || n.Deactivation(b) != nil {
			t.Fatalf("a notice to a %s address", state)
		}
	}
	self := joined()
	self.ID = "m_admin"
	if n.Removal(self) != nil || n.RoleChange(self, RoleUser) != nil {
		t.Fatal("a notice of one's own action")
	}
	var none *Notices
	if none.Removal(joined()) != nil || none.RoleChange(joined(), RoleAdmin) != nil {
		t.Fatal("nil notices sent one")
	}

	// Deactivation (SCIM, not sent by anyone yet): the owner is the contact.
	// Deactivation, by an admin: queued with the change, as the member's
	// last email; an invitee's link just stops working.
	m = joined()
	ch, err = Deactivate(admin, t0, n)(&m)
	if err != nil || ch.Email == nil || ch.Email.Kind != EmailDeactivated || ch.Email.Data["by"] != "boss@acme.example" || m.LastEmail == nil || m.LastEmail.ID != ch.Email.ID {
		t.Fatalf("deactivation: %v %+v", err, ch.Email)
	}
	inv = invited()
	if ch, err := Deactivate(admin, t0, n)(&inv); err != nil || ch.Email != nil {
		t.Fatalf("an invitee deactivated: %v %+v", err, ch.Email)
	}
	// A deactivated member removed is not told again.
	if ch, _ := Remove(admin, n)(&m); !ch.Remove || ch.Email != nil {
		t.Fatalf("removal after deactivation: %+v", ch.Email)
	}

	// The identity provider (no one acted): the owner is the contact; it
	// deactivates, or changes a role, with the notice in the change.
	scim := &Notices{TeamID: "t_a", TeamName: "Acme Inc", Contact: "owner@acme.example", Now: t0}
	if e := scim.Deactivation(joined()); e == nil || e.Kind != EmailDeactivated || e.Data["contact"] != "owner@acme.example" || e.Data["by"] != "" {
		t.Fatalf("deactivation: %+v", e)
	}
	m = joined()
	u := IdPUpdate{Email: m.Email, Role: RoleUser, Active: false}
	if ch, err := UpdateFromIdP(u, t0, DefaultRetention, time.UTC, scim)(&m); err != nil || ch.Email == nil || ch.Email.Kind != EmailDeactivated || ch.Action != AuditDeactivate {
		t.Fatalf("the provider deactivates: %v %+v", err, ch)
	}
	m = joined()
	u = IdPUpdate{Email: m.Email, Role: RoleAdmin, Active: true}
	if ch, err := UpdateFromIdP(u, t0, DefaultRetention, time.UTC, scim)(&m); err != nil || ch.Email == nil || ch.Email.Kind != EmailRoleChanged || ch.Email.Data["fromRole"] != "user" {
		t.Fatalf("the provider changes a role: %v %+v", err, ch)
	}
	m = joined()
	u = IdPUpdate{Email: m.Email, Role: RoleUser, Active: true, UserName: "jj"}
	if ch, err := UpdateFromIdP(u, t0, DefaultRetention, time.UTC, scim)(&m); err != nil || ch.Email != nil {
		t.Fatalf("a profile change is not a notice: %v %+v", err, ch)
	}
}
