// Command deliveremail is the DeliverEmailFunction Lambda: it sends the
// outbox emails that the table's stream brings, wiring only.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/teamusers/usersapi/internal/delivery"
	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/emails"
	"github.com/teamusers/usersapi/internal/lambdaapp"
	"github.com/teamusers/usersapi/internal/secretstore"
)

func main() {
	app := lambdaapp.MustLoad()
	c := app.Config
	s := delivery.Settings{From: c.MailFrom, ConfigurationSet: c.ConfigurationSet, SendRate: c.SendRate, Links: emails.Links{AcceptURL: c.AcceptURL, DownloadURL: c.DownloadURL, DownloadWindowsURL: c.DownloadWindowsURL, DownloadMacURL: c.DownloadMacURL},
		Brand: emails.Brand{Product: c.ProductName, LogoURL: c.LogoURL, Accent: c.AccentColor, SenderName: c.MailSenderName}}
	d := delivery.NewDeliverer(app.Store, app.Store, app.Store.SendSlots("ses", s.SendRate), delivery.NewSESClient(app.AWS, c.SESEndpoint), s, secretstore.MustLoad(app), app.Log, app.Metrics)
	lambda.Start(dynamo.EmailStream(d.Deliver, app.Log))
}
