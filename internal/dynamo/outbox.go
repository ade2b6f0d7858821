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

// Outbox delivery. An email item goes queued → sending (a lease) → sent or
// failed. A delivery that crashed after claiming leaves "sending" behind;
// when its lease runs out nobody can know whether SES took the message, so
// it becomes "uncertain" and is never sent again (the admin sees it and can
// resend). Nothing is ever sent twice for one change.

// OutboxEmail is an email as the deliverer sees it.
type OutboxEmail struct {
	users.Email
	State    string
	Attempts int
}

// ErrLeased means another delivery holds the email right now.
var ErrLeased = errors.New("email is being delivered by another worker")

// ClaimEmail takes the lease on a queued email. It returns the email with
// claimed=false when there is nothing to do: already sent, failed or
// uncertain (a duplicate stream record), or just now marked uncertain.
func (s *Store) ClaimEmail(ctx context.Context, id string, lease time.Duration) (OutboxEmail, bool, error) {
	now := s.now()
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(emailPK(id), skEmail),
		UpdateExpression:         aws.String("SET #s = :sending, leaseUntil = :lease ADD attempts :one"),
		ConditionExpression:      aws.String("#s = :queued"),
		ExpressionAttributeNames: map[string]string{"#s": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":sending": str(users.EmailSending), ":queued": str(users.EmailQueued), ":one": num(1),
			":lease": str(fmtTime(now.Add(lease))),
		},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		if ccf.Item == nil {
			return OutboxEmail{}, false, fmt.Errorf("email %s does not exist", id)
		}
		var rec outboxRecord
		if err := attributevalue.UnmarshalMap(ccf.Item, &rec); err != nil {
			return OutboxEmail{}, false, err
		}
		e := rec.domain()
		if rec.State != users.EmailSending {
			return e, false, nil
		}
		if now.Before(parseTime(rec.LeaseUntil)) {
			return e, false, ErrLeased
		}
		// The worker that claimed it died mid-send.
		return e, false, s.FinishEmail(ctx, e.Email, users.EmailUncertain, "", "delivery was interrupted; the email may or may not have been sent")
	}
	if err != nil {
		return OutboxEmail{}, false, fmt.Errorf("claim email %s: %w", id, err)
	}
	var rec outboxRecord
	if err := attributevalue.UnmarshalMap(out.Attributes, &rec); err != nil {
		return OutboxEmail{}, false, err
	}
	return rec.domain(), true, nil
}

func (r outboxRecord) domain() OutboxEmail {
	return OutboxEmail{Email: users.Email{ID: r.ID, Kind: r.Kind, To: r.To, TeamID: r.TeamID, MemberID: r.MemberID, Data: r.Data},
		State: r.State, Attempts: r.Attempts}
}

// ReleaseEmail gives a claimed email back to the queue after a failure that
// is worth retrying (throttling, a 5xx from SES).
func (s *Store) ReleaseEmail(ctx context.Context, id string) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(emailPK(id), skEmail),
		UpdateExpression:         aws.String("SET #s = :queued REMOVE leaseUntil"),
		ConditionExpression:      aws.String("#s = :sending"),
		ExpressionAttributeNames: map[string]string{"#s": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":sending": str(users.EmailSending), ":queued": str(users.EmailQueued),
		},
	})
	if err != nil {
		return fmt.Errorf("release email %s: %w", id, err)
	}
	return nil
}

// FinishEmail records the outcome on the email (dropping the data it no
// longer needs, such as a sealed token) and on the member's lastEmail,
// unless a newer email to that member has been queued since.
func (s *Store) FinishEmail(ctx context.Context, e users.Email, state, messageID, reason string) error {
	now := s.now()
	vals := map[string]types.AttributeValue{":state": str(state), ":at": str(fmtTime(now)), ":sending": str(users.EmailSending)}
	set := "SET #s = :state, finishedAt = :at"
	if messageID != "" {
		set += ", messageId = :mid"
		vals[":mid"] = str(messageID)
	}
	if reason != "" {
		set += ", reason = :reason"
		vals[":reason"] = str(reason)
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(emailPK(e.ID), skEmail),
		UpdateExpression:          aws.String(set + " REMOVE #d, leaseUntil"),
		ConditionExpression:       aws.String("#s = :sending"),
		ExpressionAttributeNames:  map[string]string{"#s": "state", "#d": "data"},
		ExpressionAttributeValues: vals,
	})
	if err != nil {
		return fmt.Errorf("finish email %s: %w", e.ID, err)
	}
	if e.MemberID == "" {
		return nil
	}
	le, err := attributevalue.Marshal(emailRecord{ID: e.ID, Kind: e.Kind, State: state, At: fmtTime(now), Reason: reason})
	if err != nil {
		return err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(teamPK(e.TeamID), memberSK(e.MemberID)),
		UpdateExpression:          aws.String("SET lastEmail = :le ADD version :one"),
		ConditionExpression:       aws.String("lastEmail.id = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":le": le, ":id": str(e.ID), ":one": num(1)},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil // removed, or a newer email is the one to show
	}
	if err != nil {
		return fmt.Errorf("record email state on member %s: %w", e.MemberID, err)
	}
	return nil
}

// QueueEmail writes an email that no member change causes (the usage
// report an admin asks for).
func (s *Store) QueueEmail(ctx context.Context, e users.Email) error {
	put, err := s.outboxPut(e, s.now())
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: put.Put.Item, ConditionExpression: put.Put.ConditionExpression})
	if err != nil {
		return fmt.Errorf("queue email: %w", err)
	}
	return nil
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
