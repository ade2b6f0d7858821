// Package usecase is the application layer: every use case of the Users
// page in one place. Invitations and their acceptance, role changes,
// removals, deactivation, emails to members, the app's activity reports,
// bulk actions, team-wide jobs, the identity provider's changes (SCIM),
// the page's reads and the team's settings. A use case takes what it needs
// from the per-team quotas (and gives back what it did not use), decides
// with the rules of package users, has the store write the decided change
// (one transaction that carries its invariant and the email it causes)
// and counts its metrics. It imports no AWS package: the handlers
// (internal/httpapi), the stream consumers and the scheduled job call it,
// and the store (internal/dynamo) is one implementation of its interfaces.
package usecase

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"time"

	"github.com/teamusers/usersapi/internal/keyring"
	"github.com/teamusers/usersapi/internal/metrics"
	"github.com/teamusers/usersapi/internal/users"
)

// Store is what the use cases need of the table: it stores changes, the
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

// Service runs the use cases. Each takes what it needs from its quotas
// (and gives back what it did not use), decides by the rules of package
// users, stores the decided change through Store and counts its metrics.
type Service struct {
	Store   Store
	Reads   Reads           // the page's reads beyond Store
	Quotas  Quotas          // the limits' counters (Policy.Limits); nil: no limits
	Tokens  *keyring.Sealer // seals invitation tokens while they wait in the outbox
	Policy  users.Policy
	Now     func() time.Time
	Log     *slog.Logger     // nil: slog's default
	Metrics *metrics.Emitter // business metrics; nil: none
}

func (s Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
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

// instructionsEmail is the set-up steps for m; by is the admin who asked
// for them, whom a reply reaches ("" when the identity provider added m).
func instructionsEmail(team Team, m users.Member, by string) users.Email {
	data := map[string]string{"teamName": team.Name}
	if by != "" {
		data["sentBy"] = by
	}
	return users.Email{ID: users.NewID("e"), Kind: users.EmailInstructions, To: m.Email, TeamID: team.ID, MemberID: m.ID, Data: data}
}

func (s Service) retention() time.Duration {
	if s.Policy.Retention > 0 {
		return s.Policy.Retention
	}
	return users.DefaultRetention
}
