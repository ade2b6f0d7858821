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
	// CallerIDs are a few members with calls in the last 30 days: a usage
	// report on them shows numbers.
	CallerIDs []string `json:"callerIds"`
}

// Seed makes the demo: a pro team of 150 members in every status (three
// deactivated), bucket and role (owner included), with a few weeks of calls before each active
// member's last activity (so a usage report shows numbers); a second pro
// team and a free team, to show that teams do not see each other.
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
	members := DemoMembers(t.TeamID, 149, now)
	for _, m := range members {
		if err := store.AddMember(ctx, m); err != nil {
			return demo, fmt.Errorf("seed %s: %w", m.Email, err)
		}
	}
	// A few members deactivated (no seat, listed with status=deactivated):
	// two who joined and never used the app, one archived long ago.
	off := map[users.Status]int{users.StatusPendingAppLogin: 2, users.StatusSignedInWithApp: 1}
	for _, m := range members {
		if off[m.Status] == 0 || m.Email == demo.UserEmail {
			continue
		}
		off[m.Status]--
		if _, _, err := store.UpdateMember(ctx, t.TeamID, m.ID, users.Deactivate(users.Membership{}, now)); err != nil {
			return demo, fmt.Errorf("seed: deactivate %s: %w", m.Email, err)
		}
	}
	usage := DemoCalls(members)
	if err := store.ImportUsage(ctx, t.TeamID, usage); err != nil {
		return demo, fmt.Errorf("seed calls: %w", err)
	}
	recent := map[string]bool{}
	for _, u := range usage {
		if u.Day >= now.AddDate(0, 0, -29).UTC().Format("2006-01-02") && !recent[u.MemberID] && len(recent) < 5 {
			recent[u.MemberID] = true
			demo.CallerIDs = append(demo.CallerIDs, u.MemberID)
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

// DemoCalls gives every member who has used the app a few weeks of calls
// before their last activity: on most working days, one to four calls of
// two to twenty minutes, the last on the day of their last activity.
// Deterministic for a given list of members.
func DemoCalls(ms []users.Member) []dynamo.DayUsage {
	var out []dynamo.DayUsage
	for i, m := range ms {
		if m.LastActiveAt.IsZero() {
			continue
		}
		weeks := 3 + i%2 // three or four weeks
		for d := 0; d < weeks*7; d++ {
			day := m.LastActiveAt.UTC().AddDate(0, 0, -d)
			if d > 0 && (day.Weekday() == time.Saturday || day.Weekday() == time.Sunday || (i*7+d*3)%10 >= 7) {
				continue
			}
			calls := 1 + (i+d)%4
			seconds := 0
			for c := 0; c < calls; c++ {
				seconds += 120 + ((i*31+d*17+c*7)%19)*60
			}
			out = append(out, dynamo.DayUsage{MemberID: m.ID, Day: day.Format("2006-01-02"), Calls: calls, Seconds: seconds})
		}
	}
	return out
}
