package httpapi

import (
	"context"
	"net/http"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/teamusers/usersapi/internal/users"
)

// Caller is the authenticated identity, as the HTTP API JWT authorizer
// validated it.
type Caller struct {
	Sub           string
	Email         string // normalized
	EmailVerified bool   // the identity provider says the address is the caller's
}

var errNoIdentity = &users.Error{Kind: users.KindUnauthorized, Code: "unauthorized", Message: "A valid bearer token with an email claim is required."}

// callerFrom reads the caller from the authorizer context of the API
// Gateway v2 event. It never looks at the Authorization header: in AWS the
// authorizer has already validated the token, and locally the gateway does
// the same before the handler runs. A missing context is refused, so a
// misconfigured route fails closed.
func callerFrom(ctx context.Context) (Caller, error) {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(ctx)
	if !ok || rc.Authorizer == nil || rc.Authorizer.JWT == nil {
		return Caller{}, errNoIdentity
	}
	claims := rc.Authorizer.JWT.Claims
	email, ok := users.NormalizeEmail(claims["email"])
	if !ok || claims["sub"] == "" {
		return Caller{}, errNoIdentity
	}
	return Caller{Sub: claims["sub"], Email: email, EmailVerified: claims["email_verified"] == "true"}, nil
}

// teamAccess is what a team endpoint knows once the caller is authorized.
type teamAccess struct {
	Caller     Caller
	Team       users.Team
	Membership users.Membership
}

// authorizeAdmin enforces the rules of every /v1/teams/{teamId} endpoint:
// 401 without identity, 404 when the caller is not a member (the team's
// existence is not revealed), 403 for a user-role member, 403 plan_required
// when the team is not on pro.
func (d Deps) authorizeAdmin(r *http.Request) (teamAccess, error) {
	c, err := callerFrom(r.Context())
	if err != nil {
		return teamAccess{}, err
	}
	teamID := r.PathValue("teamId")
	if !validID(teamID) {
		return teamAccess{}, users.ErrTeamNotFound
	}
	team, ms, err := d.Store.Access(r.Context(), teamID, c.Email)
	if err != nil {
		return teamAccess{}, err
	}
	if err := users.CheckAdmin(team, ms); err != nil {
		return teamAccess{}, err
	}
	return teamAccess{Caller: c, Team: team, Membership: ms}, nil
}

// validID accepts the ids we issue (lower-case letters, digits, '_' and '-',
// at most 64) so that nothing else reaches a key.
func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// requestOf is the request as the audit log names it: API Gateway's
// request id and the caller's address.
func requestOf(ctx context.Context) users.AuditRequest {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(ctx)
	if !ok {
		return users.AuditRequest{}
	}
	return users.AuditRequest{ID: rc.RequestID, SourceIP: rc.HTTP.SourceIP}
}
