package users

import "time"

// Policy holds the tunable rules of the write side.
type Policy struct {
	InvitationTTL time.Duration  // default 7 days, 1–30
	Cooldown      time.Duration  // between two invitation or instruction emails to one member
	Retention     time.Duration  // without app activity this many days, a member is "signed in with app" (SignInRetentionDays)
	Zone          *time.Location // where days are counted (NightlyTimeZone); nil: UTC
	Limits        Limits         // per team and per source address (limits.go)
}

// DefaultPolicy is the spec's defaults.
var DefaultPolicy = Policy{InvitationTTL: 7 * 24 * time.Hour, Cooldown: 10 * time.Minute, Retention: DefaultRetention, Zone: time.UTC, Limits: DefaultLimits}

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
// signIn), as of now. It reports whether anything an admin sees changed:
// the status, the bucket, or the day (in zone) of the last activity. Later activity on a day already recorded changes nothing
// here: that day's usage item and sign-in records hold it, and member
// information reads the exact instants from them. So a member's item, and
// its index entries, are written at most once a day for activity.
func ApplyActivity(m *Member, at time.Time, signIn bool, now time.Time, zone *time.Location) bool {
	if at.After(now) {
		at = now
	}
	if m.Status == StatusInvitationSent || m.Status == StatusDeactivated {
		return false
	}
	changed := false
	if m.Status != StatusActive {
		m.Status, changed = StatusActive, true
		if m.FirstSignInAt.IsZero() {
			m.FirstSignInAt = at
		}
	}
	if signIn && (m.LastSignInAt.IsZero() || DaysBetween(m.LastSignInAt, at, zone) > 0) {
		// Kept when the member is written anyway; not a reason to write
		// it: no row shows it, and member information reads the exact
		// last sign-in from the sign-in records.
		m.LastSignInAt = at
	}
	if m.LastActiveAt.IsZero() || DaysBetween(m.LastActiveAt, at, zone) > 0 {
		m.LastActiveAt, changed = at, true
	}
	bucket := BucketFor(m.Status, m.LastActiveAt, now, zone)
	if bucket != m.LastCall {
		m.LastCall = bucket
		changed = true
	}
	return changed
}
