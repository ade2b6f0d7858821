package integration

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/users"
)

// The local DynamoDB must keep the guarantees the invariants rest on:
// transactions are all-or-nothing and never interleave.
func TestSeatsAreNeverOversoldUnderConcurrency(t *testing.T) {
	team := newTeam(t, "pro", 6, "owner@race.example") // the owner holds one: 5 free
	now := time.Now()
	var wg sync.WaitGroup
	results := make([]error, 50)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = stack.Store.AddMember(context.Background(), users.Member{ID: users.NewID("m"), TeamID: team,
				Email: fmt.Sprintf("racer%02d@race.example", i), Role: users.RoleUser, Status: users.StatusInvitationSent,
				InvitedAt: now, InvitationExpiresAt: now.Add(time.Hour)})
		}()
	}
	wg.Wait()
	ok, full := 0, 0
	for _, err := range results {
		switch e, _ := users.AsError(err); {
		case err == nil:
			ok++
		case e != nil && e.Code == "seat_limit_reached":
			full++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 5 || full != 45 {
		t.Fatalf("%d invited, %d refused; want 5 and 45", ok, full)
	}
	tm, err := stack.Store.GetTeam(context.Background(), team)
	if err != nil {
		t.Fatal(err)
	}
	if tm.Counters != (users.Counters{Assigned: 6, PendingInvitations: 5, NeverUsedApp: 6}) {
		t.Fatalf("counters %+v after the race", tm.Counters)
	}
}

func TestOneMemberPerEmailAndNothingHalfWritten(t *testing.T) {
	team := newTeam(t, "pro", 50, "owner@dupe.example")
	now := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 20)
	ids := make([]string, 20)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i] = users.NewID("m")
			errs[i] = stack.Store.AddMember(context.Background(), users.Member{ID: ids[i], TeamID: team,
				Email: "same@dupe.example", Role: users.RoleUser, Status: users.StatusPendingAppLogin, InvitedAt: now, AcceptedAt: now})
		}()
	}
	wg.Wait()
	winners := 0
	for i, err := range errs {
		if err == nil {
			winners++
			continue
		}
		if e, _ := users.AsError(err); e == nil || e.Code != "already_member" {
			t.Fatalf("unexpected error: %v", err)
		}
		// The loser's member item was not written either.
		if _, err := stack.Store.GetMember(context.Background(), team, ids[i]); err != users.ErrMemberNotFound {
			t.Fatalf("a cancelled transaction left member %s behind (%v)", ids[i], err)
		}
	}
	tm, _ := stack.Store.GetTeam(context.Background(), team)
	if winners != 1 || tm.Counters.Assigned != 2 {
		t.Fatalf("%d winners, %d assigned; want 1 and 2", winners, tm.Counters.Assigned)
	}
}
