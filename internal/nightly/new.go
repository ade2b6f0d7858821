package nightly

import (
	"time"

	"github.com/teamusers/usersapi/internal/dynamo"
)

// New is the nightly job as of at over the DynamoDB store, as
// NightlyFunction, `make nightly` and the tests run it: pages of 100 items,
// eight at a time, handing on with 30 s left.
func New(store *dynamo.Store, retention time.Duration, at time.Time) Job {
	return Job{Store: store.WithRetention(retention).WithClock(func() time.Time { return at }), Shards: dynamo.DueShards,
		PageSize: 100, Workers: 8, Reserve: 30 * time.Second}
}
