package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/internal/users"
)

// ImportMembers bulk-loads members into a team that nobody else is writing
// to (a migration, a benchmark): items in batches of 25, then one counter
// update that is refused if the team lacks the seats. Unlike AddMember it
// does not guard each email with a transaction, so the caller must give
// distinct emails that are not in the team yet.
func (s *Store) ImportMembers(ctx context.Context, teamID string, ms []users.Member) error {
	var total users.Counters
	facets := map[users.Facet]int{}
	var writes []types.WriteRequest
	now := s.now()
	for _, m := range ms {
		m.TeamID = teamID
		m.LastCall = users.BucketFor(m.Status, m.LastActiveAt, now, s.zone)
		items, err := marshalAll(s.memberRecordOf(m), newMembershipRecord(m))
		if err != nil {
			return err
		}
		for _, it := range items {
			writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		facets[users.FacetOf(m)]++
		d := users.CounterDelta("", m.Status)
		total.Assigned += d.Assigned
		total.PendingInvitations += d.PendingInvitations
		total.NeverUsedApp += d.NeverUsedApp
	}
	// Take the seats first, so a team without room gets nothing.
	team, err := s.GetTeam(ctx, teamID)
	if err != nil {
		return err
	}
	if err := team.CheckFreeSeats(total.Assigned); err != nil {
		return err
	}
	it, _ := s.counterUpdate(teamID, total, facets, team.Seats)
	upd := it.Update
	if _, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: upd.TableName, Key: upd.Key, UpdateExpression: upd.UpdateExpression,
		ConditionExpression: upd.ConditionExpression, ExpressionAttributeValues: upd.ExpressionAttributeValues,
		ExpressionAttributeNames: upd.ExpressionAttributeNames,
	}); err != nil {
		return fmt.Errorf("import into %s: reserve %d seats: %w", teamID, total.Assigned, err)
	}
	if err := s.batchWrite(ctx, writes); err != nil {
		return fmt.Errorf("import into %s: %w", teamID, err)
	}
	return nil
}

// batchWrite writes items 25 to a request, asking again for what DynamoDB
// leaves unprocessed.
func (s *Store) batchWrite(ctx context.Context, writes []types.WriteRequest) error {
	for len(writes) > 0 {
		n := min(25, len(writes))
		req := map[string][]types.WriteRequest{s.table: writes[:n]}
		for attempt := 0; len(req) > 0; attempt++ {
			if err := s.unprocessedPause(ctx, attempt); err != nil {
				return err
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: req})
			if err != nil {
				return err
			}
			req = out.UnprocessedItems
		}
		writes = writes[n:]
	}
	return nil
}
