package emails_test

import (
	"bytes"
	"context"
	"html"
	"io"
	"mime"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/teamusers/usersapi/internal/delivery"
	. "github.com/teamusers/usersapi/internal/emails"
	"github.com/teamusers/usersapi/internal/emails/samples"
	"github.com/teamusers/usersapi/internal/report"
	"github.com/teamusers/usersapi/internal/users"
)

// Names and addresses that try to become markup or headers. The team's
// name is free text (billing gives it); addresses pass users.CheckEmail
// before they reach an email, so a hostile one is tried where it could
// still arrive (an inviter's address carried in an old outbox email) and
// must then be dropped, never used.
var (
	hostileTeams = []string{
		`<script>alert(1)</script>`,
		`"Acme" <evil@x>`,
		"Acme\r\nBcc: victim@evil.example\r\nSubject: pwned",
		"Acme\nReply-To: evil@x",
		"Ac\u2028me\u0085 <img src=x onerror=alert(1)> \u202eevil",
		`Zoë's "Café" \ & Co <b>`,
	}
	hostileAddresses = []string{
		"dana@acme.example\r\nBcc: victim@evil.example",
		`"Dana" <dana@acme.example>`,
		"dana@acme.example, evil@x.example",
		`"><script>alert(1)</script>@evil.example`,
		"dana@acme.example\nX-Injected: 1",
	}
)

const sender = "no-reply@acme.example"

// Every kind, with ordinary and hostile team names: one button whose link
// is written out, the team's name, the footer, a preheader, a text part
// that reads alone; nothing hostile becomes markup; every header value is
// one line and From is always our address.
func TestEveryEmailOfTheFamily(t *testing.T) {
	people := []samples.People{samples.Default}
	for _, team := range hostileTeams {
		people = append(people, samples.People{Team: team, Admin: "o'brien+admin@acme.example", Member: "sam.lee@acme.example"})
	}
	kinds := map[string]bool{}
	for _, p := range people {
		all, err := samples.Render(p, DefaultBrand)
		if err != nil {
			t.Fatalf("team %q: %v", p.Team, err)
		}
		for _, s := range all {
			kinds[s.Kind] = true
			checkEmail(t, p, s)
		}
	}
	for _, k := range []string{users.EmailInvitation, users.EmailInstructions, users.EmailUsageReport, users.EmailRoleChanged,
		users.EmailRemoved, users.EmailInvitationRevoked, users.EmailDeactivated} {
		if !kinds[k] {
			t.Errorf("no sample of kind %s", k)
		}
	}
}

var ctaRe = regexp.MustCompile(`<a class="cta" href="([^"]*)"`)

func checkEmail(t *testing.T, p samples.People, s samples.Sample) {
	t.Helper()
	m := s.Message
	where := s.Name + " for team " + strconv.Quote(p.Team)
	team := p.Team
	clean := strings.Join(strings.FieldsFunc(team, func(r rune) bool { return unicode.IsSpace(r) || r < 0x20 || r == 0x85 || r == 0x2028 || r == 0x202e }), " ")

	// One button, its link written out in both parts.
	ctas := ctaRe.FindAllStringSubmatch(m.HTML, -1)
	if len(ctas) != 1 {
		t.Fatalf("%s: %d buttons", where, len(ctas))
	}
	href := html.UnescapeString(ctas[0][1])
	written := strings.TrimPrefix(href, "mailto:")
	if !strings.HasPrefix(href, "https://") && !strings.HasPrefix(href, "mailto:") {
		t.Errorf("%s: the button goes to %q", where, href)
	}
	if strings.Count(html.UnescapeString(m.HTML), written) < 2 || !strings.Contains(m.Text, written) {
		t.Errorf("%s: the button's target %s is not written out", where, written)
	}
	// The team's name: escaped in the HTML, as it is in the text, in the subject and From.
	if !strings.Contains(m.HTML, html.EscapeString(team)) && !strings.Contains(m.HTML, html.EscapeString(clean)) {
		t.Errorf("%s: the HTML does not name the team", where)
	}
	if !strings.Contains(m.Text, strings.Fields(clean)[0]) || !strings.Contains(m.Subject+m.Text, strings.Fields(clean)[0]) {
		t.Errorf("%s: the text or subject does not name the team: %q", where, m.Subject)
	}
	if !strings.Contains(m.FromName, " via "+DefaultBrand.Product) {
		t.Errorf("%s: From's name %q", where, m.FromName)
	}
	// Nothing hostile is markup.
	for _, bad := range []string{"<script", "<img", "<b>", `"Acme"`, "onerror=alert(1)>"} {
		if strings.Contains(m.HTML, bad) {
			t.Errorf("%s: the HTML has %q", where, bad)
		}
	}
	// The footer, the preheader, a text part.
	if !strings.Contains(m.HTML, `id="footer"`) || !strings.Contains(m.HTML, "You received this email because") ||
		!strings.Contains(m.Text, "\n-- \nSent by "+DefaultBrand.Product) || !strings.Contains(m.Text, "You received this email because") {
		t.Errorf("%s: no footer", where)
	}
	if !strings.Contains(m.HTML, "mso-hide:all") {
		t.Errorf("%s: no preheader", where)
	}
	if len(m.Text) < 200 || strings.Contains(m.Text, "<p") || strings.Contains(m.Text, "<td") || strings.Contains(m.Text, "&amp;") || strings.Contains(m.Text, "{{") {
		t.Errorf("%s: the text part does not read alone:\n%s", where, m.Text)
	}
	// Headers: one line each; From is ours, whatever the name says.
	checkHeaders(t, where, m)
}

