// Package users owns the model of the Users page: teams, members, their
// statuses, last-call buckets and roles, and the rules that relate them. It
// has no AWS or HTTP imports; the store and the HTTP layer translate to it.
package users

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Status is where a member is in the joining process.
type Status string

const (
	StatusInvitationSent  Status = "invitation_sent"
	StatusPendingAppLogin Status = "pending_app_login"
	StatusActive          Status = "active"
	StatusSignedInWithApp Status = "signed_in_with_app"
	// StatusDeactivated is a member turned off by an admin or the identity
	// provider (SCIM active: false): no seat, no sign-in, no calls; history
	// and usage kept; listed only when asked for; can be reactivated.
	StatusDeactivated Status = "deactivated"
)

// Statuses lists every status in the order the portal shows them.
var Statuses = []Status{StatusInvitationSent, StatusPendingAppLogin, StatusActive, StatusSignedInWithApp, StatusDeactivated}

// ListedStatuses are the statuses the member list shows when no status is
// asked for: every one but deactivated.
var ListedStatuses = []Status{StatusInvitationSent, StatusPendingAppLogin, StatusActive, StatusSignedInWithApp}

// LastCall is the activity bucket shown in the Last call column.
type LastCall string

const (
	LastCallPending        LastCall = "pending"
	LastCallNotActive      LastCall = "not_active"
	LastCallRecently       LastCall = "recently"
	LastCallLast7Days      LastCall = "last_7_days"
	LastCallLast30Days     LastCall = "last_30_days"
	LastCallMoreThan30Days LastCall = "more_than_30_days"
)

// LastCalls lists every bucket, freshest first.
var LastCalls = []LastCall{LastCallPending, LastCallNotActive, LastCallRecently, LastCallLast7Days, LastCallLast30Days, LastCallMoreThan30Days}

// Role is a member's access level.
type Role string

const (
	RoleUser  Role = "user"
	RoleAdmin Role = "admin"
)

// Roles lists every role.
var Roles = []Role{RoleUser, RoleAdmin}

// Plan is the billing plan of a team. Only pro teams may use the Users page.
type Plan string

const PlanPro Plan = "pro"

// Bucket thresholds, in calendar days from the day of the last app
// activity to today (see days.go): Recently is today or the three days
// before, Last 7 days up to seven days before, Last 30 days up to thirty.
const (
	RecentlyDays   = 3
	Last7DaysDays  = 7
	Last30DaysDays = 30
)

// BucketFor computes the last-call bucket of a member with the given status
// and last app activity (zero when the app was never used), as of now,
// counting calendar days in zone.
func BucketFor(status Status, lastActive time.Time, now time.Time, zone *time.Location) LastCall {
	switch status {
	case StatusInvitationSent:
		return LastCallPending
	case StatusPendingAppLogin, StatusDeactivated:
		// A deactivated member cannot use the app: "Not active", whatever
		// their last activity (kept in lastActiveAt). The bucket stays put,
		// so the nightly job has nothing to do for them.
		return LastCallNotActive
	}
	if lastActive.IsZero() {
		return LastCallNotActive
	}
	switch days := DaysBetween(lastActive, now, zone); {
	case days <= RecentlyDays:
		return LastCallRecently
	case days <= Last7DaysDays:
		return LastCallLast7Days
	case days <= Last30DaysDays:
		return LastCallLast30Days
	default:
		return LastCallMoreThan30Days
	}
}

// PossibleLastCalls says which buckets a member of the given status can be
// in. The store uses it to skip (status, bucket) pairs that cannot exist.
func PossibleLastCalls(s Status) []LastCall {
	switch s {
	case StatusInvitationSent:
		return []LastCall{LastCallPending}
	case StatusPendingAppLogin, StatusDeactivated:
		return []LastCall{LastCallNotActive}
	case StatusActive:
		return []LastCall{LastCallRecently, LastCallLast7Days, LastCallLast30Days, LastCallMoreThan30Days}
	case StatusSignedInWithApp:
		return []LastCall{LastCallMoreThan30Days}
	}
	return nil
}

// Team is a customer account.
type Team struct {
	ID            string
	Name          string // the customer's name for it, as billing gave it
	Plan          Plan
	Seats         int
	OwnerEmail    string
	OwnerMemberID string
	CreatedAt     time.Time
	Counters      Counters
	// Facets counts the members of each (status, bucket, role)
	// combination, moved in the same transactions as the members, so a
	// filtered list's total is a sum of at most 16 numbers.
	Facets map[Facet]int
	// Settings are what the team's admins chose (PATCH …/settings).
	Settings TeamSettings
}

