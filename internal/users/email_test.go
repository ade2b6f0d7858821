package users

import (
	"slices"
	"strings"
	"testing"
)

func TestCheckEmailSaysWhy(t *testing.T) {
	cases := []struct{ in, want, reason string }{
		{"  Ann@Acme.Example ", "ann@acme.example", ""},
		{"=1+2@usage.example", "=1+2@usage.example", ""},
		{"o'brien+team@sub.acme.example", "o'brien+team@sub.acme.example", ""},
		{"bounce+label@simulator.amazonses.com", "bounce+label@simulator.amazonses.com", ""},
		{"josé@bücher.example", "josé@bücher.example", ""},
		{"a@xn--bcher-kva.example", "a@xn--bcher-kva.example", ""},
		{"", "", ReasonEmpty},
		{"   ", "", ReasonEmpty},
		{"a\xffb@example.com", "", ReasonNotText},
		{strings.Repeat("a", 250) + "@b.example", "", ReasonTooLong},
		{"ann smith@example.com", "", ReasonSpace},
		{"ann\t@example.com", "", ReasonSpace},
		{"ann\u00a0x@example.com", "", ReasonSpace},
		{`"john..doe"@example.com`, "", ReasonQuoted},
		{`"john"@example.com`, "", ReasonQuoted},
		{"Ann <ann@example.com>", "", ReasonDecorated},
		{"<ann@example.com>", "", ReasonDecorated},
		{"ann@example.com(work)", "", ReasonDecorated},
		{"ann@example.com,bob@example.com", "", ReasonSeveral},
		{"ann@example.com;bob@example.com", "", ReasonSeveral},
		{"not-an-email", "", ReasonNotAnEmail},
		{"@example.com", "", ReasonNotAnEmail},
		{"ann@", "", ReasonNotAnEmail},
		{"a.@example.com", "", ReasonNotAnEmail},
		{"a..b@example.com", "", ReasonNotAnEmail},
		{"user@[127.0.0.1]", "", ReasonAddressLiteral},
		{"user@[IPv6:::1]", "", ReasonAddressLiteral},
		{"user@[ipv6:2001:db8::1]", "", ReasonAddressLiteral},
		{"user@127.0.0.1", "", ReasonAddressLiteral},
		{"user@::1", "", ReasonAddressLiteral},
		{"user@localhost", "", ReasonDomainNoDot},
		{"user@-acme.example", "", ReasonDomainMalformed},
		{"user@acme-.example", "", ReasonDomainMalformed},
		{"user@ac_me.example", "", ReasonDomainMalformed},
		{"user@acme.123", "", ReasonDomainMalformed},
		{"user@" + strings.Repeat("a", 64) + ".example", "", ReasonDomainMalformed},
	}
	for _, c := range cases {
		got, reason := CheckEmail(c.in)
		if got != c.want || reason != c.reason {
			t.Errorf("CheckEmail(%q) = %q, %q; want %q, %q", c.in, got, reason, c.want, c.reason)
		}
		if reason != "" && !slices.Contains(EmailReasons, reason) {
			t.Errorf("reason %q is not listed in EmailReasons", reason)
		}
		if n, ok := NormalizeEmail(c.in); ok != (c.reason == "") || n != c.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v", c.in, n, ok)
		}
	}
}

func TestLabelsAreThePortalsWords(t *testing.T) {
	for _, s := range Statuses {
		if l := s.Label(); l == "" || l == string(s) || strings.Contains(l, "_") {
			t.Errorf("status %s has no label", s)
		}
	}
	for _, c := range LastCalls {
		if l := c.Label(); l == "" || strings.Contains(l, "_") {
			t.Errorf("bucket %s has no label", c)
		}
	}
	if StatusInvitationSent.Label() != "Invitation sent" || LastCallLast7Days.Label() != "Last 7 days" || RoleAdmin.Label() != "Admin" ||
		EmailStateLabel(EmailComplained) != "Marked as spam" {
		t.Fatal("labels differ from the help article")
	}
	if Status("on_hold").Label() != "On hold" || Role("").Label() != "" {
		t.Fatal("fallback for a code without a label")
	}
}
