// Package nightly is the scheduled job that keeps the Users page true as
// time passes: last-call buckets step down, invitations past their expiry
// are flagged and members inactive longer than the retention period become
// "signed in with app". (Sign-ins older than it leave the table by
// DynamoDB's TTL, and the table's stream archives them: package archive.)
// It reads only what changes: the ByDue work queue up to the run's
// instant, shard by shard, in bounded pages. Every write is conditional on
// what it read, so two runs at once, or a run repeated after a crash, end
// in the state one clean run would.
package nightly

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/teamusers/usersapi/internal/parallel"
	"github.com/teamusers/usersapi/internal/users"
)

// Store is what the job needs of the table, as of the run's instant.
type Store interface {
	DueItems(ctx context.Context, shard int, after string, limit int32) ([]users.DueItem, string, error)
	AgeMember(ctx context.Context, teamID, memberID string) (bool, error)
	// RetireQueuedSignIn gives a sign-in queued before sign-ins expired
	// by TTL its TTL, and takes it out of the queue.
	RetireQueuedSignIn(ctx context.Context, in users.SignIn) error
}

// Result says what a run did.
type Result struct {
	MembersChanged int64 `json:"membersChanged"`
	// SignInsRetired counts sign-ins written before they expired by TTL
	// (then the job archived them from its queue): given their TTL now.
	SignInsRetired int64 `json:"signInsRetired"`
	// Failed counts items that failed (logged each); they stay due, so the
	// next run tries them again, and they never stop the rest of a run.
	Failed int64 `json:"failed"`
	Done   bool  `json:"done"` // false: the run stopped for its deadline and must be continued
}

// Job runs the nightly work.
type Job struct {
	Store    Store
	Shards   int           // the ByDue shards to read
	PageSize int32         // items read per query
	Workers  int           // items handled at once
	Reserve  time.Duration // stop when this little time is left before the context's deadline
	Log      *slog.Logger
}

type counts struct{ changed, retired, failed atomic.Int64 }

func (c *counts) result(done bool) Result {
	return Result{MembersChanged: c.changed.Load(), SignInsRetired: c.retired.Load(), Failed: c.failed.Load(), Done: done}
}

// Run works through every shard's due items. A shard whose queue cannot be
// read is counted as failed and left for the next run; the others go on.
func (j Job) Run(ctx context.Context) (Result, error) {
	ctx = users.WithAudit(ctx, users.Actor{Kind: users.ActorSystem, Name: "nightly"}, users.AuditRequest{})
	var c counts
	for shard := 0; shard < j.Shards; shard++ {
		after := ""
		for {
			if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < j.Reserve {
				return c.result(false), nil // the queue itself is the checkpoint
			}
			items, next, err := j.Store.DueItems(ctx, shard, after, j.PageSize)
			if err != nil {
				if ctx.Err() != nil {
					return c.result(false), nil
				}
				j.log().ErrorContext(ctx, "nightly: cannot read a shard of the queue", "shard", shard, "error", err.Error())
				c.failed.Add(1)
				break
			}
			j.handle(ctx, items, &c)
			if after = next; after == "" {
				break
			}
		}
	}
	return c.result(true), nil
}

func (j Job) log() *slog.Logger {
	if j.Log == nil {
		return slog.Default()
	}
	return j.Log
}

func (j Job) handle(ctx context.Context, items []users.DueItem, c *counts) {
	parallel.Each(len(items), j.Workers, func(i int) {
		it := items[i]
		var err error
		switch it.Kind {
		case users.DueMember:
			var did bool
			if did, err = j.Store.AgeMember(ctx, it.TeamID, it.MemberID); did {
				c.changed.Add(1)
			}
		case users.DueSignIn:
			if err = j.Store.RetireQueuedSignIn(ctx, *it.SignIn); err == nil {
				c.retired.Add(1)
			}
		}
		if err != nil {
			c.failed.Add(1)
			j.log().ErrorContext(ctx, "nightly: item failed; it stays due for the next run", "kind", it.Kind, "team", it.TeamID, "member", it.MemberID, "error", err.Error())
		}
	})
}
