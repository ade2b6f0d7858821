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

// Outbox delivery. An email item goes queued → sending (a lease held by a
// claim) → sent, failed or uncertain. A delivery that crashed after
// claiming leaves "sending" behind; when its lease runs out nobody can know
// whether SES took the message, so it becomes "uncertain" and is never sent
// again (the admin sees it and can resend). Nothing is ever sent twice for
// one change.
//
// Each step is a conditional update that is safe to repeat: DynamoDB may
// apply an update and still answer with an error, and the SDK then sends it
// again. The claim carries a random id, so the repeat of our own claim is
// recognised as ours rather than as another worker's lease; finishing
// recognises the state it already wrote.

type outboxRecord struct {
	PK         string            `dynamodbav:"PK"`
	SK         string            `dynamodbav:"SK"`
	Type       string            `dynamodbav:"type"`
	ID         string            `dynamodbav:"emailId"`
	Kind       string            `dynamodbav:"kind"`
	To         string            `dynamodbav:"to"`
	TeamID     string            `dynamodbav:"teamId"`
	MemberID   string            `dynamodbav:"memberId,omitempty"`
	Data       map[string]string `dynamodbav:"data,omitempty"`
	State      string            `dynamodbav:"state"`
	CreatedAt  string            `dynamodbav:"createdAt"`
	Attempts   int               `dynamodbav:"attempts"`
	Claim      string            `dynamodbav:"claim,omitempty"`
	LeaseUntil string            `dynamodbav:"leaseUntil,omitempty"`
	MessageID  string            `dynamodbav:"messageId,omitempty"`
	Reason     string            `dynamodbav:"reason,omitempty"`
	TTL        int64             `dynamodbav:"ttl"`
}

// outboxRetention is how long delivered emails stay in the table.
const outboxRetention = 30 * 24 * time.Hour

func (s *Store) outboxItem(e users.Email, now time.Time) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMap(outboxRecord{PK: emailPK(e.ID), SK: skEmail, Type: "email", ID: e.ID, Kind: e.Kind, To: e.To, TeamID: e.TeamID,
		MemberID: e.MemberID, Data: e.Data, State: users.EmailQueued, CreatedAt: fmtTime(now), TTL: now.Add(outboxRetention).Unix()})
}

func (r outboxRecord) domain() users.OutboxEmail {
	return users.OutboxEmail{Email: users.Email{ID: r.ID, Kind: r.Kind, To: r.To, TeamID: r.TeamID, MemberID: r.MemberID, Data: r.Data},
		State: r.State, Attempts: r.Attempts, Claim: r.Claim}
}

// ClaimEmail takes the lease on a queued email. It returns the email with
// claimed=false when there is nothing to do: already sent, failed or
// uncertain (a duplicate stream record), or just now marked uncertain
// because a worker died holding it. users.ErrLeased: another worker holds
// it right now.
func (s *Store) ClaimEmail(ctx context.Context, id string, lease time.Duration) (users.OutboxEmail, bool, error) {
	now := s.now()
	claim := requestToken()
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(emailPK(id), skEmail),
		UpdateExpression:         aws.String("SET #s = :sending, leaseUntil = :lease, claim = :claim ADD attempts :one"),
		ConditionExpression:      aws.String("#s = :queued"),
		ExpressionAttributeNames: map[string]string{"#s": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":sending": str(users.EmailSending), ":queued": str(users.EmailQueued), ":one": num(1),
			":lease": str(fmtTime(now.Add(lease))), ":claim": str(claim),
		},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		if ccf.Item == nil {
			return users.OutboxEmail{}, false, fmt.Errorf("email %s does not exist", id)
		}
		var rec outboxRecord
		if err := attributevalue.UnmarshalMap(ccf.Item, &rec); err != nil {
			return users.OutboxEmail{}, false, err
		}
		e := rec.domain()
		switch {
		case rec.State != users.EmailSending:
			return e, false, nil
		case rec.Claim == claim:
			return e, true, nil // our own claim, applied by an attempt whose answer was lost
		case now.Before(parseTime(rec.LeaseUntil)):
			return e, false, users.ErrLeased
		}
		// The worker that claimed it died mid-send.
		return e, false, s.FinishEmail(ctx, e, users.EmailUncertain, "", "delivery was interrupted; the email may or may not have been sent")
	}
	if err != nil {
		return users.OutboxEmail{}, false, fmt.Errorf("claim email %s: %w", id, err)
	}
	var rec outboxRecord
	if err := attributevalue.UnmarshalMap(out.Attributes, &rec); err != nil {
		return users.OutboxEmail{}, false, err
	}
	return rec.domain(), true, nil
}

