// Command rotatesecret is the RotateSecretFunction Lambda that Secrets
// Manager invokes, one step at a time, to rotate the application secret:
// wiring only (the steps are in internal/secretstore).
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/teamusers/usersapi/internal/lambdaapp"
	"github.com/teamusers/usersapi/internal/logging"
	"github.com/teamusers/usersapi/internal/secretstore"
)

func main() {
	log := logging.New(logging.Stdout)
	cfg, err := lambdaapp.AWSConfig()
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		os.Exit(1)
	}
	r := secretstore.Rotator{Client: secretstore.NewClient(cfg, os.Getenv("SECRETS_MANAGER_ENDPOINT")), Log: log}
	lambda.Start(r.Handle)
}
