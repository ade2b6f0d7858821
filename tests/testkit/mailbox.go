package testkit

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Mail is one email as the local SES (aws-ses-v2-local) keeps it, read at
// GET /store.
type Mail struct {
	MessageID   string   `json:"messageId"`
	From        string   `json:"from"`
	ReplyTo     []string `json:"replyTo"`
	Destination struct {
		To []string `json:"to"`
	} `json:"destination"`
	Subject string `json:"subject"`
	Body    struct {
		Text string `json:"text"`
		HTML string `json:"html"`
	} `json:"body"`
	// Headers are the custom headers of a Simple message.
	Headers []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"headers"`
}

// Header is the value of a custom header ("" when absent).
func (m Mail) Header(name string) string {
	for _, h := range m.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// Mailbox is the local SES's store of sent mail at an endpoint.
type Mailbox string

// All is every email the local SES has taken, oldest first.
func (b Mailbox) All(t testing.TB) []Mail {
	t.Helper()
	resp, err := http.Get(string(b) + "/store")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var store struct {
		Emails []Mail `json:"emails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
		t.Fatal(err)
	}
	return store.Emails
}

// To is what the local SES has delivered to addr (any case), oldest first.
func (b Mailbox) To(t testing.TB, addr string) []Mail {
	t.Helper()
	var out []Mail
	for _, m := range b.All(t) {
		for _, to := range m.Destination.To {
			if strings.EqualFold(to, addr) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// TokenInLink finds an invitation token in an accept link.
var TokenInLink = regexp.MustCompile(`[?&]token=([A-Za-z0-9_-]+)`)

// WaitForToken is the invitation token of the nth email (from 1) to addr
// that carries one, waiting up to 30 s for it.
func (b Mailbox) WaitForToken(t testing.TB, addr string, n int) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var found []string
		for _, m := range b.To(t, addr) {
			if tok := TokenInLink.FindStringSubmatch(m.Body.Text); tok != nil {
				found = append(found, tok[1])
			}
		}
		if len(found) >= n {
			return found[n-1]
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no invitation email %d to %s", n, addr)
	return ""
}
