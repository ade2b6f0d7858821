package scim

import (
	"encoding/json"
	"strings"
)

func jsonEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// PATCH (RFC 7644 §3.5.2) edits the user's JSON document; the document it
// leaves is then read as the state it asks for (StateFrom, Patched), so a
// PATCH and a PUT of the same result are the same change. What identity
// providers send is taken as they send it:
//
//   - op in any case ("replace", Entra ID's "Replace");
//   - no path: the value is an object of attributes, each name a path
//     itself ({"active": false} from Okta; {"name.givenName": "Ann"});
//   - paths with a schema, sub-attributes and value filters:
//     name.givenName, emails[type eq "work"].value,
//     roles[primary eq "True"].value;
//   - booleans as strings ("False", from Entra ID);
//   - an add or replace through a value filter that matches nothing makes
//     the value (Entra ID's first work email);
//   - attributes this service does not keep are edited in the document
//     and then ignored, so an identity provider's default mappings
//     (titles, phone numbers, the enterprise extension) do not fail.

// Operation is one PATCH operation.
type Operation struct {
	Op    string
	Path  string
	Value any
}

// ParsePatch reads a PatchOp body.
func ParsePatch(doc map[string]any) ([]Operation, error) {
	if s, ok := lookup(doc, "schemas"); ok {
		found := false
		for _, v := range values(s) {
			if str, ok := v.(string); ok && strings.EqualFold(str, SchemaPatchOp) {
				found = true
			}
		}
		if !found {
			return nil, invalidSyntax("schemas must list %s.", SchemaPatchOp)
		}
	}
	raw, ok := lookup(doc, "Operations")
	list, isList := raw.([]any)
	if !ok || !isList || len(list) == 0 {
		return nil, invalidSyntax("Operations must list at least one operation.")
	}
	if len(list) > 100 {
		return nil, invalidSyntax("A PATCH holds at most 100 operations.")
	}
	ops := make([]Operation, len(list))
	for i, x := range list {
		o, ok := x.(map[string]any)
		if !ok {
			return nil, invalidSyntax("Operations[%d] must be an object.", i)
		}
		op, _ := lookup(o, "op")
		opName, _ := op.(string)
		ops[i].Op = strings.ToLower(opName)
		switch ops[i].Op {
		case "add", "replace", "remove":
		default:
			return nil, invalidSyntax("Operations[%d].op must be add, replace or remove, not %q.", i, opName)
		}
		if p, ok := lookup(o, "path"); ok && p != nil {
			ps, isStr := p.(string)
			if !isStr {
				return nil, invalidPath("Operations[%d].path must be a string.", i)
			}
			ops[i].Path = strings.TrimSpace(ps)
		}
		ops[i].Value, _ = lookup(o, "value")
	}
	return ops, nil
}

// Apply runs the operations on a document, in order.
func Apply(doc map[string]any, ops []Operation) error {
	for _, op := range ops {
		if op.Path == "" {
			if op.Op == "remove" {
				return Errorf(400, TypeNoTarget, "A remove operation needs a path.")
			}
			obj, ok := op.Value.(map[string]any)
			if !ok {
				return invalidValue("An %s operation without a path needs an object of attributes as its value.", op.Op)
			}
			for name, v := range obj {
				if readOnly[strings.ToLower(name)] {
					// Some providers send the resource back whole: what
					// cannot change is fine as long as it does not.
					if cur, _ := lookup(doc, name); strings.EqualFold(name, "schemas") || jsonEqual(cur, v) {
						continue
					}
					return mutability("%s is read-only.", name)
				}
				if err := applyPath(doc, op.Op, name, v); err != nil {
					return err
				}
			}
			continue
		}
		if err := applyPath(doc, op.Op, op.Path, op.Value); err != nil {
			return err
		}
	}
	return nil
}

// patchPath is a parsed PATCH path: [schema:]attr[.sub] or
// [schema:]attr[filter][.sub].
type patchPath struct {
	container string // an extension's schema URN, or "" for the core User
	attr      string
	filter    expr
	sub       string
}

func parsePatchPath(s string) (patchPath, error) {
	var p patchPath
	if i := len(SchemaUser) + 1; len(s) > i && strings.EqualFold(s[:i], SchemaUser+":") {
		s = s[i:]
	} else if strings.EqualFold(s, SchemaUser) {
		return p, invalidPath("%q names a schema, not an attribute.", s)
	} else if strings.HasPrefix(strings.ToLower(s), "urn:") {
		// An extension's attribute (Entra ID's enterprise department…).
		if strings.Contains(s, "[") {
			return p, invalidPath("%q is not a path this service reads.", s)
		}
		i := strings.LastIndex(s, ":")
		p.container, s = s[:i], s[i+1:]
		if strings.EqualFold(p.container+":"+s, SchemaEnterpriseUser) || s == "" {
			return p, invalidPath("%q names a schema, not an attribute.", p.container+":"+s)
		}
	}
	if open := strings.Index(s, "["); open >= 0 {
		close := strings.LastIndex(s, "]")
		if close < open {
			return p, invalidPath("%q: a bracket is not closed.", s)
		}
		p.attr = s[:open]
		f, err := ParseFilter(s[open+1 : close])
		if err != nil {
			return p, invalidPath("%q: %s", s, err.(*Error).Detail)
		}
		p.filter = f.root
		rest := s[close+1:]
		if rest != "" {
			if !strings.HasPrefix(rest, ".") {
				return p, invalidPath("%q is not a path.", s)
			}
			p.sub = rest[1:]
		}
	} else {
		parts := strings.Split(s, ".")
		if len(parts) > 2 {
			return p, invalidPath("%q is not a path.", s)
		}
		p.attr = parts[0]
		if len(parts) == 2 {
			p.sub = parts[1]
		}
	}
	if !validName(p.attr) || (p.sub != "" && !validName(p.sub)) {
		return p, invalidPath("%q is not a path.", s)
	}
	return p, nil
}

