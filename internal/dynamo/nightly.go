package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/internal/users"
)

// The nightly job's side of the store. Every item that will change by time
// alone (a member whose bucket will step down, whose invitation will
// expire, whose activity will become old enough to archive; a sign-in that
// will become old enough to archive) carries duePK/dueSK in the sparse
// ByDue index: the instant it changes, in one of dueShards partitions. The
// job reads each shard up to "now" and nothing else.

// WithArchive names the archive table of old sign-ins.
func (s *Store) WithArchive(table string) *Store {
	c := s.clone()
	c.archive = table
	return c
}

type dueRecord struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	Type       string `dynamodbav:"type"`
	TeamID     string `dynamodbav:"teamId"`
	MemberID   string `dynamodbav:"memberId"`
	At         string `dynamodbav:"at"`
	AppVersion string `dynamodbav:"appVersion,omitempty"`
	Device     string `dynamodbav:"device,omitempty"`
}

// DueItems reads one page of a shard's items due by the store's now,
// starting after `after` (an opaque position, "" for the first page); the
// returned position is "" after the last page.
func (s *Store) DueItems(ctx context.Context, shard int, after string, limit int32) ([]users.DueItem, string, error) {
	start, err := decodePosition(after)
	if err != nil {
		return nil, "", err
	}
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(indexByDue),
		KeyConditionExpression: aws.String("duePK = :pk AND dueSK <= :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(duePK(shard)), ":now": str(fmtTime(s.now()) + "#~"),
		},
		Limit: aws.Int32(limit), ExclusiveStartKey: start,
	})
	if err != nil {
		return nil, "", fmt.Errorf("due items of shard %d: %w", shard, err)
	}
	s.itemsRead.Add(int64(out.ScannedCount))
	items := make([]users.DueItem, 0, len(out.Items))
	for _, it := range out.Items {
		var r dueRecord
		if err := attributevalue.UnmarshalMap(it, &r); err != nil {
			return nil, "", err
		}
		d := users.DueItem{Kind: r.Type, TeamID: r.TeamID, MemberID: r.MemberID}
		if r.Type == users.DueSignIn {
			d.SignIn = &users.SignIn{TeamID: r.TeamID, MemberID: r.MemberID, At: parseTime(r.At), AppVersion: r.AppVersion, Device: r.Device}
		}
		items = append(items, d)
	}
	next, err := encodePosition(out.LastEvaluatedKey)
	return items, next, err
}

// encodePosition makes an opaque position of a LastEvaluatedKey (all our
// keys are strings).
func encodePosition(k map[string]types.AttributeValue) (string, error) {
	if k == nil {
		return "", nil
	}
	m := make(map[string]string, len(k))
	for name, v := range k {
		sv, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			return "", fmt.Errorf("key attribute %s is not a string", name)
		}
		m[name] = sv.Value
	}
	b, err := json.Marshal(m)
	return string(b), err
}

func decodePosition(p string) (map[string]types.AttributeValue, error) {
	if p == "" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(p), &m); err != nil {
		return nil, fmt.Errorf("bad position: %w", err)
	}
	k := make(map[string]types.AttributeValue, len(m))
	for name, v := range m {
		k[name] = str(v)
	}
	return k, nil
}

// AgeMember moves a member to where time has taken them as of the store's
// now. It reports whether it wrote anything; a member changed or removed
// since the queue was read is handled from its current state.
func (s *Store) AgeMember(ctx context.Context, teamID, memberID string) (bool, error) {
	_, changed, err := s.UpdateMember(ctx, teamID, memberID, users.AgeRule(s.now(), s.retention, s.zone))
	if errors.Is(err, users.ErrMemberNotFound) {
		return false, nil
	}
	return changed, err
}

// signInExpiry is when a sign-in at `at` leaves the main table: the end
// of its retention, as DynamoDB's TTL reads it (epoch seconds).
func signInExpiry(at time.Time, retention time.Duration) int64 {
	return at.Add(retention).Unix()
}

// expired reports whether an item's TTL instant has come: DynamoDB deletes
// such items within days, not at once, so reads leave them out.
func expired(it map[string]types.AttributeValue, now time.Time) bool {
	n, ok := it[attrTTL].(*types.AttributeValueMemberN)
	if !ok {
		return false
	}
	ttl, err := strconv.ParseInt(n.Value, 10, 64)
	return err == nil && ttl <= now.Unix()
}

