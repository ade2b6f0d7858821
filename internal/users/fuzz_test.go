package users

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzCheckEmail: every address an invitation, a CSV row, provisioning or
// a token's claim may carry. An accepted address is normalized (lower
// case, at most 254 bytes, one "@", no space or control character) and
// accepted again as itself; a refused one says why in one of the fixed
// reasons. Corpus: testdata/fuzz/FuzzCheckEmail.
func FuzzCheckEmail(f *testing.F) {
	f.Add("Ann.Lee+team@Acme.Example")
	f.Fuzz(func(t *testing.T, raw string) {
		addr, reason := CheckEmail(raw)
		if reason != "" {
			if addr != "" || !slices.Contains(EmailReasons, reason) {
				t.Fatalf("%q refused with %q, %q", raw, addr, reason)
			}
			return
		}
		if addr != strings.ToLower(addr) || len(addr) > 254 || strings.Count(addr, "@") != 1 || !utf8.ValidString(addr) {
			t.Fatalf("%q accepted as %q", raw, addr)
		}
		for _, r := range addr {
			if unicode.IsSpace(r) || unicode.IsControl(r) {
				t.Fatalf("%q accepted as %q, with %U", raw, addr, r)
			}
		}
		if again, reason := CheckEmail(addr); again != addr || reason != "" {
			t.Fatalf("%q accepted as %q, which is then %q %q", raw, addr, again, reason)
		}
	})
}

// FuzzSearch: the member list's q is accepted exactly when it matches the
// document's pattern (SearchPattern, which api/openapi.yaml carries; the
// httpapi tests check the two are the same text).
func FuzzSearch(f *testing.F) {
	pattern := regexp.MustCompile(regexp.MustCompile(`\\u([0-9a-fA-F]{4})`).ReplaceAllString(SearchPattern, `\x{$1}`))
	f.Add("@acme")
	f.Fuzz(func(t *testing.T, q string) {
		if !utf8.ValidString(q) {
			if CheckSearch(q) == nil {
				t.Fatalf("%q is not UTF-8 and was accepted", q)
			}
			return
		}
		if got, want := CheckSearch(q) == nil, pattern.MatchString(q); got != want {
			t.Fatalf("%q: the code says %v, the pattern %v", q, got, want)
		}
	})
}

// FuzzValidInvitationToken: what reaches the token's hash and lookup.
func FuzzValidInvitationToken(f *testing.F) {
	f.Add(strings.Repeat("a", InvitationTokenLength))
	shape := regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	f.Fuzz(func(t *testing.T, tok string) {
		if got, want := ValidInvitationToken(tok), shape.MatchString(tok); got != want {
			t.Fatalf("%q: %v, want %v", tok, got, want)
		}
	})
}
