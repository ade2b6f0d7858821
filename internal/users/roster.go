package users

import "time"

// Policy holds the tunable rules of the write side.
type Policy struct {
	InvitationTTL    time.Duration // default 7 days, 1–30
	Cooldown         time.Duration // between two invitation or instruction emails to one member
	ActivityCoalesce time.Duration // app activity closer than this to the last recorded one is not written again
	Retention        time.Duration // without app activity this long, a member is "signed in with app" (SignInRetentionDays)
}

// DefaultPolicy is the spec's defaults.
var DefaultPolicy = Policy{InvitationTTL: 7 * 24 * time.Hour, Cooldown: 10 * time.Minute, ActivityCoalesce: 15 * time.Minute, Retention: DefaultRetention}

// Limits of the write side.
const (
	MaxInviteEmails = 500
	MaxBulkMembers  = 1000
)

// CheckRemove decides whether actor may remove target.
func CheckRemove(actor Membership, target Member) error {
	if target.IsOwner {
		return ErrOwnerProtected
	}
	if target.ID == actor.MemberID {
		return ErrSelfChange
	}
	return nil
}

// CheckDeactivate decides whether actor may deactivate target: never the
// owner, never oneself. An identity provider (SCIM) acts as no member, so
// only the owner is out of its reach.
func CheckDeactivate(actor Membership, target Member) error {
	if target.IsOwner {
		return ErrOwnerProtected
	}
	if actor.MemberID != "" && target.ID == actor.MemberID {
		return ErrSelfChange
	}
	return nil
}

// CheckRoleChange decides whether actor may give target the role.
func CheckRoleChange(actor Membership, target Member, role Role) error {
	if target.IsOwner && role != RoleAdmin {
		return ErrOwnerProtected
	}
	if target.ID == actor.MemberID && role != RoleAdmin {
		return ErrSelfChange
	}
	return nil
}

// ParseRole checks a role from a request.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleUser, RoleAdmin:
		return r, nil
	}
	return "", Errorf(KindInvalid, "invalid_role", "role must be user or admin")
}

// ApplyActivity moves a member for app activity at `at` (a sign-in when
// signIn). It reports whether anything an admin can see changed enough to
// be worth a write: frequent reports from an active app coalesce.
func ApplyActivity(m *Member, at time.Time, signIn bool, now time.Time, coalesce time.Duration) bool {
	if at.After(now) {
		at = now
	}
	joined := m.Status != StatusActive
	if m.Status == StatusInvitationSent || m.Status == StatusDeactivated {
		return false
	}
	changed := joined
	if joined {
		m.Status = StatusActive
		if m.FirstSignInAt.IsZero() {
			m.FirstSignInAt = at
		}
	}
	if signIn && (m.LastSignInAt.IsZero() || at.Sub(m.LastSignInAt) >= coalesce) {
		m.LastSignInAt = at
		changed = true
	}
	if m.LastActiveAt.IsZero() || at.Sub(m.LastActiveAt) >= coalesce {
		m.LastActiveAt = at
		changed = true
	}
	bucket := BucketFor(m.Status, m.LastActiveAt, now)
	if bucket != m.LastCall {
		m.LastCall = bucket
		changed = true
	}
	return changed
}
