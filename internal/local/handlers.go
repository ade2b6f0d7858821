package local

import (
	"net/http"

	"github.com/teamusers/usersapi/internal/httpapi"
)

// Handlers maps every HTTP function to its handler constructor, so the
// local gateway serves each route with the very handler the function's
// main builds. Only the local stack links them all; a deployed function
// links its own (TestRoutesAgree checks that each main calls the
// constructor named here).
var Handlers = map[string]func(httpapi.Deps) http.Handler{
	"GetSummaryFunction":          httpapi.GetSummary,
	"ListMembersFunction":         httpapi.ListMembers,
	"GetMemberFunction":           httpapi.GetMember,
	"InviteFunction":              httpapi.Invite,
	"ResendAllInvitesFunction":    httpapi.ResendAllInvites,
	"GetJobFunction":              httpapi.GetJob,
	"SendAllInstructionsFunction": httpapi.SendAllInstructions,
	"BulkFunction":                httpapi.Bulk,
	"ChangeRoleFunction":          httpapi.ChangeRole,
	"RemoveMemberFunction":        httpapi.RemoveMember,
	"ResendInviteFunction":        httpapi.ResendInvite,
	"SendInstructionsFunction":    httpapi.SendInstructions,
	"AcceptInvitationFunction":    httpapi.AcceptInvitation,
	"RecordSignInFunction":        httpapi.RecordSignIn,
	"CsvSelectionFunction":        httpapi.CsvSelection,
	"UsageReportFunction":         httpapi.UsageReport,
	"EmailUsageReportFunction":    httpapi.EmailUsageReport,
	"GetMeFunction":               httpapi.GetMe,
	"RecordCallFunction":          httpapi.RecordCall,
	"AuditLogFunction":            httpapi.AuditLog,
	"DeactivateMemberFunction":    httpapi.DeactivateMember,
	"ReactivateMemberFunction":    httpapi.ReactivateMember,
	"CreateScimTokenFunction":     httpapi.CreateScimToken,
	"ListScimTokensFunction":      httpapi.ListScimTokens,
	"RevokeScimTokenFunction":     httpapi.RevokeScimToken,
	"ScimDiscoveryFunction":       httpapi.ScimDiscovery,
	"ScimReadUsersFunction":       httpapi.ScimReadUsers,
	"ScimWriteUsersFunction":      httpapi.ScimWriteUsers,
}
