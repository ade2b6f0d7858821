package users

import "errors"

// Email kinds and delivery states.
const (
	EmailInvitation   = "invitation"
	EmailInstructions = "instructions"
	EmailUsageReport  = "usage_report"

	EmailQueued    = "queued"
	EmailSending   = "sending"
	EmailSent      = "sent"
	EmailFailed    = "failed"
	EmailUncertain = "uncertain" // the send began but its outcome was never recorded: never sent twice
)

// Email is one message in the outbox.
type Email struct {
	ID       string
	Kind     string
	To       string
	TeamID   string
	MemberID string
	Data     map[string]string // what the template needs (accept token, inviter, …)
}

// OutboxEmail is an email as its deliverer sees it.
type OutboxEmail struct {
	Email
	State    string
	Attempts int
	Claim    string // the delivery that holds the lease, while State is sending
}

// ErrLeased means another delivery holds the email right now.
var ErrLeased = errors.New("email is being delivered by another worker")
