package users

import (
	"net"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxEmailLength is the longest address we accept (RFC 5321 path limit).
const MaxEmailLength = 254

// Why an address is refused. The texts are part of the API (invitation
// results and CSV selection rows carry them) and do not change once
// published; docs/architecture.md lists them.
const (
	ReasonEmpty           = "the address is empty"
	ReasonNotText         = "the address is not valid UTF-8 text"
	ReasonTooLong         = "the address is longer than 254 characters"
	ReasonSpace           = "the address contains a space or a control character"
	ReasonQuoted          = `quoted local parts ("…"@) are not accepted`
	ReasonDecorated       = "give the address alone, without a name, comment or angle brackets"
	ReasonSeveral         = "one address per entry, please"
	ReasonNotAnEmail      = "not an email address"
	ReasonAddressLiteral  = "addresses at an IP address are not accepted; use the domain name"
	ReasonDomainNoDot     = "the domain has no dot (name@example.com)"
	ReasonDomainMalformed = "the domain is not a valid domain name"
)

// ReasonLocalNotASCII: the part before the @ has characters beyond ASCII.
// It is a valid address (RFC 6531), but the mail service sends to 7-bit
// addresses only, so such a member could never get an email; an
// invitation refuses it (CheckInvitable) rather than seat someone it
// cannot reach. Signing in with such an address still works.
const ReasonLocalNotASCII = "the part before the @ has letters beyond ASCII, and email cannot be sent to such an address"

// CheckInvitable is CheckEmail for an address someone is invited at:
// also one email can be sent to.
func CheckInvitable(raw string) (string, string) {
	s, reason := CheckEmail(raw)
	if reason != "" {
		return "", reason
	}
	for i := 0; i < strings.LastIndexByte(s, '@'); i++ {
		if s[i] >= 0x80 {
			return "", ReasonLocalNotASCII
		}
	}
	return s, ""
}

// EmailReasons lists every reason CheckEmail gives, for the docs and tests.
var EmailReasons = []string{ReasonEmpty, ReasonNotText, ReasonTooLong, ReasonSpace, ReasonQuoted, ReasonDecorated,
	ReasonSeveral, ReasonNotAnEmail, ReasonAddressLiteral, ReasonDomainNoDot, ReasonDomainMalformed, ReasonLocalNotASCII}

// NormalizeEmail trims and lower-cases an address and checks that it is a
// plain addr-spec (see CheckEmail).
func NormalizeEmail(raw string) (string, bool) {
	s, reason := CheckEmail(raw)
	return s, reason == ""
}

// CheckEmail trims and lower-cases an address and checks that it is one a
// person can be invited at: a plain addr-spec (no display name, comment or
// angle brackets), an unquoted local part, and a domain name (no address
// literal such as [127.0.0.1] or a bare IP address). It returns the
// normalized address, or why it was refused.
//
// Members are matched case-insensitively: in practice no mail provider
// treats the local part's case as significant, and admins type addresses in
// any case. Quoted local parts and address literals are valid in RFC 5321
// but no real mailbox of a team member needs them, SES will not deliver to
// literals, and both make addresses that look alike differ.
func CheckEmail(raw string) (string, string) {
	if !utf8.ValidString(raw) { // ToLower would quietly turn bad bytes into U+FFFD
		return "", ReasonNotText
	}
	s := strings.ToLower(strings.TrimSpace(raw))
	switch {
	case s == "":
		return "", ReasonEmpty
	case len(s) > MaxEmailLength:
		return "", ReasonTooLong
	}
	// One pass for what makes an address unusable on sight.
	var ats, quotes, decorations, separators, spaces int
	for _, r := range s {
		switch {
		case r == '@':
			ats++
		case r == '"':
			quotes++
		case r == '<' || r == '>' || r == '(' || r == ')':
			decorations++
		case r == ',' || r == ';':
			separators++
		case r < 0x21 || r == 0x7f || r >= 0x80 && (unicode.IsSpace(r) || unicode.IsControl(r)):
			// Control characters and spaces are never part of a stored
			// address; the store's key ranges rely on it.
			spaces++
		}
	}
	switch {
	case ats > 1 && separators > 0:
		return "", ReasonSeveral
	case quotes > 0:
		return "", ReasonQuoted
	case decorations > 0:
		return "", ReasonDecorated
	case spaces > 0:
		return "", ReasonSpace
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", ReasonNotAnEmail
	}
	domain := s[at+1:]
	if domain[0] == '[' || ipLike(domain) && net.ParseIP(domain) != nil {
		return "", ReasonAddressLiteral
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return "", ReasonNotAnEmail
	}
	if reason := checkDomain(domain); reason != "" {
		return "", reason
	}
	return s, ""
}

// ipLike says whether d has only the characters of an IP address, so that
// parsing it as one is worth the cost.
func ipLike(d string) bool {
	for i := 0; i < len(d); i++ {
		c := d[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// checkDomain accepts host names: dot-separated labels of letters (any
// script, so internationalised names work), digits and inner hyphens, at
// most 63 bytes each, the last one not all digits.
func checkDomain(d string) string {
	if !strings.Contains(d, ".") {
		return ReasonDomainNoDot
	}
	for rest, last := d, false; !last; {
		l, tail, found := strings.Cut(rest, ".")
		rest, last = tail, !found
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return ReasonDomainMalformed
		}
		digits := true
		for _, r := range l {
			switch {
			case r == '-' || unicode.IsLetter(r) || unicode.IsMark(r):
				digits = false
			case r >= '0' && r <= '9':
			default:
				return ReasonDomainMalformed
			}
		}
		if last && digits {
			return ReasonDomainMalformed
		}
	}
	return ""
}

// DomainOf returns the part of a normalized address after the last '@'.
func DomainOf(email string) string {
	return email[strings.LastIndexByte(email, '@')+1:]
}
