package local

import (
	"context"
	"fmt"
	"time"

	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/provisioning"
	"github.com/teamusers/usersapi/internal/users"
)

// Demo is what the seed made.
type Demo struct {
	TeamID      string `json:"teamId"`
	AdminEmail  string `json:"adminEmail"`
	UserEmail   string `json:"userEmail"`
	OtherTeamID string `json:"otherTeamId"`
	FreeTeamID  string `json:"freeTeamId"`
}

// Seed makes the demo: a pro team of 150 members in every status, bucket
// and role (owner included); a second pro team and a free team, to show
// that teams do not see each other.
func Seed(ctx context.Context, store *dynamo.Store, now time.Time) (Demo, error) {
	// user006 is an active user-role member: the demo's 403.
	prov := provisioning.Service{Store: store, Now: func() time.Time { return now.Add(-200 * 24 * time.Hour) }}
	seats := 200
	demo := Demo{AdminEmail: "owner@acme.example", UserEmail: "user006@acme.example"}
	t, err := prov.Handle(ctx, provisioning.Request{Plan: "pro", Seats: &seats, OwnerEmail: demo.AdminEmail, Name: "Acme Inc"})
	if err != nil {
		return demo, err
	}
	demo.TeamID = t.TeamID
	for _, m := range DemoMembers(t.TeamID, 149, now) {
		if err := store.AddMember(ctx, m); err != nil {
			return demo, fmt.Errorf("seed %s: %w", m.Email, err)
		}
	}
	small := 10
	other, err := prov.Handle(ctx, provisioning.Request{Plan: "pro", Seats: &small, OwnerEmail: "owner@globex.example", Name: "Globex Corporation"})
	if err != nil {
		return demo, err
	}
	demo.OtherTeamID = other.TeamID
	free, err := prov.Handle(ctx, provisioning.Request{Plan: "free", Seats: &small, OwnerEmail: "owner@initech.example", Name: "Initech"})
	if err != nil {
		return demo, err
	}
	demo.FreeTeamID = free.TeamID
	return demo, nil
}

// DemoMembers makes n members of a team spread over every status, bucket
// and role, as of now. Deterministic, so benchmarks are repeatable.
func DemoMembers(teamID string, n int, now time.Time) []users.Member {
	domains := []string{"acme.example", "acme.example", "acme.example", "acme-labs.example", "freelance.example"}
	day := 24 * time.Hour
	out := make([]users.Member, 0, n)
	for i := 1; i <= n; i++ {
		m := users.Member{
			ID: users.NewID("m"), TeamID: teamID,
			Email:     fmt.Sprintf("user%03d@%s", i, domains[i%len(domains)]),
			Role:      users.RoleUser,
			InvitedAt: now.Add(-time.Duration(150-i%120) * day).Add(time.Duration(i) * time.Minute),
			InvitedBy: "owner@acme.example",
		}
		if i%7 == 0 {
			m.Role = users.RoleAdmin
		}
		m.InvitationSentAt = m.InvitedAt
		m.InvitationExpiresAt = m.InvitedAt.Add(7 * day)
		accepted := m.InvitedAt.Add(time.Duration(1+i%3) * day)
		// Activity ages chosen to land in each bucket.
		ages := []time.Duration{2 * time.Hour, 2 * day, 5 * day, 20 * day, 45 * day}
		switch k := i % 20; {
		case k < 3: // 15%: invited, not accepted; some of them expired
			m.Status = users.StatusInvitationSent
			m.InvitedAt = now.Add(-time.Duration(1+i%12) * day)
			m.InvitationSentAt = m.InvitedAt
			m.InvitationExpiresAt = m.InvitedAt.Add(7 * day)
		case k < 6: // accepted, never used the app
			m.Status, m.AcceptedAt = users.StatusPendingAppLogin, accepted
		case k < 18: // active, across the buckets
			m.Status, m.AcceptedAt = users.StatusActive, accepted
			m.FirstSignInAt = accepted.Add(time.Hour)
			m.LastActiveAt = now.Add(-ages[i%len(ages)])
			if m.LastActiveAt.Before(m.FirstSignInAt) {
				m.FirstSignInAt = m.LastActiveAt
			}
			m.LastSignInAt = m.LastActiveAt
		default: // signed in long ago; sign-ins archived
			m.Status, m.AcceptedAt = users.StatusSignedInWithApp, accepted
			m.FirstSignInAt = accepted.Add(time.Hour)
			m.LastActiveAt = now.Add(-100 * day)
			if m.LastActiveAt.Before(m.FirstSignInAt) {
				m.FirstSignInAt = m.LastActiveAt
			}
			m.LastSignInAt = m.LastActiveAt
		}
		if m.Status != users.StatusInvitationSent && m.AcceptedAt.After(now) {
			m.AcceptedAt = now
		}
		out = append(out, m)
	}
	return out
}
