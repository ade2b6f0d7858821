package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/provisioning"
	"github.com/teamusers/usersapi/internal/samtemplate"
	"github.com/teamusers/usersapi/internal/scim"
)

// The SCIM service, as identity providers use it: the request sequences
// Okta and Microsoft Entra ID document, the errors in SCIM's words, the
// team's tokens, and scim2-tester's compliance check.

type scimUser struct {
	ID         string
	ExternalID string
	UserName   string
	Name       *struct{ Formatted, FamilyName, GivenName string }
	Emails     []struct {
		Value, Type string
		Primary     bool
	}
	Active bool
	Roles  []struct {
		Value   string
		Primary bool
	}
	Meta struct{ ResourceType, Location, Version, Created, LastModified string }
}

type scimList struct {
	Schemas      []string
	TotalResults int
	StartIndex   int
	ItemsPerPage int
	Resources    []scimUser
}

// scimCall sends a SCIM request with a SCIM token (in fault mode, a 503
// is retried as a provider retries).
func scimCall(t *testing.T, method, path, tok string, body any, headers ...string) response {
	t.Helper()
	h := map[string]string{"Accept": scim.MediaType}
	for i := 0; i+1 < len(headers); i += 2 {
		h[headers[i]] = headers[i+1]
	}
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
		if _, ok := h["Content-Type"]; !ok {
			h["Content-Type"] = scim.MediaType
		}
	}
	r := send(t, method, "/scim/v2"+path, tok, h, b)
	if ct := r.Header.Get("Content-Type"); r.Status != 204 && r.Status != 304 && ct != scim.MediaType {
		t.Fatalf("%s %s: %d with content type %q: %s", method, path, r.Status, ct, r.Body)
	}
	return r
}

func filterQuery(f string) string { return "/Users?filter=" + url.QueryEscape(f) }

// newSCIMToken makes a team's SCIM token as its admin does.
func newSCIMToken(t *testing.T, team, admin, name string) string {
	t.Helper()
	r := call(t, "POST", "/v1/teams/"+team+"/scim-tokens", admin, map[string]string{"name": name})
	var out struct{ ID, Name, Token, BaseURL string }
	r.JSON(t, &out)
	if r.Status != 201 || !strings.HasPrefix(out.Token, "scim."+team+".") || out.Name != name || out.BaseURL != api.URL+"/scim/v2" {
		t.Fatalf("create SCIM token: %d %s", r.Status, r.Body)
	}
	return out.Token
}

// scimCreate creates a user as a provider does: when the answer to a
// creation was lost and its retry meets the user it made (409
// uniqueness), the provider finds it by userName and links to it.
func scimCreate(t *testing.T, tok string, body map[string]any) (scimUser, response) {
	t.Helper()
	r := scimCall(t, "POST", "/Users", tok, body)
	if r.Status == 409 && faultMode {
		var l scimList
		scimCall(t, "GET", filterQuery(`userName eq "`+body["userName"].(string)+`"`), tok, nil).JSON(t, &l)
		if l.TotalResults == 1 {
			return l.Resources[0], r
		}
	}
	if r.Status != 201 {
		t.Fatalf("create %v: %d %s", body["userName"], r.Status, r.Body)
	}
	var u scimUser
	r.JSON(t, &u)
	if r.Header.Get("Location") != u.Meta.Location || r.Header.Get("ETag") != u.Meta.Version || !strings.HasSuffix(u.Meta.Location, "/scim/v2/Users/"+u.ID) {
		t.Fatalf("create: Location %q, ETag %q, meta %+v", r.Header.Get("Location"), r.Header.Get("ETag"), u.Meta)
	}
	return u, r
}

func patchOp(ops ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{scim.SchemaPatchOp}, "Operations": ops}
}

func scimUserOf(t *testing.T, r response) scimUser {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	var u scimUser
	r.JSON(t, &u)
	return u
}

