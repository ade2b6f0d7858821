package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Quota counters cap what a team or a source address may ask for in a
// window (users.Limits): one item per counter and window,
//
//	QUOTA#<counter>   <window start, Unix seconds>   n, ttl
//
// taken with a conditional ADD, as the send slots are (sendrate.go), so
// every function instance shares one count. The store only counts; the
// caller says the limit and the window. An item lives a day past its
// window (TTL).

func quotaPK(counter string) string { return "QUOTA#" + counter }

// TakeQuota adds n to the counter of the window starting at window, unless
// the count would pass limit. When it refuses, used is the count already
// taken (-1 when n alone is over the limit and nothing was read).
func (s *Store) TakeQuota(ctx context.Context, counter string, window time.Time, length time.Duration, n, limit int) (used int, ok bool, err error) {
	if n > limit {
		return -1, false, nil
	}
	if n <= 0 {
		return 0, true, nil
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(quotaPK(counter), strconv.FormatInt(window.Unix(), 10)),
		UpdateExpression:                    aws.String("ADD #n :n SET #ttl = :ttl"),
		ConditionExpression:                 aws.String("attribute_not_exists(#n) OR #n <= :room"),
		ExpressionAttributeNames:            map[string]string{"#n": "n", "#ttl": "ttl"},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":n": num(n), ":room": num(limit - n), ":ttl": num(int(window.Add(length + 24*time.Hour).Unix())),
		},
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return 0, true, nil
	case errors.As(err, &ccf):
		used = -1
		if v, ok := ccf.Item["n"].(*types.AttributeValueMemberN); ok {
			if u, err := strconv.Atoi(v.Value); err == nil {
				used = u
			}
		}
		return used, false, nil
	}
	return 0, false, fmt.Errorf("take %d of quota %s: %w", n, counter, err)
}

// GiveBackQuota returns n that a request took and did not use (the
// addresses it did not invite). Best effort: a failure leaves the count
// high, which only errs on the safe side.
func (s *Store) GiveBackQuota(ctx context.Context, counter string, window time.Time, n int) error {
	if n <= 0 {
		return nil
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(quotaPK(counter), strconv.FormatInt(window.Unix(), 10)),
		UpdateExpression:          aws.String("ADD #n :minus"),
		ConditionExpression:       aws.String("attribute_exists(#n)"),
		ExpressionAttributeNames:  map[string]string{"#n": "n"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":minus": num(-n)},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil // the window's item is gone: nothing to give back to
	}
	if err != nil {
		return fmt.Errorf("give back %d of quota %s: %w", n, counter, err)
	}
	return nil
}
