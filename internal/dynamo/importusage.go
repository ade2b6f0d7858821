package dynamo

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DayUsage is one member's calls on one day (YYYY-MM-DD, UTC).
type DayUsage struct {
	MemberID string
	Day      string
	Calls    int
	Seconds  int
}

// ImportUsage bulk-loads usage items (the demo seed, a migration): the
// items RecordActivity adds calls to, written whole in batches of 25. It
// replaces what those days held, so it is for days nobody else writes.
func (s *Store) ImportUsage(ctx context.Context, teamID string, days []DayUsage) error {
	writes := make([]types.WriteRequest, 0, len(days))
	for _, d := range days {
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
			attrPK: str(usagePK(teamID, d.MemberID)), attrSK: str(d.Day), "type": str("usage"),
			"teamId": str(teamID), "memberId": str(d.MemberID), "day": str(d.Day),
			"calls": &types.AttributeValueMemberN{Value: strconv.Itoa(d.Calls)}, "seconds": &types.AttributeValueMemberN{Value: strconv.Itoa(d.Seconds)},
		}}})
	}
	if err := s.batchWrite(ctx, writes); err != nil {
		return fmt.Errorf("import usage into %s: %w", teamID, err)
	}
	return nil
}
