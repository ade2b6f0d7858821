package integration

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/users"
)

// deactivated is member information as the deactivate and reactivate
// routes answer it.
type deactivated struct {
	row
	LastActiveAt  *string `json:"lastActiveAt"`
	DeactivatedAt *string `json:"deactivatedAt"`
}

func TestADeactivatedMemberFreesTheSeatAndCannotSignIn(t *testing.T) {
	team := newTeam(t, "pro", 3, "owner@off.example")
	owner := token(t, "owner@off.example", local.TokenOptions{})
	res := invite(t, team, owner, "ann@off.example", "bob@off.example")
	ann, bob := res.Results[0].MemberID, res.Results[1].MemberID
	// Ann joins by signing in, and makes a call: history and usage.
	annApp := token(t, "ann@off.example", local.TokenOptions{})
	if r := call(t, "POST", "/v1/me/sign-ins", annApp, map[string]string{"appVersion": "1.0"}); r.Status != 200 {
		t.Fatalf("sign-in: %d %s", r.Status, r.Body)
	}
	started := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	if r := call(t, "POST", "/v1/me/calls", annApp, map[string]any{"callId": "c1", "startedAt": started, "durationSeconds": 600}); r.Status != 200 {
		t.Fatalf("call: %d %s", r.Status, r.Body)
	}
	call(t, "PATCH", "/v1/teams/"+team+"/members/"+ann, owner, map[string]string{"role": "admin"})
	if s := summary(t, team, owner); s.Seats.Assigned != 3 || s.Seats.Unassigned != 0 {
		t.Fatalf("before: %+v", s)
	}

	// Deactivated: the seat is free, the row leaves the default list.
	var info deactivated
	r := call(t, "POST", "/v1/teams/"+team+"/members/"+ann+"/deactivate", owner, nil)
	r.JSON(t, &info)
	if r.Status != 200 || info.Status != "deactivated" || info.LastCall != "not_active" || info.DeactivatedAt == nil || info.LastActiveAt == nil {
		t.Fatalf("deactivate: %d %s", r.Status, r.Body)
	}
	if s := summary(t, team, owner); s.Seats.Assigned != 2 || s.Seats.Unassigned != 1 || s.NeverUsedApp != 2 || s.PendingInvitations != 1 {
		t.Fatalf("after deactivating: %+v", s)
	}
	// (listAll checks every page's total against the rows.)
	listed, _ := listAll(t, team, owner, url.Values{})
	for _, m := range listed {
		if m.ID == ann {
			t.Fatal("the default list shows a deactivated member")
		}
	}
	if len(listed) != 2 {
		t.Fatalf("default list: %+v", listed)
	}
	off, _ := listAll(t, team, owner, url.Values{"status": {"deactivated"}})
	if len(off) != 1 || off[0].ID != ann || off[0].Role != "admin" {
		t.Fatalf("status=deactivated: %+v", off)
	}
	// Again: nothing changes, same answer.
	if r := call(t, "POST", "/v1/teams/"+team+"/members/"+ann+"/deactivate", owner, nil); r.Status != 200 {
		t.Fatalf("deactivate again: %d %s", r.Status, r.Body)
	}

	// Ann can neither sign in, report calls nor open the portal.
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/v1/me/sign-ins", map[string]string{}},
		{"POST", "/v1/me/calls", map[string]any{"startedAt": started, "durationSeconds": 60}},
		{"GET", "/v1/teams/" + team + "/summary", nil},
	} {
		if code := call(t, c.method, c.path, annApp, c.body).Problem(t, 403); code != "member_deactivated" {
			t.Fatalf("%s %s by a deactivated member: %s", c.method, c.path, code)
		}
	}
	var me struct {
		Teams []struct{ TeamID, Status string }
	}
	call(t, "GET", "/v1/me", annApp, nil).JSON(t, &me)
	if len(me.Teams) != 1 || me.Teams[0].Status != "deactivated" {
		t.Fatalf("me: %+v", me)
	}
	// Her usage is still there for the report.
	rep := call(t, "POST", "/v1/teams/"+team+"/usage-report", owner, map[string]any{"memberIds": []string{ann}})
	if rows := reportRows(t, rep.Body); rep.Status != 200 || len(rows) != 2 || rows[1][2] != "Deactivated" || rows[1][5] != "1" {
		t.Fatalf("usage report of a deactivated member: %d %q", rep.Status, rows)
	}

	// The freed seat is taken; reactivating then waits for a seat.
	invite(t, team, owner, "cy@off.example")
	if code := call(t, "POST", "/v1/teams/"+team+"/members/"+ann+"/reactivate", owner, nil).Problem(t, 409); code != "seat_limit_reached" {
		t.Fatalf("reactivate without a seat: %s", code)
	}
	// Bob's invitation is voided by deactivation: his link no longer works.
	link := tokenFrom(t, waitForMail(t, "bob@off.example", 1)[0])
	call(t, "POST", "/v1/teams/"+team+"/members/"+bob+"/deactivate", owner, nil)
	if code := call(t, "POST", "/v1/invitations/accept", "", map[string]string{"token": link}).Problem(t, 400); code != "invalid_token" {
		t.Fatalf("a deactivated invitee's link: %s", code)
	}
	r = call(t, "POST", "/v1/teams/"+team+"/members/"+ann+"/reactivate", owner, nil)
	r.JSON(t, &info)
	if r.Status != 200 || info.Status != "active" || info.LastCall != "recently" || info.DeactivatedAt != nil {
		t.Fatalf("reactivate: %d %s", r.Status, r.Body)
	}
	if r := call(t, "POST", "/v1/me/sign-ins", annApp, map[string]string{}); r.Status != 200 {
		t.Fatalf("sign-in after reactivation: %d %s", r.Status, r.Body)
	}
	// Bob never joined: he comes back as an expired invitation, to resend.
	if code := call(t, "POST", "/v1/teams/"+team+"/members/"+bob+"/reactivate", owner, nil).Problem(t, 409); code != "seat_limit_reached" {
		t.Fatalf("bob without a seat: %s", code)
	}
	if err := provisionSeatsOK(team, 4); err != nil {
		t.Fatal(err)
	}
	r = call(t, "POST", "/v1/teams/"+team+"/members/"+bob+"/reactivate", owner, nil)
	r.JSON(t, &info)
	if r.Status != 200 || info.Status != "invitation_sent" || !info.InvitationExpired {
		t.Fatalf("reactivate an invitee: %d %s", r.Status, r.Body)
	}
	time.Sleep(time.Second) // the suite's cooldown since his first invitation
	if r := call(t, "POST", "/v1/teams/"+team+"/members/"+bob+"/resend-invite", owner, nil); r.Status != 202 {
		t.Fatalf("resend after reactivation: %d %s", r.Status, r.Body)
	}

	// Who may not be deactivated.
	ownerID := mustOwnerID(t, team)
	if code := call(t, "POST", "/v1/teams/"+team+"/members/"+ownerID+"/deactivate", owner, nil).Problem(t, 403); code != "owner_protected" {
		t.Fatalf("the owner: %s", code)
	}
	annAdmin := token(t, "ann@off.example", local.TokenOptions{})
	if code := call(t, "POST", "/v1/teams/"+team+"/members/"+ann+"/deactivate", annAdmin, nil).Problem(t, 403); code != "cannot_change_self" {
		t.Fatalf("oneself: %s", code)
	}
	if code := call(t, "POST", "/v1/teams/"+team+"/members/m_nobody/deactivate", owner, nil).Problem(t, 404); code != "member_not_found" {
		t.Fatalf("nobody: %s", code)
	}
	if code := call(t, "POST", "/v1/teams/"+team+"/members/"+bob+"/deactivate", owner, map[string]any{"why": "x"}).Problem(t, 400); code != "invalid_json" {
		t.Fatalf("a body: %s", code)
	}

	// Everything is in the audit log, by whom.
	entries := auditLog(t, team, owner, url.Values{"target": {ann}})
	n := countActions(entries)
	if n["deactivate"] != 1 || n["reactivate"] != 1 {
		t.Fatalf("ann's history: %v", n)
	}
	for _, e := range entries {
		if (e.Action == "deactivate" || e.Action == "reactivate") && (e.Actor.Kind != "admin" || e.Actor.Email != "owner@off.example") {
			t.Fatalf("entry %+v", e)
		}
	}
	assertCountersMatchRecount(t, team, owner)
}

