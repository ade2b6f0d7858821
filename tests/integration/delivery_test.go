package integration

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/teamusers/usersapi/internal/delivery"
	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/emails"
	"github.com/teamusers/usersapi/internal/keyring"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/users"
)

// crashAfterSend sends for real, then kills the worker before it can record
// the outcome: the crash the outbox must survive without a second email.
type crashAfterSend struct{ real delivery.Sender }

func (c crashAfterSend) Send(ctx context.Context, m emails.Message) (string, error) {
	if _, err := c.real.Send(ctx, m); err != nil {
		return "", err
	}
	runtime.Goexit()
	return "", nil
}

// scripted fails as told, then sends for real; it counts its calls.
type scripted struct {
	real  delivery.Sender
	fails []error
	calls atomic.Int32
}

func (s *scripted) Send(ctx context.Context, m emails.Message) (string, error) {
	n := int(s.calls.Add(1)) - 1
	if n < len(s.fails) {
		return "", s.fails[n]
	}
	return s.real.Send(ctx, m)
}

// A table of its own, with no stream poller on it: the test is the worker.
func deliveryFixture(t *testing.T) (*dynamo.Store, func(sender delivery.Sender, lease time.Duration) *delivery.Deliverer, func(addr string) users.Email) {
	t.Helper()
	ctx := context.Background()
	db := local.NewDynamoDB(stack.Services.DynamoDBEndpoint)
	if err := local.EnsureTable(ctx, db, stack.Template, "Table", "delivery-test"); err != nil {
		t.Fatal(err)
	}
	store := dynamo.New(db, "delivery-test")
	n := 5
	team, err := provisioningOn(store, &n)
	if err != nil {
		t.Fatal(err)
	}
	sealer := keyring.NewSealer(stack.Config.Secret, "invitation-token")
	ses := delivery.SES{Client: delivery.NewSESClient(local.AWSConfig(), stack.Services.SESEndpoint), From: "no-reply@usersapi.local"}
	newDeliverer := func(sender delivery.Sender, lease time.Duration) *delivery.Deliverer {
		d := delivery.NewDeliverer(store, store, store.SendSlots("ses", stack.MailSettings().SendRate), nil, stack.MailSettings(), keyring.New(stack.Config.Secret), stack.Log, nil)
		d.Sender, d.Lease = sender, lease
		if sender == nil {
			d.Sender = ses
		}
		return d
	}
	inviteOne := func(addr string) users.Email {
		now := time.Now()
		m := users.Member{ID: users.NewID("m"), TeamID: team, Email: addr, Role: users.RoleUser, Status: users.StatusInvitationSent,
			InvitedAt: now, InvitationSentAt: now, InvitationExpiresAt: now.Add(time.Hour), TokenHash: users.HashToken(users.NewID("tok"))}
		e := users.Email{ID: users.NewID("e"), Kind: users.EmailInvitation, To: addr, TeamID: team, MemberID: m.ID,
			Data: map[string]string{"role": "user", "sealedToken": sealer.Seal("tok")}}
		users.QueueEmail(&m, e, now)
		res, err := store.AddMembers(ctx, team, []users.NewMember{users.Admit(m, &e)})
		if err != nil || res[0] != nil {
			t.Fatal(err, res)
		}
		return e
	}
	return store, newDeliverer, inviteOne
}

func TestDeliveryNeverSendsTwiceEvenAfterACrash(t *testing.T) {
	ctx := context.Background()
	store, newDeliverer, inviteOne := deliveryFixture(t)
	e := inviteOne("crash@delivery.example")

	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = newDeliverer(crashAfterSend{real: newDeliverer(nil, 0).Sender}, time.Minute).Deliver(ctx, e.ID)
	}()
	<-done
	if n := len(mailTo(t, "crash@delivery.example")); n != 1 {
		t.Fatalf("%d emails after the crash", n)
	}
	// The retry while the dead worker's lease still holds waits its turn...
	retry := newDeliverer(nil, time.Minute)
	if err := retry.Deliver(ctx, e.ID); !errors.Is(err, users.ErrLeased) {
		t.Fatalf("retry within the lease: %v", err)
	}
	// ...and after it (a clock past the lease: a short real lease would lapse
	// early on a slow or faulty stack), records that the outcome is unknown
	// instead of sending again.
	retry.Outbox = store.WithClock(func() time.Time { return time.Now().Add(2 * time.Minute) })
	if err := retry.Deliver(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	if err := retry.Deliver(ctx, e.ID); err != nil { // a duplicate stream record
		t.Fatal(err)
	}
	if n := len(mailTo(t, "crash@delivery.example")); n != 1 {
		t.Fatalf("%d emails after the retries", n)
	}
	m, _ := store.GetMember(ctx, e.TeamID, e.MemberID)
	if m.LastEmail == nil || m.LastEmail.State != users.EmailUncertain || m.LastEmail.Reason == "" {
		t.Fatalf("member's last email: %+v", m.LastEmail)
	}
}

