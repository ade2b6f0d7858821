package dynamo

import (
	"context"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// The table's stream, read by key: the consumers ask these what a record
// is instead of spelling keys and attribute names themselves.

// QueuedEmail is the id of the outbox email a stream record inserted, and
// whether it is one: the deliverer sends exactly those.
func QueuedEmail(rec events.DynamoDBEventRecord) (string, bool) {
	if rec.EventName != "INSERT" {
		return "", false
	}
	return idWithPrefix(rec, "EMAIL#")
}

// JobToRun is the id of the team job a stream record asks to run, and
// whether it asks: a new job, or one whose step a run that was running out
// of time moved on (a checkpoint within a step asks nothing).
func JobToRun(rec events.DynamoDBEventRecord) (string, bool) {
	id, ok := idWithPrefix(rec, "JOB#")
	if !ok {
		return "", false
	}
	switch rec.EventName {
	case "INSERT":
		return id, true
	case "MODIFY":
		before, after := rec.Change.OldImage["step"], rec.Change.NewImage["step"]
		if before.DataType() != events.DataTypeNumber || after.DataType() != events.DataTypeNumber || before.Number() == after.Number() {
			return "", false
		}
		return id, true
	}
	return "", false
}

func idWithPrefix(rec events.DynamoDBEventRecord, prefix string) (string, bool) {
	pk := rec.Change.Keys[attrPK]
	if pk.DataType() != events.DataTypeString || !strings.HasPrefix(pk.String(), prefix) {
		return "", false
	}
	return strings.TrimPrefix(pk.String(), prefix), true
}

// Consume makes a stream handler of what a consumer does with one id: pick
// says which records are the consumer's (QueuedEmail, JobToRun); a record
// whose do fails is logged (the id as idField) and reported by its sequence number, so that
// only it is retried.
func Consume(pick func(events.DynamoDBEventRecord) (string, bool), do func(ctx context.Context, id string) error, log *slog.Logger, what, idField string) func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	return func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		var resp events.DynamoDBEventResponse
		for _, rec := range ev.Records {
			id, ok := pick(rec)
			if !ok {
				continue
			}
			if err := do(ctx, id); err != nil {
				log.WarnContext(ctx, what+" will be retried", idField, id, "error", err.Error())
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
			}
		}
		return resp, nil
	}
}

// EmailStream is the deliverer's stream handler (DeliverEmailFunction).
func EmailStream(deliver func(ctx context.Context, id string) error, log *slog.Logger) func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	return Consume(QueuedEmail, deliver, log, "delivery", "emailId")
}

// JobStream is the team jobs' stream handler (TeamJobsFunction).
func JobStream(run func(ctx context.Context, id string) error, log *slog.Logger) func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	return Consume(JobToRun, run, log, "team job", "job")
}
