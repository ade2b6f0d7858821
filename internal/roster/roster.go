// Package roster is the write side of the Users page: invitations and
// their acceptance, role changes, removals, emails to members, the app's
// activity reports, bulk actions and team-wide jobs. Each operation is one
// store transaction that carries its invariant and the email it causes.
package roster

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/teamusers/usersapi/internal/parallel"
	"github.com/teamusers/usersapi/internal/secret"
	"github.com/teamusers/usersapi/internal/users"
)

// Store is what the roster needs of the table: it stores changes, the
// rules that decide them come from package users.
type Store interface {
	AddMembers(ctx context.Context, teamID string, adds []users.NewMember) ([]error, error)
	UpdateMember(ctx context.Context, teamID, memberID string, rule users.Rule) (users.Member, bool, error)
	Invitation(ctx context.Context, tokenHash string) (teamID, memberID string, accepted bool, err error)
	Memberships(ctx context.Context, email string) ([]users.Membership, error)
	RecordSignIn(ctx context.Context, in users.SignIn) error
	AddCall(ctx context.Context, teamID, memberID string, end time.Time, seconds int, callKey string, limit int) (bool, error)
	SignInsOn(ctx context.Context, teamID, memberID, day string, upTo int) (int, error)
	ListMembers(ctx context.Context, team users.Team, q users.ListQuery, after string) ([]users.Member, string, error)
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
	return token, users.HashToken(token)
}

// Team is what the emails of a team need: its name, and the settings that
// decide its notices.
type Team struct {
	ID, Name string
	Settings users.TeamSettings
	// OwnerEmail is whom the identity provider's notices name as the
	// team's contact (no person acted).
	OwnerEmail string
}

// TeamOf names a team for its emails.
func TeamOf(t users.Team) Team {
	return Team{ID: t.ID, Name: t.Name, Settings: t.Settings, OwnerEmail: t.OwnerEmail}
}

// invitationEmail is an invitation, or its resend (which says that it
// replaces the earlier link). The expiry is RFC 3339; the email writes it
// for people.
func (s Service) invitationEmail(team Team, memberID, to, invitedBy string, role users.Role, token string, expires time.Time, resend bool) users.Email {
	data := map[string]string{"teamName": team.Name, "invitedBy": invitedBy, "role": string(role),
		"expiresAt": expires.UTC().Format(time.RFC3339), "sealedToken": s.Tokens.Seal(token)}
	if resend {
		data["resend"] = "true"
	}
	return users.Email{ID: users.NewID("e"), Kind: users.EmailInvitation, To: to, TeamID: team.ID, MemberID: memberID, Data: data}
}

// notices are the notices of by's action on team's members.
func (s Service) notices(team Team, actor users.Membership, by string) *users.Notices {
	return &users.Notices{TeamID: team.ID, TeamName: team.Name, Settings: team.Settings, By: by, ByMemberID: actor.MemberID, Now: s.Now().UTC()}
}

// IdPNotices are the notices of the identity provider's changes (SCIM):
// no person acted, so they name the team's owner as whom to write to.
func (s Service) IdPNotices(team Team) *users.Notices {
	return &users.Notices{TeamID: team.ID, TeamName: team.Name, Settings: team.Settings, Contact: team.OwnerEmail, Now: s.Now().UTC()}
}

func instructionsEmail(team Team, m users.Member) users.Email {
	return users.Email{ID: users.NewID("e"), Kind: users.EmailInstructions, To: m.Email, TeamID: team.ID, MemberID: m.ID,
		Data: map[string]string{"teamName": team.Name}}
}

// InviteResult is one email's outcome.
type InviteResult struct {
	Email    string `json:"email"`
	Result   string `json:"result"`
	MemberID string `json:"memberId,omitempty"`
	Reason   string `json:"reason,omitempty"` // why an address is invalid_email (users.EmailReasons)
}

