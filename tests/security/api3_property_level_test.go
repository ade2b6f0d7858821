package security

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/users"
)

// API3 Broken Object Property Level Authorization, writes: no request
// sets a property the caller may not set (the owner flag, a status, an
// address, the seats, a team), in any spelling, nested or twice; the body
// is refused whole and nothing changes.
func TestNoMassAssignmentThroughAnyBody(t *testing.T) {
	tm := newTeam(t, "mass.example", 6)
	user := tm.first(t, users.StatusActive, users.RoleUser)
	pending := tm.first(t, users.StatusInvitationSent, users.RoleUser)
	team := "/v1/teams/" + tm.ID
	app := token(t, user.Email, local.TokenOptions{})
	before := snapshot(t, tm)

	cases := []struct {
		name, method, path, tok, body string
	}{
		{"owner flag on a role change", "PATCH", team + "/members/" + user.ID, tm.Token, `{"role":"admin","isOwner":true}`},
		{"status on a role change", "PATCH", team + "/members/" + user.ID, tm.Token, `{"role":"user","status":"active"}`},
		{"address on a role change", "PATCH", team + "/members/" + user.ID, tm.Token, `{"role":"user","email":"mallory@evil.example"}`},
		{"seats on a role change", "PATCH", team + "/members/" + user.ID, tm.Token, `{"role":"user","seats":100000}`},
		{"role in another spelling", "PATCH", team + "/members/" + user.ID, tm.Token, `{"ROLE":"admin"}`},
		{"role twice", "PATCH", team + "/members/" + user.ID, tm.Token, `{"role":"user","role":"admin"}`},
		{"role as null", "PATCH", team + "/members/" + user.ID, tm.Token, `{"role":null}`},
		{"owner flag in bulk", "POST", team + "/members/bulk", tm.Token, `{"action":"change_role","memberIds":["` + user.ID + `"],"role":"admin","isOwner":true}`},
		{"status in bulk", "POST", team + "/members/bulk", tm.Token, `{"action":"remove","memberIds":["` + user.ID + `"],"status":"active"}`},
		{"team in bulk", "POST", team + "/members/bulk", tm.Token, `{"action":"remove","memberIds":["` + user.ID + `"],"teamId":"t_other"}`},
		{"seats on an invitation", "POST", team + "/invitations", tm.Token, `{"emails":["x@mass.example"],"seats":1000}`},
		{"owner flag on an invitation", "POST", team + "/invitations", tm.Token, `{"emails":["x@mass.example"],"isOwner":true}`},
		{"status on an invitation", "POST", team + "/invitations", tm.Token, `{"emails":["x@mass.example"],"status":"active"}`},
		{"inviter on an invitation", "POST", team + "/invitations", tm.Token, `{"emails":["x@mass.example"],"invitedBy":"ceo@mass.example"}`},
		{"role in another spelling on an invitation", "POST", team + "/invitations", tm.Token, `{"emails":["x@mass.example"],"Role":"admin"}`},
		{"role null on an invitation", "POST", team + "/invitations", tm.Token, `{"emails":["x@mass.example"],"role":null}`},
		{"a null address", "POST", team + "/invitations", tm.Token, `{"emails":[null]}`},
		{"member on an accept", "POST", "/v1/invitations/accept", "", `{"token":"` + strings.Repeat("A", 43) + `","memberId":"` + pending.ID + `"}`},
		{"status on a sign-in", "POST", "/v1/me/sign-ins", app, `{"device":"laptop","status":"active"}`},
		{"a null device", "POST", "/v1/me/sign-ins", app, `{"device":null}`},
		{"a null body", "POST", "/v1/me/sign-ins", app, `null`},
		{"team on a call", "POST", "/v1/me/calls", app, `{"startedAt":"2026-01-01T00:00:00Z","durationSeconds":60,"teamId":"t_other"}`},
		{"anything on a team-wide resend", "POST", team + "/invitations/resend", tm.Token, `{"memberIds":["` + user.ID + `"]}`},
		{"anything on a resend", "POST", team + "/members/" + pending.ID + "/resend-invite", tm.Token, `{"email":"mallory@evil.example"}`},
	}
	for _, c := range cases {
		r := send(t, nil, c.method, c.path, c.tok, map[string]string{"Content-Type": "application/json"}, []byte(c.body))
		if code := r.Problem(t, 400); code != "invalid_json" {
			t.Errorf("%s: %s", c.name, code)
		}
	}
	if after := snapshot(t, tm); after != before {
		t.Fatalf("the team changed:\nbefore %s\nafter  %s", before, after)
	}
}

