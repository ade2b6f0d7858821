package scim

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/users"
)

func member() users.Member {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	return users.Member{ID: "m_ann", TeamID: "t_a", Email: "ann@example.com", Role: users.RoleUser, Status: users.StatusActive,
		LastCall: users.LastCallRecently, InvitedAt: t0, AcceptedAt: t0, UserName: "Ann.Lee", ExternalID: "00u1",
		IdPData: `{"name":{"givenName":"Ann","familyName":"Lee"},"emails":[{"value":"Ann@Example.com","type":"work","primary":true},{"value":"ann@home.example","type":"home"}],"roles":[{"value":"User","display":"Member","primary":true}]}`}
}

func scimType(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.ScimType
	}
	return "not a SCIM error: " + err.Error()
}

func TestFilters(t *testing.T) {
	doc := Document(member())
	for _, tc := range []struct {
		filter string
		match  bool
		keys   []Key
	}{
		{`userName eq "ann.lee"`, true, []Key{{"userName", "ann.lee"}}},
		{`USERNAME Eq "Ann.Lee"`, true, []Key{{"userName", "Ann.Lee"}}},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "ann.lee"`, true, []Key{{"userName", "ann.lee"}}},
		{`externalId eq "00u1"`, true, []Key{{"externalId", "00u1"}}},
		{`externalId eq "00U1"`, false, []Key{{"externalId", "00U1"}}}, // caseExact
		{`emails.value eq "ann@example.com"`, true, []Key{{"email", "ann@example.com"}}},
		{`emails[type eq "work"].value eq "ann@example.com"`, true, []Key{{"email", "ann@example.com"}}},
		{`emails[type eq "home"].value eq "ann@example.com"`, false, []Key{{"email", "ann@example.com"}}},
		{`emails[value eq "ann@home.example"]`, true, []Key{{"email", "ann@home.example"}}},
		{`emails[type eq "work" and value eq "ann@example.com"]`, true, []Key{{"email", "ann@example.com"}}},
		{`id eq "m_ann" and active eq true`, true, []Key{{"id", "m_ann"}}},
		{`active eq true and userName eq "ann.lee"`, true, []Key{{"userName", "ann.lee"}}},
		{`userName eq "x" or userName eq "ann.lee"`, true, []Key{{"userName", "x"}, {"userName", "ann.lee"}}},
		{`userName eq "ann.lee" and not (roles[primary eq "True"].value eq "admin")`, true, []Key{{"userName", "ann.lee"}}},
		{`userName eq "ann.lee" and name.familyName sw "L" and displayName pr`, false, []Key{{"userName", "ann.lee"}}},
		{`userName eq "ann.lee" and name.familyName co "e" and title pr`, false, []Key{{"userName", "ann.lee"}}},
		{`userName eq "ann.lee" and urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x"`, false, []Key{{"userName", "ann.lee"}}},
		// No key: the whole team.
		{`active eq true`, true, nil},
		{`userName sw "ann"`, true, nil},
		{`userName eq "ann.lee" or active eq true`, true, nil},
		{`not (userName eq "x")`, true, nil},
	} {
		f, err := ParseFilter(tc.filter)
		if err != nil {
			t.Errorf("%s: %v", tc.filter, err)
			continue
		}
		if got := f.Matches(doc); got != tc.match {
			t.Errorf("%s: matches %v", tc.filter, got)
		}
		keys, ok := f.Keys()
		if ok != (tc.keys != nil) || !slices.Equal(keys, tc.keys) {
			t.Errorf("%s: keys %v %v, want %v", tc.filter, keys, ok, tc.keys)
		}
	}
	for _, bad := range []string{``, `userName`, `userName eq`, `userName zz "a"`, `userName eq "a`, `(userName eq "a"`, `userName eq "a")`,
		`userName eq a`, `not userName eq "a"`, `name.givenName.x eq "a"`, `emails[type eq "work"`, `1abc eq "a"`, `userName eq "a" and`, strings.Repeat("(", 5000)} {
		if _, err := ParseFilter(bad); scimType(err) != TypeInvalidFilter {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{`userName eq "a"`, `emails[type eq "work"].value eq "x@y.z"`, `not (a pr) or b gt 3 and c le true`, `x eq null`, `"`, `[`, `a[b[c eq 1]]`} {
		f.Add(s)
	}
	doc := Document(member())
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := ParseFilter(s)
		if err != nil {
			if scimType(err) != TypeInvalidFilter {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		flt.Matches(doc)
		flt.Keys()
	})
}

// patch applies operations to the member and reads back the state.
func patch(t *testing.T, m users.Member, ops ...map[string]any) (State, error) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"schemas": []string{SchemaPatchOp}, "Operations": ops})
	doc, err := ParseBody(body)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParsePatch(doc)
	if err != nil {
		return State{}, err
	}
	edited := Document(m)
	if err := Apply(edited, parsed); err != nil {
		return State{}, err
	}
	return StateFrom(edited, Patched, StateOf(m))
}

