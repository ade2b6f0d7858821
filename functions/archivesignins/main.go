// Command archivesignins is the ArchiveSignInsFunction Lambda: it writes
// the sign-ins DynamoDB's TTL deleted, which the table's stream brings, to
// the archive table; wiring only.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/teamusers/usersapi/internal/archive"
	"github.com/teamusers/usersapi/internal/lambdaapp"
)

func main() {
	app := lambdaapp.MustLoad()
	lambda.Start(archive.Archiver{Store: app.Store, Log: app.Log, Metrics: app.Metrics}.HandleStream)
}