// API3 through the SCIM service: an identity provider sets what a User
// holds (its names, addresses, role, active) and nothing else. The
// read-only attributes (id, meta) cannot be changed, attributes this
// service does not keep (an owner flag, a status, a team, seats) change
// nothing, the owner stays an active admin at billing's address, and a
// SCIM token cannot be made with a secret of the caller's choosing.
func TestSCIMSetsNothingAUserDoesNotHold(t *testing.T) {
	tm := newTeam(t, "scim-mass.example", 6)
	user := tm.first(t, users.StatusActive, users.RoleUser)
	_, idp := scimToken(t, tm, "IdP")
	var owner struct{ Resources []struct{ ID string } }
	scimCall(t, "GET", "/Users?filter="+url.QueryEscape(`userName eq "`+tm.Owner+`"`), idp, nil).JSON(t, &owner)
	if len(owner.Resources) != 1 {
		t.Fatal("the owner is not found by userName")
	}
	ownerID := owner.Resources[0].ID
	before := snapshot(t, tm)
	patch := func(ops ...map[string]any) map[string]any {
		return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": ops}
	}
	refused := []struct {
		name, method, id string
		body             any
		scimType         string
	}{
		{"a new id", "PATCH", user.ID, patch(map[string]any{"op": "replace", "path": "id", "value": "m_mine"}), "mutability"},
		{"a new creation date", "PATCH", user.ID, patch(map[string]any{"op": "replace", "path": "meta.created", "value": "2000-01-01T00:00:00Z"}), "mutability"},
		{"the owner deactivated", "PATCH", ownerID, patch(map[string]any{"op": "replace", "path": "active", "value": false}), "mutability"},
		{"the owner demoted", "PATCH", ownerID, patch(map[string]any{"op": "replace", "path": "roles", "value": []any{map[string]any{"value": "user"}}}), "mutability"},
		{"the owner's address changed", "PUT", ownerID, map[string]any{"userName": tm.Owner, "active": true, "roles": []any{map[string]any{"value": "admin"}},
			"emails": []any{map[string]any{"value": "mallory@evil.example", "primary": true}}}, "mutability"},
		{"the owner removed", "DELETE", ownerID, nil, "mutability"},
	}
	for _, c := range refused {
		if got := scimCall(t, c.method, "/Users/"+c.id, idp, c.body).SCIMError(t, 400); got != c.scimType {
			t.Errorf("%s: %q, want %q", c.name, got, c.scimType)
		}
	}
	// Attributes a User does not hold are accepted and change nothing.
	for _, body := range []any{
		patch(map[string]any{"op": "add", "value": map[string]any{"isOwner": true, "status": "active", "teamId": "t_other", "seats": 1000}}),
		patch(map[string]any{"op": "replace", "path": "isOwner", "value": true}),
		patch(map[string]any{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "ceo@scim-mass.example"}),
	} {
		if r := scimCall(t, "PATCH", "/Users/"+user.ID, idp, body); r.Status != 200 {
			t.Errorf("PATCH %v: %d %s", body, r.Status, r.Body)
		}
	}
	if r := scimCall(t, "PUT", "/Users/"+user.ID, idp, map[string]any{"id": "m_mine", "userName": user.Email, "active": true,
		"meta": map[string]any{"created": "2000-01-01T00:00:00Z"}, "isOwner": true, "teamId": "t_other"}); r.Status != 200 || !strings.Contains(string(r.Body), `"id":"`+user.ID+`"`) {
		t.Errorf("PUT with read-only and unknown attributes: %d %s", r.Status, r.Body)
	}
	if after := snapshot(t, tm); after != before {
		t.Fatalf("the team changed:\nbefore %s\nafter  %s", before, after)
	}
	// A token's secret, team or author are the service's, never the caller's.
	for _, body := range []string{`{"name":"x","token":"scim.` + tm.ID + `.sk_mine.` + strings.Repeat("A", 43) + `"}`,
		`{"name":"x","teamId":"t_other"}`, `{"name":"x","createdBy":"ceo@scim-mass.example"}`, `{"name":null}`} {
		r := send(t, nil, "POST", "/v1/teams/"+tm.ID+"/scim-tokens", tm.Token, map[string]string{"Content-Type": "application/json"}, []byte(body))
		if r.Status != 400 {
			t.Errorf("a token made with %s: %d %s", body, r.Status, r.Body)
		}
	}
}

