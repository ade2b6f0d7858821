package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/teamusers/usersapi/internal/keyring"
	"github.com/teamusers/usersapi/internal/samtemplate"
	"github.com/teamusers/usersapi/internal/usecase"
	"github.com/teamusers/usersapi/internal/users"
)

// Fuzz targets of every parser of outside input in this package: the
// request bodies, the idempotency key, the list cursor, the call's
// instant. Each corpus is in testdata/fuzz/<target> and runs as an
// ordinary test in make test; `make fuzz` explores further.
//
// What each one holds: nothing panics; a refusal is a domain error the
// API answers with a 4xx; what is accepted keeps every rule the document
// states for it.

// request is a POST with a JSON body, as the adapter hands it over.
func request(body []byte) (*httptest.ResponseRecorder, *http.Request) {
	r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return httptest.NewRecorder(), r
}

// refusal checks that err is an answer for the caller, never a 5xx.
func refusal(t *testing.T, err error) {
	t.Helper()
	e, ok := users.AsError(err)
	if !ok {
		t.Fatalf("not a domain error: %v", err)
	}
	switch statusOf[e.Kind] {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
	default:
		t.Fatalf("refused with %d: %v", statusOf[e.Kind], err)
	}
	if e.Message == "" || strings.Contains(e.Message, "json: ") || strings.Contains(e.Message, "2006-01-02") {
		t.Fatalf("the message shows internals: %q", e.Message)
	}
}

// wellFormed: what decodeJSON accepted is one JSON object with no null.
func wellFormed(t *testing.T, body []byte) {
	t.Helper()
	var v map[string]any
	if !json.Valid(body) || json.Unmarshal(body, &v) != nil || v == nil {
		t.Fatalf("accepted a body that is not one JSON object: %q", body)
	}
	if bytes.Contains(body, []byte("null")) && hasNull(v) {
		t.Fatalf("accepted a null: %q", body)
	}
}

func hasNull(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		for _, e := range x {
			if hasNull(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasNull(e) {
				return true
			}
		}
	}
	return false
}

