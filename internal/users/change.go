package users

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"time"
)

// A Rule decides one change to a member: it is given the member as stored
// (a copy it may edit) and says what else the change does. The store reads
// the member, runs the rule, and writes the result in one transaction
// conditional on the version it read; when another writer got there first
// it reads again and runs the rule again. Rules are pure: everything they
// decide comes from the member and the values they close over.
type Rule func(m *Member) (Change, error)

// Change is what a rule wants written besides the member itself. The store
// derives the rest from the member before and after: the team counters
// from the two statuses, the invitation token items from the two token
// hashes, every index key from the new attributes.
type Change struct {
	Remove bool   // delete the member, its membership and open token: frees its seat
	Email  *Email // an email the change causes, queued in the same transaction
	// Action names the change in the audit log (an entry is written in the
	// same transaction); "" for routine changes that are not audited (app
	// activity, a bucket stepping down).
	Action string
	Detail map[string]string
}

// ErrUnchanged is a rule's way of saying there is nothing to write.
var ErrUnchanged = errors.New("unchanged")

// HashToken is the only form in which an invitation token is stored.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CheckCooldown refuses an email to a member sooner than cooldown after the
// last one of the same kind.
func CheckCooldown(last, now time.Time, cooldown time.Duration) error {
	if !last.IsZero() && now.Sub(last) < cooldown {
		return Cooldown(cooldown - now.Sub(last))
	}
	return nil
}

// QueueEmail records on the member that an email to them is on its way.
func QueueEmail(m *Member, e Email, now time.Time) Change {
	m.LastEmail = &EmailState{ID: e.ID, Kind: e.Kind, State: EmailQueued, At: now}
	return Change{Email: &e}
}

// ResendInvitation gives a pending member a new token (the old one stops
// working) and a new expiry, and queues the invitation email, unless an
// invitation went to them less than cooldown ago.
func ResendInvitation(tokenHash string, expires, now time.Time, cooldown time.Duration, mail func(Member) Email) Rule {
	return func(m *Member) (Change, error) {
		if m.Status == StatusDeactivated {
			return Change{}, ErrDeactivated
		}
		if m.Status != StatusInvitationSent {
			return Change{}, ErrNotPending
		}
		if err := CheckCooldown(m.InvitationSentAt, now, cooldown); err != nil {
			return Change{}, err
		}
		m.TokenHash, m.InvitationSentAt, m.InvitationExpiresAt, m.InvitationExpired = tokenHash, now, expires, false
		ch := QueueEmail(m, mail(*m), now)
		ch.Action = AuditResendInvite
		return ch, nil
	}
}

// SendInstructions queues the app set-up email, at most once per cooldown.
func SendInstructions(now time.Time, cooldown time.Duration, mail func(Member) Email) Rule {
	return func(m *Member) (Change, error) {
		if m.Status == StatusDeactivated {
			return Change{}, ErrDeactivated
		}
		if err := CheckCooldown(m.InstructionsSentAt, now, cooldown); err != nil {
			return Change{}, err
		}
		m.InstructionsSentAt = now
		ch := QueueEmail(m, mail(*m), now)
		ch.Action = AuditSendInstructions
		return ch, nil
	}
}

// AcceptInvitation spends the member's invitation token: it must be the
// member's current one (compared in constant time) and not expired. The
// member joins, pending their first app sign-in.
func AcceptInvitation(tokenHash string, now time.Time) Rule {
	return func(m *Member) (Change, error) {
		if m.Status != StatusInvitationSent || subtle.ConstantTimeCompare([]byte(m.TokenHash), []byte(tokenHash)) != 1 {
			return Change{}, ErrInvalidToken
		}
		if !m.InvitationExpiresAt.IsZero() && !now.Before(m.InvitationExpiresAt) {
			return Change{}, ErrTokenExpired
		}
		m.Status, m.LastCall, m.AcceptedAt, m.TokenHash, m.InvitationExpired = StatusPendingAppLogin, LastCallNotActive, now, "", false
		return Change{Action: AuditAccept}, nil
	}
}

