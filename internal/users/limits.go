package users

import (
	"errors"
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
	// CallsPerMemberPerDay: calls a member's app may report ending in one
	// UTC day (counted on the day's usage item, in the write that adds
	// the call: free). With SignInsPerMemberPerDay it bounds a team's app
	// reports by its members, so by the seats it pays for.
	CallsPerMemberPerDay int
	// SignInsPerMemberPerDay: sign-ins a member's app may report in a UTC
	// day.
	SignInsPerMemberPerDay int
}

// DefaultLimits are the template's defaults.
var DefaultLimits = Limits{InvitationsPerDay: 1000, TeamJobsPerHour: 10, AcceptsPerMinute: 30, CallsPerMemberPerDay: 1000, SignInsPerMemberPerDay: 100}

// The windows of the limits: a UTC day, a clock hour, a minute.
const (
	InvitationWindow = 24 * time.Hour
	TeamJobWindow    = time.Hour
	AcceptWindow     = time.Minute
	ReportWindow     = 24 * time.Hour
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

// ErrDayFull means a member's usage day already holds as many calls as
// the limit allows (the store's answer; ReportLimit is the caller's).
var ErrDayFull = errors.New("the day's reports are at their limit")

// ReportLimit is the error for an app report over its member's daily cap:
// what ("calls", "sign-ins"), the limit, the UTC day it counts in and, when
// that day is today, how long until it ends (no Retry-After for a past day:
// waiting does not help).
func ReportLimit(what string, limit int, day string, now time.Time) *Error {
	e := &Error{Kind: KindRateLimited, Code: "report_limit",
		Message: fmt.Sprintf("A member's app may report %d %s a day and has reported them all for %s (UTC); the rest of that day's are not recorded.", limit, what, day)}
	if start, left := Window(now, ReportWindow); start.Format("2006-01-02") == day {
		e.RetryAfter = left
	}
	return e
}
