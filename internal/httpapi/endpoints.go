package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/teamusers/usersapi/internal/metrics"
	"github.com/teamusers/usersapi/internal/report"
	"github.com/teamusers/usersapi/internal/usecase"
	"github.com/teamusers/usersapi/internal/users"
)

// Store is what the handlers need of the table.
type Store interface {
	Access(ctx context.Context, teamID, email string) (users.Team, users.Membership, error)
	GetMember(ctx context.Context, teamID, memberID string) (users.Member, error)
	// LatestActivity is the end of the member's last reported call and
	// their last sign-in (zero when none): member information's exact
	// instants, which the member's item holds only to the day.
	LatestActivity(ctx context.Context, teamID, memberID string) (lastCall, lastSignIn time.Time, err error)
	ListMembers(ctx context.Context, team users.Team, q users.ListQuery, after string) ([]users.Member, string, error)
	Memberships(ctx context.Context, email string) ([]users.Membership, error)
	Teams(ctx context.Context, ids []string) (map[string]users.Team, error)
	UpdateTeam(ctx context.Context, teamID string, c users.TeamChange) (users.Team, error)
	AuditLog(ctx context.Context, teamID string, q users.AuditQuery) ([]users.AuditEntry, string, error)
}

// Reports is what the CSV tools need of the table.
type Reports interface {
	report.Source
	MemberIDsByEmail(ctx context.Context, teamID string, emails []string) (map[string]string, error)
	QueueEmail(ctx context.Context, e users.Email, audit users.AuditEntry) error
	RecordAudit(ctx context.Context, e users.AuditEntry) error
}

// Deps is everything a handler is built from, once per cold start.
type Deps struct {
	Store   Store
	Cases   *usecase.Service // every use case: the application layer
	Jobs    *usecase.Jobs
	Reports Reports
	Idem    Idempotency
	Quotas  Quotas       // the limits' counters; nil: no limits
	Limits  users.Limits // per team and per source address
	Cursors *Cursors
	Log     *slog.Logger
	Now     func() time.Time
	Metrics *metrics.Emitter // business metrics; nil: none
	SCIM    SCIMStore        // the SCIM service and the team's SCIM tokens
}

// Endpoint is one route of the HTTP API and the function that serves it.
// The table is data only: each function's main names its own handler
// constructor (handlers.go), so a function links its handler and no
// other. The template's HttpApi events, this table, the mains and the
// OpenAPI document must agree; TestRoutesAgree proves it.
//
// A function serves one route, except the SCIM service's few functions,
// which serve a handful each (a row per route): the SCIM protocol is one
// resource type behind several paths, and its catch-all answers every
// other path under /scim/v2 with SCIM's own errors.
type Endpoint struct {
	Function string // logical id of the function in template.yaml
	Pattern  string // net/http pattern: "METHOD /path/{param}"; no method: any ("ANY" in the template)
	Public   bool   // no JWT authorizer on this route
	SCIM     bool   // an identity provider's route: a SCIM token (checked by the function), SCIM errors
	// Query names the query parameters the route takes, separated by
	// spaces; any other is refused (400 invalid_query, or SCIM's 400 on a
	// SCIM route), as the document says. One string rather than a
	// []string: every binary links the whole table, and a slice per row
	// cost 1.3 KB of initialized data, which moved every HTTP function's
	// bootstrap by a 64 KB page (docs/benchmarks.md).
	Query string
	// Secret: the function reads the application secret (it seals
	// invitation tokens or signs list cursors); its generated main loads
	// it, and the template gives it APP_SECRET_ID and the right to read it
	// (TestTemplateGuardrails).
	Secret bool
}

