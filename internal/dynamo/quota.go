package dynamo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Quota counters cap what a team or a source address may ask for in a
// window (users.Limits): one item per counter and window,
//
//	QUOTA#<counter>   <window start, Unix seconds>   n, claims, ttl
//
// taken with a conditional ADD, as the send slots are (sendrate.go), so
// every function instance shares one count. The store only counts; the
// caller says the limit and the window. An item lives a day past its
// window (TTL).
//
// Each take names itself with a random claim, added to the item's claims
// in the same update, so that the store's retry of an update DynamoDB
// applied but did not confirm (a 500 after the write) is recognised as
// the same take instead of counting twice, or being refused by its own
// first attempt. A give-back removes the claim the same way. Claims left
// on the item each stand for at least one unit taken, so they are never
// more than the limit.

func quotaKey(counter string, window time.Time) map[string]types.AttributeValue {
	return key(quotaPK(counter), strconv.FormatInt(window.Unix(), 10))
}

// TakeQuota adds n to the counter of the window starting at window, unless
// the count would pass limit. It returns the take's claim, for a
// give-back. When it refuses, used is the count already taken (-1 when n
// alone is over the limit and nothing was read).
func (s *Store) TakeQuota(ctx context.Context, counter string, window time.Time, length time.Duration, n, limit int) (claim string, used int, ok bool, err error) {
	if n > limit {
		return "", -1, false, nil
	}
	if n <= 0 {
		return "", 0, true, nil
	}
	claim = newClaim()
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: quotaKey(counter, window),
		UpdateExpression:                    aws.String("ADD #n :n, #c :claim SET #ttl = :ttl"),
		ConditionExpression:                 aws.String("(attribute_not_exists(#n) OR #n <= :room) AND NOT contains(#c, :id)"),
		ExpressionAttributeNames:            map[string]string{"#n": "n", "#c": "claims", "#ttl": "ttl"},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":n": num(n), ":room": num(limit - n), ":ttl": num(int(window.Add(length + 24*time.Hour).Unix())),
			":claim": &types.AttributeValueMemberSS{Value: []string{claim}}, ":id": &types.AttributeValueMemberS{Value: claim},
		},
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return claim, 0, true, nil
	case errors.As(err, &ccf):
		if claims, ok := ccf.Item["claims"].(*types.AttributeValueMemberSS); ok && slices.Contains(claims.Value, claim) {
			return claim, 0, true, nil // our own take, applied by an attempt whose answer was lost
		}
		used = -1
		if v, ok := ccf.Item["n"].(*types.AttributeValueMemberN); ok {
			if u, err := strconv.Atoi(v.Value); err == nil {
				used = u
			}
		}
		return "", used, false, nil
	}
	return "", 0, false, fmt.Errorf("take %d of quota %s: %w", n, counter, err)
}

// GiveBackQuota returns n of what the take named claim took (the
// addresses it did not invite) and retires the claim, once however often
// it is retried. Best effort for its caller: a failure leaves the count
// high, which only errs on the safe side.
func (s *Store) GiveBackQuota(ctx context.Context, counter string, window time.Time, claim string, n int) error {
	if claim == "" || n <= 0 {
		return nil
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: quotaKey(counter, window),
		UpdateExpression:         aws.String("ADD #n :minus DELETE #c :claim"),
		ConditionExpression:      aws.String("contains(#c, :id)"),
		ExpressionAttributeNames: map[string]string{"#n": "n", "#c": "claims"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":minus": num(-n), ":claim": &types.AttributeValueMemberSS{Value: []string{claim}}, ":id": &types.AttributeValueMemberS{Value: claim},
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil // given back already (a retry), or the window's item is gone
	}
	if err != nil {
		return fmt.Errorf("give back %d of quota %s: %w", n, counter, err)
	}
	return nil
}

func newClaim() string {
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
