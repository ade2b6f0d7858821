// Command emailevents is the EmailEventsFunction Lambda: SES's bounce and
// complaint events, routed by EventBridge from the configuration set's event
// destination, recorded on the member they concern. Wiring only.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/teamusers/usersapi/internal/delivery"
	"github.com/teamusers/usersapi/internal/lambdaapp"
)

func main() {
	app := lambdaapp.MustLoad()
	lambda.Start(delivery.NewEvents(app.Store, app.Log, app.Metrics).Handle)
}
