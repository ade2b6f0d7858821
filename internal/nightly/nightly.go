// Package nightly is the scheduled job that keeps the Users page true as
// time passes: last-call buckets step down, invitations past their expiry
// are flagged, members inactive longer than the retention period become
// "signed in with app", and sign-ins older than it move to the archive
// table. It reads only what changes: the ByDue work queue up to the run's
// instant, shard by shard, in bounded pages. Every write is conditional on
// what it read, so two runs at once, or a run repeated after a crash, end
// in the state one clean run would.
package nightly

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/parallel"
)

// Store is what the job needs of the table, as of the run's instant.
type Store interface {
	DueItems(ctx context.Context, shard int, start map[string]types.AttributeValue, limit int32) ([]dynamo.DueItem, map[string]types.AttributeValue, error)
	AgeMember(ctx context.Context, teamID, memberID string) (bool, error)
	ArchiveSignIn(ctx context.Context, d dynamo.DueItem) error
}

// Result says what a run did.
type Result struct {
	MembersChanged  int64 `json:"membersChanged"`
	SignInsArchived int64 `json:"signInsArchived"`
	Done            bool  `json:"done"` // false: the run stopped for its deadline and must be continued
}

// Job runs the nightly work.
type Job struct {
	Store    Store
	PageSize int32         // items read per query
	Workers  int           // items handled at once
	Reserve  time.Duration // stop when this little time is left before the context's deadline
}

// Run works through every shard's due items.
func (j Job) Run(ctx context.Context) (Result, error) {
	var res Result
	var changed, archived atomic.Int64
	for shard := 0; shard < dynamo.DueShards; shard++ {
		var start map[string]types.AttributeValue
		for {
			if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < j.Reserve {
				res.MembersChanged, res.SignInsArchived = changed.Load(), archived.Load()
				return res, nil // the queue itself is the checkpoint
			}
			items, next, err := j.Store.DueItems(ctx, shard, start, j.PageSize)
			if err != nil {
				return res, err
			}
			if err := j.handle(ctx, items, &changed, &archived); err != nil {
				return res, err
			}
			if start = next; start == nil {
				break
			}
		}
	}
	res.MembersChanged, res.SignInsArchived, res.Done = changed.Load(), archived.Load(), true
	return res, nil
}

func (j Job) handle(ctx context.Context, items []dynamo.DueItem, changed, archived *atomic.Int64) error {
	var mu sync.Mutex
	var first error
	parallel.Each(len(items), j.Workers, func(i int) {
		it := items[i]
		var err error
		switch it.Type {
		case "member":
			var did bool
			if did, err = j.Store.AgeMember(ctx, it.TeamID, it.MemberID); did {
				changed.Add(1)
			}
		case "signin":
			if err = j.Store.ArchiveSignIn(ctx, it); err == nil {
				archived.Add(1)
			}
		}
		if err != nil {
			mu.Lock()
			if first == nil {
				first = err
			}
			mu.Unlock()
		}
	})
	return first
}
