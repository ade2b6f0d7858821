package emails

import (
	"net/mail"
	"regexp"
	"strings"
	"unicode"

	"github.com/teamusers/usersapi/internal/users"
)

// Header safety. Team names, inviters' addresses and recipients end up in
// From, Reply-To, To and Subject. A value with a line break could add a
// header (Bcc: …) or end the headers early; a display name with quotes or
// angle brackets could pass for another address. So:
//   - every text that goes into a header passes headerText: control
//     characters (CR, LF, tab, NUL, …), Unicode line and paragraph
//     separators and other invisible format characters become spaces, runs
//     of spaces collapse, and the text is cut to a length;
//   - a display name loses what could pass for an address or need an
//     escape (" → ', \ → /, < > → ‹ ›), then net/mail writes it as RFC
//     5322 asks: a quoted string, or an RFC 2047 encoded-word when it is
//     not ASCII (so a team called `"Acme" <evil@x>` is a name, never an
//     address);
//   - an address must be one users.CheckEmail accepts and net/mail reads
//     back as itself, alone; otherwise a recipient is refused and a
//     Reply-To is left out.
// The tests (headers_test.go, and the raw MIME read back by a MIME parser)
// try every name and address of every kind with hostile values.

// headerText makes s one line of visible text of at most max characters
// (cut with "…").
func headerText(s string, max int) string {
	words := strings.FieldsFunc(strings.ToValidUTF8(s, "\uFFFD"), func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r) || unicode.Is(unicode.Cf, r)
	})
	out := []rune(strings.Join(words, " "))
	if len(out) > max && max > 1 {
		return strings.TrimRight(string(out[:max-1]), " ") + "…"
	}
	return string(out)
}

// Limits of header texts, in characters: a display name that reads in an
// inbox list, and a subject that stays one line once encoded.
const (
	maxDisplayName = 64
	maxSubject     = 150
)

// cleanAddress is addr when it is one plain address that CheckEmail
// accepts and net/mail reads back as itself, with an internationalised
// domain in its ASCII form (SES takes 7-bit addresses only); "" otherwise,
// and for a local part beyond ASCII, which SES cannot send to.
func cleanAddress(addr string) string {
	email, reason := users.CheckEmail(addr)
	if reason != "" || email != strings.ToLower(addr) {
		return ""
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Name != "" || !strings.EqualFold(a.Address, email) {
		return ""
	}
	// SES takes 7-bit addresses: the domain in its ASCII form (IDNA), and
	// no local part beyond ASCII, which no form can carry.
	at := strings.LastIndexByte(email, '@')
	domain := asciiDomain(email[at+1:])
	if !isASCII(email[:at]) || domain == "" {
		return ""
	}
	return email[:at+1] + domain
}

// FormatAddress is a mailbox for a header: `"Name" <addr>`, the name made
// safe (headerText) and quoted or RFC 2047-encoded by net/mail; just the
// address when the name is empty. addr must be a bare address (a sender
// address from configuration, or one that passed cleanAddress).
func FormatAddress(name, addr string) string {
	name = nameQuotes.Replace(headerText(name, maxDisplayName))
	return (&mail.Address{Name: name, Address: addr}).String()
}

// nameQuotes keeps a display name from needing escapes or looking like an
// address: quotes and backslashes (which net/mail would escape, and some
// mail software reads badly) become ' and /, angle brackets ‹ and ›. What
// is left is quoted, or encoded when not ASCII, by net/mail.
var nameQuotes = strings.NewReplacer(`"`, `'`, `\`, `/`, "<", "‹", ">", "›")

// bareAddress is the address of a configured sender, which may be written
// `Name <addr>`: the name is replaced by each email's own.
func bareAddress(from string) string {
	if a, err := mail.ParseAddress(from); err == nil {
		return a.Address
	}
	return strings.TrimSpace(from)
}

// fromName is the From display name: "<team> via <sender>", or the sender
// alone for a team without a name. The team's part is shortened first, so
// that "via <sender>" always shows.
func fromName(team, sender string) string {
	sender = headerText(withoutAddresses(sender), 40)
	team = headerText(withoutAddresses(team), maxDisplayName-len([]rune(sender))-5)
	if team == "" {
		return sender
	}
	return team + " via " + sender
}

// withoutAddresses is a display name without what could pass for an
// address or a link: a team named "PayPal Security <security@paypal.com>"
// must not show an address in the From name (filters score it as
// phishing, and readers trust it). Bracketed parts go, and every word
// with an "@", a "://" or a leading "www.".
func withoutAddresses(name string) string {
	name = bracketed.ReplaceAllString(name, " ")
	name = strings.NewReplacer("<", " ", ">", " ").Replace(name)
	words := strings.Fields(name)
	kept := words[:0]
	for _, w := range words {
		lw := strings.ToLower(w)
		if strings.Contains(lw, "@") || strings.Contains(lw, "://") || strings.HasPrefix(strings.TrimLeft(lw, "(\"'["), "www.") {
			continue
		}
		kept = append(kept, w)
	}
	return strings.Join(kept, " ")
}

var bracketed = regexp.MustCompile(`<[^<>]*>`)

// The sender's checks of what goes into SES's headers (internal/delivery):

// BareAddress is the address of a From value ("Name <a@b>" or "a@b").
func BareAddress(from string) string { return bareAddress(from) }

// CleanAddress is a recipient's or Reply-To's address as SES takes it
// when it is one plain address that makes no other header, else "".
func CleanAddress(addr string) string { return cleanAddress(addr) }

// SubjectLine is a subject as one visible line of at most 150 characters.
func SubjectLine(s string) string { return headerText(s, maxSubject) }