// API3, reads: no answer carries a property the caller may not see: the
// invitation token (only its email has it) or its hash, the store's keys,
// versions and expiry attributes, another member's sign-in devices.
func TestNoAnswerCarriesAPropertyTheCallerMayNotSee(t *testing.T) {
	tm := newTeam(t, "reads.example", 6)
	team := "/v1/teams/" + tm.ID
	var answers []response
	keep := func(r response) response { answers = append(answers, r); return r }

	var inv struct{ Results []struct{ MemberID string } }
	keep(call(t, "POST", team+"/invitations", tm.Token, map[string]any{"emails": []string{"new@reads.example"}})).JSON(t, &inv)
	invite := waitForToken(t, "new@reads.example")
	keep(call(t, "GET", team+"/members/"+inv.Results[0].MemberID, tm.Token, nil))
	keep(call(t, "POST", team+"/members/"+inv.Results[0].MemberID+"/resend-invite", tm.Token, nil))
	resent := waitForNthToken(t, "new@reads.example", 2)
	keep(call(t, "POST", "/v1/invitations/accept", "", map[string]string{"token": resent}))
	app := token(t, "new@reads.example", local.TokenOptions{})
	keep(call(t, "POST", "/v1/me/sign-ins", app, map[string]string{"device": "secret-laptop-name", "appVersion": "9.9"}))
	keep(call(t, "GET", "/v1/me", app, nil))
	keep(call(t, "GET", "/v1/me", tm.Token, nil))
	keep(call(t, "GET", team+"/summary", tm.Token, nil))
	keep(call(t, "GET", team+"/members?limit=100", tm.Token, nil))
	keep(call(t, "GET", team+"/members?q=new&sort=lastActive", tm.Token, nil))
	keep(call(t, "GET", team+"/members/"+inv.Results[0].MemberID, tm.Token, nil))
	keep(send(t, nil, "POST", team+"/members/csv-selection", tm.Token, map[string]string{"Content-Type": "text/csv"}, []byte("email\nnew@reads.example\n")))
	keep(call(t, "POST", team+"/members/bulk", tm.Token, map[string]any{"action": "send_instructions", "memberIds": []string{inv.Results[0].MemberID}}))
	keep(call(t, "POST", team+"/usage-report", tm.Token, map[string]any{"memberIds": []string{inv.Results[0].MemberID}}))
	var job struct{ JobID string }
	keep(call(t, "POST", team+"/instructions", tm.Token, nil)).JSON(t, &job)
	keep(call(t, "GET", team+"/jobs/"+job.JobID, tm.Token, nil))
	// The SCIM token is shown once, in its creation's answer; never again.
	_, idp := scimToken(t, tm, "IdP")
	keep(call(t, "GET", team+"/scim-tokens", tm.Token, nil))
	keep(scimCall(t, "GET", "/Users?count=100", idp, nil))
	keep(scimCall(t, "GET", "/Users/"+inv.Results[0].MemberID, idp, nil))
	keep(scimCall(t, "PATCH", "/Users/"+inv.Results[0].MemberID, idp, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": "replace", "path": "displayName", "value": "New"}}}))
	keep(scimCall(t, "GET", "/ServiceProviderConfig", "", nil))

	secrets := map[string]string{"the first token": invite, "the resent token": resent, "the device name": "secret-laptop-name", "the SCIM token": idp}
	for name, tok := range map[string]string{"first": invite, "resent": resent, "SCIM": idp} {
		sum := sha256.Sum256([]byte(tok))
		secrets["the hash of the "+name+" token"] = hex.EncodeToString(sum[:])
	}
	internal := []string{"PK", "SK", "facetPK", "emailSK", "activeSK", "invitedSK", "domainSK", "duePK", "dueSK", "version", "ttl",
		"tokenHash", "sealedToken", "token", "hash", "secret", "device", "appVersion", "idpData", "fc#"}
	for i, r := range answers {
		if r.Status >= 300 {
			t.Fatalf("answer %d: %d %s", i, r.Status, r.Body)
		}
		for name, s := range secrets {
			if strings.Contains(string(r.Body), s) || strings.Contains(strings.Join(headerValues(r), "\n"), s) {
				t.Errorf("answer %d carries %s: %s", i, name, r.Body)
			}
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") && ct != "application/scim+json" {
			continue // the report is CSV, checked above for secrets
		}
		var v any
		if err := json.Unmarshal(r.Body, &v); err != nil {
			t.Fatal(err)
		}
		if r.Header.Get("Content-Type") == "application/scim+json" {
			// A SCIM resource's meta.version is its ETag, a digest of what
			// the provider reads, never the store's version.
			v = scimWithoutVersions(t, v)
		}
		for _, k := range keysOf(v) {
			for _, bad := range internal {
				if k == bad || strings.HasPrefix(k, bad) && bad == "fc#" {
					t.Errorf("answer %d has the property %q: %s", i, k, r.Body)
				}
			}
		}
	}
}

var etag = regexp.MustCompile(`^W/"[0-9a-f]{16}"$`)

// scimWithoutVersions drops every meta.version of a SCIM answer, once it
// is seen to be an ETag.
func scimWithoutVersions(t *testing.T, v any) any {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		if meta, ok := x["meta"].(map[string]any); ok {
			if ver, ok := meta["version"]; ok {
				if s, _ := ver.(string); !etag.MatchString(s) {
					t.Errorf("meta.version %v is not an ETag", ver)
				}
				delete(meta, "version")
			}
		}
		for k, e := range x {
			x[k] = scimWithoutVersions(t, e)
		}
	case []any:
		for i, e := range x {
			x[i] = scimWithoutVersions(t, e)
		}
	}
	return v
}

func headerValues(r response) []string {
	var out []string
	for _, vs := range r.Header {
		out = append(out, vs...)
	}
	return out
}

// keysOf lists every property name in a JSON value, at any depth.
func keysOf(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			out = append(out, k)
			out = append(out, keysOf(e)...)
		}
	case []any:
		for _, e := range x {
			out = append(out, keysOf(e)...)
		}
	}
	return out
}
