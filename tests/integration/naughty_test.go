package integration

import (
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/teamusers/usersapi/internal/local"
)

// Every string of the Big List of Naughty Strings, in every place a caller
// can put text, gets an answer below 500 and changes nothing it should not.
func TestNaughtyStringsNeverCauseA5xx(t *testing.T) {
	b, err := os.ReadFile("testdata/blns.json")
	if err != nil {
		t.Fatal(err)
	}
	var naughty []string
	if err := json.Unmarshal(b, &naughty); err != nil {
		t.Fatal(err)
	}
	naughty = append(naughty, "\xff\xfe", "%00", "a@b.c\x00d", strings.Repeat("é", 300))
	team := newTeam(t, "pro", 5, "owner@naughty.example")
	owner := token(t, "owner@naughty.example", local.TokenOptions{})
	scimTok := newSCIMToken(t, team, owner, "naughty")
	ownerID := mustOwnerID(t, team)
	check := func(what string, r response) {
		t.Helper()
		if r.Status >= 500 {
			t.Errorf("%s: %d %s", what, r.Status, r.Body)
		}
	}
	for _, s := range naughty {
		check("q="+s, call(t, "GET", "/v1/teams/"+team+"/members?"+url.Values{"q": {s}}.Encode(), owner, nil))
		check("status="+s, call(t, "GET", "/v1/teams/"+team+"/members?"+url.Values{"status": {s}}.Encode(), owner, nil))
		check("cursor="+s, call(t, "GET", "/v1/teams/"+team+"/members?"+url.Values{"cursor": {s}}.Encode(), owner, nil))
		check("member id "+s, call(t, "GET", "/v1/teams/"+team+"/members/"+url.PathEscape(s), owner, nil))
		check("accept "+s, call(t, "POST", "/v1/invitations/accept", "", map[string]string{"token": s}))
		check("role "+s, call(t, "POST", "/v1/teams/"+team+"/members/bulk", owner, map[string]any{"action": "change_role", "memberIds": []string{"m_x"}, "role": s}))
		check("sign-in "+s, call(t, "POST", "/v1/me/sign-ins", owner, map[string]string{"appVersion": s, "device": s}))
		check("report from "+s, call(t, "POST", "/v1/teams/"+team+"/usage-report", owner, map[string]any{"memberIds": []string{"m_x"}, "from": s}))
		// The SCIM service: filters, attribute lists, ids, paths, tokens.
		check("scim filter "+s, send(t, "GET", "/scim/v2/Users?"+url.Values{"filter": {s}, "attributes": {s}, "startIndex": {s}}.Encode(), scimTok, nil, nil))
		check("scim id "+s, send(t, "GET", "/scim/v2/Users/"+url.PathEscape(s), scimTok, nil, nil))
		if !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) { // else no client can send it
			check("scim token "+s, send(t, "GET", "/scim/v2/Users", s, nil, nil))
		}
		check("scim path "+s, send(t, "GET", "/scim/v2/"+url.PathEscape(s), "", nil, nil))
		body, _ := json.Marshal(map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": s, "value": s}}})
		check("scim patch "+s, send(t, "PATCH", "/scim/v2/Users/"+ownerID, scimTok, map[string]string{"Content-Type": "application/scim+json"}, body))
		body, _ = json.Marshal(map[string]any{"userName": s, "externalId": s, "emails": []any{map[string]any{"value": s}}})
		check("scim user "+s, send(t, "POST", "/scim/v2/Users", scimTok, map[string]string{"Content-Type": "application/scim+json"}, body))
	}
	// All of them as invitations at once: each gets its own answer, none is a member.
	var res inviteResults
	r := call(t, "POST", "/v1/teams/"+team+"/invitations", owner, map[string]any{"emails": naughty[:min(len(naughty), 500)]})
	check("invitations", r)
	r.JSON(t, &res)
	for _, x := range res.Results {
		if x.Result == "invited" {
			t.Errorf("a naughty string was invited as %q", x.Email)
		}
	}
	// And as a CSV file.
	check("csv", postRaw(t, "/v1/teams/"+team+"/members/csv-selection", owner, "text/csv", []byte(strings.Join(naughty, "\n"))))
	if s := summary(t, team, owner); s.Seats.Assigned != 1 {
		t.Fatalf("naughty input changed the team: %+v", s)
	}
}
