package mail

import (
	"strings"
	"testing"

	"github.com/teamusers/usersapi/internal/users"
)

func TestRenderEscapesAndLinksTheToken(t *testing.T) {
	links := Links{AcceptURL: "https://portal.example.com/invitations/accept?lang=en", DownloadURL: "https://example.com/download"}
	e := users.Email{Kind: users.EmailInvitation, To: "a@example.com",
		Data: map[string]string{"invitedBy": `"><script>alert(1)</script>@evil.example`, "role": "admin", "expiresAt": "December 6, 2026"}}
	m, err := Render(e, "tok_-123", links)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.HTML, "<script>") {
		t.Fatalf("HTML not escaped: %s", m.HTML)
	}
	for _, part := range []string{m.HTML, m.Text} {
		if !strings.Contains(part, "token=tok_-123") || !strings.Contains(part, "lang=en") {
			t.Fatalf("link lost the token or the page's own query: %s", part)
		}
	}
	if !strings.Contains(m.Text, "an admin") || m.Subject == "" || m.To != "a@example.com" {
		t.Fatalf("message %+v", m)
	}
	if _, err := Render(users.Email{Kind: "unknown"}, "", links); err == nil {
		t.Fatal("an unknown kind rendered")
	}
	ins, err := Render(users.Email{Kind: users.EmailInstructions, To: "b@example.com"}, "", links)
	if err != nil || !strings.Contains(ins.HTML, "https://example.com/download") || strings.Contains(ins.Text, "token=") {
		t.Fatalf("instructions: %v %+v", err, ins)
	}
}
