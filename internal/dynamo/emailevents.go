package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/internal/users"
)

// RecordEmailEvent records what the mail service reported about an email
// after taking it (a bounce, a complaint) on the member it was sent to:
// lastEmail takes the new state, reason and time, if that email is still
// the member's lastEmail and its state is one of replace (the caller's
// rule: which states such a report may overwrite). One conditional update;
// the version moves, so a member change read before it retries.
//
// It reports whether the member changed and, when not, the member's
// lastEmail as it is (nil when the member is gone or has none), so the
// caller can tell "another email is the last one now" from "this one's
// send is not recorded yet".
func (s *Store) RecordEmailEvent(ctx context.Context, teamID, memberID, emailID string, ev users.EmailState, replace []string) (bool, *users.EmailState, error) {
	vals := map[string]types.AttributeValue{
		":id": str(emailID), ":state": str(ev.State), ":at": str(fmtTime(ev.At)), ":reason": str(ev.Reason), ":one": num(1),
	}
	in := "("
	for i, st := range replace {
		if i > 0 {
			in += ", "
		}
		name := fmt.Sprintf(":r%d", i)
		vals[name] = str(st)
		in += name
	}
	in += ")"
	// The row's emailProblem is its own attribute (the list indexes project
	// it, not lastEmail, so a delivery's progress rewrites no index entry).
	problem := ""
	if (users.Member{LastEmail: &ev}).EmailProblem() != "" {
		problem = ", " + attrEmailProblem + " = :state"
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(teamPK(teamID), memberSK(memberID)),
		UpdateExpression:                    aws.String("SET lastEmail.#s = :state, lastEmail.#at = :at, lastEmail.reason = :reason" + problem + " ADD version :one"),
		ConditionExpression:                 aws.String("lastEmail.id = :id AND lastEmail.#s IN " + in),
		ExpressionAttributeNames:            map[string]string{"#s": "state", "#at": "at"},
		ExpressionAttributeValues:           vals,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		if ccf.Item == nil {
			return false, nil, nil // the member was removed
		}
		var rec memberRecord
		if err := attributevalue.UnmarshalMap(ccf.Item, &rec); err != nil {
			return false, nil, fmt.Errorf("decode member %s: %w", memberID, err)
		}
		return false, rec.domain().LastEmail, nil
	}
	if err != nil {
		return false, nil, fmt.Errorf("record email event on member %s: %w", memberID, err)
	}
	return true, nil, nil
}
