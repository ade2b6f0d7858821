package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/teamusers/usersapi/internal/metrics"
	"github.com/teamusers/usersapi/internal/users"
)

// The message tags every outbox email carries to SES. SES returns them in
// its events' mail.tags, so a bounce finds its email and member without an
// index on SES's message id.
const (
	TagEmailID  = "emailId"
	TagTeamID   = "teamId"
	TagMemberID = "memberId"
	TagKind     = "kind"
)

// Tags are the message tags of an outbox email. SES allows ASCII letters,
// digits, '_' and '-' in tag values; our ids and kinds are made of those,
// and a value that is not is left out rather than fail the send.
func Tags(e users.Email) map[string]string {
	out := map[string]string{}
	for name, v := range map[string]string{TagEmailID: e.ID, TagTeamID: e.TeamID, TagMemberID: e.MemberID, TagKind: e.Kind} {
		if validTag(v) {
			out[name] = v
		}
	}
	return out
}

func validTag(v string) bool {
	if v == "" || len(v) > 256 {
		return false
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// SESEvent is the detail of an SES event-publishing record, as the
// configuration set's EventBridge destination delivers it (detail-type
// "Email Bounced" or "Email Complaint Received", source "aws.ses").
type SESEvent struct {
	EventType string `json:"eventType"` // Bounce, Complaint, …
	Mail      struct {
		Timestamp   time.Time           `json:"timestamp"`
		MessageID   string              `json:"messageId"`
		Destination []string            `json:"destination"`
		Tags        map[string][]string `json:"tags"`
	} `json:"mail"`
	Bounce *struct {
		BounceType        string `json:"bounceType"`    // Permanent, Transient, Undetermined
		BounceSubType     string `json:"bounceSubType"` // General, NoEmail, Suppressed, OnAccountSuppressionList, MailboxFull, …
		BouncedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
		Timestamp time.Time `json:"timestamp"`
	} `json:"bounce,omitempty"`
	Complaint *struct {
		ComplainedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
		ComplaintFeedbackType string    `json:"complaintFeedbackType"`
		Timestamp             time.Time `json:"timestamp"`
	} `json:"complaint,omitempty"`
}

func (e SESEvent) tag(name string) string {
	if v := e.Mail.Tags[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// EventStore is what the event handler needs of the table.
type EventStore interface {
	RecordEmailEvent(ctx context.Context, teamID, memberID, emailID string, ev users.EmailState, replace []string) (bool, *users.EmailState, error)
}

// ErrNotSettled means the event is about an email whose send is not
// recorded yet: the handler fails so the event is delivered again (Lambda's
// asynchronous retries; the local simulator retries the same way), rather
// than have the "sent" record overwrite the bounce.
var ErrNotSettled = errors.New("the email's send is not recorded yet")

// settled are the states a bounce or complaint may replace: the email was
// handed to SES ("uncertain" may have been), or an earlier event arrived.
var settled = []string{users.EmailSent, users.EmailUncertain, users.EmailBounced, users.EmailComplained}

// Events records SES's bounces and complaints on the members they concern.
// The EmailEventsFunction serves it behind EventBridge; locally the mailbox
// simulator calls it with the same events.
type Events struct {
	Store   EventStore
	Log     *slog.Logger
	Metrics *metrics.Emitter // bounces and complaints by kind; nil: none
}

// NewEvents builds the handler of SES's bounce and complaint events;
// EmailEventsFunction and the local stack use it.
func NewEvents(store EventStore, log *slog.Logger, m *metrics.Emitter) *Events {
	return &Events{Store: store, Log: log, Metrics: m}
}

// Handle takes one EventBridge event. An event for an email this stack did
// not send, for a member since removed, or for an email that is no longer
// the member's last is done with; only an email whose send is not recorded
// yet, or a store failure, is an error (and retried).
func (h *Events) Handle(ctx context.Context, ev events.CloudWatchEvent) error {
	var se SESEvent
	if err := json.Unmarshal(ev.Detail, &se); err != nil {
		h.Log.WarnContext(ctx, "unreadable SES event ignored", "id", ev.ID, "error", err.Error())
		return nil
	}
	state, reason, at := outcome(se)
	emailID, teamID, memberID := se.tag(TagEmailID), se.tag(TagTeamID), se.tag(TagMemberID)
	if state == "" || emailID == "" || teamID == "" || memberID == "" {
		h.Log.InfoContext(ctx, "SES event ignored", "type", se.EventType, "messageId", se.Mail.MessageID, "email", emailID)
		return nil
	}
	if at.IsZero() {
		at = ev.Time
	}
	changed, current, err := h.Store.RecordEmailEvent(ctx, teamID, memberID, emailID, users.EmailState{State: state, Reason: reason, At: at}, settled)
	switch {
	case err != nil:
		return err
	case changed:
		h.Log.InfoContext(ctx, "email "+state, "email", emailID, "member", memberID, "reason", reason)
		if state == users.EmailBounced {
			h.Metrics.Count(metrics.EmailsBounced, 1)
		} else {
			h.Metrics.Count(metrics.EmailsComplained, 1)
		}
		return nil
	case current != nil && current.ID == emailID && !slices.Contains(settled, current.State):
		return fmt.Errorf("%s for email %s (state %s): %w", state, emailID, current.State, ErrNotSettled)
	}
	h.Log.InfoContext(ctx, "SES event for an email that is no longer the member's last", "email", emailID, "member", memberID)
	return nil
}

// outcome turns an SES event into the email's new state and a reason an
// admin can read; "" for events that change nothing.
func outcome(e SESEvent) (state, reason string, at time.Time) {
	switch {
	case e.EventType == "Bounce" && e.Bounce != nil:
		b := e.Bounce
		reason = bounceReasons[b.BounceType+"/"+b.BounceSubType]
		if reason == "" {
			reason = bounceReasons[b.BounceType+"/General"]
		}
		if reason == "" {
			reason = "the recipient's mail server did not accept it"
		}
		if len(b.BouncedRecipients) > 0 && b.BouncedRecipients[0].Status != "" {
			reason += " (" + b.BouncedRecipients[0].Status + ")"
		}
		return users.EmailBounced, reason, b.Timestamp
	case e.EventType == "Complaint" && e.Complaint != nil:
		return users.EmailComplained, "the recipient marked it as spam", e.Complaint.Timestamp
	}
	return "", "", time.Time{}
}

// bounceReasons say in words what SES's bounce types mean.
var bounceReasons = map[string]string{
	"Permanent/General":                  "the recipient's mail server refused the address (permanent bounce)",
	"Permanent/NoEmail":                  "the address does not exist",
	"Permanent/Suppressed":               "not sent: the address is on SES's suppression list after earlier bounces",
	"Permanent/OnAccountSuppressionList": "not sent: the address is on this account's suppression list",
	"Transient/General":                  "the recipient's mail server did not accept it, even after retries",
	"Transient/MailboxFull":              "the recipient's mailbox is full",
	"Transient/MessageTooLarge":          "the message was too large for the recipient's mail server",
	"Transient/ContentRejected":          "the recipient's mail server rejected its content",
	"Transient/AttachmentRejected":       "the recipient's mail server rejected its attachment",
	"Undetermined/General":               "the recipient's mail server did not accept it (undetermined bounce)",
}
