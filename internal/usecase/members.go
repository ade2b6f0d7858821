package usecase

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/teamusers/usersapi/internal/users"
)

// Reads is what the Users page's reads need of the table beyond Store.
type Reads interface {
	GetMember(ctx context.Context, teamID, memberID string) (users.Member, error)
	// LatestActivity is the end of the member's last reported call and
	// their last sign-in (zero when none): member information's exact
	// instants, which the member's item holds only to the day.
	LatestActivity(ctx context.Context, teamID, memberID string) (lastCall, lastSignIn time.Time, err error)
	Teams(ctx context.Context, ids []string) (map[string]users.Team, error)
	UpdateTeam(ctx context.Context, teamID string, c users.TeamChange) (users.Team, error)
	AuditLog(ctx context.Context, teamID string, q users.AuditQuery) ([]users.AuditEntry, string, error)
}

// MemberInfo is the Member information view: the member as stored, with
// the exact instants of their last activity and sign-in (the member's item
// holds the first of their last active day, being written once a day for
// activity; the day's usage and sign-in records hold the last).
func (s Service) MemberInfo(ctx context.Context, teamID, memberID string) (users.Member, error) {
	m, err := s.Reads.GetMember(ctx, teamID, memberID)
	if err != nil {
		return users.Member{}, err
	}
	call, signIn, err := s.Reads.LatestActivity(ctx, teamID, memberID)
	if err != nil {
		return users.Member{}, err
	}
	m.LastActiveAt = latest(m.LastActiveAt, call, signIn)
	m.LastSignInAt = latest(m.LastSignInAt, signIn)
	return m, nil
}

// latest is the latest of some instants (zero when all are).
func latest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}

// MyTeam is one team the caller belongs to or is invited to.
type MyTeam struct {
	Team       users.Team
	Membership users.Membership
}

// MyTeams are the caller's teams, by name then id: one query of their
// membership items and one batch read of those teams.
func (s Service) MyTeams(ctx context.Context, email string) ([]MyTeam, error) {
	ms, err := s.Store.Memberships(ctx, email)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.TeamID
	}
	teams, err := s.Reads.Teams(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := []MyTeam{}
	for _, m := range ms {
		if t, ok := teams[m.TeamID]; ok {
			out = append(out, MyTeam{Team: t, Membership: m})
		}
	}
	slices.SortFunc(out, func(a, b MyTeam) int {
		return cmp.Or(strings.Compare(a.Team.Name, b.Team.Name), strings.Compare(a.Team.ID, b.Team.ID))
	})
	return out, nil
}

// UpdateSettings changes a team's settings and answers all of them.
func (s Service) UpdateSettings(ctx context.Context, teamID string, c users.TeamChange) (users.Team, error) {
	if c.NotifyOnRevoke == nil {
		return users.Team{}, users.Errorf(users.KindInvalid, "invalid_settings", "Give notifyOnRevoke: true or false.")
	}
	return s.Reads.UpdateTeam(ctx, teamID, c)
}

// ListMembers is one page of the team's members (Sections 2 and 3).
func (s Service) ListMembers(ctx context.Context, team users.Team, q users.ListQuery, after string) ([]users.Member, string, error) {
	return s.Store.ListMembers(ctx, team, q, after)
}

// AuditLog is a page of the team's audit log, newest first.
func (s Service) AuditLog(ctx context.Context, teamID string, q users.AuditQuery) ([]users.AuditEntry, string, error) {
	return s.Reads.AuditLog(ctx, teamID, q)
}
