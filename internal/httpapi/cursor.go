package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"

	"github.com/teamusers/usersapi/internal/keyring"
	"github.com/teamusers/usersapi/internal/users"
)

// Cursors is the codec of list cursors: the position (the sort key of the
// last row served) with the team and a digest of the query it belongs to,
// signed with HMAC-SHA256 under a key derived from the application secret.
// A cursor that was altered, or that is replayed against another team, sort
// or filter, is refused with 400 invalid_cursor; it can never move a reader
// into another team's rows. A cursor names the secret's version it was
// signed with, so cursors in readers' hands survive a rotation.
type Cursors struct {
	keys *keyring.Keyring
}

// NewCursors returns a codec signing with the ring's current key.
func NewCursors(keys *keyring.Keyring) *Cursors { return &Cursors{keys: keys} }

type cursorBody struct {
	Team  string `json:"t"`
	Query string `json:"q"`
	Pos   string `json:"p"`
}

// queryDigest identifies a query regardless of parameter order and limit.
func queryDigest(q users.ListQuery) string {
	norm := func(vals []string) string { s := slices.Clone(vals); slices.Sort(s); return strings.Join(s, ",") }
	parts := []string{
		q.Q, string(q.Sort), map[bool]string{true: "desc", false: "asc"}[q.Desc],
		norm(toStrings(q.Statuses)), norm(toStrings(q.LastCalls)), norm(toStrings(q.Roles)),
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

func toStrings[T ~string](vals []T) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	return out
}

func mac(key keyring.Key, payload string) string {
	h := hmac.New(sha256.New, keyring.Derive(key.Secret, "list-cursor"))
	h.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16])
}

// Encode makes the cursor for the page after pos:
// "<payload>.<signature>.<key id>".
func (c *Cursors) Encode(teamID string, q users.ListQuery, pos string) string {
	b, _ := json.Marshal(cursorBody{Team: teamID, Query: queryDigest(q), Pos: pos})
	payload := base64.RawURLEncoding.EncodeToString(b)
	key := c.keys.Current()
	return payload + "." + mac(key, payload) + "." + key.ID
}

// Decode checks a cursor and returns its position.
func (c *Cursors) Decode(teamID string, q users.ListQuery, cursor string) (string, error) {
	if len(cursor) > 2048 {
		return "", users.ErrInvalidCursor
	}
	parts := strings.Split(cursor, ".")
	var keys []keyring.Key
	switch len(parts) {
	case 2: // signed before keys had versions: any version held may have signed it
		keys = c.keys.Keys()
	case 3:
		if key, ok := c.keys.Find(context.Background(), parts[2]); ok {
			keys = []keyring.Key{key}
		}
	}
	payload, signed := parts[0], false
	for _, key := range keys {
		if hmac.Equal([]byte(parts[1]), []byte(mac(key, payload))) {
			signed = true
			break
		}
	}
	if !signed {
		return "", users.ErrInvalidCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return "", users.ErrInvalidCursor
	}
	var body cursorBody
	if err := json.Unmarshal(raw, &body); err != nil || body.Team != teamID || body.Query != queryDigest(q) || body.Pos == "" {
		return "", users.ErrInvalidCursor
	}
	return body.Pos, nil
}
