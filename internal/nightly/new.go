package nightly

import (
	"time"

	"github.com/teamusers/usersapi/internal/dynamo"
)

// New is the nightly job as of at over the DynamoDB store, as
// NightlyFunction, `make nightly` and the tests run it: pages of 100 items,
// eight at a time, handing on with 30 s left. It reads every shard the
// store writes the work queue over (dynamo.Store.WithDueShards).
func New(store *dynamo.Store, retention time.Duration, at time.Time) Job {
	return Job{Store: store.WithRetention(retention).WithClock(func() time.Time { return at }), Shards: store.DueShards(),
		PageSize: 100, Workers: 8, Reserve: 30 * time.Second}
}

// WithShardsBefore makes the run read the shards of a larger count used
// before too (DUE_SHARDS_BEFORE; 0 for none): after the count is lowered,
// entries written under the old one stay in their shards until they come
// due.
func (j Job) WithShardsBefore(n int) Job {
	j.Shards = max(j.Shards, n)
	return j
}
