package scim

import (
	"encoding/json"
	"strings"
)

// Project applies the attributes and excludedAttributes query parameters
// (RFC 7644 §3.4.2.5, comma-separated paths) to a resource: id and
// schemas are always returned. Names are matched without regard to case
// and may carry the User schema's URN.
func Project(resource any, attributes, excluded string) (any, error) {
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
	paths := func(list string) ([][]string, error) {
		var out [][]string
		for _, a := range strings.Split(list, ",") {
			a = strings.TrimSpace(a)
			if a == "" {
				continue
			}
			p, err := attrPath(a)
			if err != nil {
				return nil, invalidValue("%q is not an attribute path.", a)
			}
			out = append(out, p)
		}
		return out, nil
	}
	if attributes != "" {
		want, err := paths(attributes)
		if err != nil {
			return nil, err
		}
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
	drop, err := paths(excluded)
	if err != nil {
		return nil, err
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
