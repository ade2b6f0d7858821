package users

import (
	"context"
	"time"
)

// The audit log: who did what to whom, when, from which request, and with
// what result. An entry is written in the same transaction as the change
// it records, so there is no change without its entry and no entry
// without its change.

// Actor kinds: who made a change.
const (
	ActorAdmin   = "admin"   // an admin of the team, through the portal or the API
	ActorMember  = "member"  // a member, through the desktop app
	ActorInvitee = "invitee" // whoever holds an invitation link
	ActorSystem  = "system"  // the stack on its own (the nightly job)
	ActorBilling = "billing" // the billing system's provisioning calls
	ActorSCIM    = "scim"    // an identity provider through a SCIM token; Name is the token's name
)

// Audit actions.
const (
	AuditInvite           = "invite"
	AuditResendInvite     = "resend_invite"
	AuditSendInstructions = "send_instructions"
	AuditChangeRole       = "change_role"
	AuditRemove           = "remove"
	AuditAccept           = "accept"
	AuditJoin             = "join"   // an invitee joined by signing in to the app
	AuditExpire           = "expire" // the nightly job flagged an invitation expired
	AuditArchive          = "archive"
	AuditDownloadReport   = "download_report"
	AuditEmailReport      = "email_report"
	AuditCreateTeam       = "create_team"
	AuditUpdateTeam       = "update_team"
	AuditDeactivate       = "deactivate"
	AuditReactivate       = "reactivate"
	AuditProvision        = "provision"      // an identity provider added a member (SCIM)
	AuditUpdateProfile    = "update_profile" // an identity provider changed what it keeps on a member (SCIM)
	AuditCreateSCIMToken  = "create_scim_token"
	AuditRevokeSCIMToken  = "revoke_scim_token"
)

// AuditActions are every action, for validating a filter.
var AuditActions = []string{AuditInvite, AuditResendInvite, AuditSendInstructions, AuditChangeRole, AuditRemove, AuditAccept,
	AuditJoin, AuditExpire, AuditArchive, AuditDownloadReport, AuditEmailReport, AuditCreateTeam, AuditUpdateTeam,
	AuditDeactivate, AuditReactivate, AuditProvision, AuditUpdateProfile, AuditCreateSCIMToken, AuditRevokeSCIMToken}

// Actor is who made a change.
type Actor struct {
	Kind  string
	Email string // an admin's, a member's; empty for the system and billing
	Role  Role   // an admin's or member's role when they acted
	Name  string // a name for actors without an address ("nightly", "billing")
}

// AuditRequest is where a change came from.
type AuditRequest struct {
	ID       string // the API's request id
	SourceIP string
	Via      string // "bulk", "job:<id>": the change was one of many
}

// AuditEntry is one line of a team's audit log.
type AuditEntry struct {
	ID          string
	TeamID      string
	At          time.Time
	Actor       Actor
	Action      string
	TargetID    string // the member the change concerns, if any
	TargetEmail string
	Detail      map[string]string // e.g. the role before and after
	Request     AuditRequest
	Result      string // "done": an entry records a change that happened
}

type auditKey struct{}

type auditContext struct {
	actor   Actor
	request AuditRequest
}

// WithAudit says who acts, from which request, for the changes made with ctx.
func WithAudit(ctx context.Context, a Actor, r AuditRequest) context.Context {
	return context.WithValue(ctx, auditKey{}, auditContext{actor: a, request: r})
}

// WithVia marks the changes made with ctx as part of a bulk action or job.
func WithVia(ctx context.Context, via string) context.Context {
	a, r := AuditFrom(ctx)
	r.Via = via
	return WithAudit(ctx, a, r)
}

// AuditFrom is who acts with ctx; without WithAudit, the system.
func AuditFrom(ctx context.Context) (Actor, AuditRequest) {
	if c, ok := ctx.Value(auditKey{}).(auditContext); ok {
		return c.actor, c.request
	}
	return Actor{Kind: ActorSystem}, AuditRequest{}
}

// NewAuditEntry is the entry for a change made with ctx at at.
func NewAuditEntry(ctx context.Context, teamID, action string, at time.Time) AuditEntry {
	a, r := AuditFrom(ctx)
	return AuditEntry{ID: NewID("a"), TeamID: teamID, At: at, Actor: a, Action: action, Request: r, Result: "done"}
}

// AuditQuery is a validated read of a team's audit log.
type AuditQuery struct {
	Actor    string // an actor's email
	Action   string
	TargetID string
	From, To time.Time // inclusive; zero: open
	Limit    int
	After    string // where the previous page ended
}