// readOnly attributes cannot be edited (RFC 7643: id and meta; groups are
// the Groups resource's to change).
var readOnly = map[string]bool{"id": true, "meta": true, "schemas": true, "groups": true}

func applyPath(doc map[string]any, op, path string, value any) error {
	p, err := parsePatchPath(path)
	if err != nil {
		return err
	}
	if p.container == "" && readOnly[strings.ToLower(p.attr)] {
		return mutability("%s is read-only.", p.attr)
	}
	target := doc
	if p.container != "" {
		c, ok := lookup(doc, p.container)
		obj, isObj := c.(map[string]any)
		if !ok || !isObj {
			if op == "remove" {
				return nil
			}
			obj = map[string]any{}
			doc[p.container] = obj
		}
		target = obj
	}
	name := keyOf(target, p.attr)
	cur, exists := target[name]
	switch {
	case p.filter == nil && p.sub == "":
		switch op {
		case "remove":
			if value != nil && exists {
				// Remove the listed values of a multi-valued attribute.
				if list, ok := cur.([]any); ok {
					target[name] = without(list, values(value))
					return nil
				}
			}
			delete(target, name)
		case "replace":
			target[name] = value
		case "add":
			target[name] = added(cur, exists, value)
		}
	case p.filter == nil:
		// attr.sub: a complex attribute's sub-attribute.
		switch c := cur.(type) {
		case map[string]any:
			setSub(c, op, p.sub, value)
		case []any:
			for _, el := range c {
				if obj, ok := el.(map[string]any); ok {
					setSub(obj, op, p.sub, value)
				}
			}
		default:
			if op != "remove" {
				target[name] = map[string]any{p.sub: value}
			}
		}
	default:
		// attr[filter] or attr[filter].sub: the matching values.
		list, _ := cur.([]any)
		matched := false
		var kept []any
		for _, el := range list {
			obj, ok := el.(map[string]any)
			if !ok || !p.filter.eval(obj) {
				kept = append(kept, el)
				continue
			}
			matched = true
			switch {
			case op == "remove" && p.sub == "":
				continue
			case p.sub == "":
				if v, ok := value.(map[string]any); ok {
					for k, x := range v {
						obj[keyOf(obj, k)] = x
					}
				}
			default:
				setSub(obj, op, p.sub, value)
			}
			kept = append(kept, obj)
		}
		if !matched && op != "remove" {
			// Make the value the filter describes (Entra ID's
			// emails[type eq "work"].value on a user without one).
			obj := seed(p.filter)
			if p.sub != "" {
				obj[p.sub] = value
			} else if v, ok := value.(map[string]any); ok {
				for k, x := range v {
					obj[k] = x
				}
			}
			kept = append(kept, obj)
		}
		if kept == nil {
			delete(target, name)
		} else {
			target[name] = kept
		}
	}
	return nil
}

// keyOf is the document's own spelling of an attribute name, if it has it.
func keyOf(obj map[string]any, name string) string {
	if _, ok := obj[name]; ok {
		return name
	}
	for k := range obj {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return name
}

func setSub(obj map[string]any, op, sub string, value any) {
	k := keyOf(obj, sub)
	if op == "remove" {
		delete(obj, k)
		return
	}
	obj[k] = value
}

// added is add's result: values appended to a multi-valued attribute,
// sub-attributes merged into a complex one, else the value.
func added(cur any, exists bool, value any) any {
	if !exists || cur == nil {
		return value
	}
	switch c := cur.(type) {
	case []any:
		out := append([]any{}, c...)
		for _, v := range values(value) {
			if !containsValue(out, v) {
				out = append(out, v)
			}
		}
		return out
	case map[string]any:
		if v, ok := value.(map[string]any); ok {
			for k, x := range v {
				c[keyOf(c, k)] = x
			}
			return c
		}
	}
	return value
}

func containsValue(list []any, v any) bool {
	for _, x := range list {
		if sameValue(x, v) {
			return true
		}
	}
	return false
}

// sameValue compares two values of a multi-valued attribute by their
// "value" sub-attribute (or themselves).
func sameValue(a, b any) bool {
	va, vb := valueOf(a), valueOf(b)
	sa, okA := va.(string)
	sb, okB := vb.(string)
	return okA && okB && strings.EqualFold(sa, sb)
}

func valueOf(x any) any {
	if o, ok := x.(map[string]any); ok {
		v, _ := lookup(o, "value")
		return v
	}
	return x
}

func without(list, drop []any) []any {
	var out []any
	for _, x := range list {
		if !containsValue(drop, x) {
			out = append(out, x)
		}
	}
	return out
}

// seed is the value a filter of equalities describes: type eq "work" →
// {"type": "work"}.
func seed(e expr) map[string]any {
	out := map[string]any{}
	var walk func(expr)
	walk = func(e expr) {
		switch x := e.(type) {
		case *andExpr:
			walk(x.l)
			walk(x.r)
		case *cmpExpr:
			if x.op == "eq" && len(x.path) == 1 && x.val != nil {
				out[x.path[0]] = x.val
			}
		}
	}
	walk(e)
	return out
}
