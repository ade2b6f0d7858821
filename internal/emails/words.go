package emails

import (
	"fmt"
	"strings"
	"time"

	"github.com/teamusers/usersapi/internal/users"
)

// Words for people, not codes: the portal's labels (users/labels.go) for
// roles, statuses and last calls, and instants written with the date, the
// time and the zone. The emails go to people anywhere, and the deliverer
// does not know their time zone, so every time is UTC and says so.

// When is an instant for a sentence: "December 6, 2026 at 15:04 UTC".
func When(t time.Time) string { return t.UTC().Format("January 2, 2006 at 15:04 UTC") }

// shortWhen is an instant for a table cell, under a "(UTC)" heading:
// "Nov 28, 2026 14:05".
func shortWhen(t time.Time) string { return t.UTC().Format("Jan 2, 2006 15:04") }

// day is a date for a sentence: "November 1, 2026".
func day(t time.Time) string { return t.UTC().Format("January 2, 2006") }

// periodShort is a period for a subject: "Nov 1 – Nov 30, 2026", or with
// both years when it spans two.
func periodShort(from, to time.Time) string {
	if from.Year() == to.Year() {
		return from.UTC().Format("Jan 2") + " – " + to.UTC().Format("Jan 2, 2006")
	}
	return from.UTC().Format("Jan 2, 2006") + " – " + to.UTC().Format("Jan 2, 2006")
}

// whenFrom reads an instant the outbox email carries (RFC 3339). Emails
// queued before the instants were stored this way carry words already:
// they are kept as they are.
func whenFrom(s string) string {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return When(t)
	}
	return s
}

// roleWords is "an Admin" or "a User": the portal's label with its article.
func roleWords(r users.Role) string {
	switch l := r.Label(); {
	case l == "":
		return "a member"
	case r == users.RoleAdmin:
		return "an " + l
	default:
		return "a " + l
	}
}

// words writes an email's sentences in a small markup over its values:
// {{name}} is a value, **…** is strong, and [label]{{name}} is a link whose
// target is the value name. The markup is read before values are put in,
// so no value (a team's name, an address) can become markup, and every
// value is escaped when the HTML part is written (layout.go). A name with
// no value is an error of the email, found by the tests that render every
// kind.
type words struct {
	v   Vars
	err error // the first name without a value
}

// set gives a name its value.
func (w *words) set(name, value string) *words {
	w.v[name] = value
	return w
}

func (w *words) value(name string) string {
	v, ok := w.v[name]
	if !ok && w.err == nil {
		w.err = fmt.Errorf("no value for {{%s}}", name)
	}
	return v
}

// p is one paragraph.
func (w *words) p(src string) []span {
	var out []span
	bold := false
	for src != "" {
		i := strings.IndexAny(src, "*[{")
		if i < 0 {
			i = len(src)
		}
		if i > 0 {
			out = append(out, span{text: src[:i], strong: bold})
			src = src[i:]
			continue
		}
		switch {
		case strings.HasPrefix(src, "**"):
			bold, src = !bold, src[2:]
		case strings.HasPrefix(src, "{{") && strings.Contains(src, "}}"):
			j := strings.Index(src, "}}")
			out = append(out, span{text: w.value(src[2:j]), strong: bold})
			src = src[j+2:]
		case strings.HasPrefix(src, "[") && strings.Contains(src, "]{{") && strings.Contains(src, "}}"):
			j := strings.Index(src, "]{{")
			k := j + strings.Index(src[j:], "}}")
			out = append(out, span{text: src[1:j], href: w.value(src[j+3 : k])})
			src = src[k+2:]
		default:
			out = append(out, span{text: src[:1], strong: bold})
			src = src[1:]
		}
	}
	return out
}

// ps is paragraphs.
func (w *words) ps(srcs ...string) [][]span {
	out := make([][]span, len(srcs))
	for i, s := range srcs {
		out[i] = w.p(s)
	}
	return out
}

// s is a sentence as plain text: a subject, a heading, a preheader.
func (w *words) s(src string) string {
	var b strings.Builder
	for _, sp := range w.p(src) {
		b.WriteString(sp.text)
	}
	return b.String()
}
