package dynamo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// txn is one TransactWriteItems request whose items are named, so that a
// cancellation is read by what each item is ("member", "counters",
// "membership:3") rather than by where it happened to land in the list.
type txn struct {
	names []string
	items []types.TransactWriteItem
}

func (t *txn) add(name string, it types.TransactWriteItem) {
	t.names = append(t.names, name)
	t.items = append(t.items, it)
}

func (t *txn) put(name, table string, item map[string]types.AttributeValue, cond string, vals map[string]types.AttributeValue) {
	p := &types.Put{TableName: aws.String(table), Item: item, ExpressionAttributeValues: vals}
	if cond != "" {
		p.ConditionExpression = aws.String(cond)
	}
	t.add(name, types.TransactWriteItem{Put: p})
}

func (t *txn) delete(name, table string, k map[string]types.AttributeValue, cond string, vals map[string]types.AttributeValue) {
	d := &types.Delete{TableName: aws.String(table), Key: k, ExpressionAttributeValues: vals}
	if cond != "" {
		d.ConditionExpression = aws.String(cond)
	}
	t.add(name, types.TransactWriteItem{Delete: d})
}

// failed names the items whose condition failed; it is empty when the
// transaction committed, and err is set for anything else.
type failed map[string]bool

// any reports whether some item whose name starts with prefix failed.
func (f failed) any(prefix string) bool {
	for n := range f {
		if len(n) >= len(prefix) && n[:len(prefix)] == prefix {
			return true
		}
	}
	return false
}

// MaxTransactItems is DynamoDB's limit on the items of one transaction.
const MaxTransactItems = 100

// commit runs the transaction with a ClientRequestToken of its own. The
// SDK's retries (throttling, 5xx, a conflict with another transaction)
// resend it with that token, so a commit whose answer was lost is not
// applied again: DynamoDB answers the retry as a success. A cancellation
// for failed conditions comes back as the names of the items that failed.
//
// A transaction of one item is written as a single conditional write
// (commitOne): the same guarantee at half the cost.
func (s *Store) commit(ctx context.Context, t *txn) (failed, error) {
	if len(t.items) == 1 {
		return s.commitOne(ctx, t)
	}
	return s.transact(ctx, t)
}

func (s *Store) transact(ctx context.Context, t *txn) (failed, error) {
	if len(t.items) > MaxTransactItems {
		return nil, fmt.Errorf("transaction of %d items is over DynamoDB's limit of %d", len(t.items), MaxTransactItems)
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: t.items, ClientRequestToken: aws.String(requestToken()),
	})
	if err == nil {
		return nil, nil
	}
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil, err
	}
	f := failed{}
	for i, r := range tce.CancellationReasons {
		if aws.ToString(r.Code) == "ConditionalCheckFailed" && i < len(t.names) {
			f[t.names[i]] = true
		}
	}
	if len(f) == 0 {
		return nil, err // not a failed condition: contention or a fault that outlasted the retries
	}
	return f, nil
}

// requestToken is a fresh ClientRequestToken (1–36 characters).
func requestToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
