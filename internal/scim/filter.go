package scim

import (
	"encoding/json"
	"strings"
	"unicode"
)

// Filters (RFC 7644 §3.4.2.2): the whole grammar is parsed — and, or,
// not, parentheses, the eleven operators, value paths such as
// emails[type eq "work"] — and evaluated on the resource as it is
// answered. Reading members takes a key: a filter must pin them by
// userName, an address (emails.value, or emails[…].value as Entra ID
// writes it), externalId or id with "eq", alone or and-ed with anything
// else (or several such keys or-ed). Those are the filters identity
// providers send to match a user (Okta: userName eq; Entra ID: userName
// eq, externalId eq); anything else would mean reading the whole team
// and is answered with scimType tooMany.

// Filter is a parsed filter.
type Filter struct {
	root expr
}

// Key is a member lookup that a filter pins its results to.
type Key struct {
	Attr  string // userName, email, externalId or id
	Value string
}

type expr interface {
	eval(obj map[string]any) bool
}

type (
	andExpr struct{ l, r expr }
	orExpr  struct{ l, r expr }
	notExpr struct{ e expr }
	// cmpExpr compares an attribute (path relative to the object it is
	// evaluated on: "userName", "name.givenName", "emails.value").
	cmpExpr struct {
		path []string
		op   string
		val  any // string, bool, json.Number or nil
	}
	// valuePath selects the values of a multi-valued attribute that match
	// a filter; with sub and op, it compares a sub-attribute of those.
	valuePathExpr struct {
		attr   string
		filter expr
		sub    string
		op     string
		val    any
	}
)

// ParseFilter parses a filter.
func ParseFilter(s string) (*Filter, error) {
	if len(s) > 4096 {
		return nil, invalidFilter("The filter is longer than 4096 characters.")
	}
	p := &parser{toks: nil}
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p.toks = toks
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, invalidFilter("Unexpected %q in the filter.", p.toks[p.pos].text)
	}
	return &Filter{root: e}, nil
}

// Matches evaluates the filter on a resource (as its JSON document).
func (f *Filter) Matches(doc map[string]any) bool { return f.root.eval(doc) }

// Keys are the lookups the filter's results are pinned to: every result
// is the member one of them finds. ok is false when the filter pins
// nothing (it would need the whole team).
func (f *Filter) Keys() (keys []Key, ok bool) { return keysOf(f.root) }

func keysOf(e expr) ([]Key, bool) {
	switch x := e.(type) {
	case *cmpExpr:
		s, isStr := x.val.(string)
		if x.op != "eq" || !isStr {
			return nil, false
		}
		switch strings.ToLower(strings.Join(x.path, ".")) {
		case "username":
			return []Key{{"userName", s}}, true
		case "emails.value":
			return []Key{{"email", s}}, true
		case "externalid":
			return []Key{{"externalId", s}}, true
		case "id":
			return []Key{{"id", s}}, true
		}
	case *valuePathExpr:
		if strings.EqualFold(x.attr, "emails") {
			if s, isStr := x.val.(string); isStr && x.op == "eq" && strings.EqualFold(x.sub, "value") {
				return []Key{{"email", s}}, true
			}
			return keysOf(x.filterOnValue())
		}
	case *andExpr:
		if k, ok := keysOf(x.l); ok {
			return k, true
		}
		return keysOf(x.r)
	case *orExpr:
		l, ok := keysOf(x.l)
		if !ok {
			return nil, false
		}
		r, ok := keysOf(x.r)
		if !ok {
			return nil, false
		}
		return append(l, r...), true
	}
	return nil, false
}

// filterOnValue rewrites emails[value eq "x"] as emails.value eq "x", for
// the keys.
func (x *valuePathExpr) filterOnValue() expr {
	if c, ok := x.filter.(*cmpExpr); ok && len(c.path) == 1 && strings.EqualFold(c.path[0], "value") {
		return &cmpExpr{path: []string{"emails", "value"}, op: c.op, val: c.val}
	}
	if a, ok := x.filter.(*andExpr); ok {
		l := &valuePathExpr{attr: x.attr, filter: a.l}
		if k, ok := keysOf(l.filterOnValue()); ok && len(k) > 0 {
			return l.filterOnValue()
		}
		r := &valuePathExpr{attr: x.attr, filter: a.r}
		return r.filterOnValue()
	}
	return x.filter
}

func (e *andExpr) eval(o map[string]any) bool { return e.l.eval(o) && e.r.eval(o) }
func (e *orExpr) eval(o map[string]any) bool  { return e.l.eval(o) || e.r.eval(o) }
func (e *notExpr) eval(o map[string]any) bool { return !e.e.eval(o) }

