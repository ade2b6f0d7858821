package delivery

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/teamusers/usersapi/internal/emails"
	"github.com/teamusers/usersapi/internal/report"

	"github.com/teamusers/usersapi/internal/keyring"
	"github.com/teamusers/usersapi/internal/metrics"
	"github.com/teamusers/usersapi/internal/users"
)

// Sender sends one message.
type Sender interface {
	Send(ctx context.Context, m emails.Message) (string, error)
}

// Outbox is what the deliverer needs of the table.
type Outbox interface {
	ClaimEmail(ctx context.Context, id string, lease time.Duration) (users.OutboxEmail, bool, error)
	ReleaseEmail(ctx context.Context, e users.OutboxEmail) error
	FinishEmail(ctx context.Context, e users.OutboxEmail, state, messageID, reason string) error
}

// Pacer spaces sends to stay within the account's maximum send rate.
type Pacer interface {
	Wait(ctx context.Context) error
}

// Deliverer sends the outbox's emails. The same value serves the Lambda
// behind the table's stream and, locally, the stream poller.
type Deliverer struct {
	Outbox  Outbox
	Sender  Sender
	Links   emails.Links
	Brand   emails.Brand // the product's name, logo, accent colour and sender name
	Tokens  *keyring.Sealer
	Log     *slog.Logger
	Pacer   Pacer
	Lease   time.Duration // how long a claim holds; longer than one send with its retries
	Retries int           // in-process retries of a transient failure
	// Reports renders the emails that carry a report, from current data.
	Reports func(ctx context.Context, e users.Email) (emails.Message, error)
	Metrics *metrics.Emitter // emails sent, failed, uncertain, retried by kind; nil: none
}

// Settings are the deliverer's configuration.
type Settings struct {
	From string // the verified sender
	// ConfigurationSet names the SES configuration set whose event
	// destination publishes bounces and complaints (empty: none).
	ConfigurationSet string
	Links            emails.Links // where the emails point
	Brand            emails.Brand // how they look and whom they say they are from
	SendRate         float64      // the account's maximum send rate, emails a second, shared by every instance through the table
}

// NewDeliverer builds the outbox deliverer of DeliverEmailFunction and
// the local stack: the outbox and the usage it reports from (the table),
// the pacer shared by every instance (the table's send slots at
// Settings.SendRate) and an SES v2 client.
func NewDeliverer(outbox Outbox, usage report.Source, pacer Pacer, ses SESClient, s Settings, keys *keyring.Keyring, log *slog.Logger, m *metrics.Emitter) *Deliverer {
	return &Deliverer{
		Outbox: outbox, Sender: SES{Client: ses, From: s.From, ConfigurationSet: s.ConfigurationSet}, Links: s.Links, Brand: s.Brand,
		Tokens: keys.Sealer("invitation-token"), Log: log, Metrics: m,
		Pacer: pacer, Lease: 2 * time.Minute, Retries: 4,
		Reports: func(ctx context.Context, e users.Email) (emails.Message, error) {
			return emails.ReportEmail(ctx, usage, e, s.Links, s.Brand)
		},
	}
}

