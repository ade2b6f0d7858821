package users

import "time"

// Notices: a member is told, by email, of a change someone else made to
// them. The email is the Change.Email of the rule that makes the change
// (ChangeRole, Remove, Deactivate, UpdateFromIdP), so it is queued in the change's own transaction:
// no change without its notice, no notice without its change, and the
// outbox sends it once.
const (
	EmailRoleChanged       = "role_changed"
	EmailRemoved           = "removed"
	EmailInvitationRevoked = "invitation_revoked"
	// EmailDeactivated: an admin (Deactivate) or the identity provider
	// (SCIM active=false) deactivated the member.
	EmailDeactivated = "deactivated"
)

// TeamSettings are what a team's admins choose for the whole team.
type TeamSettings struct {
	// NotifyOnRevoke: removing an invitee (revoking the invitation) emails
	// them that the invitation was withdrawn. On unless an admin turns it
	// off (PATCH /v1/teams/{teamId}/settings).
	NotifyOnRevoke bool
}

// DefaultTeamSettings are a new team's settings.
var DefaultTeamSettings = TeamSettings{NotifyOnRevoke: true}

// Notices decides and builds the notices of one admin's action on a team.
// A nil *Notices sends none.
type Notices struct {
	TeamID, TeamName string
	Settings         TeamSettings
	By               string // the acting admin's address ("" when no person acted: the identity provider)
	ByMemberID       string // the acting admin's member id
	// Contact is whom the reader may write to about it: By when a person
	// acted, else someone the team names (its owner).
	Contact string
	Now     time.Time
}

// wanted says whether m is to be told at all: never of one's own action
// (the rules refuse self-removal and self-demotion anyway), and never at an
// address whose last email bounced or was marked as spam: another one
// would bounce again or be unwanted, and each costs the account's SES
// reputation.
func (n *Notices) wanted(m Member) bool {
	return n != nil && m.ID != n.ByMemberID && m.EmailProblem() == ""
}

func (n *Notices) email(kind string, m Member, data map[string]string) *Email {
	data["teamName"] = n.TeamName
	data["by"] = n.By
	data["contact"] = n.Contact
	if data["contact"] == "" {
		data["contact"] = n.By
	}
	data["at"] = n.Now.UTC().Format(time.RFC3339)
	return &Email{ID: NewID("e"), Kind: kind, To: m.Email, TeamID: n.TeamID, MemberID: m.ID, Data: data}
}

// Removal is the notice of m's removal, as m was before it: "removed" for
// a member who joined, "invitation_revoked" for an invitee (when the team
// notifies on revoke); nil for none. The email carries everything its
// rendering needs (address, team name, who), since the member item is
// deleted in the same transaction.
//
// A deactivated member is not told again: the deactivation notice told
// them they can no longer use the account (identity providers commonly
// deactivate, then delete).
func (n *Notices) Removal(m Member) *Email {
	if !n.wanted(m) || m.Status == StatusDeactivated {
		return nil
	}
	if m.Status == StatusInvitationSent {
		if !n.Settings.NotifyOnRevoke {
			return nil
		}
		return n.email(EmailInvitationRevoked, m, map[string]string{"role": string(m.Role)})
	}
	return n.email(EmailRemoved, m, map[string]string{"role": string(m.Role)})
}

// RoleChange is the notice that m's role changed from `from` to m.Role;
// nil for none. An invitee is not told: they are not a member yet, and the
// role is theirs when they join.
func (n *Notices) RoleChange(m Member, from Role) *Email {
	if !n.wanted(m) || m.Status == StatusInvitationSent || from == m.Role {
		return nil
	}
	return n.email(EmailRoleChanged, m, map[string]string{"role": string(m.Role), "fromRole": string(from)})
}

// Deactivation is the notice that m, as they were before it, was
// deactivated (by an admin, or by the identity provider when By is
// empty); an invitee is not told: their link simply stops working, as
// when an invitation expires.
func (n *Notices) Deactivation(m Member) *Email {
	if !n.wanted(m) || m.Status == StatusInvitationSent {
		return nil
	}
	return n.email(EmailDeactivated, m, map[string]string{"role": string(m.Role)})
}
