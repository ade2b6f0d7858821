// Command teamjobs is the TeamJobsFunction Lambda: it runs the team-wide
// resends that the table's stream brings, wiring only.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/teamusers/usersapi/internal/lambdaapp"
)

func main() {
	app := lambdaapp.MustLoad()
	lambda.Start(app.Deps().Jobs.HandleStream)
}