func TestBulkDeactivateAndReactivate(t *testing.T) {
	team := newTeam(t, "pro", 5, "owner@bulkoff.example")
	owner := token(t, "owner@bulkoff.example", local.TokenOptions{})
	res := invite(t, team, owner, "a@bulkoff.example", "b@bulkoff.example", "c@bulkoff.example")
	ids := []string{res.Results[0].MemberID, res.Results[1].MemberID, res.Results[2].MemberID, mustOwnerID(t, team)}
	bulk := func(action string, ids []string) map[string]string {
		t.Helper()
		var out struct {
			Results []struct{ MemberID, Result, Code string }
		}
		r := call(t, "POST", "/v1/teams/"+team+"/members/bulk", owner, map[string]any{"action": action, "memberIds": ids})
		if r.Status != 200 {
			t.Fatalf("bulk %s: %d %s", action, r.Status, r.Body)
		}
		r.JSON(t, &out)
		got := map[string]string{}
		for _, x := range out.Results {
			got[x.MemberID] = x.Result + ":" + x.Code
		}
		return got
	}
	got := bulk("deactivate", ids)
	if got[ids[0]] != "done:" || got[ids[1]] != "done:" || got[ids[2]] != "done:" || got[ids[3]] != "skipped:owner_protected" {
		t.Fatalf("bulk deactivate: %v", got)
	}
	if s := summary(t, team, owner); s.Seats.Assigned != 1 || s.PendingInvitations != 0 {
		t.Fatalf("after bulk deactivate: %+v", s)
	}
	got = bulk("deactivate", ids[:1])
	if got[ids[0]] != "skipped:unchanged" {
		t.Fatalf("deactivated twice: %v", got)
	}
	// Four seats free for three: then one seat short for the last.
	if err := provisionSeatsOK(team, 3); err != nil {
		t.Fatal(err)
	}
	got = bulk("reactivate", ids)
	done, short := 0, 0
	for _, id := range ids[:3] {
		switch got[id] {
		case "done:":
			done++
		case "skipped:seat_limit_reached":
			short++
		}
	}
	if done != 2 || short != 1 || got[ids[3]] != "skipped:unchanged" {
		t.Fatalf("bulk reactivate into 2 free seats: %v", got)
	}
	if s := summary(t, team, owner); s.Seats.Assigned != 3 || s.Seats.Unassigned != 0 {
		t.Fatalf("after bulk reactivate: %+v", s)
	}
	assertCountersMatchRecount(t, team, owner)
}

