package integration

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/local"
)

func invite(t *testing.T, team, tok string, emails ...string) inviteResults {
	t.Helper()
	var res inviteResults
	r := call(t, "POST", "/v1/teams/"+team+"/invitations", tok, map[string]any{"emails": emails})
	if r.Status != 200 {
		t.Fatalf("invite: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &res)
	return res
}

func TestSeatsRemovalAndDeadInvitations(t *testing.T) {
	team := newTeam(t, "pro", 3, "owner@seats.example")
	admin := token(t, "owner@seats.example", local.TokenOptions{})
	res := invite(t, team, admin, "a@seats.example", "b@seats.example", "c@seats.example", "d@seats.example")
	got := []string{res.Results[0].Result, res.Results[1].Result, res.Results[2].Result, res.Results[3].Result}
	if strings.Join(got, ",") != "invited,invited,seat_limit_reached,seat_limit_reached" {
		t.Fatalf("results %v: the first ones in order get the seats", got)
	}
	tokB := tokenFrom(t, waitForMail(t, "b@seats.example", 1)[0])
	// Removing an invitee frees the seat and kills the link.
	if r := call(t, "DELETE", "/v1/teams/"+team+"/members/"+res.Results[1].MemberID, admin, nil); r.Status != 204 {
		t.Fatalf("remove: %d %s", r.Status, r.Body)
	}
	if c := call(t, "POST", "/v1/invitations/accept", "", map[string]string{"token": tokB}).Problem(t, 400); c != "invalid_token" {
		t.Fatalf("accepting after removal: %s", c)
	}
	if c := call(t, "DELETE", "/v1/teams/"+team+"/members/"+res.Results[1].MemberID, admin, nil).Problem(t, 404); c != "member_not_found" {
		t.Fatalf("second removal: %s", c)
	}
	if res := invite(t, team, admin, "c@seats.example"); res.Results[0].Result != "invited" {
		t.Fatalf("the freed seat was not reusable: %+v", res)
	}
	assertCountersMatchRecount(t, team, admin)
}

func TestRoleRulesAndUserRoleCallers(t *testing.T) {
	team := newTeam(t, "pro", 10, "owner@roles.example")
	owner := token(t, "owner@roles.example", local.TokenOptions{})
	res := invite(t, team, owner, "second@roles.example", "plain@roles.example")
	second, plain := res.Results[0].MemberID, res.Results[1].MemberID
	for _, addr := range []string{"second@roles.example", "plain@roles.example"} {
		tok := tokenFrom(t, waitForMail(t, addr, 1)[0])
		if r := call(t, "POST", "/v1/invitations/accept", "", map[string]string{"token": tok}); r.Status != 200 {
			t.Fatalf("accept: %s", r.Body)
		}
	}
	if r := call(t, "PATCH", "/v1/teams/"+team+"/members/"+second, owner, map[string]string{"role": "admin"}); r.Status != 200 || !strings.Contains(string(r.Body), `"role":"admin"`) {
		t.Fatalf("promote: %d %s", r.Status, r.Body)
	}
	admin2 := token(t, "second@roles.example", local.TokenOptions{})
	ownerID := mustOwnerID(t, team)
	for name, c := range map[string]struct {
		method, path, tok string
		body              any
		status            int
		code              string
	}{
		"demote the owner":   {"PATCH", "/members/" + ownerID, admin2, map[string]string{"role": "user"}, 403, "owner_protected"},
		"remove the owner":   {"DELETE", "/members/" + ownerID, admin2, nil, 403, "owner_protected"},
		"owner removes self": {"DELETE", "/members/" + ownerID, owner, nil, 403, "owner_protected"},
		"demote yourself":    {"PATCH", "/members/" + second, admin2, map[string]string{"role": "user"}, 403, "cannot_change_self"},
		"remove yourself":    {"DELETE", "/members/" + second, admin2, nil, 403, "cannot_change_self"},
		"an unknown role":    {"PATCH", "/members/" + plain, owner, map[string]string{"role": "owner"}, 400, "invalid_role"},
		"an unknown field":   {"PATCH", "/members/" + plain, owner, map[string]string{"role": "admin", "isOwner": "true"}, 400, "invalid_json"},
		"an unknown member":  {"PATCH", "/members/m_nobody", owner, map[string]string{"role": "admin"}, 404, "member_not_found"},
	} {
		r := call(t, c.method, "/v1/teams/"+team+c.path, c.tok, c.body)
		if code := r.Problem(t, c.status); code != c.code {
			t.Errorf("%s: %s, want %s", name, code, c.code)
		}
	}

	// A user-role member gets 403 on every team endpoint, and changes nothing.
	user := token(t, "plain@roles.example", local.TokenOptions{})
	before := summary(t, team, owner)
	for _, ep := range []struct{ method, path string }{
		{"GET", "/summary"}, {"GET", "/members"}, {"GET", "/members/" + second},
		{"POST", "/invitations"}, {"POST", "/invitations/resend"}, {"POST", "/instructions"}, {"POST", "/members/bulk"},
		{"PATCH", "/members/" + second}, {"DELETE", "/members/" + second},
		{"POST", "/members/" + second + "/resend-invite"}, {"POST", "/members/" + second + "/send-instructions"},
	} {
		var body any
		if ep.method != "GET" && ep.method != "DELETE" {
			body = map[string]any{"emails": []string{"x@roles.example"}, "role": "user", "action": "remove", "memberIds": []string{second}}
		}
		if c := call(t, ep.method, "/v1/teams/"+team+ep.path, user, body).Problem(t, 403); c != "admin_required" {
			t.Errorf("%s %s as a user: %s", ep.method, ep.path, c)
		}
	}
	if after := summary(t, team, owner); after != before {
		t.Fatalf("user-role calls changed the team: %+v → %+v", before, after)
	}
}

func TestBulkActions(t *testing.T) {
	team := newTeam(t, "pro", 20, "owner@bulk.example")
	owner := token(t, "owner@bulk.example", local.TokenOptions{})
	invitedBefore := time.Now()
	res := invite(t, team, owner, "b1@bulk.example", "b2@bulk.example", "b3@bulk.example")
	ids := []string{res.Results[0].MemberID, res.Results[1].MemberID, res.Results[2].MemberID}
	ownerID := mustOwnerID(t, team)

	var out struct {
		Results []struct{ MemberID, Result, Code string }
	}
	r := call(t, "POST", "/v1/teams/"+team+"/members/bulk", owner, map[string]any{"action": "change_role", "memberIds": []string{ids[0], ids[1], ownerID, "m_ghost"}, "role": "admin"})
	r.JSON(t, &out)
	want := []string{"done/", "done/", "skipped/unchanged", "skipped/member_not_found"}
	for i, res := range out.Results {
		if res.Result+"/"+res.Code != want[i] {
			t.Errorf("change_role result %d: %s/%s, want %s", i, res.Result, res.Code, want[i])
		}
	}
	r = call(t, "POST", "/v1/teams/"+team+"/members/bulk", owner, map[string]any{"action": "remove", "memberIds": []string{ids[2], ownerID}})
	r.JSON(t, &out)
	if out.Results[0].Result != "done" || out.Results[1].Code != "owner_protected" {
		t.Fatalf("remove: %s", r.Body)
	}
	r = call(t, "POST", "/v1/teams/"+team+"/members/bulk", owner, map[string]any{"action": "resend_invite", "memberIds": []string{ids[0], ownerID}})
	r.JSON(t, &out)
	// Within the (one second) cooldown the resend is refused. On a slow or
	// hostile stack the second may have passed since the invitation: then
	// the resend may go, and that is right too.
	within := time.Since(invitedBefore) < stack.Config.Policy.Cooldown
	if (within && out.Results[0].Code != "cooldown") || (out.Results[0].Code != "cooldown" && out.Results[0].Result != "done") || out.Results[1].Code != "not_pending" {
		t.Fatalf("resend right after inviting (%v after): %s", time.Since(invitedBefore), r.Body)
	}
	assertCountersMatchRecount(t, team, owner)

	many := make([]string, 1001)
	for i := range many {
		many[i] = fmt.Sprintf("m_%d", i)
	}
	for name, body := range map[string]any{
		"unknown action":      map[string]any{"action": "promote", "memberIds": ids[:1]},
		"no members":          map[string]any{"action": "remove", "memberIds": []string{}},
		"too many members":    map[string]any{"action": "remove", "memberIds": many},
		"duplicate members":   map[string]any{"action": "remove", "memberIds": []string{ids[0], ids[0]}},
		"role without change": map[string]any{"action": "remove", "memberIds": ids[:1], "role": "admin"},
		"change without role": map[string]any{"action": "change_role", "memberIds": ids[:1]},
		"unknown field":       map[string]any{"action": "remove", "memberIds": ids[:1], "force": true},
	} {
		if r := call(t, "POST", "/v1/teams/"+team+"/members/bulk", owner, body); r.Status != 400 {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	// Nothing of the refused calls happened.
	if s := summary(t, team, owner); s.Seats.Assigned != 3 {
		t.Fatalf("refused bulk calls changed the team: %+v", s)
	}
}

func TestBadBodiesAreRefusedWholesale(t *testing.T) {
	team := newTeam(t, "pro", 600, "owner@bodies.example")
	owner := token(t, "owner@bodies.example", local.TokenOptions{})
	post := func(ct string, body []byte) response {
		return postRaw(t, "/v1/teams/"+team+"/invitations", owner, ct, body)
	}
	emails := make([]string, 501)
	for i := range emails {
		emails[i] = fmt.Sprintf("p%03d@bodies.example", i)
	}
	big := `{"emails":["` + strings.Repeat("a", 1<<20) + `@x.example"]}`
	for name, c := range map[string]struct {
		ct     string
		body   string
		status int
	}{
		"form post":       {"application/x-www-form-urlencoded", "emails=a@b.example", 415},
		"no content type": {"", `{"emails":["a@bodies.example"]}`, 415},
		"not json":        {"application/json", `{"emails":`, 400},
		"trailing data":   {"application/json", `{"emails":["a@bodies.example"]} {}`, 400},
		"wrong type":      {"application/json", `{"emails":"a@bodies.example"}`, 400},
		"unknown field":   {"application/json", `{"emails":["a@bodies.example"],"seats":9}`, 400},
		"bad role":        {"application/json", `{"emails":["a@bodies.example"],"role":"owner"}`, 400},
		"too many emails": {"application/json", `{"emails":["` + strings.Join(emails, `","`) + `"]}`, 400},
		"no emails":       {"application/json", `{"emails":[]}`, 400},
		"over one MiB":    {"application/json", big, 413},
		"an array":        {"application/json", `["a@bodies.example"]`, 400},
	} {
		r := post(c.ct, []byte(c.body))
		r.Problem(t, c.status)
		_ = name
	}
	if s := summary(t, team, owner); s.Seats.Assigned != 1 {
		t.Fatalf("refused bodies invited someone: %+v", s)
	}
}

func TestIdempotencyKeyReplaysTheFirstAnswer(t *testing.T) {
	team := newTeam(t, "pro", 10, "owner@idem.example")
	owner := token(t, "owner@idem.example", local.TokenOptions{})
	do := func(key string, body any) response {
		b, _ := jsonBytes(body)
		return send(t, "POST", "/v1/teams/"+team+"/invitations", owner, map[string]string{"Content-Type": "application/json", "Idempotency-Key": key}, b)
	}
	body := map[string]any{"emails": []string{"once@idem.example"}}
	first := do("key-1", body)
	second := do("key-1", body)
	if first.Status != 200 || second.Status != 200 || !bytes.Equal(first.Body, second.Body) || second.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s / %d %s", first.Status, first.Body, second.Status, second.Body)
	}
	if !strings.Contains(string(first.Body), `"result":"invited"`) {
		t.Fatalf("first answer: %s", first.Body)
	}
	if c := do("key-1", map[string]any{"emails": []string{"other@idem.example"}}).Problem(t, 400); c != "idempotency_key_reused" {
		t.Fatalf("reused key: %s", c)
	}
	settle(t)
	if n := len(mailTo(t, "once@idem.example")); n != 1 {
		t.Fatalf("%d invitation emails for one idempotent request", n)
	}
	if s := summary(t, team, owner); s.Seats.Assigned != 2 {
		t.Fatalf("assigned %d", s.Seats.Assigned)
	}
}

// Must hold: with 5 free seats and 50 concurrent invitations, exactly 5
// succeed; after a random concurrent mix of invites, accepts, removals and
// role changes, the summary equals a recount.
func TestConcurrentInvitesAndARandomMixKeepTheCounters(t *testing.T) {
	team := newTeam(t, "pro", 6, "owner@mix.example")
	owner := token(t, "owner@mix.example", local.TokenOptions{})
	var wg sync.WaitGroup
	results := make([]string, 50)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var res inviteResults
			r := call(t, "POST", "/v1/teams/"+team+"/invitations", owner, map[string]any{"emails": []string{fmt.Sprintf("c%02d@mix.example", i)}})
			r.JSON(t, &res)
			results[i] = res.Results[0].Result
		}()
	}
	wg.Wait()
	invited := 0
	for _, r := range results {
		if r == "invited" {
			invited++
		} else if r != "seat_limit_reached" {
			t.Fatalf("unexpected result %q", r)
		}
	}
	if invited != 5 {
		t.Fatalf("%d invited into 5 free seats", invited)
	}
	if _, err := provisionSeats(team, 40); err != nil {
		t.Fatal(err)
	}

	rng := rand.New(rand.NewPCG(1, 2))
	var mu sync.Mutex
	var pending []string // emails with a link we can accept
	for i := 0; i < 24; i++ {
		wg.Add(1)
		op := rng.IntN(4)
		n := i
		go func() {
			defer wg.Done()
			switch op {
			case 0: // invite
				addr := fmt.Sprintf("r%02d@mix.example", n)
				call(t, "POST", "/v1/teams/"+team+"/invitations", owner, map[string]any{"emails": []string{addr}})
				mu.Lock()
				pending = append(pending, addr)
				mu.Unlock()
			case 1: // accept an invitation that has arrived
				for _, m := range mailTo(t, fmt.Sprintf("c%02d@mix.example", n%50)) {
					call(t, "POST", "/v1/invitations/accept", "", map[string]string{"token": tokenFrom(t, m)})
				}
			case 2, 3: // remove or change the role of someone
				all, _ := listWhileChanging(t, team, owner, nil)
				if len(all) < 2 {
					return
				}
				target := all[1+n%(len(all)-1)]
				if op == 2 {
					call(t, "DELETE", "/v1/teams/"+team+"/members/"+target.ID, owner, nil)
				} else {
					call(t, "PATCH", "/v1/teams/"+team+"/members/"+target.ID, owner, map[string]string{"role": []string{"user", "admin"}[n%2]})
				}
			}
		}()
	}
	wg.Wait()
	assertCountersMatchRecount(t, team, owner)
}

func TestTeamWideResendAnswersAtOnceAndReachesEveryPendingInvitee(t *testing.T) {
	team := newTeam(t, "pro", 40, "owner@all.example")
	owner := token(t, "owner@all.example", local.TokenOptions{})
	var addrs []string
	for i := 0; i < 30; i++ {
		addrs = append(addrs, fmt.Sprintf("all%02d@all.example", i))
	}
	invite(t, team, owner, addrs...)
	for _, a := range addrs {
		waitForMail(t, a, 1)
	}
	// One of them accepts: not pending any more, so no resend for them.
	call(t, "POST", "/v1/invitations/accept", "", map[string]string{"token": tokenFrom(t, mailTo(t, addrs[0])[0])})
	pastCooldown()
	r := call(t, "POST", "/v1/teams/"+team+"/invitations/resend", owner, nil)
	if r.Status != 202 || !strings.Contains(string(r.Body), `"members":29`) {
		t.Fatalf("resend all: %d %s", r.Status, r.Body)
	}
	var started struct{ JobID string }
	r.JSON(t, &started)
	for _, a := range addrs[1:] {
		waitForMail(t, a, 2)
	}
	// The portal follows the job to its end.
	var job struct {
		State                  string
		Members, Done, Skipped int
	}
	deadline := time.Now().Add(30 * time.Second)
	for job.State != "done" && time.Now().Before(deadline) {
		call(t, "GET", "/v1/teams/"+team+"/jobs/"+started.JobID, owner, nil).JSON(t, &job)
		time.Sleep(50 * time.Millisecond)
	}
	if job.State != "done" || job.Members != 29 || job.Done != 29 || job.Skipped != 0 {
		t.Fatalf("job: %+v", job)
	}
	other := newTeam(t, "pro", 2, "owner@all-other.example")
	if c := call(t, "GET", "/v1/teams/"+other+"/jobs/"+started.JobID, token(t, "owner@all-other.example", local.TokenOptions{}), nil).Problem(t, 404); c != "job_not_found" {
		t.Fatalf("another team's job: %s", c)
	}
	settle(t)
	if n := len(mailTo(t, addrs[0])); n != 1 {
		t.Fatalf("a member who accepted got %d emails", n)
	}
	// Send instructions reaches everyone who never used the app: the owner,
	// the one who accepted, and the 29 pending.
	r = call(t, "POST", "/v1/teams/"+team+"/instructions", owner, nil)
	if r.Status != 202 {
		t.Fatalf("instructions: %d %s", r.Status, r.Body)
	}
	// The team job's instructions answer to the admin who started it.
	if got := waitForMail(t, addrs[0], 2)[1]; !strings.HasPrefix(got.Subject, "Set up") || len(got.ReplyTo) != 1 || got.ReplyTo[0] != "owner@all.example" {
		t.Fatalf("instructions: %q, Reply-To %v", got.Subject, got.ReplyTo)
	}
	waitForMail(t, "owner@all.example", 1)
	settle(t)
	for _, a := range addrs[1:] {
		if n := len(mailTo(t, a)); n != 3 {
			t.Fatalf("%s got %d emails, want invitation, resend and instructions", a, n)
		}
	}
}

func TestPublicIdempotencyKeysDoNotCollide(t *testing.T) {
	post := func(key, tok string) response {
		b, _ := jsonBytes(map[string]string{"token": tok})
		return send(t, "POST", "/v1/invitations/accept", "", map[string]string{"Content-Type": "application/json", "Idempotency-Key": key}, b)
	}
	team := newTeam(t, "pro", 5, "owner@pubidem.example")
	owner := token(t, "owner@pubidem.example", local.TokenOptions{})
	invite(t, team, owner, "one@pubidem.example", "two@pubidem.example")
	one := tokenFrom(t, waitForMail(t, "one@pubidem.example", 1)[0])
	two := tokenFrom(t, waitForMail(t, "two@pubidem.example", 1)[0])
	a, b := post("1", one), post("1", two)
	if a.Status != 200 || b.Status != 200 || !strings.Contains(string(b.Body), "two@pubidem.example") {
		t.Fatalf("two invitees with the same key: %d %s / %d %s", a.Status, a.Body, b.Status, b.Body)
	}
	if r := post("1", one); r.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(r.Body, a.Body) {
		t.Fatalf("replay: %s", r.Body)
	}
}
