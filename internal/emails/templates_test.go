package emails

import (
	"strings"
	"testing"

	"github.com/teamusers/usersapi/internal/users"
)

func TestRenderLinksTheTokenAndEachDownload(t *testing.T) {
	links := Links{AcceptURL: "https://portal.example.com/invitations/accept?lang=en", DownloadURL: "https://example.com/download?ref=mail"}
	e := users.Email{ID: "e_1", Kind: users.EmailInvitation, To: "a@example.com", TeamID: "t_1",
		Data: map[string]string{"teamName": "Acme", "invitedBy": "boss@example.com", "role": "admin", "expiresAt": "December 6, 2026"}}
	m, err := Render(e, "tok_-123", links, DefaultBrand)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{strings.ReplaceAll(m.HTML, "&amp;", "&"), m.Text} {
		if !strings.Contains(part, "token=tok_-123") || !strings.Contains(part, "lang=en") {
			t.Fatalf("the link lost the token or the page's own query: %s", part)
		}
	}
	// An expiry queued before expiries were RFC 3339 is kept as written.
	if !strings.Contains(m.Text, "an Admin") || !strings.Contains(m.Text, "December 6, 2026") {
		t.Fatalf("text: %s", m.Text)
	}
	if _, err := Render(users.Email{Kind: "unknown", To: "a@example.com"}, "", links, DefaultBrand); err == nil {
		t.Fatal("an unknown kind rendered")
	}
	if _, err := Render(e, "", links, DefaultBrand); err == nil {
		t.Fatal("an invitation rendered without its token")
	}

	// Instructions: one button to the download page; each OS's download,
	// derived from it or configured.
	ins := users.Email{ID: "e_2", Kind: users.EmailInstructions, To: "b@example.com", Data: map[string]string{"teamName": "Acme"}}
	m, err = Render(ins, "", links, DefaultBrand)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"https://example.com/download?os=windows&ref=mail", "https://example.com/download?os=macos&ref=mail", "Download Krisp:\nhttps://example.com/download?ref=mail"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("instructions lack %s:\n%s", want, m.Text)
		}
	}
	links.DownloadWindowsURL, links.DownloadMacURL = "https://dl.example.com/app.msi", "https://dl.example.com/app.dmg"
	m, _ = Render(ins, "", links, DefaultBrand)
	if !strings.Contains(m.HTML, `href="https://dl.example.com/app.msi"`) || !strings.Contains(m.HTML, `href="https://dl.example.com/app.dmg"`) || strings.Contains(m.Text, "token=") {
		t.Errorf("configured downloads: %s", m.Text)
	}
}

func TestTheUsersPageLinkComesFromThePortal(t *testing.T) {
	l := Links{AcceptURL: "https://portal.example.com/invitations/accept?x=1"}
	if got := l.usersPage("t_1"); got != "https://portal.example.com/?team=t_1" {
		t.Fatal(got)
	}
	if got := (Links{AcceptURL: "::"}).usersPage("t_1"); got != "" {
		t.Fatal(got)
	}
}

func TestButtonTextReadsOnTheAccent(t *testing.T) {
	for accent, want := range map[string]string{"#4f46e5": "#ffffff", "#000000": "#ffffff", "#ffd500": "#111111", "#ffffff": "#111111", "#e11d48": "#ffffff", "bad": "#ffffff"} {
		if got := textOn(accent); got != want {
			t.Errorf("%s: %s, want %s", accent, got, want)
		}
	}
}

