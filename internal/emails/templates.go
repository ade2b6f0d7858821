// Package emails is what an email says and how it looks: the design (one
// family, layout.go), the wording (templates.go, words.go), safe headers
// (headers.go), MIME for an attachment (mime.go) and the usage report's
// email (report.go). How an email gets out is internal/delivery's.
package emails

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/teamusers/usersapi/internal/users"
)

// Message is a rendered email.
type Message struct {
	To, Subject, Text, HTML string
	// FromName is the From display name ("Acme Inc via Krisp"); the
	// address is the sender's (Settings.From). ReplyTo, when set, is a
	// plain address (the admin who invited).
	FromName, ReplyTo string
	Attachments       []Attachment
	// Tags go to SES as message tags and come back in its delivery events
	// (mail.tags), which is how a bounce finds the outbox email and member.
	Tags map[string]string
}

// Attachment is a file sent with a message.
type Attachment struct {
	Name, ContentType string
	Data              []byte
}

// Brand is how the emails look and whom they say they are from: template
// parameters ProductName, LogoUrl, AccentColor and MailSenderName, through
// the deliverer's environment.
type Brand struct {
	Product    string // the product's name, in the header (or the logo's alt text) and the wording
	LogoURL    string // an https image about 32 px high; "" shows the product's name instead
	Accent     string // #rrggbb: the button, links and the name
	SenderName string // From's display name after "<team> via"; "" is the product's name
}

// DefaultBrand is the brand when the template's parameters keep their
// defaults: the product of the help article, no logo, an indigo accent
// with white button text at a contrast of 6.3:1.
var DefaultBrand = Brand{Product: "Krisp", Accent: "#4f46e5"}

func (b Brand) withDefaults() Brand {
	if strings.TrimSpace(b.Product) == "" {
		b.Product = DefaultBrand.Product
	}
	b.Product = headerText(b.Product, 40)
	if !ValidAccent(b.Accent) {
		b.Accent = DefaultBrand.Accent
	}
	if b.LogoURL != "" && !ValidLink(b.LogoURL) {
		b.LogoURL = ""
	}
	if strings.TrimSpace(b.SenderName) == "" {
		b.SenderName = b.Product
	}
	return b
}

