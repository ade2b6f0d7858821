package users

import (
	"net/mail"
	"strings"
	"unicode/utf8"
)

// MaxEmailLength is the longest address we accept (RFC 5321 path limit).
const MaxEmailLength = 254

// NormalizeEmail trims and lower-cases an address and checks that it is a
// plain addr-spec (no display name, no angle brackets). Members are matched
// case-insensitively: in practice no mail provider treats the local part's
// case as significant, and admins type addresses in any case.
func NormalizeEmail(raw string) (string, bool) {
	if !utf8.ValidString(raw) { // ToLower would quietly turn bad bytes into U+FFFD
		return "", false
	}
	s := strings.ToLower(strings.TrimSpace(raw))
	if s == "" || len(s) > MaxEmailLength {
		return "", false
	}
	for _, r := range s {
		// Control characters and spaces are never part of a stored address;
		// the store's key ranges rely on it.
		if r < 0x21 || r == 0x7f {
			return "", false
		}
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return "", false
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", false
	}
	domain := s[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", false
	}
	return s, true
}

// DomainOf returns the part of a normalized address after the last '@'.
func DomainOf(email string) string {
	return email[strings.LastIndexByte(email, '@')+1:]
}