func FuzzInviteBody(f *testing.F) {
	f.Add([]byte(`{"emails":["a@b.example"],"role":"admin"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := readInvite(request(body))
		if err != nil {
			refusal(t, err)
			return
		}
		wellFormed(t, body)
		if len(got.Emails) < 1 || len(got.Emails) > users.MaxInviteEmails || (got.Role != users.RoleUser && got.Role != users.RoleAdmin) {
			t.Fatalf("accepted %+v", got)
		}
	})
}

func FuzzBulkBody(f *testing.F) {
	f.Add([]byte(`{"action":"change_role","memberIds":["m_1","m_2"],"role":"user"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := readBulk(request(body))
		if err != nil {
			refusal(t, err)
			return
		}
		wellFormed(t, body)
		seen := map[string]bool{}
		for _, id := range got.MemberIDs {
			if !validID(id) || seen[id] {
				t.Fatalf("accepted the id %q", id)
			}
			seen[id] = true
		}
		if len(got.MemberIDs) < 1 || len(got.MemberIDs) > users.MaxBulkMembers || (got.Action == usecase.ActionChangeRole) != (got.Role != "") {
			t.Fatalf("accepted %+v", got)
		}
	})
}

func FuzzChangeRoleBody(f *testing.F) {
	f.Add([]byte(`{"role":"admin"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		role, err := readChangeRole(request(body))
		if err != nil {
			refusal(t, err)
			return
		}
		wellFormed(t, body)
		if role != users.RoleUser && role != users.RoleAdmin {
			t.Fatalf("accepted the role %q", role)
		}
	})
}

func FuzzEmptyBody(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if err := readEmptyBody(request(body)); err != nil {
			refusal(t, err)
			return
		}
		if len(body) > 0 {
			var v map[string]any
			if json.Unmarshal(body, &v) != nil || len(v) != 0 {
				t.Fatalf("accepted %q as empty", body)
			}
		}
	})
}

func FuzzAcceptBody(f *testing.F) {
	f.Add([]byte(`{"token":"` + strings.Repeat("A", 43) + `"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		tok, err := readAccept(request(body))
		if err != nil {
			refusal(t, err)
			return
		}
		wellFormed(t, body)
		if !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(tok) {
			t.Fatalf("accepted the token %q", tok)
		}
	})
}

func FuzzSignInBody(f *testing.F) {
	f.Add([]byte(`{"appVersion":"3.1.0","device":"macOS 15"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		version, device, err := readSignIn(request(body))
		if err != nil {
			refusal(t, err)
			return
		}
		if len(body) > 0 {
			wellFormed(t, body)
		}
		if utf8.RuneCountInString(version) > maxAppVersion || utf8.RuneCountInString(device) > maxDevice {
			t.Fatalf("accepted %q, %q", version, device)
		}
	})
}

// now is the fuzz targets' clock, fixed so that a corpus entry means the same thing every day.
var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func FuzzCallBody(f *testing.F) {
	f.Add([]byte(`{"startedAt":"2026-11-30T10:00:00Z","durationSeconds":60.0,"callId":"c-1"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		call, err := readCall(httptest.NewRecorder(), withBody(body), now)
		if err != nil {
			refusal(t, err)
			return
		}
		wellFormed(t, body)
		started := call.End.Add(-time.Duration(call.Seconds) * time.Second)
		if call.Seconds < 0 || call.Seconds > maxCallLength || call.End.After(now.Add(callClockSkew)) || started.Before(now.AddDate(-1, 0, 0)) ||
			len(call.CallID) > maxCallID || !users.PrintableASCII(call.CallID) {
			t.Fatalf("accepted %+v", call)
		}
	})
}

func withBody(body []byte) *http.Request {
	_, r := request(body)
	return r
}

func FuzzReportBody(f *testing.F) {
	f.Add([]byte(`{"memberIds":["m_1"],"from":"2026-11-01","to":"2026-11-29"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		d := Deps{Now: func() time.Time { return now }}
		req, p, err := d.readReportRequest(httptest.NewRecorder(), withBody(body))
		if err != nil {
			refusal(t, err)
			return
		}
		wellFormed(t, body)
		days := int(p.To.Sub(p.From).Hours()/24) + 1
		if checkMemberIDs(req.MemberIDs) != nil || days < 1 || days > 366 {
			t.Fatalf("accepted %+v for %d days", req, days)
		}
	})
}

// FuzzParseInstant: startedAt is RFC 3339 (a "t" and "z" in either case);
// its refusal shows an example, never Go's layout.
func FuzzParseInstant(f *testing.F) {
	f.Add("2026-11-30T14:05:00.123+01:00")
	f.Fuzz(func(t *testing.T, v string) {
		at, err := parseInstant("startedAt", v)
		if err != nil {
			refusal(t, err)
			if e, _ := users.AsError(err); e.Code != "invalid_started_at" || !strings.Contains(e.Message, "2026-11-30T14:05:00Z") {
				t.Fatalf("refusal %v", err)
			}
			return
		}
		if again, err := time.Parse(time.RFC3339Nano, at.Format(time.RFC3339Nano)); err != nil || !again.Equal(at) {
			t.Fatalf("%q read as %v", v, at)
		}
	})
}

// document reads a pattern of api/openapi.yaml by its path of keys (a
// list's by index), as a
// Go regular expression (ECMA-262's \uHHHH is Go's \x{HHHH}).
func document(t testing.TB, keys ...string) *regexp.Regexp {
	t.Helper()
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "api", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var node any
	if err := yaml.Unmarshal(raw, &node); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		switch n := node.(type) {
		case map[string]any:
			node = n[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(n) {
				t.Fatalf("no %v in the document", keys)
			}
			node = n[i]
		default:
			t.Fatalf("no %v in the document", keys)
		}
	}
	s, ok := node.(string)
	if !ok {
		t.Fatalf("no pattern at %v", keys)
	}
	s = regexp.MustCompile(`\\u([0-9a-fA-F]{4})`).ReplaceAllString(s, `\x{$1}`)
	return regexp.MustCompile(s)
}

// FuzzIdempotencyKey: the key the code accepts is exactly the one the
// document's pattern describes.
func FuzzIdempotencyKey(f *testing.F) {
	pattern := document(f, "components", "parameters", "idempotencyKey", "schema", "pattern")
	f.Add("k-1")
	f.Fuzz(func(t *testing.T, key string) {
		if !utf8.ValidString(key) {
			return // a header of the document's kind is text; bytes are checked by PrintableASCII anyway
		}
		if got, want := ValidIdempotencyKey(key), pattern.MatchString(key); got != want {
			t.Fatalf("%q: the code says %v, the document %v", key, got, want)
		}
	})
}

// FuzzID: the ids the code lets reach a key are the document's Id pattern.
func FuzzID(f *testing.F) {
	pattern := document(f, "components", "schemas", "Id", "pattern")
	f.Add("m_abc-1")
	f.Fuzz(func(t *testing.T, id string) {
		if !utf8.ValidString(id) {
			return
		}
		if got, want := validID(id), pattern.MatchString(id); got != want {
			t.Fatalf("%q: the code says %v, the document %v", id, got, want)
		}
	})
}

// FuzzInvitationToken: the token shape the code accepts is the document's.
func FuzzInvitationToken(f *testing.F) {
	var doc = document(f, "paths", "/v1/invitations/accept", "post", "requestBody", "content", "application/json", "schema", "properties", "token", "pattern")
	f.Add(strings.Repeat("A", 43))
	f.Fuzz(func(t *testing.T, tok string) {
		if !utf8.ValidString(tok) {
			return
		}
		if got, want := users.ValidInvitationToken(tok), doc.MatchString(tok); got != want {
			t.Fatalf("%q: the code says %v, the document %v", tok, got, want)
		}
	})
}

// FuzzCursor: a cursor is either refused with invalid_cursor or is one
// this codec signed for that team and query: altered bytes never decode,
// and never to another team's position.
func FuzzCursor(f *testing.F) {
	c := NewCursors(keyring.New([]byte(strings.Repeat("s", 32))))
	q := users.ListQuery{Sort: users.SortEmail, Limit: 25}
	f.Add(c.Encode("t_one", q, "pos#1"))
	f.Fuzz(func(t *testing.T, cursor string) {
		pos, err := c.Decode("t_one", q, cursor)
		if err != nil {
			if !errors.Is(err, users.ErrInvalidCursor) {
				t.Fatalf("refused with %v", err)
			}
			return
		}
		if re := c.Encode("t_one", q, pos); strings.Join(strings.Split(re, ".")[:2], ".") != strings.Join(strings.Split(cursor, ".")[:2], ".") {
			t.Fatalf("%q decoded to %q, which encodes as %q", cursor, pos, re)
		}
		if _, err := c.Decode("t_two", q, cursor); err == nil {
			t.Fatalf("%q opens another team's list", cursor)
		}
	})
}

// FuzzListQuery: the member list's parameters, as a query string.
func FuzzListQuery(f *testing.F) {
	f.Add("q=acme&status=active,invitation_sent&sort=lastActive&order=desc&limit=50")
	f.Fuzz(func(t *testing.T, raw string) {
		params, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := users.ParseListQuery(params)
		if err != nil {
			refusal(t, err)
			return
		}
		if q.Limit < 1 || q.Limit > users.MaxListLimit || (q.Q != "" && users.CheckSearch(q.Q) != nil) {
			t.Fatalf("accepted %+v from %q", q, raw)
		}
		for k, vs := range params {
			for _, v := range vs {
				if v == "" {
					t.Fatalf("accepted an empty %s in %q", k, raw)
				}
			}
		}
	})
}

// TestSearchPatternIsTheDocuments: q's pattern in the document is the one
// users.CheckSearch implements (users.FuzzSearch holds the two together).
func TestSearchPatternIsTheDocuments(t *testing.T) {
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "api", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name   string
				Schema struct{ Pattern string }
			}
		}
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range doc.Paths["/v1/teams/{teamId}/members"]["get"].Parameters {
		if p.Name == "q" {
			if p.Schema.Pattern != users.SearchPattern {
				t.Fatalf("the document's q pattern\n  %s\nis not users.SearchPattern\n  %s", p.Schema.Pattern, users.SearchPattern)
			}
			return
		}
	}
	t.Fatal("no q in the document")
}
