package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

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
func (d Deps) takeInvitations(ctx context.Context, teamID string, n int) (giveBack func(unused int), err error) {
	none := func(int) {}
	if d.Quotas == nil {
		return none, nil
	}
	limit := d.Limits.InvitationsPerDay
	counter := "team#" + teamID + "#invitations"
	window, left := users.Window(d.Now(), users.InvitationWindow)
	claim, used, ok, err := d.Quotas.TakeQuota(ctx, counter, window, users.InvitationWindow, n, limit)
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
		if err := d.Quotas.GiveBackQuota(context.WithoutCancel(ctx), counter, window, claim, unused); err != nil {
			d.Log.WarnContext(ctx, "give back invitations", "error", err.Error())
		}
	}, nil
}

// takeTeamJob takes one start from the team's hourly limit of team-wide
// resends; giveBack returns it when the job did not start.
func (d Deps) takeTeamJob(ctx context.Context, teamID string) (giveBack func(), err error) {
	if d.Quotas == nil {
		return func() {}, nil
	}
	counter := "team#" + teamID + "#jobs"
	window, left := users.Window(d.Now(), users.TeamJobWindow)
	claim, _, ok, err := d.Quotas.TakeQuota(ctx, counter, window, users.TeamJobWindow, 1, d.Limits.TeamJobsPerHour)
	if err != nil {
		return func() {}, err
	}
	if !ok {
		return func() {}, users.TeamJobLimit(d.Limits.TeamJobsPerHour, left)
	}
	return func() {
		if err := d.Quotas.GiveBackQuota(context.WithoutCancel(ctx), counter, window, claim, 1); err != nil {
			d.Log.WarnContext(ctx, "give back a team job", "error", err.Error())
		}
	}, nil
}

// limitBySource counts every request of a public route per source address
// (API Gateway's requestContext.http.sourceIp, which the caller cannot
// set) and minute, before anything else runs: over the limit, 429
// too_many_attempts with Retry-After. The HTTP API's own throttle is per
// route for all callers together, and AWS WAF cannot be attached to an
// HTTP API, so the count is kept in the table.
func (d Deps) limitBySource(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if d.Quotas != nil {
			source := "unknown"
			if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok && rc.HTTP.SourceIP != "" {
				source = rc.HTTP.SourceIP
			}
			window, left := users.Window(d.Now(), users.AcceptWindow)
			_, _, ok, err := d.Quotas.TakeQuota(r.Context(), "ip#"+source+"#accept", window, users.AcceptWindow, 1, d.Limits.AcceptsPerMinute)
			if err == nil && !ok {
				err = users.AcceptLimit(left)
			}
			if err != nil {
				writeError(r.Context(), d.Log, w, err)
				return
			}
		}
		next(w, r)
	}
}

// invitable counts the distinct valid addresses of an invitation: the
// most it can invite.
func invitable(emails []string) int {
	seen := make(map[string]bool, len(emails))
	for _, e := range emails {
		if addr, ok := users.NormalizeEmail(e); ok {
			seen[addr] = true
		}
	}
	return len(seen)
}
