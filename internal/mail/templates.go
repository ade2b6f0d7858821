// Package mail owns the emails: their templates (HTML and text, escaped,
// through the small renderer in render.go), the SES v2 sender, and the
// deliverer that sends outbox emails from the table's stream, paced at the
// account's send rate, never twice.
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
	// Tags go to SES as message tags and come back in its delivery events
	// (mail.tags), which is how a bounce finds the outbox email and member.
	Tags map[string]string
}

// Attachment is a file sent with a message.
type Attachment struct {
	Name, ContentType string
	Data              []byte
}

// subjectFor names the team (and, for an invitation, who invited).
func subjectFor(kind string, v Vars) string {
	team := v["teamName"]
	if team == "" {
		team = "your team"
	}
	switch kind {
	case users.EmailInvitation:
		if v["invitedBy"] != "" {
			return v["invitedBy"] + " invited you to join " + team
		}
		return "You are invited to join " + team
	default:
		return "Set up the desktop app for " + team
	}
}

// The emails' parts, in the renderer's syntax (render.go). A choice in the
// wording is made in Go: the invitation names the admin who invited when
// it is known (two variants); the team's name, or "the team", and the
// role's words are values.
var (
	kinds            = map[string]bool{users.EmailInvitation: true, users.EmailInstructions: true}
	invitationByHTML = MustParse(`<!doctype html><html><body style="font-family:sans-serif">
<p>Hello,</p>
<p>{{invitedBy}} invited you to join {{team}} as {{roleText}}.</p>
<p><a href="{{acceptUrl}}">Accept the invitation</a></p>
<p>The invitation expires on {{expiresAt}}.</p>
</body></html>`)
	invitationHTML = MustParse(`<!doctype html><html><body style="font-family:sans-serif">
<p>Hello,</p>
<p>You are invited to join {{team}} as {{roleText}}.</p>
<p><a href="{{acceptUrl}}">Accept the invitation</a></p>
<p>The invitation expires on {{expiresAt}}.</p>
</body></html>`)
	invitationByText = MustParse(`Hello,

{{invitedBy}} invited you to join {{team}} as {{roleText}}.

Accept the invitation: {{acceptUrl}}

The invitation expires on {{expiresAt}}.
`)
	invitationText = MustParse(`Hello,

You are invited to join {{team}} as {{roleText}}.

Accept the invitation: {{acceptUrl}}

The invitation expires on {{expiresAt}}.
`)
	instructionsHTML = MustParse(`<!doctype html><html><body style="font-family:sans-serif">
<p>Hello,</p>
<p>To start using the app with your {{teamAccount}}:</p>
<ol><li><a href="{{downloadUrl}}">Download and install the desktop app</a>.</li>
<li>Sign in with {{to}}. If you were invited and have not accepted yet, signing in accepts the invitation.</li><li>That is all: your team admin will see you as active.</li></ol>
</body></html>`)
	instructionsText = MustParse(`Hello,

To start using the app with your {{teamAccount}}:
1. Download and install the desktop app: {{downloadUrl}}
2. Sign in with {{to}}. If you were invited and have not accepted yet, signing in accepts the invitation.
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
	if !kinds[e.Kind] {
		return Message{}, fmt.Errorf("no template for email kind %q", e.Kind)
	}
	v := Vars{"to": e.To, "teamName": e.Data["teamName"], "invitedBy": e.Data["invitedBy"], "expiresAt": e.Data["expiresAt"],
		"downloadUrl": links.DownloadURL, "acceptUrl": "", "roleText": "a user", "team": "the team", "teamAccount": "team account"}
	if e.Data["role"] == string(users.RoleAdmin) {
		v["roleText"] = "an admin"
	}
	if name := e.Data["teamName"]; name != "" {
		v["team"], v["teamAccount"] = name, name+" team account"
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
	return Message{To: e.To, Subject: subjectFor(e.Kind, v), HTML: h, Text: t}, nil
}
