package users

import (
	"sort"
	"strings"
	"time"
)

// An identity provider (Okta, Microsoft Entra ID…) manages members through
// the SCIM service with a team's SCIM token. What it may do is what an
// admin may do, less what only the team's owner and billing decide: it
// provisions members (each takes a seat and joins at once, as the provider
// vouches for the address), deactivates and reactivates them, changes
// their role and address, and removes them; it never touches the owner's
// standing.

// IdPUpdate is the state an identity provider asks a member to be in: a
// SCIM PUT or PATCH resolved against the member as stored.
type IdPUpdate struct {
	Email      string // the member's address; a new one renames them
	UserName   string
	ExternalID string
	Data       string // the rest of what the provider keeps (IdPData)
	Active     bool
	Role       Role
}

// UpdateFromIdP takes a member to the state an identity provider asks for,
// in one change. Turning active off deactivates (Deactivate), on
// reactivates (Reactivate: a seat must be free). The owner stays an active
// admin at the address billing knows. The audit entry is named after the
// weightiest part: deactivate or reactivate, else change_role, else
// update_profile; its detail lists every attribute that changed. The
// member is told of a deactivation or, else, of a role change (notices,
// whose By is empty: the provider acted; nil notices: none).
func UpdateFromIdP(u IdPUpdate, now time.Time, retention time.Duration, zone *time.Location, notices *Notices) Rule {
	return func(m *Member) (Change, error) {
		if m.IsOwner && (!u.Active || u.Role != RoleAdmin || u.Email != m.Email) {
			return Change{}, ErrOwnerProtected
		}
		detail := map[string]string{}
		var changed []string
		var notice *Email
		action := AuditUpdateProfile
		if u.Email != m.Email {
			detail["emailFrom"], detail["emailTo"] = m.Email, u.Email
			changed = append(changed, "email")
			m.Email = u.Email
			if m.Status == StatusInvitationSent {
				// The link went to the old address: void it; a resend goes
				// to the new one.
				m.TokenHash, m.InvitationExpired = "", true
			}
		}
		for _, f := range []struct {
			name     string
			from, to *string
		}{{"userName", &m.UserName, &u.UserName}, {"externalId", &m.ExternalID, &u.ExternalID}, {"profile", &m.IdPData, &u.Data}} {
			if *f.from != *f.to {
				*f.from = *f.to
				changed = append(changed, f.name)
			}
		}
		if u.Role != m.Role {
			detail["roleFrom"], detail["roleTo"] = string(m.Role), string(u.Role)
			changed = append(changed, "role")
			m.Role, action = u.Role, AuditChangeRole
		}
		// The details the admins' actions carry: deactivate "from" the
		// status it left, reactivate "to" the one it returned to,
		// change_role "from" and "to" roles.
		switch {
		case !u.Active && m.Status != StatusDeactivated:
			notice = notices.Deactivation(*m)
			detail["from"] = string(deactivate(m, now))
			changed = append(changed, "active")
			action = AuditDeactivate
		case u.Active && m.Status == StatusDeactivated:
			reactivate(m, now, retention, zone)
			detail["to"] = string(m.Status)
			changed = append(changed, "active")
			action = AuditReactivate
		case action == AuditChangeRole:
			notice = notices.RoleChange(*m, Role(detail["roleFrom"]))
			detail["from"], detail["to"] = detail["roleFrom"], detail["roleTo"]
			delete(detail, "roleFrom")
			delete(detail, "roleTo")
		}
		if len(changed) == 0 {
			return Change{}, ErrUnchanged
		}
		sort.Strings(changed)
		detail["changed"] = strings.Join(changed, ",")
		ch := Change{}
		if e := notice; e != nil {
			ch = QueueEmail(m, *e, now)
		}
		ch.Action, ch.Detail = action, detail
		return ch, nil
	}
}
