package dynamo

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/internal/users"
)

// Idempotency records: the first answer to a POST with an Idempotency-Key.
// A record is "running" while its request runs, with a short expiry, so a
// request that died (a function timeout) frees its key soon; "done" keeps
// the answer for the replay window. Answers are stored gzipped; one that is
// still too large for an item keeps only its digest, and a replay is told
// so rather than given a different answer.

type idemRecord struct {
	PK          string `dynamodbav:"PK"`
	SK          string `dynamodbav:"SK"`
	Type        string `dynamodbav:"type"`
	Fingerprint string `dynamodbav:"fingerprint"`
	State       string `dynamodbav:"state"`
	Owner       string `dynamodbav:"owner"`
	ExpiresAt   int64  `dynamodbav:"expiresAt"`
	TTL         int64  `dynamodbav:"ttl"`

	Status     int               `dynamodbav:"status,omitempty"`
	Headers    map[string]string `dynamodbav:"headers,omitempty"`
	BodyGzip   []byte            `dynamodbav:"bodyGzip,omitempty"`
	BodyDigest string            `dynamodbav:"bodyDigest,omitempty"` // set when the body was too large to keep
}

// maxStoredBody is the largest gzipped answer kept in a record, well under
// DynamoDB's 400 KB item limit.
const maxStoredBody = 300 << 10

// ErrNotReplayable answers a replay whose first answer was too large to keep.
var ErrNotReplayable = users.Errorf(users.KindConflict, "response_not_replayable",
	"This Idempotency-Key's request was done, but its answer was too large to keep for a replay; use a new key to ask again.")

// BeginIdempotent claims an idempotency key for running (at most `running`
// long). It returns the stored answer when the same request was answered
// before; otherwise a claim to finish or forget the key with.
func (s *Store) BeginIdempotent(ctx context.Context, scope, idemKey, fingerprint string, running time.Duration) (string, *users.StoredResponse, error) {
	now := s.now()
	owner := requestToken()
	item, err := attributevalue.MarshalMap(idemRecord{PK: idemPK(scope, idemKey), SK: skIdem, Type: "idempotency", Fingerprint: fingerprint,
		State: "running", Owner: owner, ExpiresAt: now.Add(running).Unix(), TTL: now.Add(running).Unix()})
	if err != nil {
		return "", nil, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: item,
		ConditionExpression:                 aws.String("attribute_not_exists(PK) OR expiresAt < :now"),
		ExpressionAttributeValues:           map[string]types.AttributeValue{":now": num(int(now.Unix()))},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		var old idemRecord
		if err := attributevalue.UnmarshalMap(ccf.Item, &old); err != nil {
			return "", nil, err
		}
		switch {
		case old.Owner == owner:
			return owner, nil, nil // our own claim, applied by an attempt whose answer was lost
		case old.Fingerprint != fingerprint:
			return "", nil, users.Errorf(users.KindInvalid, "idempotency_key_reused", "This Idempotency-Key was used for a different request.")
		case old.State != "done":
			return "", nil, &users.Error{Kind: users.KindConflict, Code: "request_in_progress", RetryAfter: time.Until(time.Unix(old.ExpiresAt, 0)),
				Message: "A request with this Idempotency-Key is still running."}
		case old.BodyDigest != "":
			return "", nil, ErrNotReplayable
		}
		body, err := gunzip(old.BodyGzip)
		if err != nil {
			return "", nil, fmt.Errorf("stored answer: %w", err)
		}
		return "", &users.StoredResponse{Status: old.Status, Headers: old.Headers, Body: body}, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("claim idempotency key: %w", err)
	}
	return owner, nil, nil
}

// FinishIdempotent stores the answer to replay for `keep`, if the claim is
// still ours.
func (s *Store) FinishIdempotent(ctx context.Context, scope, idemKey, claim string, resp users.StoredResponse, keep time.Duration) error {
	until := s.now().Add(keep).Unix()
	vals := map[string]types.AttributeValue{
		":done": str("done"), ":owner": str(claim), ":st": num(resp.Status), ":exp": num(int(until)),
	}
	set := "SET #s = :done, #st = :st, expiresAt = :exp, #ttl = :exp"
	if len(resp.Headers) > 0 {
		h, err := attributevalue.Marshal(resp.Headers)
		if err != nil {
			return err
		}
		vals[":h"] = h
		set += ", headers = :h"
	}
	gz := gzipBytes(resp.Body)
	if len(gz) <= maxStoredBody {
		vals[":b"] = &types.AttributeValueMemberB{Value: gz}
		set += ", bodyGzip = :b"
	} else {
		sum := sha256.Sum256(resp.Body)
		vals[":d"] = str(hex.EncodeToString(sum[:]))
		set += ", bodyDigest = :d"
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(idemPK(scope, idemKey), skIdem),
		UpdateExpression:          aws.String(set),
		ConditionExpression:       aws.String("#o = :owner"),
		ExpressionAttributeNames:  map[string]string{"#s": "state", "#st": "status", "#ttl": "ttl", "#o": "owner"},
		ExpressionAttributeValues: vals,
	})
	return err
}

// ForgetIdempotent releases a key, if the claim is still ours, so a retry
// runs again: the request failed on our side, or its answer could not be
// stored.
func (s *Store) ForgetIdempotent(ctx context.Context, scope, idemKey, claim string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.table, Key: key(idemPK(scope, idemKey), skIdem),
		ConditionExpression:       aws.String("#o = :owner"),
		ExpressionAttributeNames:  map[string]string{"#o": "owner"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":owner": str(claim)},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil
	}
	return err
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

func gunzip(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, nil
	}
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}