func TestDeliveryRetriesTransientAndRecordsPermanentFailures(t *testing.T) {
	ctx := context.Background()
	store, newDeliverer, inviteOne := deliveryFixture(t)

	flaky := inviteOne("flaky@delivery.example")
	s := &scripted{real: newDeliverer(nil, 0).Sender, fails: []error{delivery.ErrTransient, delivery.ErrTransient}}
	if err := newDeliverer(s, time.Minute).Deliver(ctx, flaky.ID); err != nil {
		t.Fatal(err)
	}
	if s.calls.Load() != 3 || len(mailTo(t, "flaky@delivery.example")) != 1 {
		t.Fatalf("%d attempts, %d emails", s.calls.Load(), len(mailTo(t, "flaky@delivery.example")))
	}
	m, _ := store.GetMember(ctx, flaky.TeamID, flaky.MemberID)
	if m.LastEmail.State != users.EmailSent {
		t.Fatalf("flaky: %+v", m.LastEmail)
	}

	// Throttled past the in-process retries: back to the queue, retried later by the stream.
	busy := inviteOne("busy@delivery.example")
	d := newDeliverer(&scripted{fails: []error{delivery.ErrTransient, delivery.ErrTransient, delivery.ErrTransient, delivery.ErrTransient, delivery.ErrTransient}}, time.Minute)
	d.Retries = 2
	resp, _ := dynamo.EmailStream(d.Deliver, d.Log)(ctx, streamEvent(busy.ID))
	if len(resp.BatchItemFailures) != 1 {
		t.Fatalf("a throttled email was not reported for retry: %+v", resp)
	}
	if err := newDeliverer(nil, time.Minute).Deliver(ctx, busy.ID); err != nil || len(mailTo(t, "busy@delivery.example")) != 1 {
		t.Fatalf("the retry did not send: %v", err)
	}

	refused := inviteOne("refused@delivery.example")
	p := &scripted{fails: []error{errors.Join(delivery.ErrPermanent, errors.New("MessageRejected"))}}
	if err := newDeliverer(p, time.Minute).Deliver(ctx, refused.ID); err != nil {
		t.Fatal(err)
	}
	if err := newDeliverer(p, time.Minute).Deliver(ctx, refused.ID); err != nil {
		t.Fatal(err)
	}
	m, _ = store.GetMember(ctx, refused.TeamID, refused.MemberID)
	if p.calls.Load() != 1 || m.LastEmail.State != users.EmailFailed || m.LastEmail.Reason == "" {
		t.Fatalf("refused: %d sends, %+v", p.calls.Load(), m.LastEmail)
	}
}

func streamEvent(emailID string) events.DynamoDBEvent {
	return events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{{EventName: "INSERT", Change: events.DynamoDBStreamRecord{
		SequenceNumber: "1", Keys: map[string]events.DynamoDBAttributeValue{"PK": events.NewStringAttribute("EMAIL#" + emailID), "SK": events.NewStringAttribute("EMAIL")}}}}}
}

// A removal deletes the member in the transaction that queues its notice:
// the email carries what it needs (address, team's name, who acted), is
// sent once, and finishing it does not fail (nor bring the member back)
// because there is no member to record it on.
func TestANoticeIsDeliveredAfterItsMemberIsGone(t *testing.T) {
	ctx := context.Background()
	store, newDeliverer, inviteOne := deliveryFixture(t)
	inv := inviteOne("gone@delivery.example")
	if err := newDeliverer(nil, time.Minute).Deliver(ctx, inv.ID); err != nil {
		t.Fatal(err)
	}
	notices := &users.Notices{TeamID: inv.TeamID, TeamName: "Delivery Co", Settings: users.DefaultTeamSettings, By: "boss@delivery.example", ByMemberID: "m_boss", Now: time.Now()}
	var queued *users.Email
	remove := users.Remove(users.Membership{TeamID: inv.TeamID, MemberID: "m_boss", Role: users.RoleAdmin}, notices)
	if _, _, err := store.UpdateMember(ctx, inv.TeamID, inv.MemberID, func(m *users.Member) (users.Change, error) {
		ch, err := remove(m)
		queued = ch.Email
		return ch, err
	}); err != nil || queued == nil {
		t.Fatalf("remove: %v %+v", err, queued)
	}
	if _, err := store.GetMember(ctx, inv.TeamID, inv.MemberID); err != users.ErrMemberNotFound {
		t.Fatalf("the member is still there: %v", err)
	}
	d := newDeliverer(nil, time.Minute)
	for range 2 { // and a duplicate stream record
		if err := d.Deliver(ctx, queued.ID); err != nil {
			t.Fatalf("deliver the notice: %v", err)
		}
	}
	got := mailTo(t, "gone@delivery.example")
	if len(got) != 2 || got[1].Subject != "Your invitation to join Delivery Co on Krisp was withdrawn" || !strings.Contains(got[1].Body.Text, "boss@delivery.example withdrew the invitation") {
		t.Fatalf("emails: %+v", got)
	}
	if e, claimed, err := store.ClaimEmail(ctx, queued.ID, time.Minute); err != nil || claimed || e.State != users.EmailSent {
		t.Fatalf("the notice's state: %+v %v %v", e, claimed, err)
	}
	if _, err := store.GetMember(ctx, inv.TeamID, inv.MemberID); err != users.ErrMemberNotFound {
		t.Fatalf("finishing brought the member back: %v", err)
	}
}
