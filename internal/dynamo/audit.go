package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/internal/users"
)

// Audit entries (keys in keys.go): one partition per team, sorted by time,
// kept the retention period (TTL). An entry about a member also carries the
// keys of the sparse ByAuditTarget index, so one member's history is read
// without reading the team's.

type auditRecord struct {
	PK          string            `dynamodbav:"PK"`
	SK          string            `dynamodbav:"SK"`
	Type        string            `dynamodbav:"type"`
	ID          string            `dynamodbav:"auditId"`
	TeamID      string            `dynamodbav:"teamId"`
	At          string            `dynamodbav:"at"`
	ActorKind   string            `dynamodbav:"actorKind"`
	ActorEmail  string            `dynamodbav:"actorEmail,omitempty"`
	ActorRole   string            `dynamodbav:"actorRole,omitempty"`
	ActorName   string            `dynamodbav:"actorName,omitempty"`
	Action      string            `dynamodbav:"action"`
	TargetID    string            `dynamodbav:"targetId,omitempty"`
	TargetEmail string            `dynamodbav:"targetEmail,omitempty"`
	Detail      map[string]string `dynamodbav:"detail,omitempty"`
	RequestID   string            `dynamodbav:"requestId,omitempty"`
	SourceIP    string            `dynamodbav:"sourceIp,omitempty"`
	Via         string            `dynamodbav:"via,omitempty"`
	Result      string            `dynamodbav:"result"`
	TTL         int64             `dynamodbav:"ttl"`

	AuditTarget string `dynamodbav:"auditTarget,omitempty"` // ByAuditTarget: <teamId>#<memberId>
	AuditSK     string `dynamodbav:"auditSK,omitempty"`
}

// DefaultAuditRetention is how long entries are kept unless configured.
const DefaultAuditRetention = 365 * 24 * time.Hour

// WithAuditRetention returns a store that keeps audit entries for d.
func (s *Store) WithAuditRetention(d time.Duration) *Store {
	c := s.clone()
	c.auditRetention = d
	return c
}

func (s *Store) auditItem(e users.AuditEntry) (map[string]types.AttributeValue, error) {
	retention := s.auditRetention
	if retention == 0 {
		retention = DefaultAuditRetention
	}
	r := auditRecord{PK: auditPK(e.TeamID), SK: auditSK(e.At, e.ID), Type: "audit", ID: e.ID, TeamID: e.TeamID, At: fmtTime(e.At),
		ActorKind: e.Actor.Kind, ActorEmail: e.Actor.Email, ActorRole: string(e.Actor.Role), ActorName: e.Actor.Name,
		Action: e.Action, TargetID: e.TargetID, TargetEmail: e.TargetEmail, Detail: e.Detail,
		RequestID: e.Request.ID, SourceIP: e.Request.SourceIP, Via: e.Request.Via, Result: e.Result, TTL: e.At.Add(retention).Unix()}
	if e.TargetID != "" {
		r.AuditTarget, r.AuditSK = auditTargetPK(e.TeamID, e.TargetID), r.SK
	}
	return attributevalue.MarshalMap(r)
}

func (r auditRecord) domain() users.AuditEntry {
	return users.AuditEntry{ID: r.ID, TeamID: r.TeamID, At: parseTime(r.At),
		Actor:  users.Actor{Kind: r.ActorKind, Email: r.ActorEmail, Role: users.Role(r.ActorRole), Name: r.ActorName},
		Action: r.Action, TargetID: r.TargetID, TargetEmail: r.TargetEmail, Detail: r.Detail,
		Request: users.AuditRequest{ID: r.RequestID, SourceIP: r.SourceIP, Via: r.Via}, Result: r.Result}
}

// addAudit puts the entry in the transaction of the change it records.
func (s *Store) addAudit(tx *txn, name string, e users.AuditEntry) error {
	item, err := s.auditItem(e)
	if err != nil {
		return err
	}
	tx.put(name, s.table, item, notExists, nil)
	return nil
}