// Remove takes a member out of the team if actor may, with the notice
// that tells them (notices.Removal; nil notices: none).
func Remove(actor Membership, notices *Notices) Rule {
	return func(m *Member) (Change, error) {
		if err := CheckRemove(actor, *m); err != nil {
			return Change{}, err
		}
		return Change{Remove: true, Email: notices.Removal(*m),
			Action: AuditRemove, Detail: map[string]string{"status": string(m.Status), "role": string(m.Role)}}, nil
	}
}

// ChangeRole gives a member a role if actor may, with the notice that
// tells them (notices.RoleChange; nil notices: none); the same role is no
// change.
func ChangeRole(actor Membership, role Role, notices *Notices) Rule {
	return func(m *Member) (Change, error) {
		if err := CheckRoleChange(actor, *m, role); err != nil {
			return Change{}, err
		}
		if m.Role == role {
			return Change{}, ErrUnchanged
		}
		from := m.Role
		m.Role = role
		ch := Change{}
		if e := notices.RoleChange(*m, from); e != nil {
			ch = QueueEmail(m, *e, notices.Now)
		}
		ch.Action, ch.Detail = AuditChangeRole, map[string]string{"from": string(from), "to": string(role)}
		return ch, nil
	}
}

// RecordActivity moves a member for app activity (see ApplyActivity); a
// report that changes nothing an admin sees is no change.
func RecordActivity(a Activity, now time.Time, zone *time.Location) Rule {
	return func(m *Member) (Change, error) {
		if m.Status == StatusDeactivated {
			return Change{}, ErrMemberDeactivated
		}
		if !ApplyActivity(m, a.At, a.SignIn, now, zone) {
			return Change{}, ErrUnchanged
		}
		return Change{}, nil
	}
}

// JoinBySignIn is a sign-in to the app by an invited member, with the
// invited address verified by the identity provider: it accepts the live
// invitation and records the sign-in in one change (accepted and first
// signed in at once, active), so the set-up instructions work for people
// who never clicked the invitation link. An expired invitation still needs
// a resend.
func JoinBySignIn(a Activity, now time.Time, zone *time.Location) Rule {
	return func(m *Member) (Change, error) {
		joining := m.Status == StatusInvitationSent
		if joining {
			if m.InvitationExpiredAt(now) {
				return Change{}, ErrTokenExpired
			}
			m.Status, m.AcceptedAt, m.TokenHash, m.InvitationExpired = StatusPendingAppLogin, now, "", false
		}
		ch, err := RecordActivity(a, now, zone)(m)
		if joining && err == nil {
			ch.Action = AuditJoin
		}
		return ch, err
	}
}

// AgeRule moves a member to where time has taken them (see Age). An
// invitation flagged expired and a member archived ("signed in with app")
// are audited; a bucket stepping down is routine.
func AgeRule(now time.Time, retention time.Duration, zone *time.Location) Rule {
	return func(m *Member) (Change, error) {
		expired, status := m.InvitationExpired, m.Status
		if !Age(m, now, retention, zone) {
			return Change{}, ErrUnchanged
		}
		switch {
		case m.InvitationExpired && !expired:
			return Change{Action: AuditExpire}, nil
		case m.Status != status:
			return Change{Action: AuditArchive, Detail: map[string]string{"from": string(status), "to": string(m.Status)}}, nil
		}
		return Change{}, nil
	}
}

// Deactivate turns a member off if actor may (CheckDeactivate): the seat is
// freed (the store moves the counters from the two statuses), an open
// invitation is voided (its token is deleted: the link says "not valid"),
// sign-ins and call reports are refused from now on, and the member's
// history and usage stay. Already deactivated is no change.
//
// The member is told (notices.Deactivation; nil notices: none) by an email
// queued in the same change.
func Deactivate(actor Membership, now time.Time, notices *Notices) Rule {
	return func(m *Member) (Change, error) {
		if err := CheckDeactivate(actor, *m); err != nil {
			return Change{}, err
		}
		if m.Status == StatusDeactivated {
			return Change{}, ErrUnchanged
		}
		e := notices.Deactivation(*m)
		from := deactivate(m, now)
		ch := Change{}
		if e != nil {
			ch = QueueEmail(m, *e, now)
		}
		ch.Action, ch.Detail = AuditDeactivate, map[string]string{"from": string(from)}
		return ch, nil
	}
}

