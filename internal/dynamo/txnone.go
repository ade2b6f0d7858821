package dynamo

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// commitOne writes a transaction of one item as the conditional write it
// amounts to. DynamoDB bills every item of a transaction twice (a prepare
// and a commit: "Capacity Management for Transactions" in its developer
// guide) and a single write once, and the item's condition keeps the same
// guarantee; most member changes are one item (an app's activity that
// moves neither status nor bucket), so this halves their table writes.
// A change the audit log records is never one item: its entry is written
// in the same transaction (memberTxn), so the two commit together or not
// at all.
//
// A single write has no ClientRequestToken. If the SDK resends one that
// was applied but whose answer was lost, the resend finds its own
// condition failed (the member's version has moved) and UpdateMember reads
// the member again and asks the rule again, which finds nothing left to
// do: the change is there, reported as unchanged.
func (s *Store) commitOne(ctx context.Context, t *txn) (failed, error) {
	it := t.items[0]
	var err error
	switch {
	case it.Put != nil:
		p := it.Put
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: p.TableName, Item: p.Item,
			ConditionExpression: p.ConditionExpression, ExpressionAttributeNames: p.ExpressionAttributeNames, ExpressionAttributeValues: p.ExpressionAttributeValues})
	case it.Update != nil:
		u := it.Update
		_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression,
			ConditionExpression: u.ConditionExpression, ExpressionAttributeNames: u.ExpressionAttributeNames, ExpressionAttributeValues: u.ExpressionAttributeValues})
	case it.Delete != nil:
		d := it.Delete
		_, err = s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: d.TableName, Key: d.Key,
			ConditionExpression: d.ConditionExpression, ExpressionAttributeNames: d.ExpressionAttributeNames, ExpressionAttributeValues: d.ExpressionAttributeValues})
	default:
		return s.transact(ctx, t) // a condition check alone: nothing to write
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return failed{t.names[0]: true}, nil
	}
	return nil, err
}
