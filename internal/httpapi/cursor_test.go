package httpapi

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/teamusers/usersapi/internal/users"
)

func TestCursorRoundTripAndTamper(t *testing.T) {
	c := NewCursors([]byte("0123456789abcdef0123456789abcdef"))
	q := users.ListQuery{Sort: users.SortEmail, Statuses: []users.Status{users.StatusActive}, Limit: 25}
	cur := c.Encode("t_a", q, "bob@example.com")
	pos, err := c.Decode("t_a", q, cur)
	if err != nil || pos != "bob@example.com" {
		t.Fatalf("round trip: %q, %v", pos, err)
	}
	// The limit may change between pages; the order of filter values does not matter.
	q2 := q
	q2.Limit = 100
	if _, err := c.Decode("t_a", q2, cur); err != nil {
		t.Fatalf("a new limit rejected the cursor: %v", err)
	}

	payload, sig, _ := strings.Cut(cur, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(payload)
	forged := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), "bob", "amy", 1))) + "." + sig
	other := NewCursors([]byte("another secret another secret ab")).Encode("t_a", q, "bob@example.com")
	desc := q
	desc.Desc = true
	filtered := q
	filtered.Roles = []users.Role{users.RoleAdmin}

	cases := map[string]struct {
		team, cursor string
		q            users.ListQuery
	}{
		"edited position":         {"t_a", forged, q},
		"signed with another key": {"t_a", other, q},
		"another team":            {"t_b", cur, q},
		"another order":           {"t_a", cur, desc},
		"another filter":          {"t_a", cur, filtered},
		"garbage":                 {"t_a", "not-a-cursor", q},
		"empty signature":         {"t_a", payload + ".", q},
		"oversized":               {"t_a", strings.Repeat("a", 5000) + "." + sig, q},
	}
	for name, tc := range cases {
		if _, err := c.Decode(tc.team, tc.q, tc.cursor); err != users.ErrInvalidCursor {
			t.Errorf("%s: got %v, want invalid_cursor", name, err)
		}
	}
}
