// Package archive moves sign-ins older than the retention period to the
// archive table. It does not look for them: each sign-in carries the
// instant it expires (TTL), DynamoDB deletes it then at no cost, and the
// table's stream hands each such deletion (a REMOVE whose userIdentity is
// DynamoDB itself) to Archiver, which writes the sign-in to the archive
// table. The stream has a shard per partition of the table and Lambda
// reads the shards in parallel, so the archive keeps up with the deletions
// however many teams sign in (docs/benchmarks.md, "Capacity"). The
// template's FilterCriteria lets only those records invoke the function;
// Archiver checks the same again (dynamo.ExpiredSignIn).
package archive

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/metrics"
	"github.com/teamusers/usersapi/internal/users"
)

// Store is what the archiver needs of the tables.
type Store interface {
	ArchiveSignIn(ctx context.Context, in users.SignIn) error
}

// Archiver writes the sign-ins DynamoDB's TTL deleted to the archive.
type Archiver struct {
	Store   Store
	Log     *slog.Logger
	Metrics *metrics.Emitter
}

// HandleStream archives every expired sign-in of a batch of the table's
// stream. A write that fails is reported as the batch item's failure, so
// Lambda retries from it (the put is idempotent); other records are not
// sign-ins DynamoDB deleted and are passed over.
func (a Archiver) HandleStream(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	archived := 0
	for _, rec := range ev.Records {
		in, ok := dynamo.ExpiredSignIn(rec)
		if !ok {
			continue
		}
		if err := a.Store.ArchiveSignIn(ctx, in); err != nil {
			a.Log.WarnContext(ctx, "archiving will be retried", "team", in.TeamID, "member", in.MemberID, "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
			break // the stream retries from the first failure, in order
		}
		archived++
	}
	if archived > 0 {
		a.Metrics.Count(metrics.SignInsArchived, archived)
	}
	return resp, nil
}
