// Package mail owns the emails: their templates (HTML and text, escaped),
// the SES v2 sender, and the deliverer that sends outbox emails from the
// table's stream, paced at the account's send rate, never twice.
package mail

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	texttemplate "text/template"

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

type view struct {
	To, TeamName, InvitedBy, AcceptURL, DownloadURL, Role string
	ExpiresAt                                             string
}

// subjectFor names the team (and, for an invitation, who invited).
func subjectFor(kind string, v view) string {
	team := v.TeamName
	if team == "" {
		team = "your team"
	}
	switch kind {
	case users.EmailInvitation:
		if v.InvitedBy != "" {
			return v.InvitedBy + " invited you to join " + team
		}
		return "You are invited to join " + team
	default:
		return "Set up the desktop app for " + team
	}
}

var (
	subjects = map[string]string{
		users.EmailInvitation:   "You are invited to join your team",
		users.EmailInstructions: "Set up the desktop app with your team account",
	}
	htmlT = htmltemplate.Must(htmltemplate.New("").Parse(`
{{define "invitation"}}<!doctype html><html><body style="font-family:sans-serif">
<p>Hello,</p>
<p>{{if .InvitedBy}}{{.InvitedBy}} invited you{{else}}You are invited{{end}} to join {{if .TeamName}}{{.TeamName}}{{else}}the team{{end}} as {{if eq .Role "admin"}}an admin{{else}}a user{{end}}.</p>
<p><a href="{{.AcceptURL}}">Accept the invitation</a></p>
<p>The invitation expires on {{.ExpiresAt}}.</p>
</body></html>{{end}}
{{define "instructions"}}<!doctype html><html><body style="font-family:sans-serif">
<p>Hello,</p>
<p>To start using the app with your {{if .TeamName}}{{.TeamName}} {{end}}team account:</p>
<ol><li><a href="{{.DownloadURL}}">Download and install the desktop app</a>.</li>
<li>Sign in with {{.To}}. If you were invited and have not accepted yet, signing in accepts the invitation.</li><li>That is all: your team admin will see you as active.</li></ol>
</body></html>{{end}}`))
	textT = texttemplate.Must(texttemplate.New("").Parse(`
{{define "invitation"}}Hello,

{{if .InvitedBy}}{{.InvitedBy}} invited you{{else}}You are invited{{end}} to join {{if .TeamName}}{{.TeamName}}{{else}}the team{{end}} as {{if eq .Role "admin"}}an admin{{else}}a user{{end}}.

Accept the invitation: {{.AcceptURL}}

The invitation expires on {{.ExpiresAt}}.
{{end}}
{{define "instructions"}}Hello,

To start using the app with your {{if .TeamName}}{{.TeamName}} {{end}}team account:
1. Download and install the desktop app: {{.DownloadURL}}
2. Sign in with {{.To}}. If you were invited and have not accepted yet, signing in accepts the invitation.
3. That is all: your team admin will see you as active.
{{end}}`))
)

// Links are where the emails point.
type Links struct {
	AcceptURL   string // the portal page that accepts invitations; gets ?token=
	DownloadURL string // the desktop app's download page
}

// Render makes the message for an outbox email; token is the opened
// invitation token, empty for other kinds.
func Render(e users.Email, token string, links Links) (Message, error) {
	if _, ok := subjects[e.Kind]; !ok {
		return Message{}, fmt.Errorf("no template for email kind %q", e.Kind)
	}
	v := view{To: e.To, TeamName: e.Data["teamName"], InvitedBy: e.Data["invitedBy"], Role: e.Data["role"], ExpiresAt: e.Data["expiresAt"], DownloadURL: links.DownloadURL}
	subject := subjectFor(e.Kind, v)
	if token != "" {
		u, err := url.Parse(links.AcceptURL)
		if err != nil {
			return Message{}, err
		}
		q := u.Query()
		q.Set("token", token)
		u.RawQuery = q.Encode()
		v.AcceptURL = u.String()
	}
	var h, t bytes.Buffer
	if err := htmlT.ExecuteTemplate(&h, e.Kind, v); err != nil {
		return Message{}, err
	}
	if err := textT.ExecuteTemplate(&t, e.Kind, v); err != nil {
		return Message{}, err
	}
	return Message{To: e.To, Subject: subject, HTML: h.String(), Text: t.String()}, nil
}
