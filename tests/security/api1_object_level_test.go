package security

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/httpapi"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/provisioning"
	"github.com/teamusers/usersapi/internal/users"
)

// API1 Broken Object Level Authorization: an admin of team A names team
// B's objects in every place an id goes — a path, a body, a cursor, a CSV
// row, a report's members, a SCIM token's id — and A's identity provider
// names B's users with A's SCIM token; they learn nothing of them and
// change nothing.
func TestAnotherTeamsObjectsAreOutOfReachEverywhereAnIDGoes(t *testing.T) {
	a, b := newTeam(t, "bola-a.example", 10), newTeam(t, "bola-b.example", 10)
	theirs := b.first(t, users.StatusActive, users.RoleUser)
	pending := b.first(t, users.StatusInvitationSent, users.RoleUser)
	var job struct{ JobID string }
	call(t, "POST", "/v1/teams/"+b.ID+"/invitations/resend", b.Token, nil).JSON(t, &job)
	waitForJob(t, b, job.JobID)
	theirToken, theirSCIM := scimToken(t, b, "B's IdP")
	_, ourSCIM := scimToken(t, a, "A's IdP")
	before := snapshot(t, b)

	// Every team route of team B, from the route table, with A's admin: the
	// team is not found (its existence is not revealed).
	for _, e := range httpapi.Endpoints {
		if !strings.Contains(e.Pattern, "{teamId}") {
			continue
		}
		method, path := pathOf(e, map[string]string{"teamId": b.ID, "memberId": theirs.ID, "jobId": job.JobID, "tokenId": theirToken})
		if code := call(t, method, path, a.Token, map[string]any{}).Problem(t, 404); code != "team_not_found" {
			t.Errorf("%s %s as another team's admin: %s", method, path, code)
		}
	}

	// B's member ids in A's paths: no such member in this team.
	for _, id := range []string{theirs.ID, pending.ID} {
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/members/" + id, nil},
			{"PATCH", "/members/" + id, map[string]string{"role": "admin"}},
			{"DELETE", "/members/" + id, nil},
			{"POST", "/members/" + id + "/resend-invite", nil},
			{"POST", "/members/" + id + "/send-instructions", nil},
			{"POST", "/members/" + id + "/deactivate", nil},
			{"POST", "/members/" + id + "/reactivate", nil},
		} {
			if code := call(t, c.method, "/v1/teams/"+a.ID+c.path, a.Token, c.body).Problem(t, 404); code != "member_not_found" {
				t.Errorf("%s %s with B's member: %s", c.method, c.path, code)
			}
		}
	}
	// B's member as the audit log's target in A's log: nothing of B's.
	var log struct{ Entries []any }
	r0 := call(t, "GET", "/v1/teams/"+a.ID+"/audit-log?target="+theirs.ID, a.Token, nil)
	r0.JSON(t, &log)
	if r0.Status != 200 || len(log.Entries) != 0 || strings.Contains(string(r0.Body), theirs.Email) {
		t.Errorf("A's audit log about B's member: %d %s", r0.Status, r0.Body)
	}
	// B's SCIM token's id in A's path: A's admin cannot revoke it.
	if code := call(t, "DELETE", "/v1/teams/"+a.ID+"/scim-tokens/"+theirToken, a.Token, nil).Problem(t, 404); code != "scim_token_not_found" {
		t.Errorf("B's SCIM token in A's path: %s", code)
	}
	// A's SCIM token names B's users: no such user, whatever the method;
	// a filter or a page of A's users finds none of B's.
	for _, id := range []string{theirs.ID, pending.ID} {
		for _, c := range []struct {
			method string
			body   any
		}{
			{"GET", nil},
			{"PUT", map[string]any{"userName": "mallory@evil.example", "active": false}},
			{"PATCH", map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
				"Operations": []any{map[string]any{"op": "replace", "path": "active", "value": false}}}},
			{"DELETE", nil},
		} {
			scimCall(t, c.method, "/Users/"+id, ourSCIM, c.body).SCIMError(t, 404)
		}
	}
	for _, q := range []string{
		`userName eq "` + theirs.Email + `"`, `emails.value eq "` + pending.Email + `"`, `id eq "` + theirs.ID + `"`,
		`userName eq "` + theirs.Email + `" or id eq "` + pending.ID + `"`,
	} {
		r := scimCall(t, "GET", "/Users?filter="+url.QueryEscape(q), ourSCIM, nil)
		if r.Status != 200 || !strings.Contains(string(r.Body), `"totalResults":0`) {
			t.Errorf("A's SCIM filter %s: %d %s", q, r.Status, r.Body)
		}
	}
	if r := scimCall(t, "GET", "/Users?count=500", ourSCIM, nil); r.Status != 200 || strings.Contains(string(r.Body), "bola-b") {
		t.Errorf("A's SCIM list shows B's users: %d %s", r.Status, r.Body)
	}
	// A's token with B's team in it (the parts are team, token id, secret):
	// a token is its team's only.
	parts := strings.SplitN(ourSCIM, ".", 4)
	if len(parts) != 4 {
		t.Fatalf("SCIM token %q", ourSCIM)
	}
	forged := strings.Join([]string{parts[0], b.ID, parts[2], parts[3]}, ".")
	scimCall(t, "GET", "/Users", forged, nil).SCIMError(t, 401)
	// B's own token still serves B, and only B.
	if r := scimCall(t, "GET", "/Users/"+theirs.ID, theirSCIM, nil); r.Status != 200 {
		t.Errorf("B's token on B's member: %d %s", r.Status, r.Body)
	}
	scimCall(t, "GET", "/Users/"+a.first(t, users.StatusActive, users.RoleUser).ID, theirSCIM, nil).SCIMError(t, 404)

	// B's job id in A's path.
	if code := call(t, "GET", "/v1/teams/"+a.ID+"/jobs/"+job.JobID, a.Token, nil).Problem(t, 404); code != "job_not_found" {
		t.Errorf("B's job in A's path: %s", code)
	}

	// B's member ids in A's bodies: bulk skips them as not found, whatever the action.
	ids := []string{theirs.ID, pending.ID}
	for _, body := range []map[string]any{
		{"action": "remove", "memberIds": ids},
		{"action": "change_role", "memberIds": ids, "role": "admin"},
		{"action": "resend_invite", "memberIds": ids},
		{"action": "send_instructions", "memberIds": ids},
		{"action": "deactivate", "memberIds": ids},
		{"action": "reactivate", "memberIds": ids},
	} {
		var res struct {
			Results []struct{ MemberID, Result, Code string }
		}
		r := call(t, "POST", "/v1/teams/"+a.ID+"/members/bulk", a.Token, body)
		r.JSON(t, &res)
		if r.Status != 200 || len(res.Results) != 2 {
			t.Fatalf("bulk %v: %d %s", body["action"], r.Status, r.Body)
		}
		for _, x := range res.Results {
			if x.Result != "skipped" || x.Code != "member_not_found" {
				t.Errorf("bulk %v on B's member %s: %s %s", body["action"], x.MemberID, x.Result, x.Code)
			}
		}
	}
	// ...and the reports: none of them is a member here; mixed with A's,
	// they are left out and their rows never appear.
	for _, path := range []string{"/usage-report", "/usage-report/email"} {
		if code := call(t, "POST", "/v1/teams/"+a.ID+path, a.Token, map[string]any{"memberIds": ids}).Problem(t, 400); code != "unknown_members" {
			t.Errorf("%s with B's members: %s", path, code)
		}
	}
	ours := a.first(t, users.StatusActive, users.RoleUser)
	r := call(t, "POST", "/v1/teams/"+a.ID+"/usage-report", a.Token, map[string]any{"memberIds": []string{ours.ID, theirs.ID}})
	if r.Status != 200 || r.Header.Get(httpapi.HeaderLeftOut) != "1" || r.Header.Get(httpapi.HeaderLeftOutIDs) != theirs.ID ||
		!strings.Contains(string(r.Body), ours.Email) || strings.Contains(string(r.Body), theirs.Email) {
		t.Errorf("report on A's and B's members: %d %v\n%s", r.Status, r.Header, r.Body)
	}

	// B's addresses in a CSV uploaded to A: not found, and no id of B's.
	csv := "email\n" + theirs.Email + "\n" + pending.Email + "\n" + ours.Email + "\n"
	r = send(t, http.DefaultClient, "POST", "/v1/teams/"+a.ID+"/members/csv-selection", a.Token, map[string]string{"Content-Type": "text/csv"}, []byte(csv))
	var sel struct {
		Matched  []struct{ Email, MemberID string }
		NotFound []struct{ Email string }
	}
	r.JSON(t, &sel)
	if r.Status != 200 || len(sel.Matched) != 1 || sel.Matched[0].MemberID != ours.ID || len(sel.NotFound) != 2 ||
		strings.Contains(string(r.Body), theirs.ID) || strings.Contains(string(r.Body), pending.ID) {
		t.Errorf("CSV naming B's members, uploaded to A: %d %s", r.Status, r.Body)
	}

	// A cursor of one team, replayed on another the same admin runs (it
	// is signed for its team), or altered: refused, never a page of rows.
	second, err := provisioning.Service{Store: stack.Store, Now: time.Now}.Handle(context.Background(),
		provisioning.Request{Plan: "pro", Seats: ptr(10), OwnerEmail: a.Owner, Name: "bola-a second"})
	if err != nil {
		t.Fatal(err)
	}
	var page struct{ NextCursor string }
	call(t, "GET", "/v1/teams/"+a.ID+"/members?limit=2", a.Token, nil).JSON(t, &page)
	if page.NextCursor == "" {
		t.Fatal("no cursor")
	}
	tampered := []byte(page.NextCursor)
	tampered[3] ^= 1
	for name, path := range map[string]string{
		"another team's cursor": "/v1/teams/" + second.TeamID + "/members?limit=2&cursor=" + url.QueryEscape(page.NextCursor),
		"an altered cursor":     "/v1/teams/" + a.ID + "/members?limit=2&cursor=" + url.QueryEscape(string(tampered)),
		"another query's":       "/v1/teams/" + a.ID + "/members?limit=2&role=admin&cursor=" + url.QueryEscape(page.NextCursor),
	} {
		if code := call(t, "GET", path, a.Token, nil).Problem(t, 400); code != "invalid_cursor" {
			t.Errorf("%s: %s", name, code)
		}
	}

	// A user of team B reads nothing of B through the admin routes (403),
	// and an admin of B nothing of A: no route crosses teams.
	if code := call(t, "GET", "/v1/teams/"+b.ID+"/members/"+theirs.ID, token(t, theirs.Email, local.TokenOptions{}), nil).Problem(t, 403); code != "admin_required" {
		t.Errorf("B's user on B's member: %s", code)
	}
	if code := call(t, "GET", "/v1/teams/"+a.ID+"/members/"+ours.ID, b.Token, nil).Problem(t, 404); code != "team_not_found" {
		t.Errorf("B's admin on A's member: %s", code)
	}

	if after := snapshot(t, b); after != before {
		t.Fatalf("team B changed under A's requests:\nbefore %s\nafter  %s", before, after)
	}
}

func ptr[T any](v T) *T { return &v }
