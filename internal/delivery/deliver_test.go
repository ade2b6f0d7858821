package delivery

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/emails"
	"github.com/teamusers/usersapi/internal/keyring"
	"github.com/teamusers/usersapi/internal/users"
)

// fakeOutbox records what the deliverer did to one email.
type fakeOutbox struct {
	email    users.OutboxEmail
	claimErr error
	released int
	finished []string
}

func (f *fakeOutbox) ClaimEmail(context.Context, string, time.Duration) (users.OutboxEmail, bool, error) {
	if f.claimErr != nil {
		return users.OutboxEmail{}, false, f.claimErr
	}
	return f.email, len(f.finished) == 0 && f.released == 0, nil
}
func (f *fakeOutbox) ReleaseEmail(context.Context, users.OutboxEmail) error { f.released++; return nil }
func (f *fakeOutbox) FinishEmail(_ context.Context, _ users.OutboxEmail, state, _, _ string) error {
	f.finished = append(f.finished, state)
	return nil
}

// fakeSender answers with the errors given, then succeeds.
type fakeSender struct {
	errs  []error
	calls int
}

func (f *fakeSender) Send(context.Context, emails.Message) (string, error) {
	f.calls++
	if f.calls <= len(f.errs) {
		return "", f.errs[f.calls-1]
	}
	return "msg-1", nil
}

type noPacer struct{ waits int }

func (p *noPacer) Wait(context.Context) error { p.waits++; return nil }

func deliverer(o Outbox, s Sender) *Deliverer {
	return &Deliverer{Outbox: o, Sender: s, Pacer: &noPacer{}, Retries: 2, Lease: time.Minute,
		Tokens: keyring.NewSealer([]byte("0123456789abcdef0123456789abcdef"), "t"), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Links: emails.Links{AcceptURL: "https://portal.example.com/accept", DownloadURL: "https://example.com/dl"}}
}

func instructions() users.OutboxEmail {
	return users.OutboxEmail{Email: users.Email{ID: "e_1", Kind: users.EmailInstructions, To: "a@example.com", TeamID: "t_a", MemberID: "m_a"}, State: users.EmailSending, Claim: "c"}
}

func TestAnUnknownOutcomeIsUncertainAndNeverSentAgain(t *testing.T) {
	o := &fakeOutbox{email: instructions()}
	s := &fakeSender{errs: []error{errors.Join(ErrUnknown, errors.New("connection reset after the request"))}}
	if err := deliverer(o, s).Deliver(context.Background(), "e_1"); err != nil {
		t.Fatal(err)
	}
	if s.calls != 1 || len(o.finished) != 1 || o.finished[0] != users.EmailUncertain {
		t.Fatalf("%d sends, finished %v", s.calls, o.finished)
	}
}

func TestTransientFailuresAreRetriedThenReleased(t *testing.T) {
	o := &fakeOutbox{email: instructions()}
	s := &fakeSender{errs: []error{ErrTransient, ErrTransient}}
	if err := deliverer(o, s).Deliver(context.Background(), "e_1"); err != nil {
		t.Fatal(err)
	}
	if s.calls != 3 || len(o.finished) != 1 || o.finished[0] != users.EmailSent {
		t.Fatalf("%d sends, finished %v", s.calls, o.finished)
	}
	o = &fakeOutbox{email: instructions()}
	s = &fakeSender{errs: []error{ErrTransient, ErrTransient, ErrTransient}}
	if err := deliverer(o, s).Deliver(context.Background(), "e_1"); err == nil {
		t.Fatal("a message SES never took was not reported for a retry")
	}
	if s.calls != 3 || o.released != 1 || len(o.finished) != 0 {
		t.Fatalf("%d sends, released %d, finished %v", s.calls, o.released, o.finished)
	}
}

func TestAnotherWorkersLeaseIsRetriedLater(t *testing.T) {
	o := &fakeOutbox{claimErr: users.ErrLeased}
	s := &fakeSender{}
	if err := deliverer(o, s).Deliver(context.Background(), "e_1"); !errors.Is(err, users.ErrLeased) || s.calls != 0 {
		t.Fatalf("%v, %d sends", err, s.calls)
	}
}
