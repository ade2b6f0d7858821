package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/teamusers/usersapi/internal/keyring"
	"github.com/teamusers/usersapi/internal/metrics"
	"github.com/teamusers/usersapi/internal/usecase"
	"github.com/teamusers/usersapi/internal/users"
)

// One constructor per function, named after its logical id without
// "Function". A function's main calls its own, so the function links that
// handler and nothing of the others'; the local gateway maps every
// function to its constructor (internal/local/handlers_gen.go, generated
// with the mains from the route table: internal/httpapi/gen).

// GetSummary serves GetSummaryFunction.
func GetSummary(d Deps) http.Handler { return serve(d, "GetSummaryFunction", getSummary) }

// ListMembers serves ListMembersFunction; its cursors are signed with the
// application secret.
func ListMembers(d Deps) http.Handler {
	d.needCursors("ListMembersFunction")
	return serve(d, "ListMembersFunction", listMembers)
}

// GetMember serves GetMemberFunction.
func GetMember(d Deps) http.Handler { return serve(d, "GetMemberFunction", getMember) }

// Invite serves InviteFunction; it seals the invitation tokens.
func Invite(d Deps) http.Handler {
	d.needTokens("InviteFunction")
	return serve(d, "InviteFunction", invite)
}

// ResendAllInvites serves ResendAllInvitesFunction (the job runs in TeamJobsFunction).
func ResendAllInvites(d Deps) http.Handler {
	return serve(d, "ResendAllInvitesFunction", teamJob(users.JobResendInvites))
}

// GetJob serves GetJobFunction.
func GetJob(d Deps) http.Handler { return serve(d, "GetJobFunction", getJob) }

// SendAllInstructions serves SendAllInstructionsFunction.
func SendAllInstructions(d Deps) http.Handler {
	return serve(d, "SendAllInstructionsFunction", teamJob(users.JobSendInstructions))
}

// Bulk serves BulkFunction; its resend_invite action seals tokens.
func Bulk(d Deps) http.Handler {
	d.needTokens("BulkFunction")
	return serve(d, "BulkFunction", bulk)
}

// ChangeRole serves ChangeRoleFunction.
func ChangeRole(d Deps) http.Handler { return serve(d, "ChangeRoleFunction", changeRole) }

// RemoveMember serves RemoveMemberFunction.
func RemoveMember(d Deps) http.Handler { return serve(d, "RemoveMemberFunction", removeMember) }

// ResendInvite serves ResendInviteFunction; it seals the new token.
func ResendInvite(d Deps) http.Handler {
	d.needTokens("ResendInviteFunction")
	return serve(d, "ResendInviteFunction", resendInvite)
}

// SendInstructions serves SendInstructionsFunction.
func SendInstructions(d Deps) http.Handler {
	return serve(d, "SendInstructionsFunction", sendInstructions)
}

// AcceptInvitation serves AcceptInvitationFunction (public: the token is the proof).
// Every attempt counts towards the source address's limit, before anything else runs.
func AcceptInvitation(d Deps) http.Handler {
	return serve(d, "AcceptInvitationFunction", accept, Deps.limitBySource)
}

// RecordSignIn serves RecordSignInFunction.
func RecordSignIn(d Deps) http.Handler {
	return serve(d, "RecordSignInFunction", func(d Deps) http.HandlerFunc { return appActivity(d, true) })
}

// GetMe serves GetMeFunction.
func GetMe(d Deps) http.Handler { return serve(d, "GetMeFunction", getMe) }

// RecordCall serves RecordCallFunction.
func RecordCall(d Deps) http.Handler {
	return serve(d, "RecordCallFunction", func(d Deps) http.HandlerFunc { return appActivity(d, false) })
}

// CsvSelection serves CsvSelectionFunction.
func CsvSelection(d Deps) http.Handler { return serve(d, "CsvSelectionFunction", csvSelection) }

