package users

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// SortField is a column the member list can be sorted by.
type SortField string

const (
	SortEmail      SortField = "email"
	SortLastActive SortField = "lastActive"
	SortInvitedAt  SortField = "invitedAt"
)

// List limits.
const (
	DefaultListLimit = 25
	MaxListLimit     = 100
	MaxQueryLength   = 254
)

// ListQuery is a validated request for one page of the member list.
type ListQuery struct {
	Q         string // lower-cased prefix of the email or of its domain
	Statuses  []Status
	LastCalls []LastCall
	Roles     []Role
	Sort      SortField
	Desc      bool
	Limit     int
	Cursor    string // opaque, checked by the HTTP layer
}

// Facet is one (status, bucket, role) combination; the store keeps each
// combination in its own index partition so filters never read
// non-matching members.
type Facet struct {
	Status   Status
	LastCall LastCall
	Role     Role
}

// Facets lists the combinations that the query's filters select, skipping
// combinations no member can be in. Without a status filter, deactivated
// members are not selected: they are listed only with status=deactivated.
func (q ListQuery) Facets() []Facet {
	statuses := q.Statuses
	if len(statuses) == 0 {
		statuses = ListedStatuses
	}
	roles := q.Roles
	if len(roles) == 0 {
		roles = Roles
	}
	var out []Facet
	for _, s := range statuses {
		for _, lc := range PossibleLastCalls(s) {
			if len(q.LastCalls) > 0 && !slices.Contains(q.LastCalls, lc) {
				continue
			}
			for _, r := range roles {
				out = append(out, Facet{Status: s, LastCall: lc, Role: r})
			}
		}
	}
	return out
}

// ActivityRank orders the last-call buckets by how recently their members
// used the app: 0 for "recently", then "last 7 days", "last 30 days",
// "more than 30 days", and 4 for members who never used it ("pending",
// "not active"). Sorted by last activity, most recent first, the member
// list meets the buckets in this order, give or take the members the
// nightly job has not moved yet; the store plans its reads by it.
func ActivityRank(lc LastCall) int {
	switch lc {
	case LastCallRecently:
		return 0
	case LastCallLast7Days:
		return 1
	case LastCallLast30Days:
		return 2
	case LastCallMoreThan30Days:
		return 3
	}
	return 4
}

// Matches reports whether a member passes the query's filters and search.
func (q ListQuery) Matches(m Member) bool {
	if len(q.Statuses) > 0 && !slices.Contains(q.Statuses, m.Status) {
		return false
	}
	if len(q.Statuses) == 0 && m.Status == StatusDeactivated {
		return false
	}
	if len(q.LastCalls) > 0 && !slices.Contains(q.LastCalls, m.LastCall) {
		return false
	}
	if len(q.Roles) > 0 && !slices.Contains(q.Roles, m.Role) {
		return false
	}
	if q.Q != "" && !strings.HasPrefix(m.Email, q.Q) && !strings.HasPrefix(DomainOf(m.Email), strings.TrimPrefix(q.Q, "@")) {
		return false
	}
	return true
}

// ParseListQuery validates raw query parameters. Repeated parameters are
// OR-ed; different parameters are AND-ed.
func ParseListQuery(params map[string][]string) (ListQuery, error) {
	q := ListQuery{Sort: SortEmail, Limit: DefaultListLimit}
	for key, vals := range params {
		switch key {
		case "q", "sort", "order", "limit", "cursor":
			if len(vals) > 1 {
				return q, Errorf(KindInvalid, "invalid_query", "Parameter %q may be given once.", key)
			}
		case "status", "lastCall", "role":
		default:
			return q, Errorf(KindInvalid, "invalid_query", "Unknown parameter %q.", key)
		}
		// An empty value is refused like any other wrong one, rather than
		// read as "the default": leave the parameter out instead.
		for _, v := range vals {
			if v == "" {
				return q, Errorf(KindInvalid, "invalid_query", "Parameter %q is empty; leave it out instead.", key)
			}
		}
	}
	if v, ok := params["q"]; ok {
		if err := CheckSearch(v[0]); err != nil {
			return q, err
		}
		q.Q = strings.ToLower(v[0])
	}
	var err error
	if q.Statuses, err = parseEnum(params["status"], "status", Statuses); err != nil {
		return q, err
	}
	if q.LastCalls, err = parseEnum(params["lastCall"], "lastCall", LastCalls); err != nil {
		return q, err
	}
	if q.Roles, err = parseEnum(params["role"], "role", Roles); err != nil {
		return q, err
	}
	switch v := SortField(first(params["sort"])); v {
	case "":
	case SortEmail, SortLastActive, SortInvitedAt:
		q.Sort = v
	default:
		return q, Errorf(KindInvalid, "invalid_query", "Parameter sort must be one of email, lastActive, invitedAt.")
	}
	switch first(params["order"]) {
	case "", "asc":
	case "desc":
		q.Desc = true
	default:
		return q, Errorf(KindInvalid, "invalid_query", "Parameter order must be asc or desc.")
	}
	if v := first(params["limit"]); v != "" {
		n := 0
		for _, c := range v {
			if c < '0' || c > '9' || n > MaxListLimit {
				n = -1
				break
			}
			n = n*10 + int(c-'0')
		}
		if n < 1 || n > MaxListLimit {
			return q, Errorf(KindInvalid, "invalid_query", "Parameter limit must be a whole number from 1 to %d.", MaxListLimit)
		}
		q.Limit = n
	}
	q.Cursor = first(params["cursor"])
	return q, nil
}

// CheckSearch checks q: 1 to 254 characters of UTF-8 text with no
// whitespace and no control character (the pattern api/openapi.yaml
// gives q, SearchPattern).
func CheckSearch(v string) error {
	if !utf8.ValidString(v) {
		return Errorf(KindInvalid, "invalid_query", "Parameter q must be UTF-8 text.")
	}
	if n := utf8.RuneCountInString(v); n == 0 || n > MaxQueryLength {
		return Errorf(KindInvalid, "invalid_query", "Parameter q must be 1 to %d characters.", MaxQueryLength)
	}
	for _, r := range v {
		if notInSearch(r) {
			return Errorf(KindInvalid, "invalid_query", "Parameter q may not contain spaces or control characters.")
		}
	}
	return nil
}

// SearchPattern is CheckSearch as the ECMA-262 regular expression of the
// document: the characters refused are the controls (C0, DEL, C1) and
// every character that JavaScript's \s or Go's unicode.IsSpace calls
// white space.
const SearchPattern = `^[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]{1,254}$`

func notInSearch(r rune) bool {
	switch {
	case r <= 0x20, r >= 0x7f && r <= 0xa0, r == 0x1680, r >= 0x2000 && r <= 0x200a,
		r == 0x2028, r == 0x2029, r == 0x202f, r == 0x205f, r == 0x3000, r == 0xfeff:
		return true
	}
	return false
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func parseEnum[T ~string](vals []string, name string, allowed []T) ([]T, error) {
	var out []T
	for _, raw := range vals {
		for _, part := range strings.Split(raw, ",") {
			v := T(strings.TrimSpace(part))
			if !slices.Contains(allowed, v) {
				return nil, Errorf(KindInvalid, "invalid_query", "Parameter %s has an unknown value %q.", name, string(v))
			}
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out, nil
}
