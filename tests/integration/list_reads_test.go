package integration

import (
	"context"
	"maps"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/teamusers/usersapi/bench/benchkit"
	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/users"
)

// The member list reads what the team's facet counts say it needs: a page
// of a few thousand members reads close to the rows it shows, partitions
// the counts call empty are not read, and counts that are off never make
// a page wrong. Items read are DynamoDB's own counts (ScannedCount), on a
// store of the test's own; the seed is fixed, so the figures are too.
func TestMemberListReadsFollowTheFacetCounts(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	team := newTeam(t, "pro", 2000, "owner@acme.example")
	ms := benchkit.Members(team, 1999, now)
	if err := stack.Store.WithClock(func() time.Time { return now }).ImportMembers(ctx, team, ms); err != nil {
		t.Fatal(err)
	}
	owner, err := stack.Store.GetMember(ctx, team, mustOwnerID(t, team))
	if err != nil {
		t.Fatal(err)
	}
	ms = append(ms, owner)
	store := dynamo.New(local.NewDynamoDB(stack.Services.DynamoDBEndpoint), local.TableName)
	tm, _, err := store.Access(ctx, team, "owner@acme.example")
	if err != nil {
		t.Fatal(err)
	}

	page := func(tm users.Team, raw, after string) ([]string, string, int64) {
		t.Helper()
		params, _ := url.ParseQuery(raw)
		q, err := users.ParseListQuery(params)
		if err != nil {
			t.Fatal(err)
		}
		before := store.ItemsRead()
		got, next, err := store.ListMembers(ctx, tm, q, after)
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		ids := make([]string, len(got))
		for i, m := range got {
			ids[i] = m.ID
		}
		return ids, next, store.ItemsRead() - before
	}
	want := func(raw string) []string {
		params, _ := url.ParseQuery(raw)
		q, _ := users.ParseListQuery(params)
		return oracle(ms, q)
	}

	// Every shape, first and second page, is exact, and the first pages
	// read at most 1.5 times the floor (the rows shown and the two items of
	// authorization, which Access reads: 1.5 × 27 − 2 = 38 for 25 rows).
	// The seed is fixed, so these figures are too; the list before the
	// counts read 54 items for the unfiltered page (at 50,000 members).
	for _, c := range []struct {
		raw     string
		maxRead int64
	}{
		{"", 38},
		{"status=invitation_sent", 38},
		{"status=signed_in_with_app&sort=invitedAt", 38},
		{"lastCall=recently&role=admin&sort=lastActive&order=desc", 38},
		{"role=admin", 38},
		{"status=active&order=desc", 38},
		{"sort=lastActive&order=desc&limit=100", 151},
		{"status=pending_app_login&status=active&limit=7", 12},
		// Deactivated members: listed only when asked for; their bucket
		// ("not active") says nothing of their last activity.
		{"status=deactivated", 38},
		{"status=deactivated&sort=lastActive&order=desc", 38},
		{"status=active&status=deactivated&sort=lastActive&order=desc", 38},
	} {
		all := want(c.raw)
		ids, next, read := page(tm, c.raw, "")
		q, _ := users.ParseListQuery(mustQuery(c.raw))
		if !slices.Equal(ids, all[:min(q.Limit, len(all))]) {
			t.Errorf("%q: first page differs from the oracle", c.raw)
		}
		if c.maxRead > 0 && read > c.maxRead {
			t.Errorf("%q: read %d items for a page of %d (at most %d)", c.raw, read, len(ids), c.maxRead)
		}
		t.Logf("%q: %d rows, %d items read", c.raw, len(ids), read)
		if next == "" {
			continue
		}
		ids2, _, _ := page(tm, c.raw, next)
		if !slices.Equal(ids2, all[len(ids):min(len(ids)+q.Limit, len(all))]) {
			t.Errorf("%q: second page differs from the oracle", c.raw)
		}
	}

	// Counts that are off (a partition ten times larger, another ten times
	// smaller than it is) change what is read first, never the page.
	skewed := tm
	skewed.Facets = maps.Clone(tm.Facets)
	for f := range skewed.Facets {
		if f.Status == users.StatusActive && f.Role == users.RoleUser {
			skewed.Facets[f] *= 10
		} else {
			skewed.Facets[f] = max(1, skewed.Facets[f]/10)
		}
	}
	for _, raw := range []string{"", "status=active", "order=desc&limit=50"} {
		ids, _, _ := page(skewed, raw, "")
		all := want(raw)
		q, _ := users.ParseListQuery(mustQuery(raw))
		if !slices.Equal(ids, all[:min(q.Limit, len(all))]) {
			t.Errorf("skewed counts, %q: the page differs from the oracle", raw)
		}
	}

	// A partition the counts call empty is not read: here the only one the
	// query selects, so the page reads nothing.
	emptied := tm
	emptied.Facets = maps.Clone(tm.Facets)
	f := users.Facet{Status: users.StatusInvitationSent, LastCall: users.LastCallPending, Role: users.RoleAdmin}
	if emptied.Facets[f] == 0 {
		t.Fatal("the seed has no invited admins")
	}
	emptied.Facets[f] = 0
	if ids, _, read := page(emptied, "status=invitation_sent&role=admin", ""); len(ids) != 0 || read != 0 {
		t.Errorf("a partition counted empty: %d rows, %d items read", len(ids), read)
	}

	// Without counts (a caller that has only the team's id) every
	// selected partition is read, and the page is the same.
	ids, _, _ := page(users.Team{ID: team}, "role=admin", "")
	if !slices.Equal(ids, want("role=admin")[:25]) {
		t.Error("without counts, the page differs from the oracle")
	}
}

func mustQuery(raw string) url.Values {
	v, _ := url.ParseQuery(raw)
	return v
}
