// Command teamjobs is the TeamJobsFunction Lambda: it runs the team-wide
// resends that the table's stream brings, wiring only.
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/teamusers/usersapi/internal/lambdaapp"
	"github.com/teamusers/usersapi/internal/roster"
	"github.com/teamusers/usersapi/internal/secrets"
)

func main() {
	app := lambdaapp.MustLoad()
	// Resending invitations seals new tokens: it reads the application secret.
	svc := roster.Service{Store: app.Store, Tokens: secrets.MustLoad(app).Sealer("invitation-token"), Policy: app.Config.Policy, Now: time.Now}
	jobs := roster.NewJobs(svc, app.Store, app.Log)
	jobs.Metrics = app.Metrics
	lambda.Start(jobs.HandleStream)
}
