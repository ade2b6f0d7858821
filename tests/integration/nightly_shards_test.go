package integration

import (
	"context"
	"testing"

	"github.com/teamusers/usersapi/internal/nightly"
	"github.com/teamusers/usersapi/internal/users"
)

// The work queue's shard count is a parameter. Raising it needs nothing:
// the run reads every shard below the new count, the old ones among them.
func TestTheNightlyReadsAQueueWrittenOverFewerShards(t *testing.T) {
	f := newShardedNightlyFixture(t, "nightly-shards-up", 16)
	j := nightly.New(f.store.WithDueShards(64), users.DefaultRetention, nightAt)
	if j.Shards != 64 {
		t.Fatalf("reads %d shards", j.Shards)
	}
	if res, err := j.Run(context.Background()); err != nil || !res.Done || res.Failed != 0 {
		t.Fatalf("run: %+v %v", res, err)
	}
	f.check(t)
}

// Lowering it leaves entries in shards the new count does not read: the
// run reads the old count too (DueShardsBefore) until they have come due.
func TestTheNightlyReadsTheOldShardsAfterTheCountIsLowered(t *testing.T) {
	ctx := context.Background()
	f := newShardedNightlyFixture(t, "nightly-shards-down", 64)
	short := nightly.New(f.store.WithDueShards(4), users.DefaultRetention, nightAt)
	res, err := short.Run(ctx)
	if err != nil || res.MembersChanged >= 5 {
		t.Fatalf("reading 4 of 64 shards did everything (%+v, %v): the test proves nothing", res, err)
	}
	j := nightly.New(f.store.WithDueShards(4), users.DefaultRetention, nightAt).WithShardsBefore(64)
	if j.Shards != 64 {
		t.Fatalf("reads %d shards", j.Shards)
	}
	if res, err := j.Run(ctx); err != nil || !res.Done || res.Failed != 0 {
		t.Fatalf("run: %+v %v", res, err)
	}
	f.check(t)
}
