package usecase

import (
	"context"
	"time"

	"github.com/teamusers/usersapi/internal/metrics"
	"github.com/teamusers/usersapi/internal/users"
)

// Quotas are the counters behind users.Limits (in the table: a
// conditional ADD per counter and window, shared by every instance).
type Quotas interface {
	TakeQuota(ctx context.Context, counter string, window time.Time, length time.Duration, n, limit int) (claim string, used int, ok bool, err error)
	GiveBackQuota(ctx context.Context, counter string, window time.Time, claim string, n int) error
}

// takeInvitations takes n invitation emails from the team's daily limit
// before they are asked for; giveBack returns those that were not sent
// (invalid addresses, members already there, a refusal).
func (s Service) takeInvitations(ctx context.Context, teamID string, n int) (giveBack func(unused int), err error) {
	none := func(int) {}
	if s.Quotas == nil {
		return none, nil
	}
	limit := s.Policy.Limits.InvitationsPerDay
	counter := "team#" + teamID + "#invitations"
	window, left := users.Window(s.Now(), users.InvitationWindow)
	claim, used, ok, err := s.Quotas.TakeQuota(ctx, counter, window, users.InvitationWindow, n, limit)
	if err != nil {
		return none, err
	}
	if !ok {
		remaining := -1
		if used >= 0 {
			remaining = max(0, limit-used)
		}
		return none, users.InvitationLimit(limit, remaining, left)
	}
	return func(unused int) {
		if unused <= 0 {
			return
		}
		if err := s.Quotas.GiveBackQuota(context.WithoutCancel(ctx), counter, window, claim, unused); err != nil {
			s.log().WarnContext(ctx, "give back invitations", "error", err.Error())
		}
	}, nil
}

// takeTeamJob takes one start from the team's hourly limit of team-wide
// resends; giveBack returns it when the job did not start.
func (s Service) takeTeamJob(ctx context.Context, teamID string) (giveBack func(), err error) {
	if s.Quotas == nil {
		return func() {}, nil
	}
	limit := s.Policy.Limits.TeamJobsPerHour
	counter := "team#" + teamID + "#jobs"
	window, left := users.Window(s.Now(), users.TeamJobWindow)
	claim, _, ok, err := s.Quotas.TakeQuota(ctx, counter, window, users.TeamJobWindow, 1, limit)
	if err != nil {
		return func() {}, err
	}
	if !ok {
		return func() {}, users.TeamJobLimit(limit, left)
	}
	return func() {
		if err := s.Quotas.GiveBackQuota(context.WithoutCancel(ctx), counter, window, claim, 1); err != nil {
			s.log().WarnContext(ctx, "give back a team job", "error", err.Error())
		}
	}, nil
}

// countInvitations records the business metric of new invitations and
// says how many there were.
func (s Service) countInvitations(results []InviteResult) int {
	n := 0
	for _, r := range results {
		if r.Result == "invited" {
			n++
		}
	}
	if n > 0 {
		s.Metrics.Count(metrics.Invitations, n)
	}
	return n
}

// invitable counts the distinct addresses of an invitation that can be
// invited (CheckInvitable, the rule invite applies): the most it can invite.
func invitable(emails []string) int {
	seen := make(map[string]bool, len(emails))
	for _, e := range emails {
		if addr, reason := users.CheckInvitable(e); reason == "" {
			seen[addr] = true
		}
	}
	return len(seen)
}
