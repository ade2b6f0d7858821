package usecase

import (
	"context"

	"github.com/teamusers/usersapi/internal/users"
)

// Remove takes a member out of the team and frees the seat; the member is
// told (users.Notices.Removal) by the email queued with the removal.
func (s Service) Remove(ctx context.Context, actor users.Membership, by string, team Team, memberID string) error {
	_, _, err := s.Store.UpdateMember(ctx, team.ID, memberID, users.Remove(actor, s.notices(team, actor, by)))
	return err
}

// Deactivate turns a member off and frees their seat (users.Deactivate);
// changed is false when they were deactivated already.
func (s Service) Deactivate(ctx context.Context, actor users.Membership, by string, team Team, memberID string) (users.Member, bool, error) {
	return s.Store.UpdateMember(ctx, team.ID, memberID, users.Deactivate(actor, s.Now().UTC(), s.notices(team, actor, by)))
}

// Reactivate turns a deactivated member back on if a seat is free
// (users.Reactivate); changed is false when they were not deactivated.
func (s Service) Reactivate(ctx context.Context, teamID, memberID string) (users.Member, bool, error) {
	return s.Store.UpdateMember(ctx, teamID, memberID, users.Reactivate(s.Now().UTC(), s.retention(), s.Policy.Zone))
}

// ChangeRole gives a member a role, and tells them (users.Notices.RoleChange);
// changed is false when they had it.
func (s Service) ChangeRole(ctx context.Context, actor users.Membership, by string, team Team, memberID string, role users.Role) (users.Member, bool, error) {
	return s.Store.UpdateMember(ctx, team.ID, memberID, users.ChangeRole(actor, role, s.notices(team, actor, by)))
}