// The sequence Okta's SCIM 2.0 reference describes ("Okta and SCIM
// Version 2.0", https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20):
// to create a user it first asks whether the userName exists
// (GET /Users?filter=userName eq "…"&startIndex=1&count=100), then POSTs
// the app profile (with a password, a locale and groups, which a service
// may ignore); it reads a user by id; it updates the profile with a PUT of
// the whole user; it deactivates and reactivates with a path-less PATCH
// replace of active; it never deletes users.
func TestOktaProvisioningSequence(t *testing.T) {
	team := newTeam(t, "pro", 5, "owner@okta.example")
	admin := token(t, "owner@okta.example", local.TokenOptions{})
	tok := newSCIMToken(t, team, admin, "Okta")

	// The connection test: a page of users (an index, which follows the
	// table a moment later).
	settleIndexes()
	var l scimList
	scimCall(t, "GET", "/Users?startIndex=1&count=2", tok, nil).JSON(t, &l)
	if len(l.Schemas) != 1 || l.Schemas[0] != scim.SchemaListResponse || l.TotalResults != 1 || l.ItemsPerPage != 1 || l.StartIndex != 1 ||
		l.Resources[0].UserName != "owner@okta.example" || !l.Resources[0].Active || l.Resources[0].Roles[0].Value != "admin" {
		t.Fatalf("connection test: %+v", l)
	}

	// Create: does the user exist? No; POST the profile.
	const login = "test.user@okta.example"
	scimCall(t, "GET", filterQuery(`userName eq "`+login+`"`)+"&startIndex=1&count=100", tok, nil).JSON(t, &l)
	if l.TotalResults != 0 || len(l.Resources) != 0 {
		t.Fatalf("before creation: %+v", l)
	}
	u, created := scimCreate(t, tok, map[string]any{
		"schemas": []string{scim.SchemaUser}, "userName": login,
		"name":        map[string]any{"givenName": "Test", "familyName": "User"},
		"emails":      []any{map[string]any{"primary": true, "value": login, "type": "work"}},
		"displayName": "Test User", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7", "groups": []any{}, "password": "1mz050nq", "active": true,
	})
	if u.UserName != login || u.ExternalID != "00ujl29u0le5T6Aj10h7" || !u.Active || u.Name == nil || u.Name.GivenName != "Test" ||
		len(u.Roles) != 1 || u.Roles[0].Value != "user" || len(u.Emails) != 1 || u.Emails[0].Value != login || strings.Contains(string(created.Body), "1mz050nq") {
		t.Fatalf("created: %s", created.Body)
	}
	// The member took a seat and joined: the identity provider vouches for
	// the address, so the set-up instructions go out, not an invitation.
	if s := summary(t, team, admin); s.Seats.Assigned != 2 || s.PendingInvitations != 0 || s.NeverUsedApp != 2 {
		t.Fatalf("summary after provisioning: %+v", s)
	}
	var info struct {
		memberInfo
		ProvisionedBy, ExternalID string
	}
	call(t, "GET", "/v1/teams/"+team+"/members/"+u.ID, admin, nil).JSON(t, &info)
	if info.Status != "pending_app_login" || info.ProvisionedBy != "Okta" || info.ExternalID != "00ujl29u0le5T6Aj10h7" || info.AcceptedAt == nil {
		t.Fatalf("member information: %+v", info)
	}
	mail := waitForMail(t, login, 1)
	if !strings.Contains(mail[0].Subject, "Set up") || strings.Contains(mail[0].Body.Text, "token=") || len(mail[0].ReplyTo) != 0 {
		t.Fatalf("the provisioned member got %q", mail[0].Subject)
	}

	// Read by id, with its ETag.
	got := scimCall(t, "GET", "/Users/"+u.ID, tok, nil)
	if g := scimUserOf(t, got); g.ID != u.ID || got.Header.Get("ETag") != u.Meta.Version {
		t.Fatalf("read: %s %s", got.Header.Get("ETag"), got.Body)
	}

	// Update: the whole user, a new family name.
	put := scimUserOf(t, scimCall(t, "PUT", "/Users/"+u.ID, tok, map[string]any{
		"schemas": []string{scim.SchemaUser}, "id": u.ID, "userName": login,
		"name":        map[string]any{"givenName": "Test", "familyName": "Userson"},
		"emails":      []any{map[string]any{"primary": true, "value": login, "type": "work"}},
		"displayName": "Test Userson", "externalId": "00ujl29u0le5T6Aj10h7", "active": true, "groups": []any{},
	}))
	if put.Name.FamilyName != "Userson" || !put.Active || put.Meta.Version == u.Meta.Version {
		t.Fatalf("PUT: %+v", put)
	}

	// Deactivate: the seat is freed, the app is refused; the user stays
	// visible to Okta, inactive.
	off := scimUserOf(t, scimCall(t, "PATCH", "/Users/"+u.ID, tok, patchOp(map[string]any{"op": "replace", "value": map[string]any{"active": false}})))
	if off.Active {
		t.Fatalf("deactivated: %+v", off)
	}
	if s := summary(t, team, admin); s.Seats.Assigned != 1 || s.NeverUsedApp != 1 {
		t.Fatalf("summary after deactivating: %+v", s)
	}
	app := token(t, login, local.TokenOptions{})
	if code := call(t, "POST", "/v1/me/sign-ins", app, map[string]string{}).Problem(t, 403); code != "member_deactivated" {
		t.Fatalf("a deactivated member signs in: %s", code)
	}
	scimCall(t, "GET", filterQuery(`userName eq "`+login+`"`)+"&startIndex=1&count=100", tok, nil).JSON(t, &l)
	if l.TotalResults != 1 || l.Resources[0].Active {
		t.Fatalf("a deactivated user, found: %+v", l)
	}

	// Reactivate: back, and the app works.
	on := scimUserOf(t, scimCall(t, "PATCH", "/Users/"+u.ID, tok, patchOp(map[string]any{"op": "replace", "value": map[string]any{"active": true}})))
	if !on.Active {
		t.Fatalf("reactivated: %+v", on)
	}
	if r := call(t, "POST", "/v1/me/sign-ins", app, map[string]string{}); r.Status != 200 {
		t.Fatalf("sign-in after reactivation: %d %s", r.Status, r.Body)
	}

	// Every change is in the audit log, by the token's name.
	n := map[string]int{}
	for _, e := range auditLog(t, team, admin, url.Values{"target": {u.ID}}) {
		if e.Actor.Kind == "scim" && e.Actor.Name == "Okta" {
			n[e.Action]++
		}
	}
	if n["provision"] != 1 || n["update_profile"] != 1 || n["deactivate"] != 1 || n["reactivate"] != 1 {
		t.Fatalf("Okta's changes in the audit log: %v", n)
	}
	assertCountersMatchRecount(t, team, admin)
}

