package dynamo

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/internal/users"
)

// DB is what the store calls on DynamoDB: the SDK client, or a fake in unit
// tests.
type DB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// The one retry policy of the DynamoDB client, set where the client is
// built (ClientOptions). The SDK retries throttling, DynamoDB's own 5xx,
// dropped connections and, added here, transactions cancelled only by a
// conflict with another transaction: each retry resends the same request
// with the same ClientRequestToken, so a transaction that did commit is
// not applied twice. Delays are full jitter, capped so that a request
// finishes well inside a 10-second function.
const (
	MaxAttempts = 6
	retryBase   = 25 * time.Millisecond
	retryCap    = 800 * time.Millisecond
)

// ClientOptions sets the store's retry policy on a DynamoDB client:
// dynamodb.NewFromConfig(cfg, dynamo.ClientOptions, …).
func ClientOptions(o *dynamodb.Options) {
	o.Retryer = NewRetryer()
}

// NewRetryer is the retry policy as a value.
func NewRetryer() aws.Retryer {
	return retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = MaxAttempts
		so.MaxBackoff = retryCap
		so.Backoff = retry.BackoffDelayerFunc(Backoff)
		so.Retryables = append(so.Retryables, retry.IsErrorRetryableFunc(conflictOnly))
		// No client-wide retry quota: every request is already capped at
		// MaxAttempts, and under contention a quota would fail requests
		// that one more jittered attempt would have carried.
		so.RateLimiter = ratelimit.None
	})
}

// Backoff is full jitter: a random delay below min(cap, base·2^attempt).
func Backoff(attempt int, _ error) (time.Duration, error) {
	ceiling := retryBase << min(attempt, 10)
	if ceiling > retryCap {
		ceiling = retryCap
	}
	return time.Duration(rand.Int64N(int64(ceiling) + 1)), nil
}

// conflictOnly makes a transaction cancelled by TransactionConflict (and by
// nothing else: no failed condition) worth retrying as it is, and so a
// single write refused because a transaction holds its item.
func conflictOnly(err error) aws.Ternary {
	var held *types.TransactionConflictException
	if errors.As(err, &held) {
		return aws.TrueTernary
	}
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return aws.UnknownTernary
	}
	conflict := false
	for _, r := range tce.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "TransactionConflict":
			conflict = true
		case "", "None":
		default:
			return aws.FalseTernary
		}
	}
	return aws.BoolTernary(conflict)
}

// classified is the store's DB: every error that outlasted the retry policy
// (still throttled, still failing, still contended, or out of time) becomes
// users.Unavailable, which callers see as 503 with Retry-After; every other
// error passes unchanged (a failed condition, a bad request: our bug).
type classified struct{ db DB }

func classify(err error) error {
	if err == nil {
		return nil
	}
	var maxed *retry.MaxAttemptsError
	var quota ratelimit.QuotaExceededError
	var tce *types.TransactionCanceledException
	switch {
	case errors.As(err, &maxed), errors.As(err, &quota),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return users.Unavailable(err)
	case errors.As(err, &tce) && conflictOnly(err) == aws.TrueTernary:
		return users.Unavailable(err)
	}
	return err
}

func (c classified) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out, err := c.db.GetItem(ctx, in, o...)
	return out, classify(err)
}

func (c classified) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := c.db.PutItem(ctx, in, o...)
	return out, classify(err)
}

func (c classified) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	out, err := c.db.UpdateItem(ctx, in, o...)
	return out, classify(err)
}

func (c classified) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	out, err := c.db.DeleteItem(ctx, in, o...)
	return out, classify(err)
}

func (c classified) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := c.db.Query(ctx, in, o...)
	return out, classify(err)
}

func (c classified) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	out, err := c.db.BatchGetItem(ctx, in, o...)
	return out, classify(err)
}

func (c classified) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	out, err := c.db.BatchWriteItem(ctx, in, o...)
	return out, classify(err)
}

func (c classified) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	out, err := c.db.TransactWriteItems(ctx, in, o...)
	return out, classify(err)
}