// Deliver sends one outbox email at most once. It returns an error only
// when the email should be tried again later.
//
// Each send is one SES request with no SDK retry (the client is built with
// SESOptions): SES may take a message and the answer be lost, and a retry
// would then send it again. An answer that says SES did not take it
// (throttled, 5xx, no connection) is retried here, after a pause; an
// outcome we cannot know (a timeout or a dropped connection after the
// request went out) is recorded as uncertain and never sent again.
func (d *Deliverer) Deliver(ctx context.Context, id string) error {
	// The send slot comes first, so the lease covers the send and not the
	// wait for the rate (a duplicate stream record then wastes a slot,
	// which only slows us down).
	if err := d.Pacer.Wait(ctx); err != nil {
		return err
	}
	e, claimed, err := d.Outbox.ClaimEmail(ctx, id, d.Lease)
	if err != nil || !claimed {
		return err
	}
	kind := metrics.Dim{Name: "Kind", Value: e.Kind}
	release := func(cause error) error {
		d.Metrics.Count(metrics.EmailsRetried, 1, kind)
		return errors.Join(cause, d.Outbox.ReleaseEmail(context.WithoutCancel(ctx), e))
	}
	token := ""
	if sealed := e.Data["sealedToken"]; sealed != "" {
		token, err = d.Tokens.OpenContext(ctx, sealed)
		if errors.Is(err, keyring.ErrUnknownKey) { // a newer version of the secret than this function holds yet
			d.Log.WarnContext(ctx, "email waits: its token was sealed under a version of the secret not held yet", "emailId", id)
			return release(err)
		}
		if err != nil {
			d.Log.ErrorContext(ctx, "email failed: the invitation token could not be opened", "emailId", id, "kind", e.Kind, "memberId", e.MemberID)
			d.Metrics.Count(metrics.EmailsFailed, 1, kind)
			return d.Outbox.FinishEmail(ctx, e, users.EmailFailed, "", "the invitation token could not be read")
		}
	}
	var msg emails.Message
	if e.Kind == users.EmailUsageReport && d.Reports != nil {
		msg, err = d.Reports(ctx, e.Email)
		if de, ok := users.AsError(err); err != nil && (!ok || de.Kind == users.KindInternal || de.Kind == users.KindUnavailable) {
			return release(err) // retry later
		}
	} else {
		msg, err = emails.Render(e.Email, token, d.Links, d.Brand)
	}
	if err != nil {
		d.Log.ErrorContext(ctx, "email failed: it could not be rendered", "emailId", id, "kind", e.Kind, "memberId", e.MemberID, "error", err.Error())
		d.Metrics.Count(metrics.EmailsFailed, 1, kind)
		return d.Outbox.FinishEmail(ctx, e, users.EmailFailed, "", "the email could not be rendered")
	}
	msg.Tags = Tags(e.Email)
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := d.Pacer.Wait(ctx); err != nil {
				return release(err)
			}
		}
		msgID, err := d.Sender.Send(ctx, msg)
		switch {
		case err == nil:
			d.Log.InfoContext(ctx, "email sent", "emailId", id, "kind", e.Kind, "memberId", e.MemberID, "teamId", e.TeamID, "messageId", msgID)
			d.Metrics.Count(metrics.EmailsSent, 1, kind)
			return d.Outbox.FinishEmail(ctx, e, users.EmailSent, msgID, "")
		case errors.Is(err, ErrPermanent):
			d.Log.WarnContext(ctx, "email refused", "emailId", id, "kind", e.Kind, "memberId", e.MemberID, "teamId", e.TeamID, "error", err.Error())
			d.Metrics.Count(metrics.EmailsFailed, 1, kind)
			return d.Outbox.FinishEmail(ctx, e, users.EmailFailed, "", "the mail service refused the message")
		case errors.Is(err, ErrTransient) && attempt < d.Retries:
			if err := sleep(ctx, time.Duration(1<<attempt)*100*time.Millisecond); err != nil {
				return release(err)
			}
		case errors.Is(err, ErrTransient):
			return release(err)
		default: // the request may have reached SES: never risk a second copy
			d.Log.ErrorContext(ctx, "email outcome unknown", "emailId", id, "kind", e.Kind, "memberId", e.MemberID, "teamId", e.TeamID, "error", err.Error())
			d.Metrics.Count(metrics.EmailsUncertain, 1, kind)
			return d.Outbox.FinishEmail(context.WithoutCancel(ctx), e, users.EmailUncertain, "", "the mail service did not confirm; resend if it did not arrive")
		}
	}
}

// LocalPacer spaces the sends of one process. It holds the rate only when
// one process sends; RatePacer holds it across processes.
type LocalPacer struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
}

// NewLocalPacer allows perSecond sends a second.
func NewLocalPacer(perSecond float64) *LocalPacer {
	return &LocalPacer{interval: time.Duration(float64(time.Second) / perSecond)}
}

// Wait blocks until the next send may go.
func (p *LocalPacer) Wait(ctx context.Context) error {
	p.mu.Lock()
	now := time.Now()
	if p.next.Before(now) {
		p.next = now
	}
	at := p.next
	p.next = p.next.Add(p.interval)
	p.mu.Unlock()
	return sleep(ctx, time.Until(at))
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
