// Command deliveremail is the DeliverEmailFunction Lambda: it sends the
// outbox emails that the table's stream brings, wiring only.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/teamusers/usersapi/internal/lambdaapp"
	"github.com/teamusers/usersapi/internal/mail"
	"github.com/teamusers/usersapi/internal/secrets"
)

func main() {
	app := lambdaapp.MustLoad()
	c := app.Config
	settings := mail.Settings{From: c.MailFrom, Links: mail.Links{AcceptURL: c.AcceptURL, DownloadURL: c.DownloadURL}, SendRate: c.SendRate}
	d := mail.NewDeliverer(app.Store, mail.NewSESClient(app.AWS, c.SESEndpoint), settings, secrets.MustLoad(app), app.Log, app.Metrics)
	lambda.Start(d.HandleStream)
}
