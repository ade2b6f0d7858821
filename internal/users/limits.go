package users

import (
	"fmt"
	"time"
)

// Limits cap what one team, or one source address, may ask for in a
// window of time: the flows an attacker (or a runaway script) would abuse
// to spam people or flood the table. Each is a template parameter.
type Limits struct {
	// InvitationsPerDay: invitation emails a team's admins may ask for in a
	// UTC day, one by one or in a list: new invitations, Resend invite and
	// bulk resend_invite (team-wide resends count as TeamJobsPerHour).
	InvitationsPerDay int
	// TeamJobsPerHour: team-wide Resend invites and Send instructions a
	// team may start in a clock hour (UTC).
	TeamJobsPerHour int
	// AcceptsPerMinute: attempts to accept an invitation from one source
	// address in a minute, whatever their outcome.
	AcceptsPerMinute int
}

// DefaultLimits are the template's defaults.
var DefaultLimits = Limits{InvitationsPerDay: 1000, TeamJobsPerHour: 10, AcceptsPerMinute: 30}

// The windows of the limits: a UTC day, a clock hour, a minute.
const (
	InvitationWindow = 24 * time.Hour
	TeamJobWindow    = time.Hour
	AcceptWindow     = time.Minute
)

// Window is the window of length d that holds now (aligned on the Unix
// epoch, so on UTC days, hours and minutes), and how long until it ends.
func Window(now time.Time, d time.Duration) (start time.Time, left time.Duration) {
	start = now.UTC().Truncate(d)
	return start, start.Add(d).Sub(now)
}

// InvitationLimit is the error for invitations over the team's daily cap.
// left is how many the team may still send today (-1: unknown).
func InvitationLimit(limit, left int, retry time.Duration) *Error {
	msg := fmt.Sprintf("This team may send %d invitations a day and has sent them all today; try again after midnight UTC.", limit)
	if left > 0 {
		msg = fmt.Sprintf("This team may send %d invitations a day; %d are left today. Send fewer, or the rest after midnight UTC.", limit, left)
	}
	return &Error{Kind: KindRateLimited, Code: "invitation_limit", RetryAfter: retry, Message: msg}
}

// TeamJobLimit is the error for a team-wide resend over the hourly cap.
func TeamJobLimit(limit int, retry time.Duration) *Error {
	return &Error{Kind: KindRateLimited, Code: "team_job_limit", RetryAfter: retry,
		Message: fmt.Sprintf("A team may start %d team-wide resends an hour; try again in %d minutes.", limit, int(retry.Minutes())+1)}
}

// AcceptLimit is the error for too many accept attempts from one address.
func AcceptLimit(retry time.Duration) *Error {
	return &Error{Kind: KindRateLimited, Code: "too_many_attempts", RetryAfter: retry,
		Message: fmt.Sprintf("Too many invitation links were tried from your network; try again in %d seconds.", int(retry.Seconds())+1)}
}
