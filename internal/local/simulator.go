package local

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/teamusers/usersapi/internal/delivery"
	"github.com/teamusers/usersapi/internal/emails"
	"github.com/teamusers/usersapi/internal/users"
)

// ConfigurationSet is the local stand-in for the template's
// EmailConfigurationSet: every send names it, as in AWS.
const ConfigurationSet = "usersapi-local"

// simulatorDomain is SES's mailbox simulator. In AWS a message to
// bounce@ (or bounce+label@) comes back as a hard bounce, complaint@ as a
// complaint and suppressionlist@ as a bounce of an address on the
// suppression list, through the configuration set's event destination.
const simulatorDomain = "simulator.amazonses.com"

// MailboxSimulator stands in for SES's mailbox simulator, which
// aws-ses-v2-local does not have. It wraps the sender: after a message to a
// simulator address is sent, it builds the very EventBridge event SES would
// publish (detail-type, detail with mail.tags from the message's tags) and
// hands it to the same handler the EmailEventsFunction runs, retrying it as
// Lambda retries an asynchronous invocation that fails.
type MailboxSimulator struct {
	Next    delivery.Sender
	Publish func(ctx context.Context, ev events.CloudWatchEvent) error
	Log     *slog.Logger
	// Delay is how long after the send the event arrives (SES takes a
	// moment too); Retries and Backoff stand for Lambda's asynchronous
	// retries, compressed.
	Delay, Backoff time.Duration
	Retries        int

	mu      sync.Mutex
	pending int
}

// Send sends, then publishes the simulator's answer in the background.
func (s *MailboxSimulator) Send(ctx context.Context, m emails.Message) (string, error) {
	id, err := s.Next.Send(ctx, m)
	if err != nil {
		return id, err
	}
	if ev, ok := simulatedEvent(m, id, time.Now().UTC()); ok {
		s.mu.Lock()
		s.pending++
		s.mu.Unlock()
		go s.publish(ev)
	}
	return id, nil
}

// Idle reports whether every simulated event has been handled.
func (s *MailboxSimulator) Idle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending == 0
}

func (s *MailboxSimulator) publish(ev events.CloudWatchEvent) {
	defer func() {
		s.mu.Lock()
		s.pending--
		s.mu.Unlock()
	}()
	time.Sleep(s.Delay)
	wait := s.Backoff
	var err error
	for attempt := 0; attempt <= s.Retries; attempt++ {
		if err = s.Publish(context.Background(), ev); err == nil {
			return
		}
		time.Sleep(wait)
		wait *= 2
	}
	s.Log.Warn("simulated SES event not handled", "detailType", ev.DetailType, "error", err.Error())
}

// simulatedEvent is what SES publishes for a message to a simulator
// address, or false for any other recipient.
func simulatedEvent(m emails.Message, messageID string, now time.Time) (events.CloudWatchEvent, bool) {
	local, domain, ok := strings.Cut(strings.ToLower(m.To), "@")
	if !ok || domain != simulatorDomain {
		return events.CloudWatchEvent{}, false
	}
	local, _, _ = strings.Cut(local, "+") // bounce+label@ is bounce@
	tags := map[string][]string{
		"ses:configuration-set": {ConfigurationSet}, "ses:operation": {"SendEmail"},
		"ses:source-ip": {"127.0.0.1"}, "ses:from-domain": {"usersapi.local"}, "ses:caller-identity": {"local"},
	}
	for k, v := range m.Tags {
		tags[k] = []string{v}
	}
	at := now.Add(500 * time.Millisecond)
	detail := map[string]any{
		"mail": map[string]any{
			"timestamp": now.Format(time.RFC3339Nano), "source": "no-reply@usersapi.local", "sendingAccountId": "000000000000",
			"messageId": messageID, "destination": []string{m.To}, "headersTruncated": false, "tags": tags,
		},
	}
	var detailType string
	bounce := func(subType, status, diagnostic string) {
		detailType = "Email Bounced"
		detail["eventType"] = "Bounce"
		detail["bounce"] = map[string]any{
			"feedbackId": users.NewID("fb"), "bounceType": "Permanent", "bounceSubType": subType, "timestamp": at.Format(time.RFC3339Nano),
			"reportingMTA":      "dns; amazonses.com",
			"bouncedRecipients": []map[string]string{{"emailAddress": m.To, "action": "failed", "status": status, "diagnosticCode": diagnostic}},
		}
	}
	switch local {
	case "bounce":
		bounce("General", "5.1.1", "smtp; 550 5.1.1 user unknown")
	case "suppressionlist":
		bounce("Suppressed", "5.1.1", "Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address.")
	case "complaint":
		detailType = "Email Complaint Received"
		detail["eventType"] = "Complaint"
		detail["complaint"] = map[string]any{
			"feedbackId": users.NewID("fb"), "complaintFeedbackType": "abuse", "userAgent": "Amazon SES Mailbox Simulator",
			"timestamp": at.Format(time.RFC3339Nano), "complainedRecipients": []map[string]string{{"emailAddress": m.To}},
		}
	default: // success@, ooto@ and the rest: delivered; no event the stack listens to
		return events.CloudWatchEvent{}, false
	}
	b, _ := json.Marshal(detail)
	return events.CloudWatchEvent{
		Version: "0", ID: users.NewID("ev"), DetailType: detailType, Source: "aws.ses", AccountID: "000000000000",
		Time: at.Truncate(time.Second), Region: Region, Detail: b,
		Resources: []string{"arn:aws:ses:" + Region + ":000000000000:configuration-set/" + ConfigurationSet},
	}, true
}
