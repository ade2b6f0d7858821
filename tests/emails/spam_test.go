package emails

import (
	"bytes"
	"fmt"
	"mime"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/emails"
	"github.com/teamusers/usersapi/internal/emails/samples"
)

// Every email kind, as a spam filter reads it: SpamAssassin (Debian's
// package, `make deps` installs it) with its local tests only (-L: no
// network lookups), on each kind rendered from the samples, for an
// ordinary team and for one named to look like phishing. Each must score
// 0: nothing in our markup or headers counts against it. The message is
// what SES sends: our MIME, with the Message-ID SES adds to every message.
func TestEveryEmailScoresZeroWithSpamAssassin(t *testing.T) {
	bin, err := exec.LookPath("spamassassin")
	if err != nil {
		t.Fatal("spamassassin is missing: `make deps` installs Debian's package (apt-get install spamassassin)")
	}
	var mbox bytes.Buffer
	phishy := "PayPal Security <security@paypal.com>"
	want := map[string]bool{} // subject → from the phishing-named team
	for _, p := range []samples.People{samples.Default, {Team: phishy, Admin: samples.Default.Admin, Member: samples.Default.Member}} {
		ss, err := samples.Render(p, emails.DefaultBrand)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range ss {
			from := emails.FormatAddress(s.Message.FromName, "no-reply@krisp.ai")
			raw, err := emails.RawMIME(from, s.Message)
			if err != nil {
				t.Fatalf("%s: %v", s.Name, err)
			}
			mid := fmt.Sprintf("Message-ID: <0100019%010d-%d@email.amazonses.com>\r\n", i, len(want))
			fmt.Fprintf(&mbox, "From no-reply@krisp.ai %s\n", time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC).Format(time.ANSIC))
			mbox.Write(bytes.ReplaceAll(append([]byte(mid), raw...), []byte("\r\n"), []byte("\n")))
			mbox.WriteString("\n")
			want[s.Message.Subject] = p.Team == phishy
		}
	}
	cmd := exec.Command(bin, "-L", "--mbox", "-t")
	cmd.Stdin = &mbox
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("spamassassin: %v", err)
	}
	// It answers in its own order: each message by its subject.
	status := regexp.MustCompile(`(?m)^X-Spam-Status: \w+, score=(-?[0-9.]+) required=[0-9.]+ tests=([^\n]*(?:\n\t[^\n]*)*)`)
	subject := regexp.MustCompile(`(?m)^Subject: (.*(?:\n[ \t].*)*)`)
	seen := 0
	for _, msg := range strings.Split(string(out), "\nFrom no-reply@krisp.ai ")[0:] {
		st, sj := status.FindStringSubmatch(msg), subject.FindStringSubmatch(msg)
		if st == nil || sj == nil {
			continue
		}
		subj, err := new(mime.WordDecoder).DecodeHeader(strings.Join(strings.Fields(sj[1]), " "))
		if err != nil {
			t.Fatal(err)
		}
		phishyTeam, ok := want[subj]
		if !ok {
			t.Errorf("a subject that was not sent: %q", subj)
			continue
		}
		seen++
		score, _ := strconv.ParseFloat(st[1], 64)
		tests := strings.Join(strings.Fields(st[2]), " ")
		switch {
		case !phishyTeam && score > 0:
			t.Errorf("%q scores %.1f: %s", subj, score, tests)
		case phishyTeam && (score >= 0.5 || strings.Contains(tests, "PHISH") || strings.Contains(tests, "FROM")):
			// A team may be named like a bank; its name then shows in the
			// subject, but never as an address in From.
			t.Errorf("%q scores %.1f: %s", subj, score, tests)
		}
	}
	if seen != len(want) {
		t.Fatalf("%d scores for %d emails:\n%s", seen, len(want), out)
	}
}