func TestPatchAsProvidersSendIt(t *testing.T) {
	m := member()
	// Okta: path-less replace.
	st, err := patch(t, m, map[string]any{"op": "replace", "value": map[string]any{"active": false}})
	if err != nil || st.Active || st.UserName != "Ann.Lee" || len(st.Emails) != 2 {
		t.Fatalf("okta deactivate: %+v %v", st, err)
	}
	// Entra ID: capitalised ops, booleans as strings, value filters.
	st, err = patch(t, m,
		map[string]any{"op": "Replace", "path": "active", "value": "False"},
		map[string]any{"op": "Replace", "path": `emails[type eq "work"].value`, "value": "new@example.com"},
		map[string]any{"op": "Add", "path": `roles[primary eq "True"].value`, "value": "Admin"},
		map[string]any{"op": "Replace", "value": map[string]any{"displayName": "Ann L", "name.givenName": "Anna"}},
		map[string]any{"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Sales"},
		map[string]any{"op": "Add", "path": "title", "value": "Boss"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.Update()
	if err != nil || u.Active || u.Email != "new@example.com" || u.Role != users.RoleAdmin || u.UserName != "Ann.Lee" {
		t.Fatalf("entra update: %+v %v", u, err)
	}
	if st.Name.GivenName != "Anna" || st.Name.FamilyName != "Lee" || st.DisplayName != "Ann L" || st.Emails[1].Value != "ann@home.example" {
		t.Fatalf("entra state: %+v", st)
	}
	// A work address where there was none is made; the user's address
	// follows the primary.
	bare := member()
	bare.IdPData = ""
	st, err = patch(t, bare, map[string]any{"op": "Add", "path": `emails[type eq "other"].value`, "value": "other@example.com"})
	if err != nil || len(st.Emails) != 2 || st.Emails[1].Type != "other" {
		t.Fatalf("add through a filter: %+v %v", st, err)
	}
	if u, _ := st.Update(); u.Email != "ann@example.com" {
		t.Fatalf("the address: %s", u.Email)
	}
	// Remove: an attribute, a sub-attribute, values through a filter;
	// roles removed is a user.
	st, err = patch(t, m,
		map[string]any{"op": "remove", "path": "externalId"},
		map[string]any{"op": "remove", "path": "name.familyName"},
		map[string]any{"op": "remove", "path": `emails[type eq "home"]`},
		map[string]any{"op": "remove", "path": "roles"})
	if err != nil || st.ExternalID != "" || st.Name.FamilyName != "" || st.Name.GivenName != "Ann" || len(st.Emails) != 1 || len(st.Roles) != 0 {
		t.Fatalf("removes: %+v %v", st, err)
	}
	// add merges into a complex attribute and appends to a multi-valued one.
	st, _ = patch(t, m, map[string]any{"op": "add", "path": "name", "value": map[string]any{"formatted": "Ann Lee"}},
		map[string]any{"op": "add", "path": "emails", "value": []any{map[string]any{"value": "ann@extra.example"}}})
	if st.Name.GivenName != "Ann" || st.Name.Formatted != "Ann Lee" || len(st.Emails) != 3 {
		t.Fatalf("add: %+v", st)
	}

	for _, tc := range []struct {
		op       map[string]any
		scimType string
	}{
		{map[string]any{"op": "remove"}, TypeNoTarget},
		{map[string]any{"op": "copy", "path": "active"}, TypeInvalidSyntax},
		{map[string]any{"op": "replace", "path": "id", "value": "x"}, TypeMutability},
		{map[string]any{"op": "replace", "path": "meta.version", "value": "x"}, TypeMutability},
		{map[string]any{"op": "remove", "path": "active"}, TypeMutability},
		{map[string]any{"op": "replace", "path": "a.b.c", "value": "x"}, TypeInvalidPath},
		{map[string]any{"op": "replace", "path": "emails[type eq]", "value": "x"}, TypeInvalidPath},
		{map[string]any{"op": "replace", "value": "not an object"}, TypeInvalidValue},
		{map[string]any{"op": "replace", "path": "active", "value": "maybe"}, TypeInvalidValue},
		{map[string]any{"op": "replace", "value": map[string]any{"id": "m_other"}}, TypeMutability},
	} {
		if _, err := patch(t, m, tc.op); scimType(err) != tc.scimType {
			t.Errorf("%v: %v, want %s", tc.op, err, tc.scimType)
		}
	}
	// Some providers send the resource back whole: the same id is fine.
	if _, err := patch(t, m, map[string]any{"op": "replace", "value": map[string]any{"id": "m_ann", "schemas": []any{SchemaUser}, "displayName": "A"}}); err != nil {
		t.Fatal(err)
	}
}

func TestStateAndResource(t *testing.T) {
	m := member()
	u := Render(m, "https://api.example/scim/v2")
	// As sent: emails and roles verbatim, since they still say what the
	// member is.
	if u.UserName != "Ann.Lee" || len(u.Emails) != 2 || u.Emails[0].Value != "Ann@Example.com" || u.Roles[0].Display != "Member" ||
		u.Meta.Location != "https://api.example/scim/v2/Users/m_ann" || u.Meta.Version != ETag(m) || !u.Active {
		t.Fatalf("resource: %+v", u)
	}
	// The portal made her an admin and renamed nothing: roles show that.
	admin := m
	admin.Role = users.RoleAdmin
	if r := Render(admin, "").Roles; len(r) != 1 || r[0].Value != "admin" || ETag(admin) == ETag(m) {
		t.Fatalf("roles after the portal's change: %+v", r)
	}
	// A member the portal invited: the address is the userName.
	plain := users.Member{ID: "m_b", Email: "bob@example.com", Role: users.RoleUser, Status: users.StatusDeactivated}
	if r := Render(plain, ""); r.UserName != "bob@example.com" || r.Active || r.Emails[0].Value != "bob@example.com" || r.Roles[0].Value != "user" {
		t.Fatalf("an invited member: %+v", r)
	}
	// ETags ignore what the resource does not show.
	sent := m
	sent.Version, sent.LastEmail = 7, &users.EmailState{State: users.EmailSent}
	if ETag(sent) != ETag(m) || !MatchesETag(ETag(m), sent) || !MatchesETag("*", m) || MatchesETag(`W/"x"`, m) {
		t.Fatal("ETag")
	}

	for _, tc := range []struct {
		body  string
		email string
		role  users.Role
		err   string
	}{
		{`{"userName":"ann@example.com"}`, "ann@example.com", users.RoleUser, ""},
		{`{"userName":"x","emails":[{"value":"a@x.example"},{"value":"b@x.example","type":"work"}]}`, "b@x.example", users.RoleUser, ""},
		{`{"userName":"x","emails":[{"value":"a@x.example","type":"work"},{"value":"B@x.example","primary":"true"}],"roles":["Admin"]}`, "b@x.example", users.RoleAdmin, ""},
		{`{"userName":"x","emails":"a@x.example","roles":{"value":"user"}}`, "a@x.example", users.RoleUser, ""},
		{`{"userName":"x"}`, "", "", TypeInvalidValue},
		{`{"emails":"a@x.example"}`, "", "", TypeInvalidValue},
		{`{"userName":"x","emails":[{"value":"nope"}]}`, "", "", TypeInvalidValue},
		{`{"userName":"x","emails":"a@x.example","roles":[{"value":"owner"}]}`, "", "", TypeInvalidValue},
		{`{"userName":7,"emails":"a@x.example"}`, "", "", TypeInvalidValue},
		{`{"userName":"` + strings.Repeat("x", 257) + `","emails":"a@x.example"}`, "", "", TypeInvalidValue},
		{`{"userName":"a\u0007","emails":"a@x.example"}`, "", "", TypeInvalidValue},
		{`{"userName":"x","emails":"a@x.example","name":"Ann"}`, "", "", TypeInvalidValue},
	} {
		doc, err := ParseBody([]byte(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		st, err := StateFrom(doc, Create, State{})
		var up users.IdPUpdate
		if err == nil {
			up, err = st.Update()
		}
		if tc.err != "" {
			if scimType(err) != tc.err {
				t.Errorf("%s: %v", tc.body, err)
			}
			continue
		}
		if err != nil || up.Email != tc.email || up.Role != tc.role || !up.Active {
			t.Errorf("%s: %+v %v", tc.body, up, err)
		}
	}
	for _, bad := range []string{``, `[]`, `{`, `{"a":1} {}`, `null`} {
		if _, err := ParseBody([]byte(bad)); scimType(err) != TypeInvalidSyntax {
			t.Errorf("%q: %v", bad, err)
		}
	}
	// PUT: optional attributes left out are cleared, active and roles kept.
	doc, _ := ParseBody([]byte(`{"userName":"Ann.Lee","emails":[{"value":"ann@example.com"}]}`))
	st, err := StateFrom(doc, Replace, StateOf(m))
	if err != nil || st.ExternalID != "" || st.Name != nil || !st.Active || st.Roles[0].Value != "User" {
		t.Fatalf("PUT: %+v %v", st, err)
	}
}

func TestProjection(t *testing.T) {
	u := Render(member(), "https://x/scim/v2")
	out, err := Project(u, "userName, name.givenName,emails.value", "")
	b, _ := json.Marshal(out)
	if err != nil || string(b) != `{"emails":[{"value":"Ann@Example.com"},{"value":"ann@home.example"}],"id":"m_ann","name":{"givenName":"Ann"},"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"Ann.Lee"}` {
		t.Fatalf("attributes: %s %v", b, err)
	}
	out, _ = Project(u, "", "emails,name.familyName,id,meta")
	b, _ = json.Marshal(out)
	if strings.Contains(string(b), "emails") || strings.Contains(string(b), "familyName") || !strings.Contains(string(b), `"id":"m_ann"`) || strings.Contains(string(b), "meta") {
		t.Fatalf("excludedAttributes: %s", b)
	}
	if _, err := Project(u, "a.b.c", ""); scimType(err) != TypeInvalidValue {
		t.Fatalf("a bad path: %v", err)
	}
}

func TestDiscovery(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "ServiceProviderConfig", 200},
		{"GET", "ResourceTypes", 200},
		{"GET", "ResourceTypes/User", 200},
		{"GET", "Schemas", 200},
		{"GET", "Schemas/" + SchemaUser, 200},
		{"GET", "Schemas/" + SchemaEnterpriseUser, 404},
		{"GET", "ResourceTypes/Group", 404},
		{"GET", "Groups", 404},
		{"GET", "", 404},
		{"POST", "ServiceProviderConfig", 405},
		{"DELETE", "Schemas", 405},
		{"PUT", "Users", 405},
		{"POST", "Users/m_x", 405},
		{"POST", ".search", 501},
		{"POST", "Users/.search", 501},
		{"GET", "Users/m_x/extra", 404},
	} {
		doc, err := Discover(tc.method, tc.path, "https://x/scim/v2")
		status := http.StatusOK
		if err != nil {
			status = err.Status
		}
		if status != tc.status || (err == nil) != (doc != nil) {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, status, tc.status)
		}
	}
	// The schema says what user.go keeps, and the configuration what the
	// service does.
	b, _ := json.Marshal(Schemas("https://x/scim/v2"))
	for _, want := range []string{`"name":"userName"`, `"uniqueness":"server"`, `"name":"emails"`, `"name":"roles"`, `"canonicalValues":["user","admin"]`, `"name":"active"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the User schema lacks %s", want)
		}
	}
	b, _ = json.Marshal(ServiceProviderConfig(""))
	for _, want := range []string{`"patch":{"supported":true}`, `"filter":{"maxResults":500,"supported":true}`, `"etag":{"supported":true}`, `"bulk":{"maxOperations":0`, `"type":"oauthbearertoken"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the configuration lacks %s: %s", want, b)
		}
	}
}

func TestPaging(t *testing.T) {
	for _, tc := range []struct {
		start, count string
		s, n         int
		bad          bool
	}{
		{"", "", 1, DefaultCount, false},
		{"0", "-5", 1, 0, false},
		{"7", "9999", 7, MaxCount, false},
		{"x", "", 0, 0, true},
		{"", "1.5", 0, 0, true},
	} {
		s, n, err := Paging(tc.start, tc.count)
		if (err != nil) != tc.bad || (!tc.bad && (s != tc.s || n != tc.n)) {
			t.Errorf("%q %q: %d %d %v", tc.start, tc.count, s, n, err)
		}
	}
}
