package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/internal/users"
)

// StoredResponse is the first answer to an idempotent request.
type StoredResponse struct {
	Status  int               `dynamodbav:"status"`
	Headers map[string]string `dynamodbav:"headers,omitempty"`
	Body    []byte            `dynamodbav:"body,omitempty"`
}

type idemRecord struct {
	PK          string          `dynamodbav:"PK"`
	SK          string          `dynamodbav:"SK"`
	Type        string          `dynamodbav:"type"`
	Fingerprint string          `dynamodbav:"fingerprint"`
	State       string          `dynamodbav:"state"`
	ExpiresAt   int64           `dynamodbav:"expiresAt"`
	TTL         int64           `dynamodbav:"ttl"`
	Response    *StoredResponse `dynamodbav:"response,omitempty"`
}

// BeginIdempotent claims an idempotency key. It returns the stored answer
// when the same request was answered before, nil when this request is the
// first and should run.
func (s *Store) BeginIdempotent(ctx context.Context, scope, idemKey, fingerprint string, ttl time.Duration) (*StoredResponse, error) {
	now := s.now()
	item, err := attributevalue.MarshalMap(idemRecord{PK: idemPK(scope, idemKey), SK: skIdem, Type: "idempotency", Fingerprint: fingerprint,
		State: "running", ExpiresAt: now.Add(ttl).Unix(), TTL: now.Add(ttl).Unix()})
	if err != nil {
		return nil, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: item,
		ConditionExpression:                 aws.String("attribute_not_exists(PK) OR expiresAt < :now"),
		ExpressionAttributeValues:           map[string]types.AttributeValue{":now": &types.AttributeValueMemberN{Value: fmt.Sprint(now.Unix())}},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		var old idemRecord
		if err := attributevalue.UnmarshalMap(ccf.Item, &old); err != nil {
			return nil, err
		}
		switch {
		case old.Fingerprint != fingerprint:
			return nil, users.Errorf(users.KindInvalid, "idempotency_key_reused", "This Idempotency-Key was used for a different request.")
		case old.State != "done" || old.Response == nil:
			return nil, users.Errorf(users.KindConflict, "request_in_progress", "A request with this Idempotency-Key is still running.")
		}
		return old.Response, nil
	}
	if err != nil {
		return nil, fmt.Errorf("claim idempotency key: %w", err)
	}
	return nil, nil
}

// FinishIdempotent stores the answer to replay.
func (s *Store) FinishIdempotent(ctx context.Context, scope, idemKey string, resp StoredResponse) error {
	av, err := attributevalue.Marshal(resp)
	if err != nil {
		return err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(idemPK(scope, idemKey), skIdem),
		UpdateExpression:          aws.String("SET #s = :done, #r = :r"),
		ExpressionAttributeNames:  map[string]string{"#s": "state", "#r": "response"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":done": str("done"), ":r": av},
	})
	return err
}

// ForgetIdempotent releases a key whose request failed on our side, so a
// retry runs again.
func (s *Store) ForgetIdempotent(ctx context.Context, scope, idemKey string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: key(idemPK(scope, idemKey), skIdem)})
	return err
}