func TestTheNightlyJobLeavesDeactivatedMembersAloneButArchivesTheirSignIns(t *testing.T) {
	f := newNightlyFixture(t, "nightly-off")
	ctx := context.Background()
	// Members active 10 and 120 days ago are deactivated the day before:
	// nothing of them changes at night, but their old sign-ins leave the
	// main table as everyone's do (by TTL: the archive function reads the
	// main stack's stream, TestExpiredSignInsAreArchivedFromTheStream).
	before := nightAt.Add(-day)
	versions := map[int]int{}
	for _, age := range []int{10, 120} {
		m, _, err := f.store.WithClock(func() time.Time { return before }).UpdateMember(ctx, f.team, f.byAge[age], users.Deactivate(users.Membership{}, before, nil))
		if err != nil {
			t.Fatal(err)
		}
		versions[age] = m.Version
	}
	settleIndexes()
	res, err := f.job(nil).Run(ctx)
	if err != nil || !res.Done || res.Failed != 0 {
		t.Fatalf("run: %+v %v", res, err)
	}
	for age, left := range map[int]int{10: 1, 120: 0} {
		m, err := f.store.GetMember(ctx, f.team, f.byAge[age])
		if err != nil || m.Status != users.StatusDeactivated || m.LastCall != users.LastCallNotActive || m.Version != versions[age] {
			t.Fatalf("%d days, deactivated: %s/%s version %d (was %d) %v", age, m.Status, m.LastCall, m.Version, versions[age], err)
		}
		main, _, err := f.store.WithClock(func() time.Time { return nightAt }).SignIns(ctx, f.team, m.ID)
		if err != nil || len(main) != left {
			t.Fatalf("%d days: %d sign-ins in the main table, want %d (%v)", age, len(main), left, err)
		}
	}
	// Only the 4-day and 40-day members moved, and the invitation expired.
	if res.MembersChanged != 3 || res.SignInsRetired != 0 {
		t.Fatalf("the night: %+v", res)
	}
	tm, _ := f.store.GetTeam(ctx, f.team)
	if tm.Counters != (users.Counters{Assigned: 6, PendingInvitations: 2, NeverUsedApp: 3}) {
		t.Errorf("counters %+v", tm.Counters)
	}
}

func provisionSeatsOK(team string, seats int) error {
	_, err := provisionSeats(team, seats)
	return err
}
