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

// A team job (the Section 1 buttons) runs from the table's stream in
// bounded steps, checkpointing its position on the job item.
type jobRecord struct {
	PK          string         `dynamodbav:"PK"`
	SK          string         `dynamodbav:"SK"`
	Type        string         `dynamodbav:"type"`
	TTL         int64          `dynamodbav:"ttl"`
	ID          string         `dynamodbav:"jobId"`
	TeamID      string         `dynamodbav:"teamId"`
	TeamName    string         `dynamodbav:"teamName,omitempty"`
	Kind        string         `dynamodbav:"kind"`
	RequestedBy string         `dynamodbav:"requestedBy"`
	State       string         `dynamodbav:"state"`
	Position    string         `dynamodbav:"position,omitempty"`
	Expected    int            `dynamodbav:"expected"`
	Done        int            `dynamodbav:"done"`
	Skipped     int            `dynamodbav:"skipped"`
	Reasons     map[string]int `dynamodbav:"reasons,omitempty"`
	Failed      int            `dynamodbav:"failed"`
	Step        int            `dynamodbav:"step"`
	CreatedAt   string         `dynamodbav:"createdAt"`
	Saved       string         `dynamodbav:"saved,omitempty"` // the id of the last checkpoint written
}

func (r jobRecord) domain() users.Job {
	return users.Job{ID: r.ID, TeamID: r.TeamID, TeamName: r.TeamName, Kind: r.Kind, RequestedBy: r.RequestedBy, State: r.State, Position: r.Position,
		Expected: r.Expected, Done: r.Done, Skipped: r.Skipped, Reasons: r.Reasons, Failed: r.Failed, Step: r.Step, CreatedAt: parseTime(r.CreatedAt)}
}

// CreateJob writes a new job; its stream record starts it.
func (s *Store) CreateJob(ctx context.Context, j users.Job) error {
	now := s.now()
	item, err := attributevalue.MarshalMap(jobRecord{PK: jobPK(j.ID), SK: skJob, Type: "job", TTL: now.Add(outboxRetention).Unix(),
		ID: j.ID, TeamID: j.TeamID, TeamName: j.TeamName, Kind: j.Kind, RequestedBy: j.RequestedBy, State: j.State, Expected: j.Expected, CreatedAt: fmtTime(now)})
	if err != nil {
		return err
	}
	if err := s.putNew(ctx, item); err != nil {
		return fmt.Errorf("create job: %w", err)
	}
	return nil
}

// GetJob reads a job.
func (s *Store) GetJob(ctx context.Context, id string) (users.Job, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(jobPK(id), skJob), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return users.Job{}, fmt.Errorf("get job %s: %w", id, err)
	}
	if out.Item == nil {
		return users.Job{}, users.Errorf(users.KindNotFound, "job_not_found", "No such job.")
	}
	var r jobRecord
	if err := attributevalue.UnmarshalMap(out.Item, &r); err != nil {
		return users.Job{}, err
	}
	return r.domain(), nil
}

// SaveJob checkpoints a job, conditional on the position the run started
// from, so two runs of one job never both advance it (users.ErrJobMoved).
// Each checkpoint has an id of its own, so the repeat of a checkpoint whose
// answer was lost is known as ours.
func (s *Store) SaveJob(ctx context.Context, j users.Job, from string) error {
	saved := requestToken()
	reasons, err := attributevalue.Marshal(j.Reasons)
	if err != nil {
		return err
	}
	if j.Reasons == nil {
		reasons = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(jobPK(j.ID), skJob),
		UpdateExpression:         aws.String("SET #st = :st, #pos = :pos, #done = :done, skipped = :sk, failed = :failed, reasons = :reasons, step = :step, saved = :saved"),
		ConditionExpression:      aws.String("attribute_not_exists(#pos) AND :from = :empty OR #pos = :from"),
		ExpressionAttributeNames: map[string]string{"#st": "state", "#pos": "position", "#done": "done"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":st": str(j.State), ":pos": str(j.Position), ":done": num(j.Done), ":sk": num(j.Skipped), ":step": num(j.Step),
			":from": str(from), ":empty": str(""), ":saved": str(saved), ":failed": num(j.Failed), ":reasons": reasons,
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		var r jobRecord
		if ccf.Item != nil {
			_ = attributevalue.UnmarshalMap(ccf.Item, &r)
		}
		if r.Saved == saved {
			return nil
		}
		return users.ErrJobMoved
	}
	if err != nil {
		return fmt.Errorf("save job %s: %w", j.ID, err)
	}
	return nil
}
