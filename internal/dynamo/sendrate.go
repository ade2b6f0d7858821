package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// SendSlots is a send rate shared by every process that sends: each
// delivery invocation, on every stream shard, takes a slot of the current
// second from one counter item per second (RATE#<name> / <unix second>)
// before it sends, with a conditional increment that fails once the
// second's slots are gone; it then waits for the next second. So N
// concurrent deliverers together stay within the account's SES rate,
// where a pacer in each would send at N times it.
//
// The counter items live an hour (TTL). One slot costs one write; the
// key is hot only up to the send rate plus the deliverers turned away.
type SendSlots struct {
	store     *Store
	name      string
	perSecond int
	now       func() time.Time
}

// SendSlots returns the shared limiter called name, allowing perSecond
// (at least 1) sends a second.
func (s *Store) SendSlots(name string, perSecond float64) *SendSlots {
	return &SendSlots{store: s, name: name, perSecond: max(1, int(perSecond)), now: time.Now}
}

// Wait blocks until a slot is taken.
func (l *SendSlots) Wait(ctx context.Context) error {
	_, err := l.Take(ctx)
	return err
}

// Take blocks until it takes a slot and says of which second.
func (l *SendSlots) Take(ctx context.Context) (int64, error) {
	for {
		now := l.now()
		sec := now.Unix()
		_, err := l.store.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &l.store.table, Key: key(ratePK(l.name), fmt.Sprint(sec)),
			UpdateExpression:         aws.String("ADD #n :one SET #ttl = :ttl"),
			ConditionExpression:      aws.String("attribute_not_exists(#n) OR #n < :max"),
			ExpressionAttributeNames: map[string]string{"#n": "n", "#ttl": "ttl"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":one": num(1), ":max": num(l.perSecond), ":ttl": num(int(sec + 3600)),
			},
		})
		var ccf *types.ConditionalCheckFailedException
		if err == nil {
			return sec, nil
		}
		if !errors.As(err, &ccf) {
			return 0, fmt.Errorf("take a send slot: %w", err)
		}
		// This second is full: come back early in the next one, spread out.
		next := time.Unix(sec+1, 0).Add(time.Duration(rand.Int64N(int64(50 * time.Millisecond))))
		if err := sleep(ctx, next.Sub(now)); err != nil {
			return 0, err
		}
	}
}
