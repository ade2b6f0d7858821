package benchkit

import (
	"context"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/users"
)

// The benchmarks run rarely; their setup is checked with every make test.
func TestStartGivesAStackWithATeam(t *testing.T) {
	created := time.Now().Add(-time.Hour)
	stack, teamID, stop, err := Start(local.StackOptions{}, 7, created)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	team, err := stack.Store.GetTeam(context.Background(), teamID)
	if err != nil || team.Seats != 7 || team.Counters.Assigned != 1 || team.OwnerEmail != Owner || !team.CreatedAt.Equal(created.UTC().Truncate(time.Millisecond)) {
		t.Fatalf("team %+v, %v", team, err)
	}
}

// The seed of the cost benchmarks: every status, bucket and role (16
// combinations: deactivated members too), and exactly 1% of the members
// due to change within the day after its instant.
func TestMembersSpreadAndOnePercentChangeTonight(t *testing.T) {
	at := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	ms := Members("t_1", 10_000, at)
	facets := map[users.Facet]int{}
	due := 0
	emails := map[string]bool{}
	for _, m := range ms {
		facets[users.FacetOf(m)]++
		emails[m.Email] = true
		if next := users.NextChange(m, users.DefaultRetention, time.UTC); !next.IsZero() && !next.After(at.Add(24*time.Hour)) {
			due++
			if !next.After(at) {
				t.Fatalf("%s is due before the seed's instant", m.Email)
			}
		}
	}
	if due != 100 {
		t.Fatalf("%d of 10,000 due tonight, want 100", due)
	}
	if len(facets) != 16 || len(emails) != len(ms) {
		t.Fatalf("%d facets, %d distinct emails of %d", len(facets), len(emails), len(ms))
	}
	again := Members("t_1", 10_000, at)
	for i := range ms {
		if ms[i].Email != again[i].Email || ms[i].Status != again[i].Status || !ms[i].LastActiveAt.Equal(again[i].LastActiveAt) {
			t.Fatal("the seed is not the same for the same size")
		}
	}
}
