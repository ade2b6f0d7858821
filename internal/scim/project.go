package scim

import (
	"encoding/json"
	"strings"
)

// Project applies the attributes and excludedAttributes query parameters
// (RFC 7644 §3.4.2.5, comma-separated paths) to a resource: id and
// schemas are always returned. Names are matched without regard to case
// and may carry the User schema's URN; an extension's attribute is a path
// nothing here has. Both lists are checked, though attributes wins when
// both are given, so a wrong path is never let through unseen.
func Project(resource any, attributes, excluded string) (any, error) {
	want, err := projectionPaths(attributes)
	if err != nil {
		return nil, err
	}
	drop, err := projectionPaths(excluded)
	if err != nil {
		return nil, err
	}
	if attributes == "" && excluded == "" {
		return resource, nil
	}
	b, err := json.Marshal(resource)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if attributes != "" {
		out := map[string]any{}
		for k, v := range doc {
			switch {
			case strings.EqualFold(k, "id") || strings.EqualFold(k, "schemas"):
				out[k] = v
				continue
			}
			var subs []string
			whole := false
			for _, p := range want {
				if strings.EqualFold(p[0], k) {
					if len(p) == 1 {
						whole = true
					} else {
						subs = append(subs, p[1])
					}
				}
			}
			switch {
			case whole:
				out[k] = v
			case len(subs) > 0:
				out[k] = keepSubs(v, subs)
			}
		}
		return out, nil
	}
	for _, p := range drop {
		k := keyOf(doc, p[0])
		if strings.EqualFold(k, "id") || strings.EqualFold(k, "schemas") {
			continue
		}
		if len(p) == 1 {
			delete(doc, k)
			continue
		}
		switch v := doc[k].(type) {
		case map[string]any:
			delete(v, keyOf(v, p[1]))
		case []any:
			for _, el := range v {
				if o, ok := el.(map[string]any); ok {
					delete(o, keyOf(o, p[1]))
				}
			}
		}
	}
	return doc, nil
}

// projectionPaths reads a comma-separated list of attribute paths: each,
// spaces trimmed, is name or name.sub (a name is a letter or "$", then
// letters, digits, "-", "_" or "$"), optionally after a schema URN and a
// colon ("urn:" in any case, up to the last colon); empty items are
// skipped. api/openapi.yaml states the same as a pattern.
func projectionPaths(list string) ([][]string, error) {
	var out [][]string
	for _, a := range strings.Split(list, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		name, schema := a, ""
		if strings.HasPrefix(strings.ToLower(a), "urn:") {
			i := strings.LastIndex(a, ":")
			name, schema = a[i+1:], a[:i]
		}
		parts := strings.Split(name, ".")
		ok := len(parts) <= 2
		for _, part := range parts {
			ok = ok && validName(part)
		}
		switch {
		case !ok:
			return nil, invalidValue("%q is not an attribute path.", a)
		case schema == "" || strings.EqualFold(schema, SchemaUser):
			out = append(out, parts)
		default:
			out = append(out, []string{schema, name}) // an extension's: nothing here has it
		}
	}
	return out, nil
}

func keepSubs(v any, subs []string) any {
	keep := func(o map[string]any) map[string]any {
		out := map[string]any{}
		for k, x := range o {
			for _, s := range subs {
				if strings.EqualFold(k, s) {
					out[k] = x
				}
			}
		}
		return out
	}
	switch x := v.(type) {
	case map[string]any:
		return keep(x)
	case []any:
		out := make([]any, 0, len(x))
		for _, el := range x {
			if o, ok := el.(map[string]any); ok {
				out = append(out, keep(o))
			}
		}
		return out
	}
	return v
}
