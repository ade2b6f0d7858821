// Package roster is the write side of the Users page: invitations and
// their acceptance, role changes, removals, emails to members, the app's
// activity reports, bulk actions and team-wide jobs. Each operation is one
// store transaction that carries its invariant and the email it causes.
package roster

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"time"

	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/parallel"
	"github.com/teamusers/usersapi/internal/secret"
	"github.com/teamusers/usersapi/internal/users"
)

// Store is what the roster needs of the table.
type Store interface {
	Invite(ctx context.Context, m users.Member, tokenHash string, mail users.Email) error
	ResendInvitation(ctx context.Context, teamID, memberID, tokenHash string, expires time.Time, cooldown time.Duration, mail func(users.Member) users.Email) (users.Member, error)
	SendInstructions(ctx context.Context, teamID, memberID string, cooldown time.Duration, mail func(users.Member) users.Email) (users.Member, error)
	Accept(ctx context.Context, tokenHash string) (users.Member, error)
	RemoveMember(ctx context.Context, teamID, memberID string, check func(users.Member) error) (users.Member, error)
	ChangeRole(ctx context.Context, teamID, memberID string, role users.Role, check func(users.Member) error) (users.Member, bool, error)
	Memberships(ctx context.Context, email string) ([]users.Membership, error)
	RecordActivity(ctx context.Context, teamID, memberID string, a dynamo.Activity, coalesce time.Duration) (users.Member, error)
	ListMembers(ctx context.Context, teamID string, q users.ListQuery, after string) ([]users.Member, string, error)
}

// Service runs the write operations.
type Service struct {
	Store  Store
	Tokens *secret.Sealer // seals invitation tokens while they wait in the outbox
	Policy users.Policy
	Now    func() time.Time
}

// newToken returns a 256-bit random token and the hash that is stored.
func newToken() (token, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, dynamo.HashToken(token)
}

func (s Service) invitationEmail(teamID, memberID, to, invitedBy string, role users.Role, token string, expires time.Time) users.Email {
	return users.Email{ID: users.NewID("e"), Kind: users.EmailInvitation, To: to, TeamID: teamID, MemberID: memberID,
		Data: map[string]string{"invitedBy": invitedBy, "role": string(role), "expiresAt": expires.UTC().Format("January 2, 2006 15:04 UTC"), "sealedToken": s.Tokens.Seal(token)}}
}

// InviteResult is one email's outcome.
type InviteResult struct {
	Email    string `json:"email"`
	Result   string `json:"result"`
	MemberID string `json:"memberId,omitempty"`
	Reason   string `json:"reason,omitempty"` // why an address is invalid_email (users.EmailReasons)
}

// Invite invites each address, in the order given, one transaction each:
// the first ones get the free seats.
func (s Service) Invite(ctx context.Context, teamID, invitedBy string, emails []string, role users.Role) ([]InviteResult, error) {
	out := make([]InviteResult, len(emails))
	seen := map[string]bool{}
	for i, raw := range emails {
		email, reason := users.CheckEmail(raw)
		switch {
		case reason != "":
			out[i] = InviteResult{Email: raw, Result: "invalid_email", Reason: reason}
			continue
		case seen[email]:
			out[i] = InviteResult{Email: email, Result: "duplicate_in_request"}
			continue
		}
		seen[email] = true
		now := s.Now().UTC()
		token, hash := newToken()
		m := users.Member{ID: users.NewID("m"), TeamID: teamID, Email: email, Role: role, InvitedAt: now, InvitedBy: invitedBy,
			InvitationSentAt: now, InvitationExpiresAt: now.Add(s.Policy.InvitationTTL)}
		err := s.Store.Invite(ctx, m, hash, s.invitationEmail(teamID, m.ID, email, invitedBy, role, token, m.InvitationExpiresAt))
		if e, ok := users.AsError(err); ok && (e.Code == "already_member" || e.Code == "seat_limit_reached") {
			out[i] = InviteResult{Email: email, Result: e.Code}
			continue
		}
		if err != nil {
			return nil, err
		}
		out[i] = InviteResult{Email: email, Result: "invited", MemberID: m.ID}
	}
	return out, nil
}