// TeamChange is what may change of a team (billing: name, plan, seats;
// its admins: the settings); nil fields stay.
type TeamChange struct {
	Name  *string
	Plan  *Plan
	Seats *int
	// NotifyOnRevoke is the team's setting, changed by its admins, not billing.
	NotifyOnRevoke *bool
}

// MaxTeamName is the longest team name, in characters.
const MaxTeamName = 100

// CheckTeamName trims a team name and checks it: 1 to 100 characters of
// text, no control characters (it goes into email subjects and file names).
func CheckTeamName(raw string) (string, error) {
	name := strings.TrimSpace(raw)
	bad := !utf8.ValidString(name) || name == "" || utf8.RuneCountInString(name) > MaxTeamName
	for _, r := range name {
		if unicode.IsControl(r) || r == 0x2028 || r == 0x2029 {
			bad = true
		}
	}
	if bad {
		return "", Errorf(KindInvalid, "invalid_name", "name must be 1 to %d characters of text without line breaks.", MaxTeamName)
	}
	return name, nil
}

// Total is how many members the query's filters select (its search aside).
func (t Team) Total(q ListQuery) int {
	n := 0
	for _, f := range q.Facets() {
		n += t.Facets[f]
	}
	return n
}

// FacetOf is the (status, bucket, role) combination a member is in.
func FacetOf(m Member) Facet { return Facet{Status: m.Status, LastCall: m.LastCall, Role: m.Role} }

// Counters are the Section 1 numbers, kept current by every write that
// changes them so the summary never counts members on read.
type Counters struct {
	Assigned           int
	PendingInvitations int
	NeverUsedApp       int
}

// CounterDelta is how the team counters move when a member goes from one
// status to another. An empty status means "no member" (added or removed).
func CounterDelta(from, to Status) Counters {
	weight := func(s Status) Counters {
		switch s {
		case "", StatusDeactivated: // no member, or one who holds no seat
			return Counters{}
		case StatusInvitationSent:
			return Counters{Assigned: 1, PendingInvitations: 1, NeverUsedApp: 1}
		case StatusPendingAppLogin:
			return Counters{Assigned: 1, NeverUsedApp: 1}
		default:
			return Counters{Assigned: 1}
		}
	}
	a, b := weight(from), weight(to)
	return Counters{
		Assigned:           b.Assigned - a.Assigned,
		PendingInvitations: b.PendingInvitations - a.PendingInvitations,
		NeverUsedApp:       b.NeverUsedApp - a.NeverUsedApp,
	}
}

// Summary is the Section 1 view of a team.
type Summary struct {
	Purchased          int
	Assigned           int
	PendingInvitations int
	NeverUsedApp       int
}

// SummaryOf derives the summary from a team's stored counters.
func SummaryOf(t Team) Summary {
	return Summary{
		Purchased:          t.Seats,
		Assigned:           t.Counters.Assigned,
		PendingInvitations: t.Counters.PendingInvitations,
		NeverUsedApp:       t.Counters.NeverUsedApp,
	}
}

// Unassigned is purchased minus assigned seats, never below zero.
func (s Summary) Unassigned() int {
	if s.Assigned >= s.Purchased {
		return 0
	}
	return s.Purchased - s.Assigned
}

// EmailState is what happened to the last email sent to a member.
type EmailState struct {
	ID     string
	Kind   string
	State  string
	At     time.Time
	Reason string
}

// Member is a person added to a team.
type Member struct {
	ID                  string
	TeamID              string
	Email               string
	Role                Role
	IsOwner             bool
	Status              Status
	LastCall            LastCall
	LastActiveAt        time.Time
	LastActiveOn        string // the day of LastActiveAt in the stack's zone (YYYY-MM-DD); set by the store
	InvitedAt           time.Time
	InvitedBy           string
	InvitationSentAt    time.Time
	InvitationExpiresAt time.Time
	InvitationExpired   bool
	AcceptedAt          time.Time
	FirstSignInAt       time.Time
	LastSignInAt        time.Time
	LastEmail           *EmailState
	InstructionsSentAt  time.Time
	TokenHash           string // the SHA-256 of the live invitation token, if any
	DeactivatedAt       time.Time

	// What an identity provider keeps on the member (SCIM): its own id for
	// them and its user name (each unique in the team), the rest of what it
	// sent as it sent it (names, addresses, roles: opaque here, the scim
	// package reads it), and the SCIM token that created them.
	ExternalID    string
	UserName      string
	IdPData       string
	ProvisionedBy string

	Version   int       // the store's version of the member (SCIM's ETag); set by the store
	UpdatedAt time.Time // the last write; set by the store
}

