package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/teamusers/usersapi/internal/metrics"
	"github.com/teamusers/usersapi/internal/report"
	"github.com/teamusers/usersapi/internal/roster"
	"github.com/teamusers/usersapi/internal/users"
)

// Store is what the handlers need of the table.
type Store interface {
	Access(ctx context.Context, teamID, email string) (users.Team, users.Membership, error)
	GetMember(ctx context.Context, teamID, memberID string) (users.Member, error)
	ListMembers(ctx context.Context, teamID string, q users.ListQuery, after string) ([]users.Member, string, error)
	Memberships(ctx context.Context, email string) ([]users.Membership, error)
	Teams(ctx context.Context, ids []string) (map[string]users.Team, error)
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
	Roster  *roster.Service
	Jobs    *roster.Jobs
	Reports Reports
	Idem    Idempotency
	Quotas  Quotas       // the limits' counters; nil: no limits
	Limits  users.Limits // per team and per source address
	Cursors *Cursors
	Log     *slog.Logger
	Now     func() time.Time
	Metrics *metrics.Emitter // business metrics; nil: none
}

// Endpoint is one route of the HTTP API and the function that serves it.
// The table is data only: each function's main names its own handler
// constructor (handlers.go), so a function links its handler and no
// other. The template's HttpApi events, this table, the mains and the
// OpenAPI document must agree; TestRoutesAgree proves it.
type Endpoint struct {
	Function string // logical id of the function in template.yaml
	Pattern  string // net/http pattern: "METHOD /path/{param}"
	Public   bool   // no JWT authorizer on this route
	// Query names the query parameters the route takes; any other is
	// refused (400 invalid_query), as the document says.
	Query []string
}

// Endpoints is the route table.
var Endpoints = []Endpoint{
	{Function: "GetSummaryFunction", Pattern: "GET /v1/teams/{teamId}/summary"},
	{Function: "ListMembersFunction", Pattern: "GET /v1/teams/{teamId}/members",
		Query: []string{"q", "status", "lastCall", "role", "sort", "order", "limit", "cursor"}},
	{Function: "GetMemberFunction", Pattern: "GET /v1/teams/{teamId}/members/{memberId}"},
	{Function: "InviteFunction", Pattern: "POST /v1/teams/{teamId}/invitations"},
	{Function: "ResendAllInvitesFunction", Pattern: "POST /v1/teams/{teamId}/invitations/resend"},
	{Function: "GetJobFunction", Pattern: "GET /v1/teams/{teamId}/jobs/{jobId}"},
	{Function: "SendAllInstructionsFunction", Pattern: "POST /v1/teams/{teamId}/instructions"},
	{Function: "BulkFunction", Pattern: "POST /v1/teams/{teamId}/members/bulk"},
	{Function: "ChangeRoleFunction", Pattern: "PATCH /v1/teams/{teamId}/members/{memberId}"},
	{Function: "RemoveMemberFunction", Pattern: "DELETE /v1/teams/{teamId}/members/{memberId}"},
	{Function: "ResendInviteFunction", Pattern: "POST /v1/teams/{teamId}/members/{memberId}/resend-invite"},
	{Function: "SendInstructionsFunction", Pattern: "POST /v1/teams/{teamId}/members/{memberId}/send-instructions"},
	{Function: "AcceptInvitationFunction", Pattern: "POST /v1/invitations/accept", Public: true},
	{Function: "RecordSignInFunction", Pattern: "POST /v1/me/sign-ins"},
	{Function: "CsvSelectionFunction", Pattern: "POST /v1/teams/{teamId}/members/csv-selection"},
	{Function: "UsageReportFunction", Pattern: "POST /v1/teams/{teamId}/usage-report"},
	{Function: "EmailUsageReportFunction", Pattern: "POST /v1/teams/{teamId}/usage-report/email"},
	{Function: "GetMeFunction", Pattern: "GET /v1/me"},
	{Function: "RecordCallFunction", Pattern: "POST /v1/me/calls"},
	{Function: "AuditLogFunction", Pattern: "GET /v1/teams/{teamId}/audit-log",
		Query: []string{"actor", "action", "target", "from", "to", "limit", "cursor"}},
}

// Lookup finds the endpoint served by a function; it panics on an unknown
// name because that is a wiring mistake caught at start-up.
func Lookup(function string) Endpoint {
	e, ok := Find(function)
	if !ok {
		panic("httpapi: no endpoint for function " + function)
	}
	return e
}

// Find is the endpoint served by a function, if any.
func Find(function string) (Endpoint, bool) {
	for _, e := range Endpoints {
		if e.Function == function {
			return e, true
		}
	}
	return Endpoint{}, false
}

// serve builds a function's handler: its own route on a mux (so path
// values work exactly as in the gateway), idempotency for POSTs, and a
// problem+json 404/405 for anything else.
func serve(d Deps, function string, build func(Deps) http.HandlerFunc, outer ...func(Deps, http.HandlerFunc) http.HandlerFunc) http.Handler {
	e := Lookup(function)
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	mux := http.NewServeMux()
	h := build(d)
	if strings.HasPrefix(e.Pattern, "POST ") {
		h = d.idempotent(h)
	}
	for _, o := range outer {
		h = o(d, h)
	}
	mux.HandleFunc(e.Pattern, d.onlyDeclaredQuery(e, h))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		WriteProblem(w, http.StatusNotFound, "route_not_found", "No such route.")
	})
	return withSecurityHeaders(withAnswerReserve(mux))
}
