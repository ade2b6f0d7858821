// Command deliveremail is the DeliverEmailFunction Lambda: it sends the
// outbox emails that the table's stream brings, wiring only.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/teamusers/usersapi/internal/lambdaapp"
)

func main() {
	app := lambdaapp.MustLoad()
	d := lambdaapp.NewDeliverer(app.Store, lambdaapp.NewSES(app.AWS, app.Config.SESEndpoint), app.Config, app.Log)
	lambda.Start(d.HandleStream)
}