// The requests Microsoft Entra ID's provisioning service sends, as its
// SCIM guide shows them ("Tutorial: Develop and plan provisioning for a
// SCIM endpoint in Microsoft Entra ID",
// https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups,
// "User Operations": a userName that is not an address, the enterprise
// extension, filters by userName and externalId, PATCH with capitalised
// ops and value-filtered paths, DELETE), with the shapes its known issues
// page describes ("Known issues and resolutions with SCIM 2.0 protocol
// compliance of the Microsoft Entra user provisioning service",
// https://learn.microsoft.com/en-us/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility):
// booleans as the strings "True" and "False", and path-less replace with
// an object of attributes.
func TestEntraIDProvisioningSequence(t *testing.T) {
	team := newTeam(t, "pro", 5, "owner@entra.example")
	admin := token(t, "owner@entra.example", local.TokenOptions{})
	tok := newSCIMToken(t, team, admin, "Microsoft Entra ID")

	// The connection test: a user that does not exist.
	var l scimList
	scimCall(t, "GET", filterQuery(`userName eq "non-existent user 0f0d9a0c"`), tok, nil).JSON(t, &l)
	if l.TotalResults != 0 {
		t.Fatalf("connection test: %+v", l)
	}
	const userName = "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1"
	const extID = "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"
	scimCall(t, "GET", filterQuery(`userName eq "`+userName+`"`), tok, nil).JSON(t, &l)
	if l.TotalResults != 0 {
		t.Fatalf("before creation: %+v", l)
	}
	u, _ := scimCreate(t, tok, map[string]any{
		"schemas":    []string{scim.SchemaUser, scim.SchemaEnterpriseUser},
		"externalId": extID, "userName": userName, "active": true,
		"emails":                  []any{map[string]any{"primary": true, "type": "work", "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}},
		"meta":                    map[string]any{"resourceType": "User"},
		"name":                    map[string]any{"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
		"roles":                   []any{},
		scim.SchemaEnterpriseUser: map[string]any{"department": "Sales", "employeeNumber": "701984", "manager": map[string]any{"value": "123"}},
	})
	const address = "test_user_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"
	var row memberInfo
	call(t, "GET", "/v1/teams/"+team+"/members/"+u.ID, admin, nil).JSON(t, &row)
	if u.UserName != userName || row.Email != address || row.Status != "pending_app_login" || row.Role != "user" {
		t.Fatalf("created %+v as %+v", u, row)
	}

	// Found by each filter Entra ID uses to match.
	for _, f := range []string{`userName eq "` + userName + `"`, `userName eq "` + strings.ToLower(userName) + `"`, `externalId eq "` + extID + `"`,
		`emails[type eq "work"].value eq "` + address + `"`, `userName eq "` + userName + `" and active eq true`} {
		scimCall(t, "GET", filterQuery(f), tok, nil).JSON(t, &l)
		if l.TotalResults != 1 || l.Resources[0].ID != u.ID {
			t.Fatalf("filter %s: %+v", f, l)
		}
	}

	// Update multi-valued and single-valued properties: a new work address
	// renames the member, a new userName too.
	renamed := scimUserOf(t, scimCall(t, "PATCH", "/Users/"+u.ID, tok, patchOp(
		map[string]any{"op": "Replace", "path": `emails[type eq "work"].value`, "value": "updatedEmail@microsoft.com"},
		map[string]any{"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"})))
	if renamed.Emails[0].Value != "updatedEmail@microsoft.com" || renamed.Name.FamilyName != "updatedFamilyName" {
		t.Fatalf("multi-valued update: %+v", renamed)
	}
	call(t, "GET", "/v1/teams/"+team+"/members/"+u.ID, admin, nil).JSON(t, &row)
	if row.Email != "updatedemail@microsoft.com" {
		t.Fatalf("the member's address after the update: %s", row.Email)
	}
	const newName = "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"
	single := scimUserOf(t, scimCall(t, "PATCH", "/Users/"+u.ID, tok, patchOp(map[string]any{"op": "Replace", "path": "userName", "value": newName})))
	if single.UserName != newName {
		t.Fatalf("single-valued update: %+v", single)
	}
	scimCall(t, "GET", filterQuery(`userName eq "`+userName+`"`), tok, nil).JSON(t, &l)
	if l.TotalResults != 0 {
		t.Fatalf("the old userName still finds: %+v", l)
	}

	// An app role assignment (roles[primary eq "True"].value) makes an admin.
	role := scimUserOf(t, scimCall(t, "PATCH", "/Users/"+u.ID, tok, patchOp(map[string]any{"op": "Add", "path": `roles[primary eq "True"].value`, "value": "admin"})))
	call(t, "GET", "/v1/teams/"+team+"/members/"+u.ID, admin, nil).JSON(t, &row)
	if len(role.Roles) != 1 || role.Roles[0].Value != "admin" || !role.Roles[0].Primary || row.Role != "admin" {
		t.Fatalf("app role: %+v, member %s", role.Roles, row.Role)
	}

	// Disable, as the known issues page shows it: "False" as a string.
	off := scimUserOf(t, scimCall(t, "PATCH", "/Users/"+u.ID, tok, patchOp(map[string]any{"op": "Replace", "path": "active", "value": "False"})))
	if off.Active {
		t.Fatalf("disabled: %+v", off)
	}
	if s := summary(t, team, admin); s.Seats.Assigned != 1 {
		t.Fatalf("seats after disabling: %+v", s)
	}
	// Path-less replace with an object of attributes, a dotted one among
	// them, and "True": enabled again.
	on := scimUserOf(t, scimCall(t, "PATCH", "/Users/"+u.ID, tok, patchOp(map[string]any{"op": "Replace",
		"value": map[string]any{"active": "True", "displayName": "Test User", "name.givenName": "Test"}})))
	if !on.Active || on.Name.GivenName != "Test" || on.Name.FamilyName != "updatedFamilyName" {
		t.Fatalf("enabled: %+v", on)
	}
	if s := summary(t, team, admin); s.Seats.Assigned != 2 {
		t.Fatalf("seats after enabling: %+v", s)
	}

	// Delete: gone, the seat free, the user no longer found.
	if r := scimCall(t, "DELETE", "/Users/"+u.ID, tok, nil); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if typ := scimCall(t, "GET", "/Users/"+u.ID, tok, nil).SCIMError(t, 404); typ != "" {
		t.Fatalf("deleted user: %s", typ)
	}
	scimCall(t, "GET", filterQuery(`externalId eq "`+extID+`"`), tok, nil).JSON(t, &l)
	if l.TotalResults != 0 {
		t.Fatalf("a deleted user is found: %+v", l)
	}
	if s := summary(t, team, admin); s.Seats.Assigned != 1 {
		t.Fatalf("seats after deleting: %+v", s)
	}
	n := map[string]int{}
	for _, e := range auditLog(t, team, admin, url.Values{"target": {u.ID}}) {
		if e.Actor.Kind == "scim" && e.Actor.Name == "Microsoft Entra ID" {
			n[e.Action]++
		}
	}
	if n["provision"] != 1 || n["update_profile"] != 2 || n["change_role"] != 1 || n["deactivate"] != 1 || n["reactivate"] != 1 || n["remove"] != 1 {
		t.Fatalf("Entra ID's changes in the audit log: %v", n)
	}
	assertCountersMatchRecount(t, team, admin)
}

func TestSCIMTokensAreShownOnceAndRevokedAtOnce(t *testing.T) {
	team := newTeam(t, "pro", 3, "owner@tokens.example")
	admin := token(t, "owner@tokens.example", local.TokenOptions{})
	invite(t, team, admin, "user@tokens.example")
	call(t, "POST", "/v1/invitations/accept", "", map[string]string{"token": tokenFrom(t, waitForMail(t, "user@tokens.example", 1)[0])})
	user := token(t, "user@tokens.example", local.TokenOptions{})
	if code := call(t, "POST", "/v1/teams/"+team+"/scim-tokens", user, map[string]string{"name": "Okta"}).Problem(t, 403); code != "admin_required" {
		t.Fatalf("a user makes a token: %s", code)
	}
	if code := call(t, "POST", "/v1/teams/"+team+"/scim-tokens", admin, map[string]string{"name": " "}).Problem(t, 400); code != "invalid_name" {
		t.Fatalf("no name: %s", code)
	}
	tok := newSCIMToken(t, team, admin, "Okta")
	secret := tok[strings.LastIndex(tok, ".")+1:]

	// Listed without the secret, ever.
	r := call(t, "GET", "/v1/teams/"+team+"/scim-tokens", admin, nil)
	var list struct {
		Tokens []struct{ ID, Name, CreatedBy, Token string }
	}
	r.JSON(t, &list)
	if r.Status != 200 || len(list.Tokens) != 1 || list.Tokens[0].Name != "Okta" || list.Tokens[0].CreatedBy != "owner@tokens.example" ||
		list.Tokens[0].Token != "" || strings.Contains(string(r.Body), secret) {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	id := list.Tokens[0].ID
	if r := scimCall(t, "GET", "/Users?count=1", tok, nil); r.Status != 200 {
		t.Fatalf("with the token: %d %s", r.Status, r.Body)
	}

	// Tokens that are not this one: refused with 401 and the header.
	teamB := newTeam(t, "pro", 2, "owner@tokens-b.example")
	otherTeam := strings.Replace(tok, team, teamB, 1)
	for _, bad := range []string{"", "nonsense", tok[:len(tok)-1] + "x", otherTeam, strings.Replace(tok, id, "sk_aaaaaaaaaaaaaaaaaaaaaaaaaa", 1),
		token(t, "owner@tokens.example", local.TokenOptions{})} {
		r := scimCall(t, "GET", "/Users", bad, nil)
		if r.SCIMError(t, 401); r.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("401 without WWW-Authenticate for %q", bad)
		}
	}

	// Revoked: the very next request is refused.
	if r := call(t, "DELETE", "/v1/teams/"+team+"/scim-tokens/"+id, admin, nil); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	scimCall(t, "GET", "/Users", tok, nil).SCIMError(t, 401)
	scimCall(t, "POST", "/Users", tok, map[string]any{"userName": "late@tokens.example"}).SCIMError(t, 401)
	if code := call(t, "DELETE", "/v1/teams/"+team+"/scim-tokens/"+id, admin, nil).Problem(t, 404); code != "scim_token_not_found" {
		t.Fatalf("revoked twice: %s", code)
	}
	if s := summary(t, team, admin); s.Seats.Assigned != 2 {
		t.Fatalf("a revoked token changed the team: %+v", s)
	}

	// At most ten at a time.
	var live string
	for i := 0; i < 10; i++ {
		live = newSCIMToken(t, team, admin, sprintf("token %d", i))
	}
	if code := call(t, "POST", "/v1/teams/"+team+"/scim-tokens", admin, map[string]string{"name": "one too many"}).Problem(t, 409); code != "scim_token_limit" {
		t.Fatalf("the eleventh: %s", code)
	}
	n := countActions(auditLog(t, team, admin, url.Values{}))
	if n["create_scim_token"] != 11 || n["revoke_scim_token"] != 1 {
		t.Fatalf("audit: %v", n)
	}
	// A team that leaves the pro plan: its tokens stop provisioning.
	if _, err := (provisioning.Service{Store: stack.Store, Now: time.Now}).Handle(context.Background(), provisioning.Request{TeamID: team, Plan: "free"}); err != nil {
		t.Fatal(err)
	}
	scimCall(t, "GET", "/Users", live, nil).SCIMError(t, 403)
}

func TestSCIMAnswersInItsOwnWords(t *testing.T) {
	team := newTeam(t, "pro", 3, "owner@scimerr.example")
	admin := token(t, "owner@scimerr.example", local.TokenOptions{})
	tok := newSCIMToken(t, team, admin, "IdP")
	user := func(name, email, ext string) map[string]any {
		return map[string]any{"schemas": []string{scim.SchemaUser}, "userName": name, "externalId": ext, "active": true,
			"emails": []any{map[string]any{"value": email, "type": "work", "primary": true}}}
	}
	u, _ := scimCreate(t, tok, user("ann", "ann@scimerr.example", "ext-ann"))

	// Discovery needs no token.
	if r := send(t, "GET", "/scim/v2/ServiceProviderConfig", "", nil, nil); r.Status != 200 || !strings.Contains(string(r.Body), `"etag":{"supported":true}`) {
		t.Fatalf("service provider config: %d %s", r.Status, r.Body)
	}
	for _, c := range []struct {
		method, path string
		body         any
		status       int
		scimType     string
	}{
		// Uniqueness: the address, the userName (any case), the externalId.
		{"POST", "/Users", user("other", "ann@scimerr.example", "x1"), 409, "uniqueness"},
		{"POST", "/Users", user("ANN", "other@scimerr.example", "x2"), 409, "uniqueness"},
		{"POST", "/Users", user("other", "other@scimerr.example", "ext-ann"), 409, "uniqueness"},
		// Values.
		{"POST", "/Users", user("bad", "not an address", "x3"), 400, "invalidValue"},
		{"POST", "/Users", map[string]any{"userName": "no-address"}, 400, "invalidValue"},
		{"POST", "/Users", map[string]any{"emails": []any{map[string]any{"value": "x@scimerr.example"}}}, 400, "invalidValue"},
		{"POST", "/Users", map[string]any{"userName": "r", "emails": "r@scimerr.example", "roles": []any{"owner"}}, 400, "invalidValue"},
		{"POST", "/Users", map[string]any{"userName": "a", "emails": "a@scimerr.example", "active": "maybe"}, 400, "invalidValue"},
		// Filters.
		{"GET", filterQuery(`userName eq`), nil, 400, "invalidFilter"},
		{"GET", filterQuery(`userName zz "ann"`), nil, 400, "invalidFilter"},
		{"GET", filterQuery(`(userName eq "ann"`), nil, 400, "invalidFilter"},
		{"GET", filterQuery(`active eq true`), nil, 400, "tooMany"},
		{"GET", filterQuery(`userName sw "a"`), nil, 400, "tooMany"},
		{"GET", "/Users?count=many", nil, 400, "invalidValue"},
		// PATCH.
		{"PATCH", "/Users/" + u.ID, patchOp(map[string]any{"op": "move", "path": "active", "value": false}), 400, "invalidSyntax"},
		{"PATCH", "/Users/" + u.ID, map[string]any{"Operations": []any{}}, 400, "invalidSyntax"},
		{"PATCH", "/Users/" + u.ID, patchOp(map[string]any{"op": "remove"}), 400, "noTarget"},
		{"PATCH", "/Users/" + u.ID, patchOp(map[string]any{"op": "replace", "path": "id", "value": "m_x"}), 400, "mutability"},
		{"PATCH", "/Users/" + u.ID, patchOp(map[string]any{"op": "remove", "path": "active"}), 400, "mutability"},
		{"PATCH", "/Users/" + u.ID, patchOp(map[string]any{"op": "replace", "path": "emails[type eq", "value": "x"}), 400, "invalidPath"},
		{"PATCH", "/Users/" + u.ID, patchOp(map[string]any{"op": "replace", "path": "emails", "value": []any{map[string]any{"value": "owner@scimerr.example"}}}), 409, "uniqueness"},
		// Not there.
		{"GET", "/Users/m_nobody", nil, 404, ""},
		{"GET", "/Users/0b5e5c5e-3bd1-4f5e-9d0a-111111111111", nil, 404, ""},
		{"PATCH", "/Users/m_nobody", patchOp(map[string]any{"op": "replace", "path": "active", "value": false}), 404, ""},
		{"DELETE", "/Users/m_nobody", nil, 404, ""},
		{"GET", "/Groups", nil, 404, ""},
		{"PUT", "/Users", map[string]any{}, 405, ""},
		{"POST", "/ServiceProviderConfig", map[string]any{}, 405, ""},
	} {
		r := scimCall(t, c.method, c.path, tok, c.body)
		if typ := r.SCIMError(t, c.status); typ != c.scimType {
			t.Errorf("%s %s: scimType %q, want %q: %s", c.method, c.path, typ, c.scimType, r.Body)
		}
	}
	// A body that is not JSON, or not SCIM's media type.
	if typ := send(t, "POST", "/scim/v2/Users", tok, map[string]string{"Content-Type": scim.MediaType}, []byte("{")).SCIMError(t, 400); typ != "invalidSyntax" {
		t.Fatalf("broken JSON: %s", typ)
	}
	send(t, "POST", "/scim/v2/Users", tok, map[string]string{"Content-Type": "text/plain"}, []byte("{}")).SCIMError(t, 415)

	// The owner stays an active admin at the address billing knows.
	var l scimList
	scimCall(t, "GET", filterQuery(`userName eq "owner@scimerr.example"`), tok, nil).JSON(t, &l)
	owner := l.Resources[0]
	for _, body := range []any{
		patchOp(map[string]any{"op": "replace", "path": "active", "value": false}),
		patchOp(map[string]any{"op": "replace", "path": "roles", "value": []any{map[string]any{"value": "user"}}}),
		patchOp(map[string]any{"op": "replace", "path": "emails", "value": []any{map[string]any{"value": "boss@scimerr.example"}}}),
	} {
		if typ := scimCall(t, "PATCH", "/Users/"+owner.ID, tok, body).SCIMError(t, 400); typ != "mutability" {
			t.Fatalf("the owner: %s", typ)
		}
	}
	scimCall(t, "DELETE", "/Users/"+owner.ID, tok, nil).SCIMError(t, 400)

	// ETags: a stale If-Match is refused, the current one passes, and a
	// current If-None-Match is "not modified".
	stale := u.Meta.Version
	cur := scimUserOf(t, scimCall(t, "PATCH", "/Users/"+u.ID, tok, patchOp(map[string]any{"op": "replace", "path": "displayName", "value": "Ann"}), "If-Match", stale))
	scimCall(t, "PATCH", "/Users/"+u.ID, tok, patchOp(map[string]any{"op": "replace", "path": "displayName", "value": "A"}), "If-Match", stale).SCIMError(t, 412)
	scimCall(t, "DELETE", "/Users/"+u.ID, tok, nil, "If-Match", stale).SCIMError(t, 412)
	if r := scimCall(t, "GET", "/Users/"+u.ID, tok, nil, "If-None-Match", cur.Meta.Version); r.Status != 304 {
		t.Fatalf("If-None-Match: %d", r.Status)
	}

	// Seats: three, two taken; one more fits, the next is refused and
	// nothing is made.
	scimCreate(t, tok, user("bob", "bob@scimerr.example", "ext-bob"))
	scimCall(t, "POST", "/Users", tok, user("cy", "cy@scimerr.example", "ext-cy")).SCIMError(t, 403)
	scimCall(t, "GET", filterQuery(`userName eq "cy"`), tok, nil).JSON(t, &l)
	if l.TotalResults != 0 {
		t.Fatal("a user was made past the seats")
	}
	// Deactivating frees one; reactivating with none free is refused.
	scimUserOf(t, scimCall(t, "PATCH", "/Users/"+u.ID, tok, patchOp(map[string]any{"op": "replace", "path": "active", "value": false})))
	cy, _ := scimCreate(t, tok, user("cy", "cy@scimerr.example", "ext-cy"))
	scimCall(t, "PATCH", "/Users/"+u.ID, tok, patchOp(map[string]any{"op": "replace", "path": "active", "value": true})).SCIMError(t, 403)
	// A user can be created inactive: no seat, no email.
	dee, _ := scimCreate(t, tok, map[string]any{"userName": "dee", "emails": "dee@scimerr.example", "active": false})
	if dee.Active {
		t.Fatalf("created inactive: %+v", dee)
	}
	// Paging: startIndex and count over the team (5 members, 2 inactive).
	settleIndexes()
	scimCall(t, "GET", "/Users?startIndex=2&count=2", tok, nil).JSON(t, &l)
	if l.TotalResults != 5 || l.StartIndex != 2 || l.ItemsPerPage != 2 || len(l.Resources) != 2 {
		t.Fatalf("a page: %+v", l)
	}
	scimCall(t, "GET", "/Users?startIndex=9&count=2", tok, nil).JSON(t, &l)
	if l.TotalResults != 5 || len(l.Resources) != 0 {
		t.Fatalf("past the end: %+v", l)
	}
	scimCall(t, "GET", "/Users?count=0", tok, nil).JSON(t, &l)
	if l.TotalResults != 5 || len(l.Resources) != 0 {
		t.Fatalf("count=0: %+v", l)
	}
	// attributes and excludedAttributes.
	r := scimCall(t, "GET", "/Users/"+cy.ID+"?attributes=userName,name.givenName", tok, nil)
	var m map[string]any
	r.JSON(t, &m)
	if len(m) != 3 || m["userName"] != "cy" || m["id"] != cy.ID {
		t.Fatalf("attributes: %s", r.Body)
	}
	r = scimCall(t, "GET", "/Users/"+cy.ID+"?excludedAttributes=emails,meta", tok, nil)
	if strings.Contains(string(r.Body), "emails") || strings.Contains(string(r.Body), `"meta"`) {
		t.Fatalf("excludedAttributes: %s", r.Body)
	}
	if s := summary(t, team, admin); s.Seats.Assigned != 3 {
		t.Fatalf("seats: %+v", s)
	}
	assertCountersMatchRecount(t, team, admin)
}

// scim2-tester (through scim2-cli, pinned in requirements.txt) checks the
// service against the RFCs with a fresh token on a fresh team: no check
// may end in ERROR or CRITICAL.
func TestScim2TesterFindsNoErrorOrCritical(t *testing.T) {
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, ".venv", "bin", "scim2")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s is missing: make deps installs it from requirements.txt", bin)
	}
	team := newTeam(t, "pro", 20, "owner@scim2-tester.example")
	tok := newSCIMToken(t, team, token(t, "owner@scim2-tester.example", local.TokenOptions{}), "scim2-tester")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--url", api.URL+"/scim/v2", "test")
	cmd.Env = append(os.Environ(), "SCIM_CLI_HEADERS=Authorization: Bearer "+tok)
	out, _ := cmd.CombinedOutput() // exits 1 when a check is SKIPPED, too
	counts := map[string]int{}
	status := regexp.MustCompile(`^(SUCCESS|COMPLIANT|ACCEPTABLE|DEVIATION|ERROR|CRITICAL|SKIPPED) `)
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	var bad []string
	for sc.Scan() {
		if m := status.FindStringSubmatch(sc.Text()); m != nil {
			counts[m[1]]++
			if m[1] == "ERROR" || m[1] == "CRITICAL" {
				bad = append(bad, sc.Text())
			}
		}
	}
	t.Logf("scim2 test: %v", counts)
	if len(bad) > 0 || counts["SUCCESS"] < 30 {
		t.Fatalf("scim2 test found %v (%d checks passed):\n%s", bad, counts["SUCCESS"], out)
	}
}

// The query parameters and the preconditions of SCIM requests: what a
// route does not take is SCIM's 400 (never problem+json), sorting is
// refused as unsupported, a discovery document cannot be filtered; a
// request that would be refused anyway is refused as such whatever its
// If-Match or If-None-Match (RFC 9110 §13.2.1), and a stale If-Match on
// one that would be served is 412 with nothing changed.
func TestSCIMQueriesAndPreconditions(t *testing.T) {
	team := newTeam(t, "pro", 5, "owner@scimq.example")
	admin := token(t, "owner@scimq.example", local.TokenOptions{})
	tok := newSCIMToken(t, team, admin, "IdP")
	u, _ := scimCreate(t, tok, map[string]any{"userName": "ann@scimq.example"})
	for _, c := range []struct {
		method, path string
		status       int
		scimType     string
	}{
		{"GET", "/Users?sortBy=userName", 400, ""},
		{"GET", "/Users?sortOrder=descending", 400, ""},
		{"GET", "/Users?count=5&count=6", 400, "invalidValue"},
		{"GET", "/Users?filter=", 400, "invalidValue"},
		{"GET", "/Users?foo=1", 400, ""},
		{"GET", "/Users/" + u.ID + "?filter=" + url.QueryEscape(`userName eq "x"`), 400, ""},
		{"DELETE", "/Users/" + u.ID + "?attributes=userName", 400, ""},
		{"GET", "/Users?attributes=a.b.c", 400, "invalidValue"},
		{"GET", "/Schemas?filter=" + url.QueryEscape(`id eq "x"`), 403, ""},
		{"GET", "/ServiceProviderConfig?filter=x", 403, ""},
		{"GET", "/ResourceTypes?foo=1", 400, ""},
	} {
		if got := scimCall(t, c.method, c.path, tok, nil).SCIMError(t, c.status); got != c.scimType {
			t.Errorf("%s %s: scimType %q, want %q", c.method, c.path, got, c.scimType)
		}
	}
	// The discovery documents ignore the search parameters.
	if r := scimCall(t, "GET", "/Schemas?startIndex=2&count=0&sortBy=id&attributes=name", "", nil); r.Status != 200 {
		t.Errorf("discovery with search parameters: %d %s", r.Status, r.Body)
	}
	// The answer of a change is projected too.
	r := scimCall(t, "PATCH", "/Users/"+u.ID+"?attributes=displayName", tok,
		patchOp(map[string]any{"op": "replace", "path": "displayName", "value": "Ann"}))
	if r.Status != 200 || strings.Contains(string(r.Body), "userName") || !strings.Contains(string(r.Body), `"displayName":"Ann"`) {
		t.Errorf("a projected PATCH: %d %s", r.Status, r.Body)
	}
	// A 405 says what the path takes.
	if r := scimCall(t, "PUT", "/Users", tok, map[string]any{}); r.Status != 405 || r.Header.Get("Allow") != "GET, POST" {
		t.Errorf("PUT /Users: %d, Allow %q", r.Status, r.Header.Get("Allow"))
	}

	stale := `W/"0000000000000000"`
	before := scimUserOf(t, scimCall(t, "GET", "/Users/"+u.ID, tok, nil))
	// Refused anyway: the refusal, not 412 or 304.
	if got := scimCall(t, "PUT", "/Users/"+u.ID, tok, map[string]any{"displayName": "no userName"}, "If-Match", stale).SCIMError(t, 400); got != "invalidValue" {
		t.Errorf("a PUT without userName, stale If-Match: %q", got)
	}
	if got := scimCall(t, "PATCH", "/Users/"+u.ID, tok, patchOp(map[string]any{"op": "remove"}), "If-Match", stale).SCIMError(t, 400); got != "noTarget" {
		t.Errorf("a PATCH without a target, stale If-Match: %q", got)
	}
	if got := scimCall(t, "GET", "/Users/"+u.ID+"?attributes=0", tok, nil, "If-None-Match", "*").SCIMError(t, 400); got != "invalidValue" {
		t.Errorf("a bad projection with If-None-Match: %q", got)
	}
	// Would be served: 412, nothing changed; with the current ETag, served.
	scimCall(t, "PATCH", "/Users/"+u.ID, tok, patchOp(map[string]any{"op": "replace", "path": "displayName", "value": "Stale"}), "If-Match", stale).SCIMError(t, 412)
	scimCall(t, "PUT", "/Users/"+u.ID, tok, map[string]any{"userName": "ann@scimq.example"}, "If-Match", stale).SCIMError(t, 412)
	scimCall(t, "DELETE", "/Users/"+u.ID, tok, nil, "If-Match", stale).SCIMError(t, 412)
	now := scimUserOf(t, scimCall(t, "GET", "/Users/"+u.ID, tok, nil))
	if now.Meta.Version != before.Meta.Version {
		t.Fatalf("refused requests changed the user: %+v → %+v", before, now)
	}
	if r := scimCall(t, "DELETE", "/Users/"+u.ID, tok, nil, "If-Match", now.Meta.Version); r.Status != 204 {
		t.Fatalf("DELETE with the current ETag: %d %s", r.Status, r.Body)
	}
}
