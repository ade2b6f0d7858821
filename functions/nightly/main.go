// Command nightly is the NightlyFunction Lambda, run by EventBridge
// Scheduler: wiring only. A run that nears its timeout hands the rest to a
// fresh invocation of itself with the same instant.
package main

import (
	"context"
	"encoding/json"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/teamusers/usersapi/internal/lambdaapp"
	"github.com/teamusers/usersapi/internal/nightly"
)

// Event is the schedule's input; At is set when a run hands on.
type Event struct {
	At *time.Time `json:"at,omitempty"`
}

func main() {
	app := lambdaapp.MustLoad()
	invoker := awslambda.NewFromConfig(app.AWS)
	self := os.Getenv("AWS_LAMBDA_FUNCTION_NAME")
	lambda.Start(func(ctx context.Context, ev Event) (nightly.Result, error) {
		at := time.Now().UTC()
		if ev.At != nil {
			at = *ev.At
		}
		res, err := lambdaapp.NewNightly(app.Store, app.Config, at).Run(ctx)
		if err != nil || res.Done {
			return res, err
		}
		payload, _ := json.Marshal(Event{At: &at})
		_, err = invoker.Invoke(context.WithoutCancel(ctx), &awslambda.InvokeInput{
			FunctionName: aws.String(self), InvocationType: types.InvocationTypeEvent, Payload: payload,
		})
		app.Log.InfoContext(ctx, "nightly handed on", "at", at, "membersChanged", res.MembersChanged, "signInsArchived", res.SignInsArchived)
		return res, err
	})
}
