package integration

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/users"
)

// The largest invitation allowed: 500 addresses, a few already in the
// team, more than the seats. The first addresses get the seats, in order;
// the members are written 19 to a transaction.
func TestFiveHundredInvitationsInOneRequest(t *testing.T) {
	team := newTeam(t, "pro", 301, "owner@many.example") // 300 free
	owner := token(t, "owner@many.example", local.TokenOptions{})
	invite(t, team, owner, "m010@many.example", "m400@many.example")
	emails := make([]string, 500)
	for i := range emails {
		emails[i] = fmt.Sprintf("m%03d@many.example", i)
	}
	var res inviteResults
	r := call(t, "POST", "/v1/teams/"+team+"/invitations", owner, map[string]any{"emails": emails})
	r.JSON(t, &res)
	if r.Status != 200 || len(res.Results) != 500 {
		t.Fatalf("%d, %d results", r.Status, len(res.Results))
	}
	invited := 0
	for i, x := range res.Results {
		want := "invited"
		switch {
		case i == 10 || i == 400:
			want = "already_member"
		case i > 298: // 298 free seats after the two invited first, taken in order
			want = "seat_limit_reached"
		}
		if x.Result != want {
			t.Fatalf("address %d: %s, want %s", i, x.Result, want)
		}
		if x.Result == "invited" {
			invited++
		}
	}
	if s := summary(t, team, owner); s.Seats.Assigned != 301 || s.PendingInvitations != 300 || invited != 298 {
		t.Fatalf("summary %+v after %d invited", s, invited)
	}
	assertCountersMatchRecount(t, team, owner)
}

// The API Gateway adapter splits a header at its commas: a key with a comma
// would be read in part, so it is refused.
func TestIdempotencyKeysWithCommasAreRefused(t *testing.T) {
	team := newTeam(t, "pro", 10, "owner@comma.example")
	owner := token(t, "owner@comma.example", local.TokenOptions{})
	body, _ := jsonBytes(map[string]any{"emails": []string{"x@comma.example"}})
	for _, key := range []string{"k,first", ",k", "k k", strings.Repeat("k", 129)} {
		r := send(t, "POST", "/v1/teams/"+team+"/invitations", owner, map[string]string{"Content-Type": "application/json", "Idempotency-Key": key}, body)
		if c := r.Problem(t, 400); c != "invalid_idempotency_key" {
			t.Fatalf("key %q: %s", key, c)
		}
	}
	if s := summary(t, team, owner); s.Seats.Assigned != 1 {
		t.Fatalf("a refused key invited someone: %+v", s)
	}
}

// An answer larger than a DynamoDB item (a 10,000-row selection answers
// about 600 KB) is kept compressed and replayed whole.
func TestALargeAnswerIsReplayedWhole(t *testing.T) {
	team := newTeam(t, "pro", 10, "owner@bigidem.example")
	owner := token(t, "owner@bigidem.example", local.TokenOptions{})
	var file bytes.Buffer
	file.WriteString("email\n")
	for i := 0; i < 10_000; i++ {
		fmt.Fprintf(&file, "someone.with.a.long.name%05d@a-rather-long-domain-name.example\n", i)
	}
	do := func() response {
		return send(t, "POST", "/v1/teams/"+team+"/members/csv-selection", owner, map[string]string{"Content-Type": "text/csv", "Idempotency-Key": "big-1"}, file.Bytes())
	}
	first, second := do(), do()
	if first.Status != 200 || len(first.Body) < 400<<10 {
		t.Fatalf("first: %d, %d bytes", first.Status, len(first.Body))
	}
	if second.Status != 200 || !bytes.Equal(first.Body, second.Body) || second.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d, %d bytes, replayed %q", second.Status, len(second.Body), second.Header.Get("Idempotent-Replayed"))
	}
}

// Deliverers in separate invocations share one send rate: the slots of a
// second are counted in the table, not in each process.
func TestSendSlotsAreSharedAcrossDeliverers(t *testing.T) {
	const rate, takers, each = 4, 3, 4
	var mu sync.Mutex
	perSecond := map[int64]int{}
	var wg sync.WaitGroup
	name := users.NewID("slots")
	for i := 0; i < takers; i++ {
		slots := stack.Store.SendSlots(name, rate) // one limiter each, as in separate Lambdas
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < each; j++ {
				sec, err := slots.Take(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				perSecond[sec]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	total := 0
	for sec, n := range perSecond {
		if n > rate {
			t.Errorf("second %d had %d sends, over the rate %d", sec, n, rate)
		}
		total += n
	}
	if total != takers*each || len(perSecond) < takers*each/rate {
		t.Fatalf("%d slots over %d seconds", total, len(perSecond))
	}
}