// checkHeaders sends the message through the SES sender (both content
// types) and reads back what SES would be given.
func checkHeaders(t *testing.T, where string, m Message) {
	t.Helper()
	for _, v := range []string{m.Subject, m.FromName, m.ReplyTo, m.To} {
		if strings.ContainsAny(v, "\r\n\u2028\u0085") {
			t.Errorf("%s: a header value has a line break: %q", where, v)
		}
	}
	for _, withAttachment := range []bool{false, true} {
		msg := m
		if withAttachment {
			msg.Attachments = []Attachment{{Name: `usage "x"\r\n.csv`, ContentType: "text/csv; charset=utf-8", Data: []byte("a,b\r\n")}}
		}
		var got *sesv2.SendEmailInput
		ses := delivery.SES{Client: sesFunc(func(in *sesv2.SendEmailInput) { got = in }), From: "Ops <" + sender + ">"}
		if _, err := ses.Send(context.Background(), msg); err != nil {
			t.Fatalf("%s: send: %v", where, err)
		}
		from := aws.ToString(got.FromEmailAddress)
		checkFrom(t, where, from, m.FromName)
		if !slices.Equal(got.Destination.ToAddresses, []string{m.To}) || len(got.Destination.CcAddresses)+len(got.Destination.BccAddresses) != 0 {
			t.Errorf("%s: destination %+v", where, got.Destination)
		}
		if !withAttachment {
			if h := got.Content.Simple.Headers; len(h) != 1 || aws.ToString(h[0].Name) != "Auto-Submitted" || aws.ToString(h[0].Value) != "auto-generated" {
				t.Errorf("%s: headers %+v, want Auto-Submitted: auto-generated alone", where, h)
			}
			if s := aws.ToString(got.Content.Simple.Subject.Data); s != m.Subject {
				t.Errorf("%s: subject %q, want %q", where, s, m.Subject)
			}
			if want := []string(nil); m.ReplyTo != "" {
				want = []string{m.ReplyTo}
				if !slices.Equal(got.ReplyToAddresses, want) {
					t.Errorf("%s: Reply-To %v", where, got.ReplyToAddresses)
				}
			} else if len(got.ReplyToAddresses) != 0 {
				t.Errorf("%s: Reply-To %v", where, got.ReplyToAddresses)
			}
			continue
		}
		checkRaw(t, where, got.Content.Raw.Data, m)
	}
}

