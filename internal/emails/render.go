package emails

import (
	"fmt"
	"html"
	"strings"
)

// The email renderer: plain "{{name}}" substitution, parsed once at start-up.
//
// Why not text/template and html/template: they call methods by name through
// reflection, which makes the linker keep every exported method of every
// reachable type; in the deliverer that kept all DynamoDB and SES client
// methods (about 5 MB of the bootstrap). This renderer has no logic, so it
// costs nothing of the kind.
//
// How to write an email with it:
//   - A Template is text with placeholders "{{name}}" (letters, digits, '_'
//     and '.'; no spaces). There is no other syntax: no conditionals, loops,
//     pipelines or escapes, and "{{" may not appear otherwise.
//   - A choice ("X invited you" or "You are invited", "an admin" or "a user")
//     is made in Go: write each variant as its own Template and pick one, or
//     put the chosen words in a variable. Repeated blocks (rows of a table)
//     are rendered in Go and passed in as Safe HTML.
//   - HTML substitutes every variable HTML-escaped (&, <, >, ", '), so a
//     value is safe in element text and in a quoted attribute. It does not
//     check URL schemes: a URL in href must be one our code built from
//     configuration (the accept link, the download page), never one a user
//     typed. Text substitutes the values as they are.
//   - Every placeholder must have a value; a missing one is an error, found
//     by the tests that render each email (extra values are ignored).

// Template is a parsed email part.
type Template struct {
	lits  []string // len(lits) == len(names)+1
	names []string
}

// Vars are the values of a template's placeholders.
type Vars map[string]string

// Safe is HTML that is substituted as is (made by our code, already escaped).
type Safe string

// Parse splits src into literals and placeholder names.
func Parse(src string) (*Template, error) {
	t := &Template{}
	rest := src
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if strings.Contains(rest, "}}") {
				return nil, fmt.Errorf("mail template: %q without {{", "}}")
			}
			t.lits = append(t.lits, rest)
			return t, nil
		}
		lit := rest[:i]
		if strings.Contains(lit, "}}") {
			return nil, fmt.Errorf("mail template: %q without {{", "}}")
		}
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("mail template: unclosed {{ at %q", rest[i:min(len(rest), i+20)])
		}
		name := rest[i+2 : i+2+j]
		if !validName(name) {
			return nil, fmt.Errorf("mail template: bad placeholder {{%s}}", name)
		}
		t.lits = append(t.lits, lit)
		t.names = append(t.names, name)
		rest = rest[i+2+j+2:]
	}
}

// MustParse is Parse for templates fixed in the source.
func MustParse(src string) *Template {
	t, err := Parse(src)
	if err != nil {
		panic(err)
	}
	return t
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// Names are the template's placeholders in order.
func (t *Template) Names() []string { return append([]string(nil), t.names...) }

// Text renders with the values as they are (a plain-text part, a subject).
func (t *Template) Text(v Vars) (string, error) {
	return t.render(func(name string) (string, bool) {
		s, ok := v[name]
		return s, ok
	})
}

// HTML renders with every value HTML-escaped; safe holds fragments our
// code built (already escaped) that are substituted as they are.
func (t *Template) HTML(v Vars, safe map[string]Safe) (string, error) {
	return t.render(func(name string) (string, bool) {
		if s, ok := safe[name]; ok {
			return string(s), true
		}
		s, ok := v[name]
		return html.EscapeString(s), ok
	})
}

func (t *Template) render(value func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for i, name := range t.names {
		b.WriteString(t.lits[i])
		s, ok := value(name)
		if !ok {
			return "", fmt.Errorf("mail template: no value for {{%s}}", name)
		}
		b.WriteString(s)
	}
	b.WriteString(t.lits[len(t.lits)-1])
	return b.String(), nil
}