// Invite invites each address, in the order given: the first ones get
// the free seats. Every address gets a result.
func (s Service) Invite(ctx context.Context, team Team, invitedBy string, emails []string, role users.Role) ([]InviteResult, error) {
	teamID := team.ID
	out := make([]InviteResult, len(emails))
	seen := map[string]bool{}
	var adds []users.NewMember
	var at []int // adds[k] answers emails[at[k]]
	now := s.Now().UTC()
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
		token, hash := newToken()
		m := users.Member{ID: users.NewID("m"), TeamID: teamID, Email: email, Role: role, Status: users.StatusInvitationSent,
			InvitedAt: now, InvitedBy: invitedBy, InvitationSentAt: now, InvitationExpiresAt: now.Add(s.Policy.InvitationTTL), TokenHash: hash}
		e := s.invitationEmail(team, m.ID, email, invitedBy, role, token, m.InvitationExpiresAt, false)
		users.QueueEmail(&m, e, now)
		adds = append(adds, users.NewMember{Member: m, Email: &e})
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
func (s Service) ResendInvite(ctx context.Context, team Team, memberID, by string) (users.Member, error) {
	now := s.Now().UTC()
	token, hash := newToken()
	expires := now.Add(s.Policy.InvitationTTL)
	m, _, err := s.Store.UpdateMember(ctx, team.ID, memberID, users.ResendInvitation(hash, expires, now, s.Policy.Cooldown, func(m users.Member) users.Email {
		return s.invitationEmail(team, memberID, m.Email, by, m.Role, token, expires, true)
	}))
	return m, err
}

// SendInstructions emails the app set-up steps to a member.
func (s Service) SendInstructions(ctx context.Context, team Team, memberID string) (users.Member, error) {
	m, _, err := s.Store.UpdateMember(ctx, team.ID, memberID, users.SendInstructions(s.Now().UTC(), s.Policy.Cooldown, func(m users.Member) users.Email {
		return instructionsEmail(team, m)
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

// Provision adds the member an identity provider asks for (SCIM POST):
// they take a seat and join at once, as pending_app_login — the provider
// vouches for the address, so there is no invitation to accept — and the
// set-up instructions email goes to them. Asked for inactive, they are
// added deactivated (no seat, no email). by is the SCIM token's name.
func (s Service) Provision(ctx context.Context, team Team, by string, u users.IdPUpdate) (users.Member, error) {
	now := s.Now().UTC()
	m := users.Member{ID: users.NewID("m"), TeamID: team.ID, Email: u.Email, Role: u.Role, Status: users.StatusPendingAppLogin,
		InvitedAt: now, AcceptedAt: now, ExternalID: u.ExternalID, UserName: u.UserName, IdPData: u.Data, ProvisionedBy: by}
	nm := users.NewMember{Action: users.AuditProvision, Detail: map[string]string{"role": string(u.Role)}}
	if u.Active {
		e := instructionsEmail(team, m)
		m.InstructionsSentAt = now
		users.QueueEmail(&m, e, now)
		nm.Email = &e
	} else {
		m.Status, m.DeactivatedAt = users.StatusDeactivated, now
		nm.Detail["status"] = string(users.StatusDeactivated)
	}
	m.LastCall, m.UpdatedAt = users.BucketFor(m.Status, m.LastActiveAt, now, s.Policy.Zone), now
	nm.Member = m
	res, err := s.Store.AddMembers(ctx, team.ID, []users.NewMember{nm})
	if err != nil {
		return users.Member{}, err
	}
	if res[0] != nil {
		return users.Member{}, res[0]
	}
	return m, nil
}

// Apply makes one change to a member with a rule of package users (the
// SCIM service composes its own from them); changed is false when the
// rule found nothing to do.
func (s Service) Apply(ctx context.Context, teamID, memberID string, rule users.Rule) (users.Member, bool, error) {
	return s.Store.UpdateMember(ctx, teamID, memberID, rule)
}

// Retention is how long without app activity a member is "signed in with
// app" (a reactivated member's status depends on it).
func (s Service) Retention() time.Duration { return s.retention() }

// Zone is where days are counted (the stack's NightlyTimeZone).
func (s Service) Zone() *time.Location { return s.Policy.Zone }

func (s Service) retention() time.Duration {
	if s.Policy.Retention > 0 {
		return s.Policy.Retention
	}
	return users.DefaultRetention
}

// ChangeRole gives a member a role, and tells them (users.Notices.RoleChange);
// changed is false when they had it.
func (s Service) ChangeRole(ctx context.Context, actor users.Membership, by string, team Team, memberID string, role users.Role) (users.Member, bool, error) {
	return s.Store.UpdateMember(ctx, team.ID, memberID, users.ChangeRole(actor, role, s.notices(team, actor, by)))
}

// ErrNoTeam means the caller of an app endpoint has joined no team.
var ErrNoTeam = &users.Error{Kind: users.KindNotFound, Code: "no_team", Message: "This account has not joined a team; accept an invitation first."}

// AppCaller is who reports activity from the app, as their token says.
type AppCaller struct {
	Email         string
	EmailVerified bool // the identity provider verified the address
}

// RecordActivity records app activity for every team the caller has
// joined. A sign-in with a verified address also joins every team that
// invited it and whose invitation is live (users.JoinBySignIn).
func (s Service) RecordActivity(ctx context.Context, c AppCaller, a users.Activity) ([]users.Member, error) {
	ms, err := s.Store.Memberships(ctx, c.Email)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	if a.SignIn {
		// A member's sign-ins of the day are capped; counted before
		// anything is written, for every team (one person, one app: the
		// counts are the same), so a refused sign-in changes nothing.
		day, limit := now.UTC().Format("2006-01-02"), s.Policy.Limits.SignInsPerMemberPerDay
		for _, m := range ms {
			if m.Status == users.StatusDeactivated || m.Status == users.StatusInvitationSent {
				continue
			}
			n, err := s.Store.SignInsOn(ctx, m.TeamID, m.MemberID, day, limit)
			if err != nil {
				return nil, err
			}
			if n >= limit {
				return nil, users.ReportLimit("sign-ins", limit, day, now)
			}
		}
	}
	var out []users.Member
	deactivated, full := false, false
	for _, m := range ms {
		rule := users.RecordActivity(a, now, s.Policy.Zone)
		switch m.Status {
		case users.StatusDeactivated:
			deactivated = true
			continue // turned off: neither sign-ins nor calls count
		case users.StatusInvitationSent:
			if !a.SignIn || !c.EmailVerified {
				continue
			}
			rule = users.JoinBySignIn(a, now, s.Policy.Zone)
		}
		// The member first: one deactivated a moment ago refuses the
		// activity, and then nothing of it is recorded.
		mem, _, err := s.Store.UpdateMember(ctx, m.TeamID, m.MemberID, rule)
		switch {
		case errors.Is(err, users.ErrMemberDeactivated):
			deactivated = true
			continue
		case errors.Is(err, users.ErrMemberNotFound), errors.Is(err, users.ErrTokenExpired):
			continue // removed a moment ago; an expired invitation needs a resend
		case err != nil:
			return nil, err
		}
		if a.SignIn {
			err = s.Store.RecordSignIn(ctx, users.SignIn{TeamID: m.TeamID, MemberID: m.MemberID, At: a.At, AppVersion: a.AppVersion, Device: a.Device})
		} else {
			_, err = s.Store.AddCall(ctx, m.TeamID, m.MemberID, a.At, a.Seconds, callKey(a), s.Policy.Limits.CallsPerMemberPerDay)
		}
		if errors.Is(err, users.ErrDayFull) {
			full = true
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, mem)
	}
	switch {
	case full:
		// The day's calls are at the cap: the app is told, and retries
		// (Retry-After) only when the day is today.
		return nil, users.ReportLimit("calls", s.Policy.Limits.CallsPerMemberPerDay, a.At.UTC().Format("2006-01-02"), now)
	case len(out) == 0 && deactivated:
		// The app is told plainly, rather than "no team".
		return nil, users.ErrMemberDeactivated
	case len(out) == 0:
		return nil, ErrNoTeam
	}
	return out, nil
}

// callKey identifies a call among its member's calls of a day: the app's
// callId when it sends one, else the call's end and duration (two calls of
// one person never end at the same millisecond with the same length). It is
// a short digest, so a day's item holds thousands of them.
func callKey(a users.Activity) string {
	id := a.CallID
	if id == "" {
		id = fmt.Sprintf("t:%d:%d", a.At.UnixMilli(), a.Seconds)
	}
	sum := sha256.Sum256([]byte(id))
	return base64.RawURLEncoding.EncodeToString(sum[:9])
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
	ActionDeactivate       = "deactivate"
	ActionReactivate       = "reactivate"
)

// BulkActions are every bulk action, in the order the API lists them.
var BulkActions = []string{ActionRemove, ActionChangeRole, ActionResendInvite, ActionSendInstructions, ActionDeactivate, ActionReactivate}

// Bulk applies one action to each member, a few at a time, and says what
// happened to each. A member that cannot take the action is skipped with
// the reason; nothing else is affected.
func (s Service) Bulk(ctx context.Context, actor users.Membership, actorEmail string, team Team, action string, memberIDs []string, role users.Role) []BulkResult {
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
			_, err = s.ResendInvite(ctx, team, id, actorEmail)
		case ActionSendInstructions:
			_, err = s.SendInstructions(ctx, team, id)
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