// The member's account in the team reads right whatever the team's name:
// no "the Sales Team team account", no "the your team team account".
func TestTheTeamAccountReadsAsEnglish(t *testing.T) {
	links := Links{DownloadURL: "https://example.com/download"}
	for name, want := range map[string]string{
		"Acme Inc":   "with the Acme Inc team account",
		"Sales Team": "with the Sales Team account",
		"":           "with your team account",
	} {
		for _, kind := range []string{users.EmailInvitation, users.EmailRoleChanged, users.EmailRemoved, users.EmailDeactivated} {
			e := users.Email{ID: "e_1", Kind: kind, To: "ann@example.com", TeamID: "t_1",
				Data: map[string]string{"teamName": name, "role": "user", "fromRole": "admin", "invitedBy": "bo@example.com",
					"by": "bo@example.com", "expiresAt": "2026-12-07T10:00:00Z", "at": "2026-11-30T10:00:00Z", "sealedToken": "x"}}
			m, err := Render(e, "tok", links, DefaultBrand)
			if err != nil {
				t.Fatal(err)
			}
			text := strings.ToLower(m.Text + m.HTML)
			if strings.Contains(text, "team team") || strings.Contains(text, "your team team") {
				t.Errorf("%s for %q says %q", kind, name, "team team")
			}
			if kind == users.EmailRemoved && !strings.Contains(m.Text, want) {
				t.Errorf("%s for %q: no %q in\n%s", kind, name, want, m.Text)
			}
		}
	}
}

// The invitation's subject starts with the team (a phone's preview shows
// the start), and the cut at 150 characters falls on the inviter.
func TestTheInvitationSubjectLeadsWithTheTeam(t *testing.T) {
	long := strings.Repeat("x", 200) + "@acme.example"
	for _, c := range []struct {
		data map[string]string
		want string
	}{
		{map[string]string{"invitedBy": "dana@acme.example"}, "Join Acme Inc on Krisp: invitation from dana@acme.example"},
		{map[string]string{"invitedBy": "dana@acme.example", "resend": "true"}, "Join Acme Inc on Krisp (new link): invitation from dana@acme.example"},
		{map[string]string{}, "Join Acme Inc on Krisp: your invitation"},
		{map[string]string{"invitedBy": long}, "Join Acme Inc on Krisp: invitation from " + strings.Repeat("x", 109) + "…"},
	} {
		c.data["teamName"], c.data["role"], c.data["expiresAt"] = "Acme Inc", "user", "2026-12-07T14:05:00Z"
		m, err := Render(users.Email{ID: "e_1", Kind: users.EmailInvitation, To: "sam@acme.example", TeamID: "t_1", MemberID: "m_1", Data: c.data},
			"tok", Links{AcceptURL: "https://portal.example/accept", DownloadURL: "https://example.com/dl"}, DefaultBrand)
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != c.want {
			t.Errorf("subject %q\n   want %q", m.Subject, c.want)
		}
	}
}

// The set-up steps answer to the admin who asked for them; those an
// identity provider's provisioning sends answer to no one.
func TestInstructionsReplyToTheAdminWhoAsked(t *testing.T) {
	for sentBy, want := range map[string]string{"dana@acme.example": "dana@acme.example", "": ""} {
		data := map[string]string{"teamName": "Acme Inc"}
		if sentBy != "" {
			data["sentBy"] = sentBy
		}
		m, err := Render(users.Email{ID: "e_1", Kind: users.EmailInstructions, To: "sam@acme.example", TeamID: "t_1", MemberID: "m_1", Data: data},
			"", Links{AcceptURL: "https://portal.example/accept", DownloadURL: "https://example.com/dl"}, DefaultBrand)
		if err != nil {
			t.Fatal(err)
		}
		if m.ReplyTo != want {
			t.Errorf("sent by %q: Reply-To %q, want %q", sentBy, m.ReplyTo, want)
		}
	}
}

// Outlook ignores padding on links: the button's cell carries it for
// Outlook (mso-padding-alt), the link for everyone else.
func TestTheButtonIsPaddedInOutlookToo(t *testing.T) {
	h := buttonHTML(cta{label: "Accept the invitation", href: "https://portal.example/accept?token=t", written: "https://portal.example/accept?token=t"}, "#0b5fff")
	cell := h[strings.Index(h, "<td"):strings.Index(h, "<a ")]
	link := h[strings.Index(h, "<a "):strings.Index(h, "</a>")]
	if !strings.Contains(cell, "mso-padding-alt:12px 28px") || !strings.Contains(link, "padding:12px 28px") {
		t.Errorf("button cell %q, link %q", cell, link)
	}
}
