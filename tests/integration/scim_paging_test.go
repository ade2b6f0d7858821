package integration

import (
	"context"
	"errors"
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
// mark where the next begins, and a page starts from the nearest mark at
// or before it. The pages are the team's ByDomain order with nothing
// missed or repeated; a member added between two pages shifts nothing
// already read; a mark past its hour is not used; and a page too far
// from any mark is refused without reading the team.
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
	page := func(startIndex, maxSkip int) ([]string, int64, error) {
		t.Helper()
		before := store.ItemsRead()
		ms, err := store.MembersByDomain(ctx, team, startIndex-1, count, maxSkip)
		ids := make([]string, len(ms))
		for i, m := range ms {
			ids[i] = m.ID
		}
		return ids, store.ItemsRead() - before, err
	}
	// The whole team in one read: the order the pages follow.
	all, err := store.MembersByDomain(ctx, team, 0, size+10, 0)
	if err != nil || len(all) != size {
		t.Fatalf("%d members, %v", len(all), err)
	}
	var want []string
	for _, m := range all {
		want = append(want, m.ID)
	}

	var got []string
	for start := 1; start <= size; start += count {
		ids, read, err := page(start, 0)
		if err != nil {
			t.Fatalf("startIndex %d: %v", start, err)
		}
		got = append(got, ids...)
		// Its own members, twice (their rows in the index, then their
		// items: the index projects what a list row shows, not the
		// identity provider's data), and the mark it starts from: never the
		// members before it (maxSkip 0 would refuse a page that had to).
		if limit := int64(2*count + 1); read > limit {
			t.Errorf("startIndex %d read %d items (at most %d)", start, read, limit)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("the pages hold %d members, not the team's %d in order", len(got), len(want))
	}

	// A page the provider jumps to starts from the nearest mark before it
	// (201, then 50 members on), not from the first member.
	ids, read, err := page(251, 50)
	if err != nil || len(ids) != count || ids[0] != want[250] || read > 50+2*count+1 {
		t.Errorf("startIndex 251: %d members from %v, %d items read, %v", len(ids), ids[:1], read, err)
	}

	// A member added before the marks: the next page of the import goes on
	// from where the last one ended (the new member is missed by this
	// pass, as RFC 7644 §3.4.2.4 allows; offsets would have shown another
	// member twice instead).
	extra := users.Member{ID: users.NewID("m"), TeamID: team, Email: "aaa@aaa.example", Role: users.RoleUser, Status: users.StatusPendingAppLogin,
		InvitedAt: now, AcceptedAt: now}
	if err := store.AddMember(ctx, extra); err != nil {
		t.Fatal(err)
	}
	if ids, _, err := page(301, 0); err != nil || len(ids) != count || ids[0] != want[300] {
		t.Errorf("startIndex 301 after a member was added: %v, %v", ids[:min(1, len(ids))], err)
	}

	// Past its hour a mark is not used: the page reads from the first
	// member, or is refused if that is further than the caller allows.
	clock = now.Add(61 * time.Minute)
	if _, read, err := page(401, 1000); err != nil || read < 400 {
		t.Errorf("a mark over an hour old was used: %d items read, %v", read, err)
	}
	if _, read, err := page(201, 150); !errors.Is(err, users.ErrPageTooFar) || read > 10 {
		t.Errorf("a page 200 members from any mark, 150 allowed: %v after %d items", err, read)
	}
}