// Endpoints is the route table. The functions' mains and the local
// gateway's constructors are generated from it (internal/httpapi/gen).
//
//go:generate go run ../../cmd/genfunctions
var Endpoints = []Endpoint{
	{Function: "GetSummaryFunction", Pattern: "GET /v1/teams/{teamId}/summary"},
	{Function: "ListMembersFunction", Secret: true, Pattern: "GET /v1/teams/{teamId}/members",
		Query: "q status lastCall role sort order limit cursor"},
	{Function: "GetMemberFunction", Pattern: "GET /v1/teams/{teamId}/members/{memberId}"},
	{Function: "InviteFunction", Secret: true, Pattern: "POST /v1/teams/{teamId}/invitations"},
	{Function: "ResendAllInvitesFunction", Pattern: "POST /v1/teams/{teamId}/invitations/resend"},
	{Function: "GetJobFunction", Pattern: "GET /v1/teams/{teamId}/jobs/{jobId}"},
	{Function: "SendAllInstructionsFunction", Pattern: "POST /v1/teams/{teamId}/instructions"},
	{Function: "BulkFunction", Secret: true, Pattern: "POST /v1/teams/{teamId}/members/bulk"},
	{Function: "ChangeRoleFunction", Pattern: "PATCH /v1/teams/{teamId}/members/{memberId}"},
	{Function: "RemoveMemberFunction", Pattern: "DELETE /v1/teams/{teamId}/members/{memberId}"},
	{Function: "ResendInviteFunction", Secret: true, Pattern: "POST /v1/teams/{teamId}/members/{memberId}/resend-invite"},
	{Function: "SendInstructionsFunction", Pattern: "POST /v1/teams/{teamId}/members/{memberId}/send-instructions"},
	{Function: "AcceptInvitationFunction", Pattern: "POST /v1/invitations/accept", Public: true},
	{Function: "RecordSignInFunction", Pattern: "POST /v1/me/sign-ins"},
	{Function: "CsvSelectionFunction", Pattern: "POST /v1/teams/{teamId}/members/csv-selection"},
	{Function: "UsageReportFunction", Pattern: "POST /v1/teams/{teamId}/usage-report"},
	{Function: "EmailUsageReportFunction", Pattern: "POST /v1/teams/{teamId}/usage-report/email"},
	{Function: "GetMeFunction", Pattern: "GET /v1/me"},
	{Function: "RecordCallFunction", Pattern: "POST /v1/me/calls"},
	{Function: "UpdateTeamSettingsFunction", Pattern: "PATCH /v1/teams/{teamId}/settings"},
	{Function: "AuditLogFunction", Pattern: "GET /v1/teams/{teamId}/audit-log",
		Query: "actor action target from to limit cursor"},
	{Function: "DeactivateMemberFunction", Pattern: "POST /v1/teams/{teamId}/members/{memberId}/deactivate"},
	{Function: "ReactivateMemberFunction", Pattern: "POST /v1/teams/{teamId}/members/{memberId}/reactivate"},

	// SCIM tokens, for the team's admins.
	{Function: "CreateScimTokenFunction", Pattern: "POST /v1/teams/{teamId}/scim-tokens"},
	{Function: "ListScimTokensFunction", Pattern: "GET /v1/teams/{teamId}/scim-tokens"},
	{Function: "RevokeScimTokenFunction", Pattern: "DELETE /v1/teams/{teamId}/scim-tokens/{tokenId}"},

	// The SCIM service (RFC 7644), for identity providers: no JWT; the
	// functions check the team's SCIM token themselves (scim.go).
	{Function: "ScimReadUsersFunction", Pattern: "GET /scim/v2/Users", Public: true, SCIM: true,
		Query: "filter startIndex count attributes excludedAttributes"},
	{Function: "ScimReadUsersFunction", Pattern: "GET /scim/v2/Users/{userId}", Public: true, SCIM: true, Query: scimProjection},
	{Function: "ScimWriteUsersFunction", Pattern: "POST /scim/v2/Users", Public: true, SCIM: true, Query: scimProjection},
	{Function: "ScimWriteUsersFunction", Pattern: "PUT /scim/v2/Users/{userId}", Public: true, SCIM: true, Query: scimProjection},
	{Function: "ScimWriteUsersFunction", Pattern: "PATCH /scim/v2/Users/{userId}", Public: true, SCIM: true, Query: scimProjection},
	{Function: "ScimWriteUsersFunction", Pattern: "DELETE /scim/v2/Users/{userId}", Public: true, SCIM: true},
	// Everything else under /scim/v2: the discovery documents, and SCIM's
	// 404 and 405 for the rest. Static: it reads no table. It takes the
	// query parameters of RFC 7644 §3.4.2 and ignores them, as §4 says,
	// but a filter, which it answers 403.
	{Function: "ScimDiscoveryFunction", Pattern: "/scim/v2/{proxy...}", Public: true, SCIM: true,
		Query: "filter startIndex count sortBy sortOrder attributes excludedAttributes"},
}

// scimProjection are the query parameters of a SCIM answer that holds a
// User (RFC 7644 §3.9): which attributes to return.
const scimProjection = "attributes excludedAttributes"

// Lookup finds the endpoint served by a function; it panics on an unknown
// name because that is a wiring mistake caught at start-up.
func Lookup(function string) Endpoint {
	e, ok := Find(function)
	if !ok {
		panic("httpapi: no endpoint for function " + function)
	}
	return e
}

// Find is the (first) endpoint served by a function, if any.
func Find(function string) (Endpoint, bool) {
	for _, e := range Endpoints {
		if e.Function == function {
			return e, true
		}
	}
	return Endpoint{}, false
}

// FindRoute is the endpoint of one route of a function, if it serves it.
func FindRoute(function, pattern string) (Endpoint, bool) {
	for _, e := range Endpoints {
		if e.Function == function && e.Pattern == pattern {
			return e, true
		}
	}
	return Endpoint{}, false
}

// RoutesOf lists every endpoint a function serves.
func RoutesOf(function string) []Endpoint {
	var out []Endpoint
	for _, e := range Endpoints {
		if e.Function == function {
			out = append(out, e)
		}
	}
	return out
}

// serve builds a function's handler: its routes on a mux (so path values
// work exactly as in the gateway), idempotency for the portal's POSTs,
// the outer checks given (e.g. a limit per source address), a refusal of
// any query parameter the route does not declare, and a 404/405 for
// anything else (problem+json, or SCIM's error on a SCIM function).
func serve(d Deps, function string, build func(Deps) http.HandlerFunc, outer ...func(Deps, http.HandlerFunc) http.HandlerFunc) http.Handler {
	e := Lookup(function)
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	mux := http.NewServeMux()
	built := build(d)
	for _, route := range RoutesOf(function) {
		h := built
		// An identity provider sends no Idempotency-Key: a retried
		// creation meets the member it made (409 uniqueness) and the
		// provider links to it.
		if strings.HasPrefix(route.Pattern, "POST ") && !route.SCIM {
			h = d.idempotent(h)
		}
		for _, o := range outer {
			h = o(d, h)
		}
		mux.HandleFunc(route.Pattern, d.onlyDeclaredQuery(route, h))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if e.SCIM {
			writeSCIMError(w, scimNotFound("No such SCIM endpoint."))
			return
		}
		WriteProblem(w, http.StatusNotFound, "route_not_found", "No such route.")
	})
	return withSecurityHeaders(withAnswerReserve(mux))
}