// InvitationExpiredAt reports whether the member's invitation is past its
// expiry at now. The nightly job stores the flag; reads also check the
// clock so the answer is never a day late.
func (m Member) InvitationExpiredAt(now time.Time) bool {
	if m.Status != StatusInvitationSent {
		return false
	}
	return m.InvitationExpired || (!m.InvitationExpiresAt.IsZero() && !now.Before(m.InvitationExpiresAt))
}

// Membership is a caller's standing in one team, as authorization needs it.
type Membership struct {
	TeamID   string
	MemberID string
	Role     Role
	IsOwner  bool
	Status   Status
}

// CheckAdmin decides whether a member may use the team endpoints.
func CheckAdmin(t Team, m Membership) error {
	switch m.Status {
	case StatusPendingAppLogin, StatusActive, StatusSignedInWithApp:
	case StatusDeactivated:
		// They know the team; they are told why the door is shut.
		return ErrMemberDeactivated
	default:
		// Invited but not joined: not yet a member. A status this code does
		// not know (an item written by something else) fails closed too.
		return ErrTeamNotFound
	}
	if m.Role != RoleAdmin {
		return ErrNotAdmin
	}
	if t.Plan != PlanPro {
		return ErrPlanRequired
	}
	return nil
}

// DefaultRetention is how long sign-in records stay in the main table, and
// how long without app activity before a member is "signed in with app".
const DefaultRetention = 90 * 24 * time.Hour

// NextChange is when the nightly job next has something to do for a
// member: the bucket steps down, the invitation expires, or the member's
// activity becomes old enough to archive. Zero: nothing will change by time
// alone. A bucket steps down at the start of the first day past it (in
// zone), and a member is archived at the start of the first day more than
// the retention's days after their last activity.
func NextChange(m Member, retention time.Duration, zone *time.Location) time.Time {
	switch m.Status {
	case StatusInvitationSent:
		if m.InvitationExpired || m.InvitationExpiresAt.IsZero() {
			return time.Time{}
		}
		return m.InvitationExpiresAt
	case StatusActive:
		if m.LastActiveAt.IsZero() {
			return time.Time{}
		}
		switch m.LastCall {
		case LastCallRecently:
			return DayStart(m.LastActiveAt, RecentlyDays+1, zone)
		case LastCallLast7Days:
			return DayStart(m.LastActiveAt, Last7DaysDays+1, zone)
		case LastCallLast30Days:
			return DayStart(m.LastActiveAt, Last30DaysDays+1, zone)
		default:
			return DayStart(m.LastActiveAt, RetentionDays(retention)+1, zone)
		}
	}
	return time.Time{}
}

// Archived reports whether activity at lastActive is older than the
// retention's days as of now: the member is "signed in with app".
func Archived(lastActive, now time.Time, retention time.Duration, zone *time.Location) bool {
	return !lastActive.IsZero() && DaysBetween(lastActive, now, zone) > RetentionDays(retention)
}

// Age moves a member to where time has taken them as of now: the bucket
// their last activity falls in, "signed in with app" once that activity is
// older than retention, the invitation flagged once past its expiry. It
// reports whether anything changed.
func Age(m *Member, now time.Time, retention time.Duration, zone *time.Location) bool {
	changed := false
	switch m.Status {
	case StatusInvitationSent:
		if !m.InvitationExpired && !m.InvitationExpiresAt.IsZero() && !now.Before(m.InvitationExpiresAt) {
			m.InvitationExpired, changed = true, true
		}
	case StatusActive:
		if Archived(m.LastActiveAt, now, retention, zone) {
			m.Status, changed = StatusSignedInWithApp, true
		}
		if b := BucketFor(m.Status, m.LastActiveAt, now, zone); b != m.LastCall {
			m.LastCall, changed = b, true
		}
	}
	return changed
}
