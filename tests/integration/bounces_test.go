package integration

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/teamusers/usersapi/internal/delivery"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/users"
)

type deliveryView struct {
	ID           string `json:"id"`
	Email        string `json:"email"`
	EmailProblem string `json:"emailProblem"`
	LastEmail    *struct {
		Kind, State, Reason string
		At                  *string
	} `json:"lastEmail"`
}

// waitForEmailState polls member information until the last email reaches
// state (SES's events arrive after the send, as in AWS).
func waitForEmailState(t *testing.T, team, tok, id, state string) deliveryView {
	t.Helper()
	var m deliveryView
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		call(t, "GET", "/v1/teams/"+team+"/members/"+id, tok, nil).JSON(t, &m)
		if m.LastEmail != nil && m.LastEmail.State == state {
			return m
		}
	}
	t.Fatalf("member %s: last email %+v, want state %s", id, m.LastEmail, state)
	return m
}

// SES's mailbox simulator addresses answer as they do in AWS: a bounce and a
// complaint come back through the configuration set's events to the same
// handler, and the member shows them.
func TestBouncesAndComplaintsShowOnTheMember(t *testing.T) {
	team := newTeam(t, "pro", 10, "owner@bounce.example")
	owner := token(t, "owner@bounce.example", local.TokenOptions{})
	res := invite(t, team, owner, "bounce@simulator.amazonses.com", "complaint+team@simulator.amazonses.com", "success@simulator.amazonses.com")
	for _, r := range res.Results {
		if r.Result != "invited" {
			t.Fatalf("simulator addresses are ordinary addresses: %+v", res)
		}
	}
	bounced, complained, fine := res.Results[0].MemberID, res.Results[1].MemberID, res.Results[2].MemberID

	m := waitForEmailState(t, team, owner, bounced, "bounced")
	if m.EmailProblem != "bounced" || m.LastEmail.Kind != "invitation" || !strings.Contains(m.LastEmail.Reason, "refused the address") || m.LastEmail.At == nil {
		t.Fatalf("bounced member: %+v %+v", m, m.LastEmail)
	}
	m = waitForEmailState(t, team, owner, complained, "complained")
	if m.EmailProblem != "complained" || m.LastEmail.Reason != "the recipient marked it as spam" {
		t.Fatalf("complained member: %+v %+v", m, m.LastEmail)
	}
	m = waitForEmailState(t, team, owner, fine, "sent")
	settle(t)
	for !stack.Simulator.Idle() {
		time.Sleep(20 * time.Millisecond)
	}
	call(t, "GET", "/v1/teams/"+team+"/members/"+fine, owner, nil).JSON(t, &m)
	if m.EmailProblem != "" || m.LastEmail.State != "sent" {
		t.Fatalf("a delivered email shows a problem: %+v %+v", m, m.LastEmail)
	}

	// The list's rows say so too, so the portal can flag a mistyped address.
	var p struct{ Members []deliveryView }
	call(t, "GET", "/v1/teams/"+team+"/members?"+url.Values{"status": {"invitation_sent"}}.Encode(), owner, nil).JSON(t, &p)
	problems := map[string]string{}
	for _, r := range p.Members {
		problems[r.ID] = r.EmailProblem
	}
	if len(p.Members) != 3 || problems[bounced] != "bounced" || problems[complained] != "complained" || problems[fine] != "" {
		t.Fatalf("rows: %+v", p.Members)
	}

	// A late copy of the first bounce does not touch a newer email: resend,
	// and replay the old event while the new one is the last.
	before, err := stack.Store.GetMember(context.Background(), team, bounced)
	if err != nil || before.LastEmail == nil {
		t.Fatal(err)
	}
	pastCooldown()
	if r := call(t, "POST", "/v1/teams/"+team+"/members/"+bounced+"/resend-invite", owner, nil); r.Status != 202 {
		t.Fatalf("resend: %d %s", r.Status, r.Body)
	}
	after, _ := stack.Store.GetMember(context.Background(), team, bounced)
	if after.LastEmail.ID == before.LastEmail.ID || after.EmailProblem() != "" {
		t.Fatalf("a resend starts a new last email: %+v", after.LastEmail)
	}
	changed, current, err := stack.Store.RecordEmailEvent(context.Background(), team, bounced, before.LastEmail.ID,
		users.EmailState{State: users.EmailBounced, Reason: "late", At: time.Now()}, []string{users.EmailSent, users.EmailQueued, users.EmailSending, users.EmailBounced})
	if err != nil || changed || current == nil || current.ID != after.LastEmail.ID {
		t.Fatalf("a stale bounce was recorded on the newer email: %v %v %+v", err, changed, current)
	}
	stale, _ := json.Marshal(map[string]any{"eventType": "Bounce",
		"bounce": map[string]any{"bounceType": "Permanent", "bounceSubType": "General", "timestamp": time.Now().UTC()},
		"mail":   map[string]any{"tags": map[string][]string{"emailId": {before.LastEmail.ID}, "teamId": {team}, "memberId": {bounced}}}})
	if err := delivery.NewEvents(stack.Store, stack.Log, nil).Handle(context.Background(), events.CloudWatchEvent{Detail: stale}); err != nil {
		t.Fatalf("a stale event is done with, not retried: %v", err)
	}
	if now, _ := stack.Store.GetMember(context.Background(), team, bounced); now.LastEmail.ID != after.LastEmail.ID || now.LastEmail.Reason == "late" {
		t.Fatalf("the stale bounce reached the newer email: %+v", now.LastEmail)
	}
	// And the new invitation bounces in its turn.
	waitForEmailState(t, team, owner, bounced, "bounced")
}