func deactivate(m *Member, now time.Time) Status {
	from := m.Status
	m.Status, m.LastCall, m.TokenHash, m.DeactivatedAt = StatusDeactivated, LastCallNotActive, "", now
	return from
}

// Reactivate turns a deactivated member back on, taking a seat again (the
// store's counter update is conditional on a free one: seat_limit_reached
// otherwise). The member returns to where their history puts them:
//   - used the app: active, in the bucket of their last activity, or
//     "signed in with app" when that is older than retention;
//   - joined but never used the app: pending_app_login;
//   - never joined (deactivated while invited): invitation_sent with the
//     invitation flagged expired, since its link was voided; Resend invite
//     sends a new one.
//
// A member who is not deactivated is no change.
func Reactivate(now time.Time, retention time.Duration, zone *time.Location) Rule {
	return func(m *Member) (Change, error) {
		if m.Status != StatusDeactivated {
			return Change{}, ErrUnchanged
		}
		reactivate(m, now, retention, zone)
		return Change{Action: AuditReactivate, Detail: map[string]string{"to": string(m.Status)}}, nil
	}
}

func reactivate(m *Member, now time.Time, retention time.Duration, zone *time.Location) {
	switch {
	case !m.FirstSignInAt.IsZero() && !m.LastActiveAt.IsZero():
		m.Status = StatusActive
		if Archived(m.LastActiveAt, now, retention, zone) {
			m.Status = StatusSignedInWithApp
		}
	case !m.AcceptedAt.IsZero():
		m.Status = StatusPendingAppLogin
	default:
		m.Status, m.InvitationExpired = StatusInvitationSent, true
	}
	m.LastCall, m.DeactivatedAt = BucketFor(m.Status, m.LastActiveAt, now, zone), time.Time{}
}

// NewMember is a member to add, with the email its arrival causes (an
// invitation, or the set-up instructions), if any. An invited member
// carries its token's hash. Action names the addition in the audit log
// (default: invite for an invitation, none otherwise).
type NewMember struct {
	Member Member
	Email  *Email
	Action string            // the audit entry written with it; "" for none
	Detail map[string]string // the entry's detail
}

// Admit is how a member joins the team when no rule names the change
// otherwise: an invitation is audited as one (with the role), anyone else
// (a team's owner, a seeded member) joins without an entry.
func Admit(m Member, e *Email) NewMember {
	nm := NewMember{Member: m, Email: e}
	if m.Status == StatusInvitationSent {
		nm.Action, nm.Detail = AuditInvite, map[string]string{"role": string(m.Role)}
	}
	return nm
}

// TokenFate is what becomes of a member's old invitation token when a
// change replaces or ends it.
type TokenFate int

const (
	TokenKept   TokenFate = iota // no token, or the change keeps it
	TokenSpent                   // joining spent it: kept, marked accepted, so a second use of the link is told so
	TokenVoided                  // replaced, or the member left or was deactivated: deleted, the link is "not valid"
)

// OldToken decides the fate of before's token when a change makes after
// of it (remove: the change deletes the member).
func OldToken(before, after Member, remove bool) TokenFate {
	switch {
	case before.TokenHash == "" || (!remove && before.TokenHash == after.TokenHash):
		return TokenKept
	case !remove && before.Status == StatusInvitationSent && (after.Status == StatusPendingAppLogin || after.Status == StatusActive):
		return TokenSpent
	}
	return TokenVoided
}

// CheckFreeSeats refuses n more seated members when the team has fewer
// free seats (seat_limit_reached, saying by how many).
func (t Team) CheckFreeSeats(n int) error {
	if free := t.Seats - t.Counters.Assigned; free < n {
		return SeatsShort(n, free)
	}
	return nil
}
