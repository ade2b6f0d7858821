// Command nightly is the NightlyFunction Lambda, run by EventBridge
// Scheduler: wiring only. A run that nears its timeout hands the rest to a
// fresh invocation of itself with the same instant; the run that reaches
// the end of the queue records NightlyRunsCompleted (its absence for a day
// raises an alarm) and the run's duration.
package main

import (
	"context"
	"encoding/json"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/teamusers/usersapi/internal/awsapi"
	"github.com/teamusers/usersapi/internal/lambdaapp"
	"github.com/teamusers/usersapi/internal/metrics"
	"github.com/teamusers/usersapi/internal/nightly"
)

// Event is the schedule's input; At is set when a run hands on.
type Event struct {
	At *time.Time `json:"at,omitempty"`
}

func main() {
	app := lambdaapp.MustLoad()
	invoker := awsapi.New(app.AWS, "lambda", os.Getenv("LAMBDA_ENDPOINT"))
	self := os.Getenv("AWS_LAMBDA_FUNCTION_NAME")
	m := app.Metrics
	lambda.Start(func(ctx context.Context, ev Event) (nightly.Result, error) {
		at := time.Now().UTC()
		if ev.At != nil {
			at = *ev.At
		}
		res, err := nightly.New(app.Store, app.Config.Retention, at).WithShardsBefore(app.Config.DueShardsBefore).Run(ctx)
		m.Count(metrics.NightlyMembersChanged, int(res.MembersChanged))
		if err != nil {
			return res, err
		}
		if res.Done {
			m.Count(metrics.NightlyRunsCompleted, 1)
			m.Duration(metrics.NightlyRunDuration, time.Since(at))
			app.Log.InfoContext(ctx, "nightly run finished", "at", at, "membersChanged", res.MembersChanged, "signInsRetired", res.SignInsRetired)
			return res, nil
		}
		payload, _ := json.Marshal(Event{At: &at})
		err = invoker.InvokeAsync(context.WithoutCancel(ctx), self, payload)
		app.Log.InfoContext(ctx, "nightly handed on", "at", at, "membersChanged", res.MembersChanged, "signInsRetired", res.SignInsRetired)
		return res, err
	})
}
