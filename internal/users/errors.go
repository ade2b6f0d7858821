package users

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies an error for the edge that turns it into a response.
type Kind int

const (
	KindInternal     Kind = iota // a fault of ours; the caller sees no detail
	KindInvalid                  // the request is malformed or out of range
	KindUnauthorized             // no valid identity
	KindForbidden                // identity known, action not allowed
	KindNotFound                 // the thing does not exist, or the caller may not know it does
	KindConflict                 // the request conflicts with the current state
	KindTooLarge                 // the request body is over a limit
	KindUnsupported              // the request's media type is not accepted
	KindGone                     // the thing existed but is no longer usable
	KindRateLimited              // too soon; RetryAfter says when
	KindUnavailable              // a dependency stayed busy or failing after every retry; try again after RetryAfter
	KindPrecondition             // the caller's If-Match names a version that is no longer the current one
)

// Error is a domain error with a stable machine-readable code. Its Message is
// written for the caller and never carries internal detail.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Err     error // the cause, for logs only

	RetryAfter time.Duration // with KindRateLimited
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrSeatLimit) true of every error of that kind
// and code, the sentinel or one built with its own words (AlreadyMember,
// SeatsShort): callers match kinds of error, never code strings.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && t.Code == e.Code
}

// Errorf builds a domain error.
func Errorf(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// AsError finds the domain error in err's chain.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Common errors.
var (
	ErrTeamNotFound   = &Error{Kind: KindNotFound, Code: "team_not_found", Message: "No such team."}
	ErrMemberNotFound = &Error{Kind: KindNotFound, Code: "member_not_found", Message: "No such member in this team."}
	ErrNotAdmin       = &Error{Kind: KindForbidden, Code: "admin_required", Message: "Only admins of this team may do this."}
	ErrPlanRequired   = &Error{Kind: KindForbidden, Code: "plan_required", Message: "The Users page needs the team to be on the pro plan."}
	ErrOwnerProtected = &Error{Kind: KindForbidden, Code: "owner_protected", Message: "The team owner cannot be removed, demoted or deactivated."}
	ErrSelfChange     = &Error{Kind: KindForbidden, Code: "cannot_change_self", Message: "Admins cannot remove, demote or deactivate themselves; ask another admin."}
	ErrNotPending     = &Error{Kind: KindConflict, Code: "not_pending", Message: "This member has already accepted the invitation."}
	ErrInvalidToken   = &Error{Kind: KindInvalid, Code: "invalid_token", Message: "This invitation link is not valid; it may have been replaced by a newer invitation."}
	ErrTokenExpired   = &Error{Kind: KindGone, Code: "invitation_expired", Message: "This invitation has expired; ask an admin of the team to resend it."}
	ErrAccepted       = &Error{Kind: KindConflict, Code: "already_accepted", Message: "This invitation was already accepted; sign in to the app with the invited address."}
	ErrConflict       = &Error{Kind: KindConflict, Code: "concurrent_change", Message: "The member changed while we were updating it; try again."}
	// ErrMemberDeactivated answers a deactivated member who tries to use
	// the team: the portal, app sign-ins and call reports.
	ErrMemberDeactivated = &Error{Kind: KindForbidden, Code: "member_deactivated", Message: "Your access to this team has been turned off; ask an admin of the team to reactivate it."}
	// ErrDeactivated refuses an action that needs the member active.
	ErrDeactivated   = &Error{Kind: KindConflict, Code: "deactivated", Message: "This member is deactivated; reactivate them first."}
	ErrInvalidCursor = &Error{Kind: KindInvalid, Code: "invalid_cursor", Message: "The cursor is not valid for this query; start again from the first page."}
	// ErrPageTooFar: a page by offset (SCIM's startIndex) that would read
	// more members than the caller allows to reach it.
	ErrPageTooFar = &Error{Kind: KindInvalid, Code: "page_too_far", Message: "This page is too far to reach without reading the pages before it."}

	// ErrSeatLimit: every purchased seat is assigned (SeatsShort says by
	// how many a batch is over).
	ErrSeatLimit = &Error{Kind: KindConflict, Code: "seat_limit_reached", Message: "Every purchased seat is assigned."}
	// ErrAlreadyMember: the address is a member of the team already
	// (AlreadyMember names it).
	ErrAlreadyMember = &Error{Kind: KindConflict, Code: "already_member", Message: "This address is already a member of this team."}
	// ErrExternalIDTaken and ErrUserNameTaken: another member of the team
	// has this identity provider id, or user name.
	ErrExternalIDTaken = &Error{Kind: KindConflict, Code: "external_id_taken", Message: "Another member of the team has this externalId."}
	ErrUserNameTaken   = &Error{Kind: KindConflict, Code: "user_name_taken", Message: "Another member of the team has this userName."}
)

// AlreadyMember is ErrAlreadyMember naming the address.
func AlreadyMember(email string) *Error {
	return Errorf(ErrAlreadyMember.Kind, ErrAlreadyMember.Code, "%s is already a member of this team.", email)
}

// SeatsShort is ErrSeatLimit for a batch of n new members and free seats.
func SeatsShort(n, free int) *Error {
	return Errorf(ErrSeatLimit.Kind, ErrSeatLimit.Code, "%d members do not fit in %d free seats.", n, free)
}

// Cooldown is the error for an email asked for again too soon.
func Cooldown(wait time.Duration) *Error {
	return &Error{Kind: KindRateLimited, Code: "cooldown", RetryAfter: wait,
		Message: fmt.Sprintf("An email was sent to this member recently; try again in %d seconds.", int(wait.Seconds()+0.999))}
}

// Unavailable wraps a failure of a dependency that outlasted our retries
// (throttling, its own errors, contention): the caller may try again.
func Unavailable(cause error) *Error {
	return &Error{Kind: KindUnavailable, Code: "unavailable", RetryAfter: 2 * time.Second, Err: cause,
		Message: "The service is busy; try again in a few seconds."}
}

// BillingAccountTaken says a team already exists for a billing account.
type BillingAccountTaken struct{ TeamID string }

func (e *BillingAccountTaken) Error() string { return "billing account already has team " + e.TeamID }
