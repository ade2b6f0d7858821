package dynamo

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/internal/users"
)

// batchGet reads keys 100 at a time, four requests at once, retrying what
// DynamoDB leaves unprocessed, and hands every item to fn.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, projection string, fn func(map[string]types.AttributeValue) error) error {
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := 0; i < len(keys); i += 100 {
		chunk := keys[i:min(i+100, len(keys))]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ka := types.KeysAndAttributes{Keys: chunk}
			if projection != "" {
				ka.ProjectionExpression = aws.String(projection)
			}
			req := map[string]types.KeysAndAttributes{s.table: ka}
			for attempt := 0; len(req) > 0; attempt++ {
				if err := s.unprocessedPause(ctx, attempt); err != nil {
					mu.Lock()
					first = err
					mu.Unlock()
					return
				}
				out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
				mu.Lock()
				if err != nil {
					if first == nil {
						first = fmt.Errorf("batch get: %w", err)
					}
					mu.Unlock()
					return
				}
				for _, it := range out.Responses[s.table] {
					s.itemsRead.Add(1)
					if err := fn(it); err != nil && first == nil {
						first = err
					}
				}
				mu.Unlock()
				req = out.UnprocessedKeys
			}
		}()
	}
	wg.Wait()
	return first
}

// MemberIDsByEmail finds which emails are members of a team, reading one
// membership item per email: the cost follows the list, not the team.
func (s *Store) MemberIDsByEmail(ctx context.Context, teamID string, emails []string) (map[string]string, error) {
	keys := make([]map[string]types.AttributeValue, len(emails))
	for i, e := range emails {
		keys[i] = key(userPK(e), membershipSK(teamID))
	}
	out := make(map[string]string, len(emails))
	err := s.batchGet(ctx, keys, "PK, memberId", func(it map[string]types.AttributeValue) error {
		var r struct {
			PK       string `dynamodbav:"PK"`
			MemberID string `dynamodbav:"memberId"`
		}
		if err := attributevalue.UnmarshalMap(it, &r); err != nil {
			return err
		}
		out[emailOfUserPK(r.PK)] = r.MemberID
		return nil
	})
	return out, err
}

// GetMembers reads members of a team by id; ids that are not members are
// absent from the answer.
func (s *Store) GetMembers(ctx context.Context, teamID string, ids []string) (map[string]users.Member, error) {
	keys := make([]map[string]types.AttributeValue, len(ids))
	for i, id := range ids {
		keys[i] = key(teamPK(teamID), memberSK(id))
	}
	out := make(map[string]users.Member, len(ids))
	err := s.batchGet(ctx, keys, "", func(it map[string]types.AttributeValue) error {
		var r memberRecord
		if err := attributevalue.UnmarshalMap(it, &r); err != nil {
			return err
		}
		out[r.MemberID] = r.domain()
		return nil
	})
	return out, err
}

// UsageOf sums a member's usage items for the days from..to (YYYY-MM-DD,
// inclusive): one item read per day with calls, nothing for other days.
func (s *Store) UsageOf(ctx context.Context, teamID, memberID, from, to string) (users.Usage, error) {
	var u users.Usage
	var start map[string]types.AttributeValue
	for {
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 &s.table,
			KeyConditionExpression:    aws.String("PK = :pk AND SK BETWEEN :from AND :to"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(usagePK(teamID, memberID)), ":from": str(from), ":to": str(to)},
			ProjectionExpression:      aws.String("calls, seconds, lastAt"),
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return u, fmt.Errorf("usage of %s: %w", memberID, err)
		}
		s.itemsRead.Add(int64(out.ScannedCount))
		for _, it := range out.Items {
			var d struct {
				Calls   int    `dynamodbav:"calls"`
				Seconds int    `dynamodbav:"seconds"`
				LastAt  string `dynamodbav:"lastAt"`
			}
			if err := attributevalue.UnmarshalMap(it, &d); err != nil {
				return u, err
			}
			u.Calls += d.Calls
			u.Seconds += d.Seconds
			if at := parseTime(d.LastAt); at.After(u.LastCall) {
				u.LastCall = at
			}
		}
		if start = out.LastEvaluatedKey; start == nil {
			return u, nil
		}
	}
}
