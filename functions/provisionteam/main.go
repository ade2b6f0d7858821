// Command provisionteam is the ProvisionTeamFunction Lambda that the billing
// system invokes directly: wiring only.
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/teamusers/usersapi/internal/lambdaapp"
	"github.com/teamusers/usersapi/internal/provisioning"
)

func main() {
	app := lambdaapp.MustLoad()
	lambda.Start(provisioning.Service{Store: app.Store, Now: time.Now}.Handle)
}
