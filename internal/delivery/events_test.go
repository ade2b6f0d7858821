package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/teamusers/usersapi/internal/users"
)

// fakeEvents is an EventStore with one function field.
type fakeEvents struct {
	record func(teamID, memberID, emailID string, ev users.EmailState, replace []string) (bool, *users.EmailState, error)
}

func (f fakeEvents) RecordEmailEvent(ctx context.Context, teamID, memberID, emailID string, ev users.EmailState, replace []string) (bool, *users.EmailState, error) {
	return f.record(teamID, memberID, emailID, ev, replace)
}

func sampleEvent(t *testing.T) events.CloudWatchEvent {
	t.Helper()
	b, err := os.ReadFile("../../functions/emailevents/event.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.CloudWatchEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// The function's sample event is what SES publishes: it reaches the member
// its tags name, as a bounce with a reason.
func TestEventsRecordTheSampleBounce(t *testing.T) {
	var got string
	h := &Events{Log: slog.New(slog.DiscardHandler), Store: fakeEvents{record: func(teamID, memberID, emailID string, ev users.EmailState, replace []string) (bool, *users.EmailState, error) {
		got = strings.Join([]string{teamID, memberID, emailID, ev.State, ev.Reason, ev.At.Format("15:04:05.000")}, "|")
		return true, nil, nil
	}}}
	if err := h.Handle(context.Background(), sampleEvent(t)); err != nil {
		t.Fatal(err)
	}
	if want := "t_demo|m_demo|e_demo|bounced|the recipient's mail server refused the address (permanent bounce) (5.1.1)|10:00:02.500"; got != want {
		t.Fatalf("recorded %q, want %q", got, want)
	}
}

func TestEventsRetryOnlyWhatIsNotSettled(t *testing.T) {
	ev := sampleEvent(t)
	for name, c := range map[string]struct {
		current *users.EmailState
		retry   bool
	}{
		"send not recorded yet":     {&users.EmailState{ID: "e_demo", State: users.EmailSending}, true},
		"still queued":              {&users.EmailState{ID: "e_demo", State: users.EmailQueued}, true},
		"a newer email is the last": {&users.EmailState{ID: "e_newer", State: users.EmailQueued}, false},
		"member removed":            {nil, false},
	} {
		h := &Events{Log: slog.New(slog.DiscardHandler), Store: fakeEvents{record: func(string, string, string, users.EmailState, []string) (bool, *users.EmailState, error) {
			return false, c.current, nil
		}}}
		err := h.Handle(context.Background(), ev)
		if errors.Is(err, ErrNotSettled) != c.retry {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Events about emails this stack did not tag, or of other types, change nothing.
	calls := 0
	h := &Events{Log: slog.New(slog.DiscardHandler), Store: fakeEvents{record: func(string, string, string, users.EmailState, []string) (bool, *users.EmailState, error) {
		calls++
		return true, nil, nil
	}}}
	for _, detail := range []string{
		`{"eventType":"Bounce","bounce":{"bounceType":"Permanent"},"mail":{"tags":{"ses:configuration-set":["x"]}}}`,
		`{"eventType":"Delivery","mail":{"tags":{"emailId":["e_1"],"teamId":["t_1"],"memberId":["m_1"]}}}`,
		`not json`,
	} {
		if err := h.Handle(context.Background(), events.CloudWatchEvent{Detail: json.RawMessage(detail)}); err != nil || calls != 0 {
			t.Errorf("%s: %v, %d writes", detail, err, calls)
		}
	}
	complaint := `{"eventType":"Complaint","complaint":{"complaintFeedbackType":"abuse","timestamp":"2026-11-29T10:00:00Z","complainedRecipients":[{"emailAddress":"a@b.example"}]},"mail":{"tags":{"emailId":["e_1"],"teamId":["t_1"],"memberId":["m_1"]}}}`
	h.Store = fakeEvents{record: func(_, _, _ string, ev users.EmailState, _ []string) (bool, *users.EmailState, error) {
		if ev.State != users.EmailComplained || ev.Reason != "the recipient marked it as spam" {
			t.Errorf("complaint recorded as %+v", ev)
		}
		return true, nil, nil
	}}
	if err := h.Handle(context.Background(), events.CloudWatchEvent{Detail: json.RawMessage(complaint)}); err != nil {
		t.Fatal(err)
	}
}

func TestTagsAreWhatSESAccepts(t *testing.T) {
	tags := Tags(users.Email{ID: "e_abc", TeamID: "t_x", MemberID: "", Kind: "usage_report"})
	if len(tags) != 3 || tags[TagEmailID] != "e_abc" || tags[TagKind] != "usage_report" {
		t.Fatalf("tags %v", tags)
	}
	if tags := Tags(users.Email{ID: "e a", TeamID: "t_x"}); tags[TagEmailID] != "" {
		t.Fatalf("a value SES refuses was kept: %v", tags)
	}
}