func (e *cmpExpr) eval(o map[string]any) bool {
	vals := valuesAt(o, e.path)
	if e.op == "pr" {
		return len(vals) > 0
	}
	if e.val == nil && e.op == "eq" {
		return len(vals) == 0
	}
	if e.val == nil && e.op == "ne" {
		return len(vals) > 0
	}
	exact := caseExact(e.path)
	for _, v := range vals {
		if compare(v, e.op, e.val, exact) {
			return true
		}
	}
	return e.op == "ne" && len(vals) == 0
}

func (e *valuePathExpr) eval(o map[string]any) bool {
	v, ok := lookup(o, e.attr)
	if !ok {
		return false
	}
	for _, el := range values(v) {
		obj, isObj := el.(map[string]any)
		if !isObj || !e.filter.eval(obj) {
			continue
		}
		if e.op == "" {
			return true
		}
		if (&cmpExpr{path: []string{e.sub}, op: e.op, val: e.val}).eval(obj) {
			return true
		}
	}
	return false
}

// valuesAt reads the values at a path, through multi-valued attributes.
func valuesAt(o map[string]any, path []string) []any {
	cur := []any{o}
	for _, name := range path {
		var next []any
		for _, c := range cur {
			obj, ok := c.(map[string]any)
			if !ok {
				continue
			}
			v, ok := lookup(obj, name)
			if !ok || v == nil {
				continue
			}
			next = append(next, values(v)...)
		}
		cur = next
	}
	return cur
}

// caseExact: id and externalId are compared exactly (RFC 7643 §3.1);
// every other string attribute here without regard to case.
func caseExact(path []string) bool {
	p := strings.ToLower(strings.Join(path, "."))
	return p == "id" || p == "externalid" || p == "meta.version"
}

func compare(v any, op string, want any, exact bool) bool {
	if _, isBool := v.(bool); isBool {
		if w, ok := want.(string); ok {
			// Entra ID writes roles[primary eq "True"]: a boolean as a string.
			switch strings.ToLower(w) {
			case "true":
				want = true
			case "false":
				want = false
			default:
				return false
			}
		}
	}
	switch w := want.(type) {
	case string:
		s, ok := v.(string)
		if !ok {
			return false
		}
		if !exact {
			s, w = strings.ToLower(s), strings.ToLower(w)
		}
		switch op {
		case "eq":
			return s == w
		case "ne":
			return s != w
		case "co":
			return strings.Contains(s, w)
		case "sw":
			return strings.HasPrefix(s, w)
		case "ew":
			return strings.HasSuffix(s, w)
		case "gt":
			return s > w
		case "ge":
			return s >= w
		case "lt":
			return s < w
		case "le":
			return s <= w
		}
	case bool:
		b, ok := v.(bool)
		if !ok {
			return false
		}
		switch op {
		case "eq":
			return b == w
		case "ne":
			return b != w
		}
	case json.Number:
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		a, err1 := n.Float64()
		b, err2 := w.Float64()
		if err1 != nil || err2 != nil {
			return false
		}
		switch op {
		case "eq":
			return a == b
		case "ne":
			return a != b
		case "gt":
			return a > b
		case "ge":
			return a >= b
		case "lt":
			return a < b
		case "le":
			return a <= b
		}
	}
	return false
}

// The tokenizer and a recursive-descent parser: or < and < not < atoms.

type token struct {
	kind string // word, string, (, ), [, ]
	text string
	val  any
}

func tokenize(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == '[' || c == ']':
			out = append(out, token{kind: string(c), text: string(c)})
			i++
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, invalidFilter("A string in the filter is not closed.")
			}
			var v string
			if err := json.Unmarshal([]byte(s[i:j+1]), &v); err != nil {
				return nil, invalidFilter("The string %s in the filter is not valid.", s[i:j+1])
			}
			out = append(out, token{kind: "string", text: s[i : j+1], val: v})
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r()[]\"", rune(s[j])) {
				j++
			}
			out = append(out, token{kind: "word", text: s[i:j]})
			i = j
		}
	}
	return out, nil
}

type parser struct {
	toks []token
	pos  int
}

func (p *parser) peekWord(words ...string) bool {
	if p.pos >= len(p.toks) || p.toks[p.pos].kind != "word" {
		return false
	}
	for _, w := range words {
		if strings.EqualFold(p.toks[p.pos].text, w) {
			return true
		}
	}
	return false
}

func (p *parser) peek(kind string) bool { return p.pos < len(p.toks) && p.toks[p.pos].kind == kind }

func (p *parser) or() (expr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peekWord("or") {
		p.pos++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &orExpr{l, r}
	}
	return l, nil
}

