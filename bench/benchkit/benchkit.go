// Package benchkit is what every benchmark starts from: a quiet local stack
// in a temporary folder, and a pro team owned by owner@acme.example.
package benchkit

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/provisioning"
	"github.com/teamusers/usersapi/internal/samtemplate"
	"github.com/teamusers/usersapi/internal/users"
)

// Owner is the benchmark team's owner (an admin).
const Owner = "owner@acme.example"

// Start starts the stack with o (Root, StateDir and Log are filled in) and
// creates a team of seats as of created. stop ends the stack and removes
// its folder.
func Start(o local.StackOptions, seats int, created time.Time) (stack *local.Stack, teamID string, stop func(), err error) {
	if o.Root, err = samtemplate.FindRoot(); err != nil {
		return nil, "", nil, err
	}
	state, err := os.MkdirTemp("", "usersapi-bench-")
	if err != nil {
		return nil, "", nil, err
	}
	o.StateDir = filepath.Join(state, "stack")
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if stack, err = local.Start(context.Background(), o); err != nil {
		os.RemoveAll(state)
		return nil, "", nil, err
	}
	stop = func() {
		stack.Stop()
		os.RemoveAll(state)
	}
	t, err := provisioning.Service{Store: stack.Store, Now: func() time.Time { return created }}.Handle(context.Background(),
		provisioning.Request{Plan: "pro", Seats: &seats, OwnerEmail: Owner})
	if err != nil {
		stop()
		return nil, "", nil, err
	}
	return stack, t.TeamID, stop, nil
}

// NewTeam provisions another pro team of seats owned by owner.
func NewTeam(store provisioning.Store, seats int, owner string) (string, error) {
	t, err := provisioning.Service{Store: store, Now: time.Now}.Handle(context.Background(),
		provisioning.Request{Plan: "pro", Seats: &seats, OwnerEmail: owner})
	return t.TeamID, err
}

// Members makes n members of a team as of the instant at, spread at random
// (but the same for the same n) over every status, bucket and role, so
// that a member's facet says nothing of its place in any sort order:
//
//	invitation sent 10%, pending app login 10%, active 70% (recently 30%,
//	last 7 days 15%, last 30 days 15%, more than 30 days 10%),
//	signed in with app 7%, deactivated 3% (two in three had used the
//	app: they keep their last activity); admins 10%.
//
// Addresses are user<k>@<domain> (k a shuffled 1..n; domains acme.example
// 60%, acme-labs.example 25%, freelance.example 10%, and ten
// contractor<j>.example 5%). Days are UTC calendar days, and the ages
// below count from the last 03:00 at or before at (the nightly run's hour), so a
// member's bucket is the same whatever the hour of at. Exactly one member
// in a hundred (k ≡ 50 mod 100) changes by time alone within the day
// after at: active, last seen three days before (60 hours before 03:00),
// it leaves "recently" at the next midnight. Nobody else changes before
// at + 24h: the nightly job run then has 1% to do.
func Members(teamID string, n int, at time.Time) []users.Member {
	rng := rand.New(rand.NewPCG(uint64(n), 13))
	day := 24 * time.Hour
	y, mo, d := at.UTC().Date()
	base := time.Date(y, mo, d, 3, 0, 0, 0, time.UTC)
	if base.After(at) {
		base = base.Add(-day) // before 03:00: the day before's, so nothing is in the future
	}
	ago := func(lo, hi float64) time.Time {
		return base.Add(-time.Duration((lo + rng.Float64()*(hi-lo)) * float64(day))).Truncate(time.Millisecond)
	}
	perm := rng.Perm(n)
	out := make([]users.Member, n)
	for i := range out {
		k := perm[i] + 1
		var domain string
		switch d := rng.Float64(); {
		case d < 0.60:
			domain = "acme.example"
		case d < 0.85:
			domain = "acme-labs.example"
		case d < 0.95:
			domain = "freelance.example"
		default:
			domain = fmt.Sprintf("contractor%d.example", rng.IntN(10))
		}
		m := users.Member{ID: users.NewID("m"), TeamID: teamID, Email: fmt.Sprintf("user%d@%s", k, domain),
			Role: users.RoleUser, InvitedBy: Owner}
		if rng.Float64() < 0.10 {
			m.Role = users.RoleAdmin
		}
		m.InvitedAt = ago(100, 400)
		m.InvitationSentAt = m.InvitedAt
		m.InvitationExpiresAt = m.InvitedAt.Add(7 * day)
		joined := func(last time.Time) {
			m.AcceptedAt = m.InvitedAt.Add(day)
			if !last.IsZero() {
				m.FirstSignInAt = m.AcceptedAt.Add(time.Hour)
				if last.Before(m.FirstSignInAt) {
					m.FirstSignInAt = last
				}
				m.LastSignInAt, m.LastActiveAt = last, last
			}
		}
		switch p := rng.Float64(); {
		case k%100 == 50:
			m.Status = users.StatusActive
			joined(base.Add(-60 * time.Hour))
		case p < 0.10:
			m.Status = users.StatusInvitationSent
			m.InvitedAt = ago(0.5, 5.5)
			m.InvitationSentAt = m.InvitedAt
			m.InvitationExpiresAt = m.InvitedAt.Add(7 * day)
		case p < 0.20:
			m.Status = users.StatusPendingAppLogin
			joined(time.Time{})
		case p < 0.50:
			m.Status = users.StatusActive
			joined(ago(0.01, 1.9))
		case p < 0.65:
			m.Status = users.StatusActive
			joined(ago(3.2, 5.9))
		case p < 0.80:
			m.Status = users.StatusActive
			joined(ago(7.1, 28.9))
		case p < 0.90:
			m.Status = users.StatusActive
			joined(ago(30.1, 88.9))
		case p < 0.97:
			m.Status = users.StatusSignedInWithApp
			joined(ago(91, 300))
		default:
			m.Status = users.StatusDeactivated
			if rng.Float64() < 2.0/3 {
				joined(ago(1, 200))
			}
			m.DeactivatedAt = ago(0.5, 60)
			if m.DeactivatedAt.Before(m.InvitedAt) {
				m.DeactivatedAt = m.InvitedAt.Add(day)
			}
		}
		m.LastCall = users.BucketFor(m.Status, m.LastActiveAt, at, time.UTC)
		out[i] = m
	}
	return out
}
