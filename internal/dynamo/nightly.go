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

// The nightly job's side of the store. Every item that will change by time
// alone (a member whose bucket will step down, whose invitation will
// expire, whose activity will become old enough to archive; a sign-in that
// will become old enough to archive) carries duePK/dueSK in the sparse
// ByDue index: the instant it changes, in one of DueShards partitions. The
// job reads each shard up to "now" and nothing else.

// WithArchive names the archive table of old sign-ins.
func (s *Store) WithArchive(table string) *Store {
	c := *s.WithClock(s.now)
	c.archive = table
	return &c
}

// DueItem is one entry of the work queue.
type DueItem struct {
	PK       string `dynamodbav:"PK"`
	SK       string `dynamodbav:"SK"`
	Type     string `dynamodbav:"type"`
	TeamID   string `dynamodbav:"teamId"`
	MemberID string `dynamodbav:"memberId"`
	item     map[string]types.AttributeValue
}

// DueItems reads one page of a shard's items due by now.
func (s *Store) DueItems(ctx context.Context, shard int, start map[string]types.AttributeValue, limit int32) ([]DueItem, map[string]types.AttributeValue, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(indexByDue),
		KeyConditionExpression: aws.String("duePK = :pk AND dueSK <= :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(fmt.Sprintf("DUE#%02d", shard)), ":now": str(fmtTime(s.now()) + "#~"),
		},
		Limit: aws.Int32(limit), ExclusiveStartKey: start,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("due items of shard %d: %w", shard, err)
	}
	s.itemsRead.Add(int64(out.ScannedCount))
	items := make([]DueItem, len(out.Items))
	for i, it := range out.Items {
		if err := attributevalue.UnmarshalMap(it, &items[i]); err != nil {
			return nil, nil, err
		}
		items[i].item = it
	}
	return items, out.LastEvaluatedKey, nil
}

// AgeMember moves a member to where time has taken them as of the store's
// now. It reports whether it wrote anything; a member changed or removed
// since the queue was read is handled from its current state.
func (s *Store) AgeMember(ctx context.Context, teamID, memberID string) (bool, error) {
	now := s.now()
	_, err := s.mutate(ctx, teamID, memberID, func(m *memberRecord) (*memberRecord, []types.TransactWriteItem, error) {
		dm := m.domain()
		if !users.Age(&dm, now, s.retention) {
			return nil, nil, errUnchanged
		}
		return s.rebuilt(m, dm), nil, nil
	})
	switch {
	case errors.Is(err, errUnchanged), errors.Is(err, users.ErrMemberNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// rebuilt is the record of a changed member, keeping what the domain type
// does not carry.
func (s *Store) rebuilt(old *memberRecord, m users.Member) *memberRecord {
	r := s.memberRecordOf(m)
	r.PK, r.SK, r.Version, r.TokenHash = old.PK, old.SK, old.Version, old.TokenHash
	return &r
}

// ArchiveSignIn copies a sign-in to the archive table, then deletes it from
// the main table. The copy comes first and is idempotent, so a crash in
// between loses nothing and the next run finishes the move.
func (s *Store) ArchiveSignIn(ctx context.Context, d DueItem) error {
	if s.archive == "" {
		return fmt.Errorf("no archive table configured")
	}
	item := make(map[string]types.AttributeValue, len(d.item))
	for k, v := range d.item {
		if k != attrDuePK && k != attrDueSK {
			item[k] = v
		}
	}
	item["archivedAt"] = str(fmtTime(s.now()))
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.archive, Item: item}); err != nil {
		return fmt.Errorf("archive sign-in %s: %w", d.SK, err)
	}
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: key(d.PK, d.SK)})
	if err != nil {
		return fmt.Errorf("delete archived sign-in %s: %w", d.SK, err)
	}
	return nil
}

// SignIns lists a member's sign-ins in the main table and in the archive.
func (s *Store) SignIns(ctx context.Context, teamID, memberID string) (main, archived []SignIn, err error) {
	for _, t := range []struct {
		table string
		out   *[]SignIn
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
			var page []SignIn
			if err := attributevalue.UnmarshalListOfMaps(out.Items, &page); err != nil {
				return nil, nil, err
			}
			*t.out = append(*t.out, page...)
			if start = out.LastEvaluatedKey; start == nil {
				break
			}
		}
	}
	return main, archived, nil
}
