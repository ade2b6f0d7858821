// Package resend measures the "Resend invites" button on a team with
// 10,000 pending invitations: how fast the admin gets an answer, and the
// rate at which the emails then reach the mail server against the
// configured SES send rate.
package resend

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/teamusers/usersapi/bench/benchkit"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/users"
)

const (
	pending = 10_000
	// The configured SES maximum send rate. Locally each email costs about five
	// serialised moto requests, which caps delivery near 8 a second, so the
	// benchmark sets a rate below that to show delivery holds to it.
	sendRate = 5
)

func sesCount(endpoint string) int {
	resp, err := http.Get(endpoint + "/store")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var s struct{ Emails []json.RawMessage }
	_ = json.NewDecoder(resp.Body).Decode(&s)
	return len(s.Emails)
}

func BenchmarkResendInvites10k(b *testing.B) {
	policy := users.DefaultPolicy
	policy.Cooldown = 0
	ctx := context.Background()
	stack, teamID, stop, err := benchkit.Start(local.StackOptions{Policy: &policy, SendRate: sendRate}, pending+1, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	api := httptest.NewServer(stack.Gateway)
	defer api.Close()
	now := time.Now().Add(-time.Hour)
	ms := make([]users.Member, pending)
	for i := range ms {
		ms[i] = users.Member{ID: users.NewID("m"), TeamID: teamID, Email: fmt.Sprintf("p%05d@acme.example", i), Role: users.RoleUser,
			Status: users.StatusInvitationSent, InvitedAt: now, InvitationSentAt: now, InvitationExpiresAt: now.Add(7 * 24 * time.Hour)}
	}
	if err := stack.Store.ImportMembers(ctx, teamID, ms); err != nil {
		b.Fatal(err)
	}
	tok, _ := stack.Keys.Mint(benchkit.Owner, local.TokenOptions{})

	for b.Loop() {
		req, _ := http.NewRequest("POST", api.URL+"/v1/teams/"+teamID+"/invitations/resend", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusAccepted {
			b.Fatalf("resend: %v %v", err, resp)
		}
		resp.Body.Close()
		answered := time.Since(start)

		// Watch delivery for a while: the rate is what matters, not the whole run.
		first := time.Time{}
		window := 60 * time.Second
		deadline := time.Now().Add(10 * time.Minute)
		sent := 0
		for time.Now().Before(deadline) {
			sent = sesCount(stack.Services.SESEndpoint)
			if sent > 0 && first.IsZero() {
				first = time.Now()
			}
			if sent >= pending || (!first.IsZero() && time.Since(first) > window) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		elapsed := time.Since(first).Seconds()
		b.ReportMetric(float64(answered.Milliseconds()), "answer-ms")
		b.ReportMetric(float64(sent)/elapsed, "emails/s")
		b.ReportMetric(sendRate, "ses-max-rate")
		b.ReportMetric(float64(sent), "emails-in-window")
	}
}
