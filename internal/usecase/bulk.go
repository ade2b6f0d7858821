package usecase

import (
	"context"

	"github.com/teamusers/usersapi/internal/parallel"
	"github.com/teamusers/usersapi/internal/users"
)

// BulkResult is one member's outcome in a bulk action.
type BulkResult struct {
	MemberID string `json:"memberId"`
	Result   string `json:"result"`
	Code     string `json:"code,omitempty"`
}

// Bulk actions.
const (
	ActionRemove           = "remove"
	ActionChangeRole       = "change_role"
	ActionResendInvite     = "resend_invite"
	ActionSendInstructions = "send_instructions"
	ActionDeactivate       = "deactivate"
	ActionReactivate       = "reactivate"
)

// BulkActions are every bulk action, in the order the API lists them.
var BulkActions = []string{ActionRemove, ActionChangeRole, ActionResendInvite, ActionSendInstructions, ActionDeactivate, ActionReactivate}

// Bulk applies one action to each member, a few at a time, and says what
// happened to each. A member that cannot take the action is skipped with
// the reason; nothing else is affected.
//
// A bulk resend takes its invitations from the team's daily limit first
// (over it: 429 and nothing done) and gives back those not resent.
func (s Service) Bulk(ctx context.Context, actor users.Membership, actorEmail string, team Team, action string, memberIDs []string, role users.Role) ([]BulkResult, error) {
	giveBack := func(int) {}
	if action == ActionResendInvite {
		var err error
		if giveBack, err = s.takeInvitations(ctx, team.ID, len(memberIDs)); err != nil {
			return nil, err
		}
	}
	results := s.bulk(ctx, actor, actorEmail, team, action, memberIDs, role)
	done := 0
	for _, r := range results {
		if r.Result == "done" {
			done++
		}
	}
	giveBack(len(memberIDs) - done)
	return results, nil
}

func (s Service) bulk(ctx context.Context, actor users.Membership, actorEmail string, team Team, action string, memberIDs []string, role users.Role) []BulkResult {
	ctx = users.WithVia(ctx, "bulk")
	out := make([]BulkResult, len(memberIDs))
	parallel.Each(len(memberIDs), 8, func(i int) {
		id := memberIDs[i]
		var err error
		changed := true
		switch action {
		case ActionRemove:
			err = s.Remove(ctx, actor, actorEmail, team, id)
		case ActionChangeRole:
			_, changed, err = s.ChangeRole(ctx, actor, actorEmail, team, id, role)
		case ActionResendInvite:
			_, err = s.resendInvite(ctx, team, id, actorEmail)
		case ActionSendInstructions:
			_, err = s.SendInstructions(ctx, team, id, actorEmail)
		case ActionDeactivate:
			_, changed, err = s.Deactivate(ctx, actor, actorEmail, team, id)
		case ActionReactivate:
			_, changed, err = s.Reactivate(ctx, team.ID, id)
		}
		out[i] = bulkResult(id, changed, err)
	})
	return out
}

func bulkResult(id string, changed bool, err error) BulkResult {
	if err == nil && !changed {
		return BulkResult{MemberID: id, Result: "skipped", Code: "unchanged"}
	}
	if err == nil {
		return BulkResult{MemberID: id, Result: "done"}
	}
	if e, ok := users.AsError(err); ok && e.Kind != users.KindInternal {
		return BulkResult{MemberID: id, Result: "skipped", Code: e.Code}
	}
	return BulkResult{MemberID: id, Result: "failed", Code: "internal"}
}
