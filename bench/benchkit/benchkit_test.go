package benchkit

import (
	"context"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/local"
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
