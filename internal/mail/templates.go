// Package mail owns the emails: their templates (HTML and text, escaped,
// through the small renderer in render.go),
// the SES v2 sender, and the deliverer that sends outbox emails from the
// table's stream, paced at the account's send rate, never twice.
package mail

import (
	"fmt"
	"net/url"

	"github.com/teamusers/usersapi/internal/users"
)

// Message is a rendered email.
type Message struct {
	To, Subject, Text, HTML string
	Attachments             []Attachment
}

// Attachment is a file sent with a message.
type Attachment struct {
	Name, ContentType string
	Data              []byte
}

// The emails' parts, in the renderer's syntax (render.go). A choice in
// the wording is a variant chosen in Go: the invitation names the admin who
// invited when it is known.
var (
	subjects = map[string]string{
		users.EmailInvitation:   "You are invited to join your team",
		users.EmailInstructions: "Set up the desktop app with your team account",
	}
	invitationByHTML = MustParse(`<!doctype html><html><body style="font-family:sans-serif">
<p>Hello,</p>
<p>{{invitedBy}} invited you to join the team as {{roleText}}.</p>
<p><a href="{{acceptUrl}}">Accept the invitation</a></p>
<p>The invitation expires on {{expiresAt}}.</p>
</body></html>`)
	invitationHTML = MustParse(`<!doctype html><html><body style="font-family:sans-serif">
<p>Hello,</p>
<p>You are invited to join the team as {{roleText}}.</p>
<p><a href="{{acceptUrl}}">Accept the invitation</a></p>
<p>The invitation expires on {{expiresAt}}.</p>
</body></html>`)
	invitationByText = MustParse(`Hello,

{{invitedBy}} invited you to join the team as {{roleText}}.

Accept the invitation: {{acceptUrl}}

The invitation expires on {{expiresAt}}.
`)
	invitationText = MustParse(`Hello,

You are invited to join the team as {{roleText}}.

Accept the invitation: {{acceptUrl}}

The invitation expires on {{expiresAt}}.
`)
	instructionsHTML = MustParse(`<!doctype html><html><body style="font-family:sans-serif">
<p>Hello,</p>
<p>To start using the app with your team account:</p>
<ol><li><a href="{{downloadUrl}}">Download and install the desktop app</a>.</li>
<li>Sign in with {{to}}.</li><li>That is all: your team admin will see you as active.</li></ol>
</body></html>`)
	instructionsText = MustParse(`Hello,

To start using the app with your team account:
1. Download and install the desktop app: {{downloadUrl}}
2. Sign in with {{to}}.
3. That is all: your team admin will see you as active.
`)
)

// Links are where the emails point.
type Links struct {
	AcceptURL   string // the portal page that accepts invitations; gets ?token=
	DownloadURL string // the desktop app's download page
}

// Render makes the message for an outbox email; token is the opened
// invitation token, empty for other kinds.
func Render(e users.Email, token string, links Links) (Message, error) {
	subject, ok := subjects[e.Kind]
	if !ok {
		return Message{}, fmt.Errorf("no template for email kind %q", e.Kind)
	}
	v := Vars{"to": e.To, "invitedBy": e.Data["invitedBy"], "expiresAt": e.Data["expiresAt"], "downloadUrl": links.DownloadURL, "acceptUrl": "", "roleText": "a user"}
	if e.Data["role"] == string(users.RoleAdmin) {
		v["roleText"] = "an admin"
	}
	if token != "" {
		u, err := url.Parse(links.AcceptURL)
		if err != nil {
			return Message{}, err
		}
		q := u.Query()
		q.Set("token", token)
		u.RawQuery = q.Encode()
		v["acceptUrl"] = u.String()
	}
	htmlT, textT := instructionsHTML, instructionsText
	if e.Kind == users.EmailInvitation {
		htmlT, textT = invitationHTML, invitationText
		if v["invitedBy"] != "" {
			htmlT, textT = invitationByHTML, invitationByText
		}
	}
	h, err := htmlT.HTML(v, nil)
	if err != nil {
		return Message{}, err
	}
	t, err := textT.Text(v)
	if err != nil {
		return Message{}, err
	}
	return Message{To: e.To, Subject: subject, HTML: h, Text: t}, nil
}
