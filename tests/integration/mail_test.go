package integration

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/teamusers/usersapi/tests/testkit"
)

type sentMail = testkit.Mail

// mailTo reads what the SES server has delivered to addr.
func mailTo(t *testing.T, addr string) []sentMail {
	t.Helper()
	return testkit.Mailbox(stack.Services.SESEndpoint).To(t, addr)
}

// waitForMail waits until addr has n emails and returns them.
func waitForMail(t *testing.T, addr string, n int) []sentMail {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := mailTo(t, addr)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d emails after 30 s, want %d", addr, len(got), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// settle waits until the stream poller has handled everything written so
// far, so that "no more email" can be asserted.
func settle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	idleSince := time.Time{}
	for time.Now().Before(deadline) {
		if stack.Poller.Idle() {
			if idleSince.IsZero() {
				idleSince = time.Now()
			} else if time.Since(idleSince) > 400*time.Millisecond { // a few polls with nothing new
				return
			}
		} else {
			idleSince = time.Time{}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the stream poller did not settle")
}

// tokenFrom finds the invitation token in an email's link, in both parts.
func tokenFrom(t *testing.T, m sentMail) string {
	t.Helper()
	text := testkit.TokenInLink.FindStringSubmatch(m.Body.Text)
	html := testkit.TokenInLink.FindStringSubmatch(strings.ReplaceAll(m.Body.HTML, "&amp;", "&"))
	if text == nil || html == nil || text[1] != html[1] {
		t.Fatalf("no single accept link with a token in %q / %q", m.Body.Text, m.Body.HTML)
	}
	if _, err := url.QueryUnescape(text[1]); err != nil {
		t.Fatal(err)
	}
	return text[1]
}
