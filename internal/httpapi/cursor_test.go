package httpapi

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/teamusers/usersapi/internal/keyring"
	"github.com/teamusers/usersapi/internal/users"
)

func TestCursorRoundTripAndTamper(t *testing.T) {
	c := NewCursors(keyring.New([]byte("0123456789abcdef0123456789abcdef")))
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
	other := NewCursors(keyring.New([]byte("another secret another secret ab"))).Encode("t_a", q, "bob@example.com")
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
		"unknown key version":     {"t_a", strings.TrimSuffix(cur, keyring.KeyID([]byte("0123456789abcdef0123456789abcdef"))) + "AAAAAAAA", q},
		"too many parts":          {"t_a", cur + ".x", q},
		"oversized":               {"t_a", strings.Repeat("a", 5000) + "." + sig, q},
	}
	for name, tc := range cases {
		if _, err := c.Decode(tc.team, tc.q, tc.cursor); err != users.ErrInvalidCursor {
			t.Errorf("%s: got %v, want invalid_cursor", name, err)
		}
	}
}

// A cursor in a reader's hands survives a rotation of the secret: it names
// the version that signed it, which the functions keep as the previous one.
func TestCursorSurvivesARotation(t *testing.T) {
	k0, k1 := []byte("0123456789abcdef0123456789abcdef"), []byte("the rotated secret, 32 bytes long!")
	q := users.ListQuery{Sort: users.SortEmail, Limit: 25}
	cur := NewCursors(keyring.New(k0)).Encode("t_a", q, "bob@example.com")
	if pos, err := NewCursors(keyring.New(k1, k0)).Decode("t_a", q, cur); err != nil || pos != "bob@example.com" {
		t.Fatalf("after a rotation: %q %v", pos, err)
	}
	// A cursor made before cursors named their key version.
	payload, rest, _ := strings.Cut(cur, ".")
	sig, _, _ := strings.Cut(rest, ".")
	if pos, err := NewCursors(keyring.New(k1, k0)).Decode("t_a", q, payload+"."+sig); err != nil || pos != "bob@example.com" {
		t.Fatalf("legacy cursor: %q %v", pos, err)
	}
	if _, err := NewCursors(keyring.New(k1)).Decode("t_a", q, cur); err != users.ErrInvalidCursor {
		t.Fatalf("a dropped version still signs: %v", err)
	}
}