func checkFrom(t *testing.T, where, from, name string) {
	t.Helper()
	list, err := mail.ParseAddressList(from)
	if err != nil || len(list) != 1 || list[0].Address != sender {
		t.Errorf("%s: From %q reads as %v (%v)", where, from, list, err)
		return
	}
	if strings.ContainsAny(from, "\r\n") || !strings.Contains(list[0].Name, " via ") || strings.ContainsAny(list[0].Name, `"<>\`) {
		t.Errorf("%s: From %q has the name %q", where, from, list[0].Name)
	}
}

// checkRaw reads the raw MIME message as a mail program would: exactly our
// headers, each once, and the values we meant.
func checkRaw(t *testing.T, where string, raw []byte, m Message) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: raw message: %v", where, err)
	}
	want := []string{"Auto-Submitted", "Content-Type", "Date", "From", "Mime-Version", "Subject", "To"}
	if m.ReplyTo != "" {
		want = append(want, "Reply-To")
	}
	var got []string
	for k, v := range msg.Header {
		got = append(got, k)
		if len(v) != 1 {
			t.Errorf("%s: %s appears %d times", where, k, len(v))
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: raw headers %v, want %v", where, got, want)
	}
	checkFrom(t, where, msg.Header.Get("From"), m.FromName)
	if to, err := mail.ParseAddressList(msg.Header.Get("To")); err != nil || len(to) != 1 || to[0].Address != m.To {
		t.Errorf("%s: To %q", where, msg.Header.Get("To"))
	}
	if subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil || subject != m.Subject {
		t.Errorf("%s: raw subject %q (%v), want %q", where, subject, err, m.Subject)
	}
	if r := msg.Header.Get("Reply-To"); r != m.ReplyTo {
		t.Errorf("%s: raw Reply-To %q, want %q", where, r, m.ReplyTo)
	}
	if a := msg.Header.Get("Auto-Submitted"); a != "auto-generated" {
		t.Errorf("%s: raw Auto-Submitted %q", where, a)
	}
	if _, err := io.Copy(io.Discard, msg.Body); err != nil {
		t.Error(err)
	}
}

type sesFunc func(*sesv2.SendEmailInput)

func (f sesFunc) SendEmail(_ context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f(in)
	return &sesv2.SendEmailOutput{MessageId: aws.String("m-1")}, nil
}

// The invitation names the team and the inviter in its subject and first
// line, has one button, and replies go to the inviter. A resend says that
// it replaces the earlier link.
func TestTheInvitationNamesTeamAndInviter(t *testing.T) {
	all, err := samples.Render(samples.Default, DefaultBrand)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all[:2] {
		m := s.Message
		first := strings.SplitN(m.Text, "\n\n", 3)[1]
		for _, part := range []string{m.Subject, first} {
			if !strings.Contains(part, "Acme Inc") || !strings.Contains(part, samples.Default.Admin) {
				t.Errorf("%s: %q does not name the team and the inviter", s.Name, part)
			}
		}
		if m.ReplyTo != samples.Default.Admin || m.FromName != "Acme Inc via Krisp" || m.To != samples.Default.Member {
			t.Errorf("%s: %+v", s.Name, m)
		}
		if !strings.Contains(m.Text, "token="+samples.Token) || !strings.Contains(m.Text, "December 7, 2026 at 14:05 UTC") {
			t.Errorf("%s: no link or expiry in words:\n%s", s.Name, m.Text)
		}
		resend := s.Name == "invitation-resend"
		if says := strings.Contains(m.Text, "replaces the one sent earlier"); says != resend {
			t.Errorf("%s: says it replaces a link: %v", s.Name, says)
		}
	}
}

// An inviter's or admin's address that is not one plain address is never
// a Reply-To or a button; a recipient that is not one is refused.
func TestHostileAddressesAreDroppedOrRefused(t *testing.T) {
	for _, addr := range hostileAddresses {
		inv := users.Email{ID: "e_1", Kind: users.EmailInvitation, To: "sam@acme.example", TeamID: "t_1", MemberID: "m_1",
			Data: map[string]string{"teamName": "Acme", "invitedBy": addr, "role": "user", "expiresAt": "2026-12-07T14:05:00Z"}}
		m, err := Render(inv, samples.Token, samples.Links, DefaultBrand)
		if err != nil {
			t.Fatalf("%q: %v", addr, err)
		}
		if m.ReplyTo != "" || strings.Contains(m.HTML, "<script") || strings.ContainsAny(m.Subject, "\r\n") {
			t.Errorf("inviter %q: Reply-To %q, subject %q", addr, m.ReplyTo, m.Subject)
		}
		checkHeaders(t, "inviter "+strconv.Quote(addr), m)

		removed := users.Email{ID: "e_2", Kind: users.EmailRemoved, To: "sam@acme.example", TeamID: "t_1", MemberID: "m_1",
			Data: map[string]string{"teamName": "Acme", "by": addr, "contact": addr, "at": "2026-11-30T14:05:00Z"}}
		if _, err := Render(removed, "", samples.Links, DefaultBrand); err == nil {
			t.Errorf("a notice whose only contact is %q rendered", addr)
		}
		for _, kind := range []string{users.EmailInvitation, users.EmailInstructions, users.EmailRemoved} {
			e := inv
			e.Kind, e.To = kind, addr
			e.Data = map[string]string{"teamName": "Acme", "by": "dana@acme.example", "invitedBy": "dana@acme.example", "at": "2026-11-30T14:05:00Z"}
			if _, err := Render(e, samples.Token, samples.Links, DefaultBrand); err == nil {
				t.Errorf("%s to %q rendered", kind, addr)
			}
			if _, err := RawMIME(sender, Message{To: addr, Subject: "x", Text: "x", HTML: "x"}); err == nil {
				t.Errorf("raw message to %q", addr)
			}
			_, err := (delivery.SES{Client: sesFunc(func(*sesv2.SendEmailInput) { t.Errorf("sent to %q", addr) }), From: sender}).Send(context.Background(), Message{To: addr, Subject: "x"})
			if err == nil {
				t.Errorf("sent to %q", addr)
			}
		}
	}
}

// The brand is the template's parameters: name, logo, accent (with
// readable button text) and the sender's name.
func TestTheBrandIsAParameter(t *testing.T) {
	b := Brand{Product: "Orbit", LogoURL: "https://cdn.example.com/logo.png?v=1&x=2", Accent: "#ffd500", SenderName: "Orbit Team"}
	all, err := samples.Render(samples.Default, b)
	if err != nil {
		t.Fatal(err)
	}
	m := all[0].Message
	if !strings.Contains(m.HTML, `src="https://cdn.example.com/logo.png?v=1&amp;x=2" alt="Orbit"`) || !strings.Contains(m.HTML, "background-color:#ffd500") ||
		!strings.Contains(m.HTML, "color:#111111;text-decoration:none") || m.FromName != "Acme Inc via Orbit Team" || !strings.Contains(m.Subject, "on Orbit") {
		t.Fatalf("brand not applied: %q %q\n%s", m.FromName, m.Subject, m.HTML)
	}
	// Defaults where a value is missing or unusable.
	all, err = samples.Render(samples.Default, Brand{Accent: "red", LogoURL: "javascript:alert(1)"})
	if err != nil {
		t.Fatal(err)
	}
	m = all[0].Message
	if strings.Contains(m.HTML, "javascript:") || !strings.Contains(m.HTML, DefaultBrand.Accent) || m.FromName != "Acme Inc via Krisp" || !strings.Contains(m.HTML, "color:#ffffff;text-decoration:none") {
		t.Fatalf("defaults not applied: %q\n%s", m.FromName, m.HTML)
	}
}

// Words, not codes: labels, dates with the time and zone, the period, totals.
func TestWordsNotCodes(t *testing.T) {
	all, err := samples.Render(samples.Default, DefaultBrand)
	if err != nil {
		t.Fatal(err)
	}
	var report Message
	for _, s := range all {
		for _, code := range []string{"last_7_days", "invitation_sent", "pending_app_login", "signed_in_with_app", "role_changed", "T14:05:00Z"} {
			if strings.Contains(s.Message.Text, code) || strings.Contains(s.Message.HTML, code) {
				t.Errorf("%s shows the code %s", s.Name, code)
			}
		}
		if s.Kind == users.EmailUsageReport {
			report = s.Message
		}
	}
	for _, words := range []string{"Usage report for Acme Inc", "November 1, 2026", "November 30, 2026", "Last 7 days", "Admin · Active",
		"User · Invitation sent", "Signed in with app", "Nov 25, 2026 14:05", "Total", "1 selected member was removed", "Talk minutes"} {
		if !strings.Contains(report.HTML, html.EscapeString(words)) {
			t.Errorf("the report's HTML lacks %q", words)
		}
	}
	for _, words := range []string{"Members: 6 · Calls: 65 · Talk minutes: 1199.5", "Last call: Last 7 days (November 25, 2026 at 14:05 UTC)", "Total: 65 calls"} {
		if !strings.Contains(report.Text, words) {
			t.Errorf("the report's text lacks %q:\n%s", words, report.Text)
		}
	}
	if report.Subject != "Usage report for Acme Inc: Nov 1 – Nov 30, 2026" || report.ReplyTo != "" || report.To != samples.Default.Admin {
		t.Errorf("report: %q %q %q", report.Subject, report.ReplyTo, report.To)
	}
}

// Gmail clips an email whose HTML passes about 100 KB ("[Message
// clipped]", the footer hidden): the usage report of 1,000 members lists
// the first ones and stays well under it; the CSV has them all.
func TestTheUsageReportStaysUnderGmailsClip(t *testing.T) {
	rows := samples.Rows(samples.Default)
	for len(rows) < 1000 {
		rows = append(rows, rows[len(rows)%6])
	}
	e := users.Email{ID: "e_1", Kind: users.EmailUsageReport, To: "a@acme.example", TeamID: "t_1", Data: map[string]string{"teamName": "Acme Inc"}}
	p := report.Period{From: samples.At.AddDate(0, 0, -29), To: samples.At}
	one, err := UsageReport(e, rows[:1], 0, p, samples.Links, DefaultBrand)
	if err != nil {
		t.Fatal(err)
	}
	two, _ := UsageReport(e, rows[:2], 0, p, samples.Links, DefaultBrand)
	m, _ := UsageReport(e, rows, 0, p, samples.Links, DefaultBrand)
	t.Logf("HTML: %d bytes for one member, %d a row more, %d for 1,000 members", len(one.HTML), len(two.HTML)-len(one.HTML), len(m.HTML))
	if len(m.HTML) > 80_000 || !strings.Contains(m.HTML, "the first 50 of the 1000 members") || !strings.Contains(m.Text, "the first 50 of the 1000 members") ||
		!strings.Contains(m.HTML, "Total") || !strings.Contains(m.HTML, `id="footer"`) {
		t.Fatalf("a 1,000-member report's HTML is %d bytes", len(m.HTML))
	}
}
