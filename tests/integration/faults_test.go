package integration

import (
	"fmt"
	"sync"
	"testing"

	"github.com/teamusers/usersapi/internal/local"
)

// What must hold whatever AWS does (issue #8): 50 concurrent invitations
// of distinct addresses into a team with 4 free seats invite exactly 4;
// the summary equals a recount; every invited address gets exactly one
// invitation email and no one else gets any; no answer is a 5xx other
// than 503 with Retry-After (sendTo checks every answer in fault mode).
// make test runs it on a kind stack and again on a hostile one.
func TestInvitationsHoldUnderContentionAndFaults(t *testing.T) {
	team := newTeam(t, "pro", 5, "owner@hostile.example")
	owner := token(t, "owner@hostile.example", local.TokenOptions{})
	results := make([]string, 50)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var res inviteResults
			r := call(t, "POST", "/v1/teams/"+team+"/invitations", owner, map[string]any{"emails": []string{fmt.Sprintf("h%02d@hostile.example", i)}})
			if r.Status != 200 {
				t.Errorf("invite %d: %d %s", i, r.Status, r.Body)
				return
			}
			r.JSON(t, &res)
			results[i] = res.Results[0].Result
		}()
	}
	wg.Wait()
	var invited []string
	for i, r := range results {
		switch r {
		case "invited":
			invited = append(invited, fmt.Sprintf("h%02d@hostile.example", i))
		case "seat_limit_reached":
		default:
			t.Fatalf("address %d: %q", i, r)
		}
	}
	if len(invited) != 4 {
		t.Fatalf("%d invited into 4 free seats", len(invited))
	}
	for _, addr := range invited {
		waitForMail(t, addr, 1)
	}
	settle(t)
	for i := range results {
		addr := fmt.Sprintf("h%02d@hostile.example", i)
		want := 0
		if results[i] == "invited" {
			want = 1
		}
		if n := len(mailTo(t, addr)); n != want {
			t.Errorf("%s: %d invitation emails, want %d", addr, n, want)
		}
	}
	assertCountersMatchRecount(t, team, owner)
	// One audit entry per invitation made, none for those refused.
	if n := countActions(auditLog(t, team, owner, nil))["invite"]; n != 4 {
		t.Errorf("%d invitation entries in the audit log, want 4", n)
	}
}
