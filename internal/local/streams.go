package local

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	st "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// StreamHandler is a Lambda handler for DynamoDB stream events.
type StreamHandler func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// StreamPoller stands in for the event source mappings: it reads the
// table's stream through the DynamoDB Streams API and hands each batch to
// the handlers in the Lambda event shape. Item failures the handlers report
// are retried with backoff, as the mapping retries them.
type StreamPoller struct {
	DB       *dynamodb.Client
	Streams  *dynamodbstreams.Client
	Table    string
	Handlers []StreamHandler
	Log      *slog.Logger
	Timeout  time.Duration // each invocation's deadline, as the function's Timeout

	mu      sync.Mutex
	pending int // records handed to handlers and not yet finished (tests wait on it)
}

// Idle reports whether every record read so far has been handled.
func (p *StreamPoller) Idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pending == 0
}

// Run polls until ctx ends.
func (p *StreamPoller) Run(ctx context.Context) error {
	desc, err := p.DB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &p.Table})
	if err != nil {
		return err
	}
	arn := aws.ToString(desc.Table.LatestStreamArn)
	if arn == "" {
		return fmt.Errorf("table %s has no stream", p.Table)
	}
	iterators := map[string]*string{}
	var described time.Time
	for ctx.Err() == nil {
		// New shards are rare: look for them every two seconds, not on every
		// poll (each DescribeStream is a request to the one-at-a-time moto).
		if time.Since(described) >= 2*time.Second {
			ds, err := p.Streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: &arn})
			if err != nil {
				p.Log.Warn("describe stream", "error", err.Error())
				sleepCtx(ctx, time.Second)
				continue
			}
			described = time.Now()
			p.openShards(ctx, arn, ds.StreamDescription.Shards, iterators)
		}
		got := 0
		for id, it := range iterators {
			if it == nil {
				continue
			}
			out, err := p.Streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it, Limit: aws.Int32(100)})
			if err != nil {
				if ctx.Err() == nil {
					p.Log.Warn("get records", "error", err.Error())
				}
				continue
			}
			iterators[id] = out.NextShardIterator
			if len(out.Records) > 0 {
				got += len(out.Records)
				p.dispatch(ctx, arn, out.Records)
			}
		}
		if got == 0 {
			sleepCtx(ctx, 100*time.Millisecond)
		}
	}
	return nil
}

// openShards starts reading every shard it has no iterator for yet, from
// the stream's beginning.
func (p *StreamPoller) openShards(ctx context.Context, arn string, shards []st.Shard, iterators map[string]*string) {
	for _, sh := range shards {
		id := aws.ToString(sh.ShardId)
		if _, ok := iterators[id]; ok {
			continue
		}
		it, err := p.Streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: &arn, ShardId: sh.ShardId, ShardIteratorType: st.ShardIteratorTypeTrimHorizon})
		if err != nil {
			p.Log.Warn("shard iterator", "error", err.Error())
			continue
		}
		iterators[id] = it.ShardIterator
	}
}

// dispatch hands a batch to every handler, in the background so a slow
// handler (paced email) does not stop the others, and retries failures.
func (p *StreamPoller) dispatch(ctx context.Context, arn string, recs []st.Record) {
	ev := events.DynamoDBEvent{Records: make([]events.DynamoDBEventRecord, len(recs))}
	for i, r := range recs {
		ev.Records[i] = toEventRecord(arn, r)
	}
	for _, h := range p.Handlers {
		p.mu.Lock()
		p.pending++
		p.mu.Unlock()
		go func() {
			defer func() {
				p.mu.Lock()
				p.pending--
				p.mu.Unlock()
			}()
			batch := ev
			for attempt := 0; attempt < 10 && len(batch.Records) > 0 && ctx.Err() == nil; attempt++ {
				ictx, cancel := context.WithTimeout(ctx, p.Timeout)
				resp, err := h(ictx, batch)
				cancel()
				var retry []events.DynamoDBEventRecord
				if err != nil {
					retry = batch.Records
				} else {
					failed := map[string]bool{}
					for _, f := range resp.BatchItemFailures {
						failed[f.ItemIdentifier] = true
					}
					for _, r := range batch.Records {
						if failed[r.Change.SequenceNumber] {
							retry = append(retry, r)
						}
					}
				}
				batch = events.DynamoDBEvent{Records: retry}
				if len(retry) > 0 {
					sleepCtx(ctx, time.Duration(1<<attempt)*100*time.Millisecond)
				}
			}
		}()
	}
}

func toEventRecord(arn string, r st.Record) events.DynamoDBEventRecord {
	d := r.Dynamodb
	rec := events.DynamoDBEventRecord{
		EventID: aws.ToString(r.EventID), EventName: string(r.EventName), EventSource: "aws:dynamodb",
		EventVersion: "1.1", AWSRegion: Region, EventSourceArn: arn,
	}
	if u := r.UserIdentity; u != nil {
		// DynamoDB's own deletions (TTL) say who did them, as Lambda hands them on.
		rec.UserIdentity = &events.DynamoDBUserIdentity{Type: aws.ToString(u.Type), PrincipalID: aws.ToString(u.PrincipalId)}
	}
	if d != nil {
		rec.Change = events.DynamoDBStreamRecord{
			Keys: toEventImage(d.Keys), NewImage: toEventImage(d.NewImage), OldImage: toEventImage(d.OldImage),
			SequenceNumber: aws.ToString(d.SequenceNumber), SizeBytes: aws.ToInt64(d.SizeBytes), StreamViewType: string(d.StreamViewType),
		}
	}
	return rec
}

func toEventImage(m map[string]st.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(m))
	for k, v := range m {
		out[k] = toEventValue(v)
	}
	return out
}

func toEventValue(v st.AttributeValue) events.DynamoDBAttributeValue {
	switch x := v.(type) {
	case *st.AttributeValueMemberS:
		return events.NewStringAttribute(x.Value)
	case *st.AttributeValueMemberN:
		return events.NewNumberAttribute(x.Value)
	case *st.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(x.Value)
	case *st.AttributeValueMemberB:
		return events.NewBinaryAttribute(x.Value)
	case *st.AttributeValueMemberSS:
		return events.NewStringSetAttribute(x.Value)
	case *st.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(x.Value)
	case *st.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(x.Value)
	case *st.AttributeValueMemberM:
		return events.NewMapAttribute(toEventImage(x.Value))
	case *st.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(x.Value))
		for i, e := range x.Value {
			l[i] = toEventValue(e)
		}
		return events.NewListAttribute(l)
	default:
		return events.NewNullAttribute()
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