// ValidAccent: #rrggbb.
func ValidAccent(s string) bool {
	if len(s) != 7 || s[0] != '#' {
		return false
	}
	for _, c := range s[1:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// ValidLink: an absolute http(s) URL with a host, the only links the
// emails make from configuration.
func ValidLink(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && !strings.ContainsAny(s, " \"'<>\r\n\t")
}

// Links are where the emails point.
type Links struct {
	AcceptURL   string // the portal page that accepts invitations; gets ?token=
	DownloadURL string // the desktop app's download page (the instructions' button)
	// The direct download for each desktop OS; "" derives it from
	// DownloadURL with ?os=windows and ?os=macos.
	DownloadWindowsURL, DownloadMacURL string
}

// download is the download link for an OS: the configured one, or the
// download page asked for that OS.
func (l Links) download(os, configured string) string {
	if configured != "" {
		return configured
	}
	return withQuery(l.DownloadURL, "os", os)
}

// usersPage is the portal's Users page of a team: the root of the
// portal that serves the accept page (the page opens ?team=).
func (l Links) usersPage(teamID string) string {
	u, err := url.Parse(l.AcceptURL)
	if err != nil || u.Host == "" {
		return ""
	}
	return withQuery(u.Scheme+"://"+u.Host+"/", "team", teamID)
}

func withQuery(raw, k, v string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	q.Set(k, v)
	u.RawQuery = q.Encode()
	return u.String()
}

func mailto(addr string) string { return (&url.URL{Scheme: "mailto", Opaque: addr}).String() }

// kinds are the emails the outbox sends, by kind, except the usage report
// (report.go), which reads current data when it is sent.
var kinds = map[string]func(d *data) content{
	users.EmailInvitation:        invitationMail,
	users.EmailInstructions:      instructionsMail,
	users.EmailRoleChanged:       roleChangedMail,
	users.EmailRemoved:           removedMail,
	users.EmailInvitationRevoked: invitationRevokedMail,
	users.EmailDeactivated:       deactivatedMail,
}

// data is what a kind's wording is made from: the email, the links, and
// the values its words name (words.go's markup).
type data struct {
	e     users.Email
	token string
	links Links
	words
}

func (d *data) get(k string) string { return d.e.Data[k] }

// newData holds the values every kind may name: team, product, to.
func newData(e users.Email, token string, links Links, b Brand) *data {
	team := teamWords(e)
	account, opening := teamAccount(team)
	return &data{e: e, token: token, links: links, words: words{v: Vars{"team": team, "teamAccount": account, "TeamAccount": opening,
		"product": b.Product, "to": e.To}}}
}

// teamAccount names the member's account in the team: "the Acme Inc team
// account", "the Sales Team account" (a name that says team already),
// "your team account" (no name); and the same opening a sentence.
func teamAccount(team string) (string, string) {
	switch {
	case team == "your team":
		return "your team account", "Your team account"
	case strings.HasSuffix(strings.ToLower(team), " team") || strings.EqualFold(team, "team"):
		return "the " + team + " account", "The " + team + " account"
	}
	return "the " + team + " team account", "The " + team + " team account"
}

// Render makes the message for an outbox email; token is the opened
// invitation token, empty for other kinds.
func Render(e users.Email, token string, links Links, brand Brand) (Message, error) {
	kind, ok := kinds[e.Kind]
	if !ok {
		return Message{}, fmt.Errorf("no template for email kind %q", e.Kind)
	}
	if e.Kind == users.EmailInvitation && token == "" {
		return Message{}, fmt.Errorf("email %s: an invitation without its token", e.ID)
	}
	brand = brand.withDefaults()
	d := newData(e, token, links, brand)
	return finish(e, kind(d), d.err, brand)
}

// finish renders the content and makes the headers' values safe.
func finish(e users.Email, c content, wordsErr error, brand Brand) (Message, error) {
	to := cleanAddress(e.To)
	switch {
	case wordsErr != nil:
		return Message{}, fmt.Errorf("email %s (%s): %w", e.ID, e.Kind, wordsErr)
	case to == "":
		return Message{}, fmt.Errorf("email %s: the recipient is not a plain address", e.ID)
	case c.cta.href == "":
		return Message{}, fmt.Errorf("email %s (%s): no link for its button", e.ID, e.Kind)
	}
	h, t, err := c.render(brand)
	if err != nil {
		return Message{}, err
	}
	return Message{To: to, Subject: headerText(c.subject, maxSubject), FromName: fromName(e.Data["teamName"], brand.SenderName),
		ReplyTo: cleanAddress(c.replyTo), HTML: h, Text: t}, nil
}

// teamWords is the team's name on one line (names have no line breaks,
// CheckTeamName refuses them; this holds for an old or forged one too), or
// "your team".
func teamWords(e users.Email) string {
	if t := headerText(e.Data["teamName"], users.MaxTeamName); t != "" {
		return t
	}
	return "your team"
}

// footer is who sent it, for whom, and why the reader got it.
func (d *data) footer(why string) [][]span {
	if d.v["team"] == "your team" {
		return d.ps("Sent by {{product}}.", why)
	}
	return d.ps("Sent by {{product}} on behalf of **{{team}}**.", why)
}

func invitationMail(d *data) content {
	role := users.Role(d.get("role"))
	if role == "" {
		role = users.RoleUser
	}
	by := d.get("invitedBy")
	newLink := ""
	if d.get("resend") == "true" {
		newLink = " (new link)"
	}
	d.set("by", by).set("newLink", newLink).set("role", roleWords(role)).set("roleLabel", role.Label()).set("expires", whenFrom(d.get("expiresAt")))
	accept := withQuery(d.links.AcceptURL, "token", d.token)
	c := content{
		replyTo: by,
		heading: d.s("Join {{team}} on {{product}}"),
		// The team first: a phone's preview shows the subject's start, and
		// the cut at 150 characters falls on the inviter's address.
		subject:   d.s("Join {{team}} on {{product}}{{newLink}}: invitation from {{by}}"),
		preheader: d.s("Accept by {{expires}} to use {{product}} with {{teamAccount}}."),
		intro:     d.ps("**{{by}}** invited you to join **{{team}}** on {{product}} as {{role}}."),
		details:   [][2]string{{"Your role", role.Label()}, {"Sign in with", d.e.To}, {"Link expires", d.v["expires"]}},
		cta:       cta{label: "Accept the invitation", href: accept, written: accept},
		after:     d.ps("**What happens next:** once you accept, download the {{product}} desktop app and sign in with {{to}}. {{team}}'s admins will then see you as active."),
	}
	why := "You received this email because {{by}} invited {{to}} to join {{team}}. Not expecting it? You can ignore it: nobody joins unless they accept. Replies go to {{by}}."
	if by == "" { // invitations queued before inviters were recorded
		c.subject = d.s("Join {{team}} on {{product}}{{newLink}}: your invitation")
		c.intro = d.ps("An admin invited you to join **{{team}}** on {{product}} as {{role}}.")
		why = "You received this email because an admin of {{team}} invited {{to}} to join. Not expecting it? You can ignore it: nobody joins unless they accept."
	}
	if d.get("resend") == "true" {
		c.intro = append(c.intro, d.p("This invitation replaces the one sent earlier: the link in that email no longer works."))
	}
	c.footer = d.footer(why)
	return c
}

func instructionsMail(d *data) content {
	d.set("windows", d.links.download("windows", d.links.DownloadWindowsURL)).set("macos", d.links.download("macos", d.links.DownloadMacURL))
	return content{
		replyTo:   d.get("sentBy"), // the admin who asked; none when the identity provider added the member
		subject:   d.s("Set up the {{product}} desktop app for {{team}}"),
		preheader: d.s("Download the app, sign in with {{to}}, and you're set."),
		heading:   d.s("Set up {{product}} for {{team}}"),
		intro: d.ps(
			"{{TeamAccount}} on {{product}} is ready. Three steps to start:",
			"**1. Download and install** the {{product}} desktop app for [Windows]{{windows}} or [macOS]{{macos}}.",
			"**2. Sign in** with **{{to}}**. If you haven't accepted your invitation yet, signing in accepts it.",
			"**3. That's all.** {{team}}'s admins will see you as active.",
		),
		cta:    cta{label: d.s("Download {{product}}"), href: d.links.DownloadURL, written: d.links.DownloadURL},
		footer: d.footer("You received this email because an admin of {{team}} asked {{product}} to send {{to}} the set-up steps for the team account."),
	}
}

// notice sets what the notices name: who acted, when, and whom to write to
// (the button, and Reply-To).
//
// An empty "by" is the team's identity provider (SCIM): the notices then
// say "your organisation's identity provider", and {{By}} is the same
// words capitalised to open a sentence.
func (d *data) notice(c *content) {
	by, opening := d.get("by"), d.get("by")
	if by == "" {
		by, opening = "your organisation's identity provider", "Your organisation's identity provider"
	}
	d.set("by", by).set("By", opening).set("at", whenFrom(d.get("at")))
	addr := cleanAddress(d.get("contact"))
	if addr == "" {
		addr = cleanAddress(d.get("by"))
	}
	d.set("contact", addr)
	if addr != "" {
		c.cta, c.replyTo = cta{label: "Email your admin", href: mailto(addr), written: addr}, addr
	}
}

func roleChangedMail(d *data) content {
	var c content
	d.notice(&c)
	role, from := users.Role(d.get("role")), users.Role(d.get("fromRole"))
	d.set("role", role.Label()).set("roleWords", roleWords(role)).set("from", from.Label())
	c.subject = d.s("Your role in {{team}} is now {{role}}")
	c.preheader = d.s("Changed from {{from}} to {{role}} by {{by}}.")
	c.heading = d.s("You're now {{roleWords}} of {{team}}")
	c.intro = d.ps("**{{By}}** changed your role in **{{team}}** from {{from}} to **{{role}}** on {{at}}.")
	c.details = [][2]string{{"Your role", role.Label()}, {"Before", from.Label()}, {"Changed by", d.v["By"]}, {"When", d.v["at"]}}
	if role == users.RoleAdmin {
		c.intro = append(c.intro, d.p("As an Admin you can invite people, resend invitations, change roles and remove members on the team's Users page."))
		if page := d.links.usersPage(d.e.TeamID); page != "" {
			c.cta = cta{label: "Open the Users page", href: page, written: page}
		}
	} else {
		c.intro = append(c.intro, d.p("You keep using {{product}} with {{teamAccount}}; managing the team's members is for its admins. Questions? Reply to this email: it goes to {{contact}}."))
	}
	c.footer = d.footer("You received this email because your role in {{team}} changed: members are told whenever an admin changes their role.")
	return c
}

func removedMail(d *data) content {
	var c content
	d.notice(&c)
	c.subject = d.s("You've been removed from {{team}} on {{product}}")
	c.preheader = d.s("{{By}} removed {{to}} from the team on {{at}}.")
	c.heading = d.s("You're no longer a member of {{team}}")
	c.intro = d.ps("**{{By}}** removed {{to}} from **{{team}}** on {{at}}.",
		"You can no longer use {{product}} with {{teamAccount}}. If you think this is a mistake, reply to this email: it goes to {{contact}}.")
	c.footer = d.footer("You received this email because you were removed from {{team}}. It is the last email you'll get about this team.")
	return c
}

func invitationRevokedMail(d *data) content {
	var c content
	d.notice(&c)
	c.subject = d.s("Your invitation to join {{team}} on {{product}} was withdrawn")
	c.preheader = d.s("The link in the invitation no longer works. There's nothing you need to do.")
	c.heading = "Invitation withdrawn"
	c.intro = d.ps("**{{By}}** withdrew the invitation for {{to}} to join **{{team}}** on {{product}} ({{at}}).",
		"The link in the invitation email no longer works, and there's nothing you need to do. If you expected to join, reply to this email: it goes to {{contact}}.")
	c.footer = d.footer("You received this email because {{to}} had been invited to join {{team}}. You won't get more emails about this invitation.")
	return c
}

// deactivatedMail tells a member an admin (Deactivate on the Users page)
// or the identity provider (SCIM active=false) deactivated them.
func deactivatedMail(d *data) content {
	var c content
	d.notice(&c)
	c.subject = d.s("Your {{team}} account on {{product}} was deactivated")
	c.preheader = d.s("{{By}} deactivated {{to}} on {{at}}.")
	c.heading = "Your account was deactivated"
	c.intro = d.ps("**{{By}}** deactivated {{to}} in **{{team}}** on {{at}}.",
		"You can no longer sign in to {{product}} with {{teamAccount}}. If you think this is a mistake, reply to this email: it goes to the team's contact, {{contact}}.")
	c.footer = d.footer("You received this email because your account in {{team}} was deactivated.")
	return c
}
