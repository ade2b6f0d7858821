package emails

import (
	"net/mail"
	"strings"
	"testing"
)

func TestHeaderTextIsOneVisibleLine(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{"Acme\r\nBcc: x@y", 20, "Acme Bcc: x@y"},
		{"  a \t b \u2028c\u0085d ", 20, "a b c d"},
		{"a\x00b\u202ec\u200bd", 20, "a b c d"},
		{"\xff\xfe", 20, "\uFFFD"},
		{strings.Repeat("é", 10), 5, "éééé…"},
		{"abcdefghij", 5, "abcd…"},
		{"ab    cd", 5, "ab cd"},
		{"abc defgh", 5, "abc…"},
	} {
		if got := headerText(c.in, c.max); got != c.want {
			t.Errorf("headerText(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}

func TestFormatAddressNeverMakesAnotherAddress(t *testing.T) {
	for _, name := range []string{`"Acme" <evil@x>`, "Acme\r\nBcc: v@x", `a\"b`, "Zoë, Café & Co", "東京チーム via Krisp", ""} {
		f := FormatAddress(name, "no-reply@example.com")
		list, err := mail.ParseAddressList(f)
		if err != nil || len(list) != 1 || list[0].Address != "no-reply@example.com" || strings.ContainsAny(f, "\r\n") || strings.ContainsAny(list[0].Name, `"<>\`) {
			t.Errorf("%q → %q → %v %v", name, f, list, err)
		}
	}
	if got := fromName("", "Krisp"); got != "Krisp" {
		t.Error(got)
	}
	// A display name never shows an address or a link (filters score a
	// From name with an address as phishing).
	for team, want := range map[string]string{
		"PayPal Security <security@paypal.com>": "PayPal Security via Krisp",
		"security@paypal.com":                   "Krisp",
		"Acme https://acme.example/login":       "Acme via Krisp",
		"Acme (www.acme.example)":               "Acme via Krisp",
		"Zoë <3 Café":                           "Zoë 3 Café via Krisp",
		"R&D <Team>":                            "R&D via Krisp",
	} {
		if got := fromName(team, "Krisp"); got != want {
			t.Errorf("fromName(%q) = %q, want %q", team, got, want)
		}
	}
	if got := fromName(strings.Repeat("x", 100), "Krisp"); len([]rune(got)) > maxDisplayName || !strings.HasSuffix(got, "… via Krisp") {
		t.Errorf("long team: %q", got)
	}
	if bareAddress("Ops <no-reply@example.com>") != "no-reply@example.com" || bareAddress("no-reply@example.com") != "no-reply@example.com" {
		t.Error("bare address")
	}
	for in, want := range map[string]string{"a@b.example": "a@b.example", "A@B.example": "a@b.example", "a@b.example\r\n": "", "<a@b.example>": "", "a@b.example, c@d.example": ""} {
		if got := cleanAddress(in); got != want {
			t.Errorf("cleanAddress(%q) = %q", in, got)
		}
	}
}