// UsageReport serves UsageReportFunction.
func UsageReport(d Deps) http.Handler { return serve(d, "UsageReportFunction", usageReport) }

// EmailUsageReport serves EmailUsageReportFunction.
func EmailUsageReport(d Deps) http.Handler {
	return serve(d, "EmailUsageReportFunction", emailUsageReport)
}

// UpdateTeamSettings serves UpdateTeamSettingsFunction.
func UpdateTeamSettings(d Deps) http.Handler {
	return serve(d, "UpdateTeamSettingsFunction", updateTeamSettings)
}

// AuditLog serves AuditLogFunction.
func AuditLog(d Deps) http.Handler { return serve(d, "AuditLogFunction", getAuditLog) }

// DeactivateMember serves DeactivateMemberFunction.
func DeactivateMember(d Deps) http.Handler {
	return serve(d, "DeactivateMemberFunction", deactivateMember)
}

// ReactivateMember serves ReactivateMemberFunction.
func ReactivateMember(d Deps) http.Handler {
	return serve(d, "ReactivateMemberFunction", reactivateMember)
}

// CreateScimToken serves CreateScimTokenFunction.
func CreateScimToken(d Deps) http.Handler {
	return serve(d, "CreateScimTokenFunction", createSCIMToken)
}

// ListScimTokens serves ListScimTokensFunction.
func ListScimTokens(d Deps) http.Handler { return serve(d, "ListScimTokensFunction", listSCIMTokens) }

// RevokeScimToken serves RevokeScimTokenFunction.
func RevokeScimToken(d Deps) http.Handler {
	return serve(d, "RevokeScimTokenFunction", revokeSCIMToken)
}

// ScimDiscovery serves ScimDiscoveryFunction: the SCIM discovery
// documents, and SCIM's 404 and 405 everywhere else under /scim/v2.
func ScimDiscovery(d Deps) http.Handler { return serve(d, "ScimDiscoveryFunction", scimDiscovery) }

// ScimReadUsers serves ScimReadUsersFunction: GET /Users and /Users/{userId}.
func ScimReadUsers(d Deps) http.Handler { return serve(d, "ScimReadUsersFunction", scimReadUsers) }

// ScimWriteUsers serves ScimWriteUsersFunction: POST /Users, PUT, PATCH
// and DELETE /Users/{userId}.
func ScimWriteUsers(d Deps) http.Handler {
	return serve(d, "ScimWriteUsersFunction", scimWriteUsers)
}

// needTokens and needCursors stop a function at its cold start when its
// main did not load the application secret, rather than at its first request.
func (d Deps) needTokens(function string) {
	if d.Cases == nil || d.Cases.Tokens == nil {
		panic("httpapi: " + function + " seals invitation tokens: its main must load the application secret")
	}
}

func (d Deps) needCursors(function string) {
	if d.Cursors == nil {
		panic("httpapi: " + function + " signs list cursors: its main must load the application secret")
	}
}

// Backend is everything the handlers need of the table (the DynamoDB store).
type Backend interface {
	Store
	Reports
	Idempotency
	Quotas
	usecase.Store
	usecase.JobStore
	SCIMStore
}

// NewDeps builds the handlers' dependencies once per cold start; the local
// stack uses it too. keys is nil for a function that needs no secret.
func NewDeps(b Backend, keys *keyring.Keyring, policy users.Policy, log *slog.Logger, m *metrics.Emitter) Deps {
	svc := &usecase.Service{Store: b, Reads: b, Quotas: b, Policy: policy, Now: time.Now, Log: log, Metrics: m}
	d := Deps{Store: b, Cases: svc, Idem: b, Reports: b, Quotas: b, Limits: policy.Limits, Log: log, Now: time.Now, Metrics: m, SCIM: b}
	if keys != nil {
		svc.Tokens = keys.Sealer("invitation-token")
		d.Cursors = NewCursors(keys)
	}
	d.Jobs = usecase.NewJobs(*svc, b, log)
	d.Jobs.Metrics = m
	return d
}
