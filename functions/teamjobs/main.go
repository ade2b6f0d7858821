// Command teamjobs is the TeamJobsFunction Lambda: it runs the team-wide
// resends that the table's stream brings, wiring only.
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/lambdaapp"
	"github.com/teamusers/usersapi/internal/secretstore"
	"github.com/teamusers/usersapi/internal/usecase"
)

func main() {
	app := lambdaapp.MustLoad()
	// Resending invitations seals new tokens: it reads the application secret.
	svc := usecase.Service{Store: app.Store, Tokens: secretstore.MustLoad(app).Sealer("invitation-token"), Policy: app.Config.Policy, Now: time.Now}
	jobs := usecase.NewJobs(svc, app.Store, app.Log)
	jobs.Metrics = app.Metrics
	lambda.Start(dynamo.JobStream(jobs.Run, app.Log))
}
