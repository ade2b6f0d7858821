package usecase

import (
	"context"
	"errors"
	"net/http"

	"github.com/teamusers/usersapi/internal/scim"
	"github.com/teamusers/usersapi/internal/users"
)

// ProvisionFromIdP adds the member a SCIM POST's user document describes
// (Provision); by is the SCIM token's name.
func (s Service) ProvisionFromIdP(ctx context.Context, team Team, by string, doc map[string]any) (users.Member, error) {
	st, err := scim.StateFrom(doc, scim.Create, scim.State{})
	if err != nil {
		return users.Member{}, err
	}
	u, err := st.Update()
	if err != nil {
		return users.Member{}, err
	}
	return s.Provision(ctx, team, by, u)
}

// IdPChange is an identity provider's change to one member (SCIM): a
// replacement of the whole user (PUT, Doc), a patch (PATCH, Ops) or a
// removal (DELETE), made only if the member is still at the version the
// provider read (IfMatch, the If-Match header; empty: any version).
type IdPChange struct {
	Method  string // http.MethodPut, http.MethodPatch or http.MethodDelete
	Doc     map[string]any
	Ops     []scim.Operation
	IfMatch string
}

// ChangeFromIdP makes an identity provider's change to a member, deciding
// it with the rules of package users (UpdateFromIdP, Remove) from the
// member as stored. If-Match is the last check of a change (RFC 9110
// §13.2.1): a change that would be refused without it is refused as such,
// and one that would be served is 412 when the member has changed. A
// member that is not the team's is SCIM's 404.
func (s Service) ChangeFromIdP(ctx context.Context, team Team, memberID string, c IdPChange) (users.Member, error) {
	notices := s.IdPNotices(team)
	checkVersion := func(change users.Rule) users.Rule {
		return func(m *users.Member) (users.Change, error) {
			before := *m
			ch, err := change(m)
			served := err == nil || errors.Is(err, users.ErrUnchanged)
			if served && c.IfMatch != "" && !scim.MatchesETag(c.IfMatch, before) {
				return users.Change{}, scim.Errorf(http.StatusPreconditionFailed, "", "The user has changed since that version (now %s); read it again.", scim.ETag(before))
			}
			return ch, err
		}
	}
	var rule users.Rule
	switch c.Method {
	case http.MethodDelete:
		rule = checkVersion(users.Remove(users.Membership{}, notices))
	case http.MethodPut, http.MethodPatch:
		now := s.Now().UTC()
		rule = checkVersion(func(m *users.Member) (users.Change, error) {
			current := scim.StateOf(*m)
			var st scim.State
			var err error
			if c.Method == http.MethodPut {
				st, err = scim.StateFrom(c.Doc, scim.Replace, current)
			} else {
				edited := scim.Document(*m)
				if err = scim.Apply(edited, c.Ops); err == nil {
					st, err = scim.StateFrom(edited, scim.Patched, current)
				}
			}
			if err != nil {
				return users.Change{}, err
			}
			u, err := st.Update()
			if err != nil {
				return users.Change{}, err
			}
			return users.UpdateFromIdP(u, now, s.retention(), s.Policy.Zone, notices)(m)
		})
	default:
		return users.Member{}, scim.Errorf(http.StatusMethodNotAllowed, "", "%s is not a change of a user.", c.Method)
	}
	m, _, err := s.Store.UpdateMember(ctx, team.ID, memberID, rule)
	if errors.Is(err, users.ErrMemberNotFound) {
		return users.Member{}, scim.NotFound(memberID)
	}
	return m, err
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
		e := instructionsEmail(team, m, "")
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
