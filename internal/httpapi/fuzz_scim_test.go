package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/teamusers/usersapi/internal/scim"
	"github.com/teamusers/usersapi/internal/users"
)

// Fuzz targets of the SCIM service's parsers of outside input: a User's
// body, a PatchOp, the attribute lists, the paging parameters, the SCIM
// token, a token's name; and, where api/openapi.yaml states a rule as a
// pattern, the code accepting exactly what the pattern describes. (The
// filter parser's own target is internal/scim's FuzzParseFilter.)

// scimRefusal checks that err is SCIM's 4xx answer, in words for the
// provider's admin, never a 5xx or Go's own text.
func scimRefusal(t *testing.T, err error) {
	t.Helper()
	var se *scim.Error
	if !errors.As(err, &se) {
		t.Fatalf("not a SCIM error: %v", err)
	}
	if se.Status < 400 || se.Status >= 500 {
		t.Fatalf("refused with %d: %v", se.Status, err)
	}
	if se.Detail == "" || strings.Contains(se.Detail, "json: ") || strings.Contains(se.Detail, "strconv.") {
		t.Fatalf("the detail shows internals: %q", se.Detail)
	}
}

// accepted checks what a User's body or a PATCH left asks of the member:
// an address the portal would invite, a userName, a role.
func accepted(t *testing.T, u users.IdPUpdate) {
	t.Helper()
	if addr, reason := users.CheckEmail(u.Email); reason != "" || addr != u.Email {
		t.Fatalf("accepted the address %q (%s)", u.Email, reason)
	}
	if u.UserName == "" || utf8.RuneCountInString(u.UserName) > 256 {
		t.Fatalf("accepted the userName %q", u.UserName)
	}
	if u.Role != users.RoleUser && u.Role != users.RoleAdmin {
		t.Fatalf("accepted the role %q", u.Role)
	}
	if u.Data != "" && !json.Valid([]byte(u.Data)) {
		t.Fatalf("kept data that is not JSON: %q", u.Data)
	}
}