// ExpiredSignIn reads a record of the table's stream: it is a sign-in that
// DynamoDB's TTL deleted (a REMOVE done by the service itself, of a
// SIGNIN# key) when ok, and then the sign-in as it was. The stream's
// filter (the template's FilterCriteria) lets only those through; this is
// the same test, so nothing else is ever archived.
func ExpiredSignIn(rec events.DynamoDBEventRecord) (users.SignIn, bool) {
	u := rec.UserIdentity
	if rec.EventName != "REMOVE" || u == nil || u.Type != "Service" || u.PrincipalID != "dynamodb.amazonaws.com" {
		return users.SignIn{}, false
	}
	if _, ok := idWithPrefix(rec, "SIGNIN#"); !ok {
		return users.SignIn{}, false
	}
	img := rec.Change.OldImage
	text := func(name string) string {
		if v, ok := img[name]; ok && v.DataType() == events.DataTypeString {
			return v.String()
		}
		return ""
	}
	in := users.SignIn{TeamID: text("teamId"), MemberID: text("memberId"), At: parseTime(text("at")), AppVersion: text("appVersion"), Device: text("device")}
	if in.TeamID == "" || in.MemberID == "" || in.At.IsZero() {
		return users.SignIn{}, false
	}
	return in, true
}

// ArchiveSignIn writes a sign-in to the archive table (the same keys, and
// when it was archived). DynamoDB's TTL deleted it from the main table;
// the put is idempotent, so the stream's retries are harmless.
func (s *Store) ArchiveSignIn(ctx context.Context, in users.SignIn) error {
	if s.archive == "" {
		return fmt.Errorf("no archive table configured")
	}
	rec := signInRecord{PK: signInPK(in.TeamID, in.MemberID), SK: fmtTime(in.At), Type: "signin", TeamID: in.TeamID, MemberID: in.MemberID,
		At: fmtTime(in.At), AppVersion: in.AppVersion, Device: in.Device}
	item, err := attributevalue.MarshalMap(rec)
	if err != nil {
		return err
	}
	item["archivedAt"] = str(fmtTime(s.now()))
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.archive, Item: item}); err != nil {
		return fmt.Errorf("archive sign-in %s: %w", rec.SK, err)
	}
	return nil
}

// RetireQueuedSignIn takes a sign-in written before sign-ins expired by
// TTL (when the nightly job archived them, item by item, from its queue)
// out of the queue and gives it its TTL, so that DynamoDB deletes it and
// the stream archives it like any other. A sign-in gone since is done.
func (s *Store) RetireQueuedSignIn(ctx context.Context, in users.SignIn) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(signInPK(in.TeamID, in.MemberID), fmtTime(in.At)),
		UpdateExpression:          aws.String("SET #ttl = if_not_exists(#ttl, :ttl) REMOVE #p, #s"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeNames:  map[string]string{"#ttl": attrTTL, "#p": attrDuePK, "#s": attrDueSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":ttl": num(int(signInExpiry(in.At, s.retention)))},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("retire sign-in %s: %w", fmtTime(in.At), err)
	}
	return nil
}

// SignIns lists a member's sign-ins in the main table and in the archive.
func (s *Store) SignIns(ctx context.Context, teamID, memberID string) (main, archived []users.SignIn, err error) {
	for _, t := range []struct {
		table string
		out   *[]users.SignIn
	}{{s.table, &main}, {s.archive, &archived}} {
		var start map[string]types.AttributeValue
		for {
			out, err := s.db.Query(ctx, &dynamodb.QueryInput{
				TableName: aws.String(t.table), KeyConditionExpression: aws.String("PK = :pk"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(signInPK(teamID, memberID))},
				ExclusiveStartKey:         start,
			})
			if err != nil {
				return nil, nil, err
			}
			for _, it := range out.Items {
				if t.table == s.table && expired(it, s.now()) {
					continue // past its retention: DynamoDB deletes it and the archive gets it
				}
				var r signInRecord
				if err := attributevalue.UnmarshalMap(it, &r); err != nil {
					return nil, nil, err
				}
				*t.out = append(*t.out, r.domain())
			}
			if start = out.LastEvaluatedKey; start == nil {
				break
			}
		}
	}
	return main, archived, nil
}
