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

// Job is a team-wide action run in the background from the table's stream,
// in bounded steps with a checkpoint.
type Job struct {
	ID          string `dynamodbav:"jobId"`
	TeamID      string `dynamodbav:"teamId"`
	Kind        string `dynamodbav:"kind"`
	RequestedBy string `dynamodbav:"requestedBy"`
	State       string `dynamodbav:"state"` // queued, running, done
	Position    string `dynamodbav:"position,omitempty"`
	Expected    int    `dynamodbav:"expected"`
	Done        int    `dynamodbav:"done"`
	Skipped     int    `dynamodbav:"skipped"`
	Step        int    `dynamodbav:"step"` // bumped to hand the job to a fresh invocation
	CreatedAt   string `dynamodbav:"createdAt"`
}

type jobRecord struct {
	PK   string `dynamodbav:"PK"`
	SK   string `dynamodbav:"SK"`
	Type string `dynamodbav:"type"`
	TTL  int64  `dynamodbav:"ttl"`
	Job
}

// CreateJob writes a new job; its stream record starts it.
func (s *Store) CreateJob(ctx context.Context, j Job) error {
	now := s.now()
	j.CreatedAt = fmtTime(now)
	item, err := attributevalue.MarshalMap(jobRecord{PK: jobPK(j.ID), SK: skJob, Type: "job", TTL: now.Add(outboxRetention).Unix(), Job: j})
	if err != nil {
		return err
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}); err != nil {
		return fmt.Errorf("create job: %w", err)
	}
	return nil
}

// GetJob reads a job.
func (s *Store) GetJob(ctx context.Context, id string) (Job, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(jobPK(id), skJob), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Job{}, fmt.Errorf("get job %s: %w", id, err)
	}
	if out.Item == nil {
		return Job{}, users.Errorf(users.KindNotFound, "job_not_found", "No such job.")
	}
	var r jobRecord
	if err := attributevalue.UnmarshalMap(out.Item, &r); err != nil {
		return Job{}, err
	}
	return r.Job, nil
}

// ErrJobMoved means another run advanced the job first.
var ErrJobMoved = errors.New("job checkpoint moved")

// SaveJob checkpoints a job, conditional on the position the run started
// from, so two runs of one job never both advance it.
func (s *Store) SaveJob(ctx context.Context, j Job, from string) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(jobPK(j.ID), skJob),
		UpdateExpression:         aws.String("SET #st = :st, #pos = :pos, #done = :done, skipped = :sk, step = :step"),
		ConditionExpression:      aws.String("attribute_not_exists(#pos) AND :from = :empty OR #pos = :from"),
		ExpressionAttributeNames: map[string]string{"#st": "state", "#pos": "position", "#done": "done"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":st": str(j.State), ":pos": str(j.Position), ":done": num(j.Done), ":sk": num(j.Skipped), ":step": num(j.Step),
			":from": str(from), ":empty": str(""),
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrJobMoved
	}
	if err != nil {
		return fmt.Errorf("save job %s: %w", j.ID, err)
	}
	return nil
}
