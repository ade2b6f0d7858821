package samtemplate

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Parameter is one of the template's Parameters, with the constraints
// CloudFormation checks a value against.
type Parameter struct {
	Name           string
	Type           string // String, Number, …
	Default        string // "" when the parameter has none
	HasDefault     bool
	AllowedValues  []string
	AllowedPattern string
	MinValue       *float64
	MaxValue       *float64
	MinLength      *int
	MaxLength      *int
}

// Parameters lists the template's parameters by name.
func (t *Template) Parameters() map[string]Parameter {
	out := map[string]Parameter{}
	params, _ := t.doc["Parameters"].(map[string]any)
	for name, v := range params {
		m, _ := v.(map[string]any)
		p := Parameter{Name: name, Type: fmt.Sprint(m["Type"])}
		if d, ok := m["Default"]; ok {
			p.Default, p.HasDefault = scalar(d), true
		}
		if av, ok := m["AllowedValues"].([]any); ok {
			for _, a := range av {
				p.AllowedValues = append(p.AllowedValues, scalar(a))
			}
		}
		if ap, ok := m["AllowedPattern"].(string); ok {
			p.AllowedPattern = ap
		}
		p.MinValue, p.MaxValue = number(m["MinValue"]), number(m["MaxValue"])
		if n := number(m["MinLength"]); n != nil {
			l := int(*n)
			p.MinLength = &l
		}
		if n := number(m["MaxLength"]); n != nil {
			l := int(*n)
			p.MaxLength = &l
		}
		out[name] = p
	}
	return out
}

func scalar(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func number(v any) *float64 {
	switch x := v.(type) {
	case float64:
		return &x
	case string:
		if f, err := strconv.ParseFloat(x, 64); err == nil {
			return &f
		}
	}
	return nil
}

// Check says whether value is one CloudFormation would accept for p.
func (p Parameter) Check(value string) error {
	if len(p.AllowedValues) > 0 && !slices.Contains(p.AllowedValues, value) {
		return fmt.Errorf("%s must be one of %s, not %q", p.Name, strings.Join(p.AllowedValues, ", "), value)
	}
	switch p.Type {
	case "Number":
		f, err := strconv.ParseFloat(value, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%s must be a number, not %q", p.Name, value)
		}
		if p.MinValue != nil && f < *p.MinValue || p.MaxValue != nil && f > *p.MaxValue {
			return fmt.Errorf("%s must be %s, not %s", p.Name, p.rangeText(), value)
		}
	case "String":
		n := utf8.RuneCountInString(value)
		if p.MinLength != nil && n < *p.MinLength {
			return fmt.Errorf("%s must be at least %d characters", p.Name, *p.MinLength)
		}
		if p.MaxLength != nil && n > *p.MaxLength {
			return fmt.Errorf("%s must be at most %d characters", p.Name, *p.MaxLength)
		}
		if p.AllowedPattern != "" {
			re, err := regexp.Compile("^(?:" + p.AllowedPattern + ")$")
			if err != nil {
				return fmt.Errorf("%s: the template's AllowedPattern does not compile: %w", p.Name, err)
			}
			if !re.MatchString(value) {
				return fmt.Errorf("%s must match %s, not %q", p.Name, p.AllowedPattern, value)
			}
		}
	}
	return nil
}

func (p Parameter) rangeText() string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	switch {
	case p.MinValue != nil && p.MaxValue != nil:
		return "from " + f(*p.MinValue) + " to " + f(*p.MaxValue)
	case p.MinValue != nil:
		return "at least " + f(*p.MinValue)
	default:
		return "at most " + f(*p.MaxValue)
	}
}

// ParseOverrides reads parameter overrides as `sam deploy
// --parameter-overrides` takes them: space-separated Name=Value pairs (a
// value may be quoted, "with spaces" or 'with spaces'), or the long form
// ParameterKey=Name,ParameterValue=Value. Each name must be a parameter of
// the template, given once, with a value the template allows.
func (t *Template) ParseOverrides(s string) (map[string]string, error) {
	words, err := splitWords(s)
	if err != nil {
		return nil, err
	}
	params := t.Parameters()
	out := map[string]string{}
	for _, w := range words {
		name, value, ok := strings.Cut(w, "=")
		if rest, long := strings.CutPrefix(w, "ParameterKey="); long {
			var v string
			name, v, ok = strings.Cut(rest, ",")
			value, ok = strings.CutPrefix(v, "ParameterValue=")
			if !ok {
				return nil, fmt.Errorf("%q: the long form is ParameterKey=Name,ParameterValue=Value", w)
			}
		}
		if !ok || name == "" {
			return nil, fmt.Errorf("%q: a parameter override is Name=Value", w)
		}
		p, known := params[name]
		if !known {
			names := make([]string, 0, len(params))
			for n := range params {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("%s is not a parameter of template.yaml (it has %s)", name, strings.Join(names, ", "))
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%s is given twice", name)
		}
		if err := p.Check(value); err != nil {
			return nil, err
		}
		out[name] = value
	}
	return out, nil
}

// splitWords splits on spaces outside quotes and removes the quotes.
func splitWords(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	var quote rune
	started := false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, started = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if started {
				out = append(out, cur.String())
				cur.Reset()
				started = false
			}
		default:
			cur.WriteRune(r)
			started = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("an unclosed %c quote in %q", quote, s)
	}
	if started {
		out = append(out, cur.String())
	}
	return out, nil
}