// ReleaseEmail gives a claimed email back to the queue after a failure that
// is worth retrying (SES throttled or answered 5xx: it did not take it).
func (s *Store) ReleaseEmail(ctx context.Context, e users.OutboxEmail) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(emailPK(e.ID), skEmail),
		UpdateExpression:         aws.String("SET #s = :queued REMOVE leaseUntil, claim"),
		ConditionExpression:      aws.String("#s = :sending AND claim = :claim"),
		ExpressionAttributeNames: map[string]string{"#s": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":sending": str(users.EmailSending), ":queued": str(users.EmailQueued), ":claim": str(e.Claim),
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil // released already (a repeat), or no longer ours
	}
	if err != nil {
		return fmt.Errorf("release email %s: %w", e.ID, err)
	}
	return nil
}

// FinishEmail records the outcome on the email (dropping the data it no
// longer needs, such as a sealed token) and on the member's lastEmail,
// unless a newer email to that member has been queued since. It is
// conditional on the claim still being e's (or on nobody holding one, for
// an email found abandoned), so it never overwrites another worker's
// outcome; repeating it is harmless.
func (s *Store) FinishEmail(ctx context.Context, e users.OutboxEmail, state, messageID, reason string) error {
	now := s.now()
	vals := map[string]types.AttributeValue{":state": str(state), ":at": str(fmtTime(now)), ":sending": str(users.EmailSending), ":claim": str(e.Claim)}
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
		UpdateExpression:                    aws.String(set + " REMOVE #d, leaseUntil"),
		ConditionExpression:                 aws.String("#s = :sending AND claim = :claim"),
		ExpressionAttributeNames:            map[string]string{"#s": "state", "#d": "data"},
		ExpressionAttributeValues:           vals,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		var rec outboxRecord
		if ccf.Item != nil {
			_ = attributevalue.UnmarshalMap(ccf.Item, &rec)
		}
		if rec.State != state || rec.Claim != e.Claim {
			return nil // another worker decided this email's outcome
		}
		// Our own update, applied by an attempt whose answer was lost:
		// go on to the member.
	} else if err != nil {
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
	if errors.As(err, &ccf) {
		return nil // removed, or a newer email is the one to show
	}
	if err != nil {
		return fmt.Errorf("record email state on member %s: %w", e.MemberID, err)
	}
	return nil
}

// QueueEmail writes an email that no member change causes (the usage
// report an admin asks for), with its audit entry, in one transaction.
func (s *Store) QueueEmail(ctx context.Context, e users.Email, audit users.AuditEntry) error {
	item, err := s.outboxItem(e, s.now())
	if err != nil {
		return err
	}
	tx := &txn{}
	tx.put("email", s.table, item, notExists, nil)
	if err := s.addAudit(tx, "audit", audit); err != nil {
		return err
	}
	f, err := s.commit(ctx, tx)
	if err != nil {
		return fmt.Errorf("queue email: %w", err)
	}
	if len(f) > 0 {
		return fmt.Errorf("queue email %s: conditions failed on %v", e.ID, f)
	}
	return nil
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func num(n int) types.AttributeValue { return &types.AttributeValueMemberN{Value: fmt.Sprint(n)} }
