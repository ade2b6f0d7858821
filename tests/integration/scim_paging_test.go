package integration

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/teamusers/usersapi/bench/benchkit"
	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/users"
)

// An identity provider importing a team page by page (startIndex) reads
// each page's own members, not every member before it: a page leaves a
// mark where the next begins. The pages are those of the team's ByDomain
// order, with nothing missed or repeated, and a mark is not used once the
// team has gained or lost a member or it is over ten minutes old (the
// page then reads from the team's first member, as it would without).
func TestSCIMPagesStartWhereThePreviousEnded(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC()
	const size, count = 450, 100
	team := newTeam(t, "pro", size+10, "owner@scimpages.example")
	if err := stack.Store.WithClock(func() time.Time { return now }).ImportMembers(ctx, team, benchkit.Members(team, size-1, now)); err != nil {
		t.Fatal(err)
	}
	clock := now
	store := dynamo.New(local.NewDynamoDB(stack.Services.DynamoDBEndpoint), local.TableName).WithClock(func() time.Time { return clock })
	teamOf := func() users.Team {
		tm, err := store.GetTeam(ctx, team)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	page := func(tm users.Team, startIndex int) ([]string, int64) {
		t.Helper()
		before := store.ItemsRead()
		ms, err := store.MembersByDomain(ctx, tm, startIndex-1, count)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]string, len(ms))
		for i, m := range ms {
			ids[i] = m.ID
		}
		return ids, store.ItemsRead() - before
	}
	// The whole team in one read: the order every page must follow.
	all, err := store.MembersByDomain(ctx, teamOf(), 0, size+10)
	if err != nil || len(all) != size {
		t.Fatalf("%d members, %v", len(all), err)
	}
	var want []string
	for _, m := range all {
		want = append(want, m.ID)
	}

	tm := teamOf()
	var got []string
	for start := 1; start <= size; start += count {
		ids, read := page(tm, start)
		got = append(got, ids...)
		// Its own members, one more to know there is a next page, and the
		// mark: never the members before it.
		if limit := int64(count + 2); read > limit {
			t.Errorf("startIndex %d read %d items (at most %d)", start, read, limit)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("the pages hold %d members, not the team's %d in order", len(got), len(want))
	}

	// A member more: the marks were written for a team of another size, so
	// a page reads from the first member and is the page by offset.
	extra := users.Member{ID: users.NewID("m"), TeamID: team, Email: "aaa@aaa.example", Role: users.RoleUser, Status: users.StatusPendingAppLogin,
		InvitedAt: now, AcceptedAt: now}
	if err := store.AddMember(ctx, extra); err != nil {
		t.Fatal(err)
	}
	grown := teamOf()
	ids, read := page(grown, 201)
	if read < 300 {
		t.Errorf("a mark of a team of another size was used: %d items read", read)
	}
	whole, _ := store.MembersByDomain(ctx, grown, 0, size+10)
	if len(ids) != count || ids[0] != whole[200].ID {
		t.Errorf("the page at 201 after a member was added is not the 201st member on")
	}

	// A mark over ten minutes old is not used either.
	page(grown, 301) // marks 401, now
	clock = now.Add(11 * time.Minute)
	if _, read := page(grown, 401); read < 400 {
		t.Errorf("a mark eleven minutes old was used: %d items read", read)
	}
	clock = now
	if _, read := page(grown, 401); read > count+2 {
		t.Errorf("a fresh mark was not used: %d items read", read)
	}
}
