package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/teamusers/usersapi/internal/report"
	"github.com/teamusers/usersapi/internal/roster"
	"github.com/teamusers/usersapi/internal/users"
)

// Store is what the handlers need of the table.
type Store interface {
	Access(ctx context.Context, teamID, email string) (users.Team, users.Membership, error)
	GetMember(ctx context.Context, teamID, memberID string) (users.Member, error)
	ListMembers(ctx context.Context, team users.Team, q users.ListQuery, after string) ([]users.Member, string, error)
	Memberships(ctx context.Context, email string) ([]users.Membership, error)
	Teams(ctx context.Context, ids []string) (map[string]users.Team, error)
}

// Reports is what the CSV tools need of the table.
type Reports interface {
	report.Source
	MemberIDsByEmail(ctx context.Context, teamID string, emails []string) (map[string]string, error)
	QueueEmail(ctx context.Context, e users.Email) error
}

// Deps is everything a handler is built from, once per cold start.
type Deps struct {
	Store   Store
	Roster  *roster.Service
	Jobs    *roster.Jobs
	Reports Reports
	Idem    Idempotency
	Cursors *Cursors
	Log     *slog.Logger
	Now     func() time.Time
}

// Endpoint is one route of the HTTP API and the function that serves it.
// The template's HttpApi events, this table and the OpenAPI document must
// name the same routes; a test proves it.
type Endpoint struct {
	Function string // logical id of the function in template.yaml
	Pattern  string // net/http pattern: "METHOD /path/{param}"
	Public   bool   // no JWT authorizer on this route
	build    func(Deps) http.HandlerFunc
}

// Endpoints is the route table.
var Endpoints = []Endpoint{
	{Function: "GetSummaryFunction", Pattern: "GET /v1/teams/{teamId}/summary", build: getSummary},
	{Function: "ListMembersFunction", Pattern: "GET /v1/teams/{teamId}/members", build: listMembers},
	{Function: "GetMemberFunction", Pattern: "GET /v1/teams/{teamId}/members/{memberId}", build: getMember},
	{Function: "InviteFunction", Pattern: "POST /v1/teams/{teamId}/invitations", build: invite},
	{Function: "ResendAllInvitesFunction", Pattern: "POST /v1/teams/{teamId}/invitations/resend", build: teamJob(users.JobResendInvites)},
	{Function: "GetJobFunction", Pattern: "GET /v1/teams/{teamId}/jobs/{jobId}", build: getJob},
	{Function: "SendAllInstructionsFunction", Pattern: "POST /v1/teams/{teamId}/instructions", build: teamJob(users.JobSendInstructions)},
	{Function: "BulkFunction", Pattern: "POST /v1/teams/{teamId}/members/bulk", build: bulk},
	{Function: "ChangeRoleFunction", Pattern: "PATCH /v1/teams/{teamId}/members/{memberId}", build: changeRole},
	{Function: "RemoveMemberFunction", Pattern: "DELETE /v1/teams/{teamId}/members/{memberId}", build: removeMember},
	{Function: "ResendInviteFunction", Pattern: "POST /v1/teams/{teamId}/members/{memberId}/resend-invite", build: resendInvite},
	{Function: "SendInstructionsFunction", Pattern: "POST /v1/teams/{teamId}/members/{memberId}/send-instructions", build: sendInstructions},
	{Function: "AcceptInvitationFunction", Pattern: "POST /v1/invitations/accept", Public: true, build: accept},
	{Function: "RecordSignInFunction", Pattern: "POST /v1/me/sign-ins", build: func(d Deps) http.HandlerFunc { return appActivity(d, true) }},
	{Function: "CsvSelectionFunction", Pattern: "POST /v1/teams/{teamId}/members/csv-selection", build: csvSelection},
	{Function: "UsageReportFunction", Pattern: "POST /v1/teams/{teamId}/usage-report", build: usageReport},
	{Function: "EmailUsageReportFunction", Pattern: "POST /v1/teams/{teamId}/usage-report/email", build: emailUsageReport},
	{Function: "GetMeFunction", Pattern: "GET /v1/me", build: getMe},
	{Function: "RecordCallFunction", Pattern: "POST /v1/me/calls", build: func(d Deps) http.HandlerFunc { return appActivity(d, false) }},
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

// Handler builds the endpoint's handler: its own route on a mux (so path
// values work exactly as in the gateway) and a problem+json 404/405 for
// anything else.
func (e Endpoint) Handler(d Deps) http.Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	mux := http.NewServeMux()
	h := e.build(d)
	if strings.HasPrefix(e.Pattern, "POST ") {
		h = d.idempotent(h)
	}
	mux.HandleFunc(e.Pattern, h)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		WriteProblem(w, http.StatusNotFound, "route_not_found", "No such route.")
	})
	return withAnswerReserve(mux)
}