// ResendInvite gives a pending member a new token and expiry and emails it.
func (s Service) ResendInvite(ctx context.Context, teamID, memberID, by string) (users.Member, error) {
	now := s.Now().UTC()
	token, hash := newToken()
	expires := now.Add(s.Policy.InvitationTTL)
	return s.Store.ResendInvitation(ctx, teamID, memberID, hash, expires, s.Policy.Cooldown, func(m users.Member) users.Email {
		return s.invitationEmail(teamID, memberID, m.Email, by, m.Role, token, expires)
	})
}

// SendInstructions emails the app set-up steps to a member.
func (s Service) SendInstructions(ctx context.Context, teamID, memberID string) (users.Member, error) {
	return s.Store.SendInstructions(ctx, teamID, memberID, s.Policy.Cooldown, func(m users.Member) users.Email {
		return users.Email{ID: users.NewID("e"), Kind: users.EmailInstructions, To: m.Email, TeamID: teamID, MemberID: m.ID}
	})
}

// Accept spends an invitation token.
func (s Service) Accept(ctx context.Context, token string) (users.Member, error) {
	if len(token) != 43 {
		return users.Member{}, users.ErrInvalidToken
	}
	return s.Store.Accept(ctx, dynamo.HashToken(token))
}

// Remove takes a member out of the team and frees the seat.
func (s Service) Remove(ctx context.Context, actor users.Membership, teamID, memberID string) error {
	_, err := s.Store.RemoveMember(ctx, teamID, memberID, func(m users.Member) error { return users.CheckRemove(actor, m) })
	return err
}

// ChangeRole gives a member a role.
func (s Service) ChangeRole(ctx context.Context, actor users.Membership, teamID, memberID string, role users.Role) (users.Member, bool, error) {
	return s.Store.ChangeRole(ctx, teamID, memberID, role, func(m users.Member) error { return users.CheckRoleChange(actor, m, role) })
}

// ErrNoTeam means the caller of an app endpoint has joined no team.
var ErrNoTeam = &users.Error{Kind: users.KindNotFound, Code: "no_team", Message: "This account has not joined a team; accept an invitation first."}

// RecordActivity records app activity for every team the caller has joined.
func (s Service) RecordActivity(ctx context.Context, email string, a dynamo.Activity) ([]users.Member, error) {
	ms, err := s.Store.Memberships(ctx, email)
	if err != nil {
		return nil, err
	}
	var out []users.Member
	for _, m := range ms {
		if m.Status == users.StatusInvitationSent {
			continue
		}
		mem, err := s.Store.RecordActivity(ctx, m.TeamID, m.MemberID, a, s.Policy.ActivityCoalesce)
		if errors.Is(err, users.ErrMemberNotFound) {
			continue // removed a moment ago
		}
		if err != nil {
			return nil, err
		}
		out = append(out, mem)
	}
	if len(out) == 0 {
		return nil, ErrNoTeam
	}
	return out, nil
}

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
)

// Bulk applies one action to each member, a few at a time, and says what
// happened to each. A member that cannot take the action is skipped with
// the reason; nothing else is affected.
func (s Service) Bulk(ctx context.Context, actor users.Membership, actorEmail, teamID, action string, memberIDs []string, role users.Role) []BulkResult {
	out := make([]BulkResult, len(memberIDs))
	parallel.Each(len(memberIDs), 8, func(i int) {
		id := memberIDs[i]
		var err error
		changed := true
		switch action {
		case ActionRemove:
			err = s.Remove(ctx, actor, teamID, id)
		case ActionChangeRole:
			_, changed, err = s.ChangeRole(ctx, actor, teamID, id, role)
		case ActionResendInvite:
			_, err = s.ResendInvite(ctx, teamID, id, actorEmail)
		case ActionSendInstructions:
			_, err = s.SendInstructions(ctx, teamID, id)
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