func (p *parser) and() (expr, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.peekWord("and") {
		p.pos++
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = &andExpr{l, r}
	}
	return l, nil
}

func (p *parser) unary() (expr, error) {
	if p.peekWord("not") {
		p.pos++
		if !p.peek("(") {
			return nil, invalidFilter("\"not\" must be followed by a parenthesised filter.")
		}
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &notExpr{e}, nil
	}
	if p.peek("(") {
		p.pos++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.peek(")") {
			return nil, invalidFilter("A parenthesis in the filter is not closed.")
		}
		p.pos++
		return e, nil
	}
	return p.attrExpr()
}

var operators = map[string]bool{"eq": true, "ne": true, "co": true, "sw": true, "ew": true, "gt": true, "lt": true, "ge": true, "le": true}

func (p *parser) attrExpr() (expr, error) {
	if !p.peek("word") {
		if p.pos >= len(p.toks) {
			return nil, invalidFilter("The filter ends too early.")
		}
		return nil, invalidFilter("Expected an attribute, found %q.", p.toks[p.pos].text)
	}
	path, err := attrPath(p.toks[p.pos].text)
	if err != nil {
		return nil, err
	}
	p.pos++
	if p.peek("[") {
		if len(path) != 1 {
			return nil, invalidFilter("A value filter applies to a multi-valued attribute, not %q.", strings.Join(path, "."))
		}
		p.pos++
		inner, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.peek("]") {
			return nil, invalidFilter("A bracket in the filter is not closed.")
		}
		p.pos++
		vp := &valuePathExpr{attr: path[0], filter: inner}
		// Entra ID's form: emails[type eq "work"].value eq "…"
		if p.peek("word") && strings.HasPrefix(p.toks[p.pos].text, ".") {
			vp.sub = strings.TrimPrefix(p.toks[p.pos].text, ".")
			if !validName(vp.sub) {
				return nil, invalidFilter("%q is not an attribute name.", vp.sub)
			}
			p.pos++
			op, val, err := p.comparison()
			if err != nil {
				return nil, err
			}
			vp.op, vp.val = op, val
		}
		return vp, nil
	}
	op, val, err := p.comparison()
	if err != nil {
		return nil, err
	}
	return &cmpExpr{path: path, op: op, val: val}, nil
}

func (p *parser) comparison() (string, any, error) {
	if !p.peek("word") {
		return "", nil, invalidFilter("Expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr).")
	}
	op := strings.ToLower(p.toks[p.pos].text)
	p.pos++
	if op == "pr" {
		return op, nil, nil
	}
	if !operators[op] {
		return "", nil, invalidFilter("%q is not a filter operator.", op)
	}
	if p.pos >= len(p.toks) {
		return "", nil, invalidFilter("The filter ends before the value to compare with.")
	}
	t := p.toks[p.pos]
	p.pos++
	switch {
	case t.kind == "string":
		return op, t.val, nil
	case t.kind == "word" && strings.EqualFold(t.text, "true"):
		return op, true, nil
	case t.kind == "word" && strings.EqualFold(t.text, "false"):
		return op, false, nil
	case t.kind == "word" && strings.EqualFold(t.text, "null"):
		return op, nil, nil
	case t.kind == "word":
		var n json.Number
		if err := json.Unmarshal([]byte(t.text), &n); err == nil {
			return op, n, nil
		}
	}
	return "", nil, invalidFilter("%q is not a value (a \"string\", a number, true, false or null).", t.text)
}

// attrPath splits an attribute path ("name.givenName", or with its
// schema: "urn:ietf:params:scim:schemas:core:2.0:User:userName").
func attrPath(s string) ([]string, error) {
	if i := len(SchemaUser) + 1; len(s) > i && strings.EqualFold(s[:i], SchemaUser+":") {
		s = s[i:]
	} else if strings.HasPrefix(strings.ToLower(s), "urn:") {
		// An extension's attribute: this service keeps none; it is a path
		// nothing has.
		i := strings.LastIndex(s, ":")
		return []string{s[:i], s[i+1:]}, nil
	}
	parts := strings.Split(s, ".")
	if len(parts) > 2 {
		return nil, invalidFilter("%q is not an attribute path.", s)
	}
	for _, part := range parts {
		if !validName(part) {
			return nil, invalidFilter("%q is not an attribute path.", s)
		}
	}
	return parts, nil
}

// validName: ATTRNAME = ALPHA *(nameChar), nameChar = "-" / "_" / DIGIT / ALPHA.
func validName(s string) bool {
	if s == "" || !unicode.IsLetter(rune(s[0])) && s[0] != '$' {
		return false
	}
	for _, r := range s {
		if !(r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '$')) {
			return false
		}
	}
	return true
}
