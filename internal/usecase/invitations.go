package usecase

import (
	"context"
	"errors"

	"github.com/teamusers/usersapi/internal/users"
)

// InviteResult is one email's outcome.
type InviteResult struct {
	Email    string `json:"email"`
	Result   string `json:"result"`
	MemberID string `json:"memberId,omitempty"`
	Reason   string `json:"reason,omitempty"` // why an address is invalid_email (users.EmailReasons)
}

// Invite invites each address, in the order given: the first ones get
// the free seats. Every address gets a result.
//
// The addresses that can be invited are taken from the team's daily
// limit of invitations first (over it: 429, nothing written); those that
// were not invited after all (already members, over the seats) are given
// back.
func (s Service) Invite(ctx context.Context, team Team, invitedBy string, emails []string, role users.Role) ([]InviteResult, error) {
	n := invitable(emails)
	giveBack, err := s.takeInvitations(ctx, team.ID, n)
	if err != nil {
		return nil, err
	}
	results, err := s.invite(ctx, team, invitedBy, emails, role)
	if err != nil {
		giveBack(n)
		return nil, err
	}
	giveBack(n - s.countInvitations(results))
	return results, nil
}

func (s Service) invite(ctx context.Context, team Team, invitedBy string, emails []string, role users.Role) ([]InviteResult, error) {
	teamID := team.ID
	out := make([]InviteResult, len(emails))
	seen := map[string]bool{}
	var adds []users.NewMember
	var at []int // adds[k] answers emails[at[k]]
	now := s.Now().UTC()
	for i, raw := range emails {
		email, reason := users.CheckInvitable(raw)
		switch {
		case reason != "":
			out[i] = InviteResult{Email: raw, Result: "invalid_email", Reason: reason}
			continue
		case seen[email]:
			out[i] = InviteResult{Email: email, Result: "duplicate_in_request"}
			continue
		}
		seen[email] = true
		token, hash := newToken()
		m := users.Member{ID: users.NewID("m"), TeamID: teamID, Email: email, Role: role, Status: users.StatusInvitationSent,
			InvitedAt: now, InvitedBy: invitedBy, InvitationSentAt: now, InvitationExpiresAt: now.Add(s.Policy.InvitationTTL), TokenHash: hash}
		e := s.invitationEmail(team, m.ID, email, invitedBy, role, token, m.InvitationExpiresAt, false)
		users.QueueEmail(&m, e, now)
		adds = append(adds, users.Admit(m, &e))
		at = append(at, i)
		out[i] = InviteResult{Email: email, Result: "invited", MemberID: m.ID}
	}
	if len(adds) == 0 {
		return out, nil
	}
	results, err := s.Store.AddMembers(ctx, teamID, adds)
	if err != nil {
		return nil, err
	}
	for k, err := range results {
		if err == nil {
			continue
		}
		e, ok := users.AsError(err)
		if !ok {
			return nil, err
		}
		out[at[k]] = InviteResult{Email: adds[k].Member.Email, Result: e.Code}
	}
	return out, nil
}

// ResendInvite gives a pending member a new token and expiry and emails it.
// An admin's resend takes one invitation from the team's daily limit.
func (s Service) ResendInvite(ctx context.Context, team Team, memberID, by string) (users.Member, error) {
	giveBack, err := s.takeInvitations(ctx, team.ID, 1)
	if err != nil {
		return users.Member{}, err
	}
	m, err := s.resendInvite(ctx, team, memberID, by)
	if err != nil {
		giveBack(1)
	}
	return m, err
}

// resendInvite is a resend whose invitation was counted already (a bulk
// resend's, or a team job's, which the team's hourly job limit bounds).
func (s Service) resendInvite(ctx context.Context, team Team, memberID, by string) (users.Member, error) {
	now := s.Now().UTC()
	token, hash := newToken()
	expires := now.Add(s.Policy.InvitationTTL)
	m, _, err := s.Store.UpdateMember(ctx, team.ID, memberID, users.ResendInvitation(hash, expires, now, s.Policy.Cooldown, func(m users.Member) users.Email {
		return s.invitationEmail(team, memberID, m.Email, by, m.Role, token, expires, true)
	}))
	return m, err
}

// SendInstructions emails the app set-up steps to a member; by is the
// admin who asked (replies reach them).
func (s Service) SendInstructions(ctx context.Context, team Team, memberID, by string) (users.Member, error) {
	m, _, err := s.Store.UpdateMember(ctx, team.ID, memberID, users.SendInstructions(s.Now().UTC(), s.Policy.Cooldown, func(m users.Member) users.Email {
		return instructionsEmail(team, m, by)
	}))
	return m, err
}

// Accept spends an invitation token.
func (s Service) Accept(ctx context.Context, token string) (users.Member, error) {
	if len(token) != 43 {
		return users.Member{}, users.ErrInvalidToken
	}
	hash := users.HashToken(token)
	teamID, memberID, accepted, err := s.Store.Invitation(ctx, hash)
	if err != nil {
		return users.Member{}, err
	}
	if accepted {
		return users.Member{}, users.ErrAccepted
	}
	m, _, err := s.Store.UpdateMember(ctx, teamID, memberID, users.AcceptInvitation(hash, s.Now().UTC()))
	if errors.Is(err, users.ErrMemberNotFound) {
		return users.Member{}, users.ErrInvalidToken // removed since the invitation
	}
	return m, err
}