// FuzzSCIMUserBody: a POST or PUT body, as the SCIM functions read it.
func FuzzSCIMUserBody(f *testing.F) {
	for _, s := range []string{
		`{"userName":"ann@example.com"}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann","emails":[{"value":"ann@example.com","type":"work","primary":true}],"active":"False","roles":[{"value":"Admin"}]}`,
		`{"USERNAME":"b@example.com","Emails":"b@example.com","roles":"user","name":{"givenName":null}}`,
		`{"userName":"x","emails":[]}`, `null`, `[]`, `{"userName":1}`, `{"userName":"a@b.example"} {}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, mode := range []scim.Mode{scim.Create, scim.Replace} {
			doc, err := scim.ParseBody(body)
			if err != nil {
				scimRefusal(t, err)
				return
			}
			st, err := scim.StateFrom(doc, mode, scim.StateOf(fuzzMember()))
			if err != nil {
				scimRefusal(t, err)
				continue
			}
			u, err := st.Update()
			if err != nil {
				scimRefusal(t, err)
				continue
			}
			accepted(t, u)
		}
	})
}

func fuzzMember() users.Member {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	return users.Member{ID: "m_ann", TeamID: "t_a", Email: "ann@example.com", Role: users.RoleUser, Status: users.StatusActive,
		InvitedAt: t0, AcceptedAt: t0, UserName: "Ann.Lee", ExternalID: "00u1",
		IdPData: `{"emails":[{"value":"ann@example.com","type":"work","primary":true}],"roles":[{"value":"user"}]}`}
}

// FuzzSCIMPatch: a PatchOp body, applied to a member as the SCIM PATCH
// does: every refusal is SCIM's 4xx, and what passes is a member.
func FuzzSCIMPatch(f *testing.F) {
	for _, s := range []string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`,
		`{"Operations":[{"op":"Replace","value":{"displayName":"Ann","active":"True","name.givenName":"A"}}]}`,
		`{"Operations":[{"op":"add","path":"emails[type eq \"work\"].value","value":"ann@example.org"}]}`,
		`{"Operations":[{"op":"remove","path":"emails[type eq \"home\"]"}]}`,
		`{"Operations":[{"op":"remove","path":"roles"},{"op":"add","path":"roles","value":[{"value":"admin"}]}]}`,
		`{"Operations":[{"op":"replace","path":"id","value":"m_x"}]}`, `{"Operations":[]}`, `{"Operations":[{"op":"remove"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m := fuzzMember()
		doc, err := scim.ParseBody(body)
		if err != nil {
			scimRefusal(t, err)
			return
		}
		ops, err := scim.ParsePatch(doc)
		if err != nil {
			scimRefusal(t, err)
			return
		}
		edited := scim.Document(m)
		if err := scim.Apply(edited, ops); err != nil {
			scimRefusal(t, err)
			return
		}
		st, err := scim.StateFrom(edited, scim.Patched, scim.StateOf(m))
		if err != nil {
			scimRefusal(t, err)
			return
		}
		u, err := st.Update()
		if err != nil {
			scimRefusal(t, err)
			return
		}
		accepted(t, u)
	})
}

// FuzzSCIMAttributes: the attribute lists the code takes (attributes and
// excludedAttributes) are exactly the document's pattern.
func FuzzSCIMAttributes(f *testing.F) {
	pattern := document(f, "components", "parameters", "scimAttributes", "schema", "pattern")
	excluded := document(f, "components", "parameters", "scimExcludedAttributes", "schema", "pattern")
	if pattern.String() != excluded.String() {
		f.Fatal("attributes and excludedAttributes take the same lists")
	}
	for _, s := range []string{"userName", "userName, name.givenName", "urn:ietf:params:scim:schemas:core:2.0:User:emails.value", "urn:x:manager", ",,", "a.b.c", "0", "urn:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, list string) {
		if !utf8.ValidString(list) {
			return // the document's kind of text
		}
		_, errA := scim.Project(scim.User{ID: "m_x"}, list, "")
		_, errE := scim.Project(scim.User{ID: "m_x"}, "", list)
		if (errA == nil) != (errE == nil) {
			t.Fatalf("%q: attributes %v, excludedAttributes %v", list, errA, errE)
		}
		if got, want := errA == nil, pattern.MatchString(list); got != want {
			t.Fatalf("%q: the code says %v, the document %v (%v)", list, got, want, errA)
		}
		if errA != nil {
			scimRefusal(t, errA)
		}
	})
}

// FuzzSCIMValues: the values of a User the document describes by pattern
// (a boolean as Entra ID sends it, a role, a text) are exactly those the
// code takes.
func FuzzSCIMValues(f *testing.F) {
	boolean := document(f, "components", "schemas", "ScimBoolean", "oneOf", "1", "pattern")
	role := document(f, "components", "schemas", "ScimRoleIn", "oneOf", "0", "pattern")
	text := document(f, "components", "schemas", "ScimText", "pattern")
	userName := document(f, "components", "schemas", "ScimUserRequest", "properties", "userName", "pattern")
	for _, s := range []string{"True", " false\n", "yes", "Admin", "user ", "root", "Ann Lee", "a\x00b", strings.Repeat("x", 257), ""} {
		f.Add(s)
	}
	update := func(doc map[string]any) error {
		st, err := scim.StateFrom(doc, scim.Create, scim.State{})
		if err == nil {
			_, err = st.Update()
		}
		return err
	}
	f.Fuzz(func(t *testing.T, v string) {
		if !utf8.ValidString(v) {
			return // JSON carries text
		}
		short := utf8.RuneCountInString(v) <= 256
		for _, c := range []struct {
			name string
			doc  map[string]any
			want bool
		}{
			{"active", map[string]any{"userName": "a@example.com", "active": v}, boolean.MatchString(v)},
			{"a role", map[string]any{"userName": "a@example.com", "roles": []any{v}}, role.MatchString(v)},
			{"displayName", map[string]any{"userName": "a@example.com", "displayName": v}, text.MatchString(v) && short},
			{"userName", map[string]any{"userName": v, "emails": []any{"a@example.com"}}, userName.MatchString(v) && short && v != ""},
		} {
			err := update(c.doc)
			if got := err == nil; got != c.want {
				t.Fatalf("%s %q: the code says %v, the document %v (%v)", c.name, v, got, c.want, err)
			}
			if err != nil {
				scimRefusal(t, err)
			}
		}
	})
}

// FuzzSCIMPaging: startIndex and count are any integer (RFC 7644
// §3.4.2.4), anything else SCIM's 400; a page starts at 1 and holds at
// most 500.
func FuzzSCIMPaging(f *testing.F) {
	integer := regexp.MustCompile(`^[+-]?[0-9]+$`)
	for _, s := range [][2]string{{"1", "100"}, {"0", "-1"}, {"99999999999999999999", "1e3"}, {"", ""}, {" 1", "0x10"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, startIndex, count string) {
		start, n, err := scim.Paging(startIndex, count)
		want := (startIndex == "" || integer.MatchString(startIndex)) && (count == "" || integer.MatchString(count))
		if got := err == nil; got != want {
			t.Fatalf("%q %q: the code says %v (%v)", startIndex, count, got, err)
		}
		if err != nil {
			scimRefusal(t, err)
			return
		}
		if start < 1 || n < 0 || n > scim.MaxCount {
			t.Fatalf("%q %q: a page from %d of %d", startIndex, count, start, n)
		}
	})
}

// FuzzSCIMToken: a presented SCIM token is read into the team and token
// ids it names, or refused; one the service made reads back as made.
func FuzzSCIMToken(f *testing.F) {
	made, tok := users.NewSCIMToken("t_team", "Okta", "owner@example.com", time.Now())
	f.Add(made)
	f.Add("scim.t_a.sk_b." + strings.Repeat("A", 43))
	f.Add("scim...")
	f.Fuzz(func(t *testing.T, presented string) {
		team, id, ok := users.ParseSCIMToken(presented)
		if !ok {
			return
		}
		parts := strings.Split(presented, ".")
		if len(parts) != 4 || parts[1] != team || parts[2] != id || !validPart(team) || !validPart(id) {
			t.Fatalf("%q read as team %q, token %q", presented, team, id)
		}
		if presented != made && tok.Matches(presented) {
			t.Fatalf("%q matches another token's hash", presented)
		}
	})
	if team, id, ok := users.ParseSCIMToken(made); !ok || team != "t_team" || id != tok.ID || !tok.Matches(made) {
		f.Fatalf("a token the service made reads as %q %q %v", team, id, ok)
	}
}

func validPart(s string) bool {
	return s != "" && len(s) <= 64 && users.PrintableASCII(s)
}

// FuzzSCIMTokenName: the names a SCIM token takes are the document's
// pattern (1 to 100 characters once trimmed, no control characters or
// line breaks).
func FuzzSCIMTokenName(f *testing.F) {
	pattern := document(f, "paths", "/v1/teams/{teamId}/scim-tokens", "post", "requestBody", "content", "application/json", "schema", "properties", "name", "pattern")
	for _, s := range []string{"Okta", "  Okta  ", " ", "a\nb", "\u2028Okta", strings.Repeat("é", 100), strings.Repeat("é", 101)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if !utf8.ValidString(name) {
			return
		}
		_, err := users.CheckTeamName(name)
		if got, want := err == nil, pattern.MatchString(name); got != want {
			t.Fatalf("%q: the code says %v, the document %v", name, got, want)
		}
		if err != nil {
			if e, ok := users.AsError(err); !ok || statusOf[e.Kind] != http.StatusBadRequest {
				t.Fatalf("refused with %v", err)
			}
		}
	})
}