// RecordAudit writes an entry for something that changes nothing in the
// table (a report downloaded).
func (s *Store) RecordAudit(ctx context.Context, e users.AuditEntry) error {
	item, err := s.auditItem(e)
	if err != nil {
		return err
	}
	if err := s.putNew(ctx, item); err != nil {
		return fmt.Errorf("record audit entry: %w", err)
	}
	return nil
}

// AuditLog reads one page of a team's audit log, newest first, and the
// position after it ("" on the last page). A member's history reads the
// ByAuditTarget index; actor and action are filters within the time
// range, so a page may hold fewer entries than asked (it stops after
// reading a bounded number) and still have a next one.
func (s *Store) AuditLog(ctx context.Context, teamID string, q users.AuditQuery) ([]users.AuditEntry, string, error) {
	lo, hi := minKey, maxKey
	if !q.From.IsZero() {
		lo = fmtTime(q.From)
	}
	if !q.To.IsZero() {
		hi = fmtTime(q.To) + "#~"
	}
	in := &dynamodb.QueryInput{TableName: &s.table, ScanIndexForward: aws.Bool(false)}
	vals := map[string]types.AttributeValue{":lo": str(lo), ":hi": str(hi)}
	names := map[string]string{}
	if q.TargetID != "" {
		in.IndexName = aws.String(indexByAuditTarget)
		in.KeyConditionExpression = aws.String("auditTarget = :pk AND auditSK BETWEEN :lo AND :hi")
		vals[":pk"] = str(auditTargetPK(teamID, q.TargetID))
	} else {
		in.KeyConditionExpression = aws.String("PK = :pk AND SK BETWEEN :lo AND :hi")
		vals[":pk"] = str(auditPK(teamID))
	}
	var filters []string
	if q.Actor != "" {
		filters = append(filters, "actorEmail = :actor")
		vals[":actor"] = str(q.Actor)
	}
	if q.Action != "" {
		filters = append(filters, "#action = :action")
		names["#action"] = "action"
		vals[":action"] = str(q.Action)
	}
	if len(filters) > 0 {
		f := filters[0]
		for _, more := range filters[1:] {
			f += " AND " + more
		}
		in.FilterExpression = aws.String(f)
	}
	if len(names) > 0 {
		in.ExpressionAttributeNames = names
	}
	in.ExpressionAttributeValues = vals
	var out []users.AuditEntry
	after := q.After
	// A filtered page reads at most this many entries before it answers.
	const maxRead = 1000
	read := 0
	for {
		if after != "" {
			start := map[string]types.AttributeValue{attrPK: str(auditPK(teamID)), attrSK: str(after)}
			if q.TargetID != "" {
				start["auditTarget"], start["auditSK"] = str(auditTargetPK(teamID, q.TargetID)), str(after)
			}
			in.ExclusiveStartKey = start
		}
		n := q.Limit - len(out)
		if in.FilterExpression != nil {
			n = min(max(n, 100), maxRead-read)
		}
		in.Limit = aws.Int32(int32(n))
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("audit log of %s: %w", teamID, err)
		}
		s.itemsRead.Add(int64(page.ScannedCount))
		read += int(page.ScannedCount)
		for i, it := range page.Items {
			var r auditRecord
			if err := attributevalue.UnmarshalMap(it, &r); err != nil {
				return nil, "", err
			}
			out = append(out, r.domain())
			if len(out) == q.Limit {
				if i < len(page.Items)-1 || page.LastEvaluatedKey != nil {
					return out, r.SK, nil
				}
				return out, "", nil
			}
		}
		if page.LastEvaluatedKey == nil {
			return out, "", nil
		}
		if sk, ok := page.LastEvaluatedKey[attrSK].(*types.AttributeValueMemberS); ok {
			after = sk.Value
		}
		if read >= maxRead {
			return out, after, nil
		}
	}
}
