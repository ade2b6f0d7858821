package local

import (
	"context"

	"github.com/teamusers/usersapi/internal/awsapi"
	"github.com/teamusers/usersapi/internal/secretstore"
)

// SecretName is the local application secret in the local Secrets Manager
// (moto serves it on the DynamoDB endpoint): functions run under the
// Lambda runtime emulator read it with APP_SECRET_ID, as in AWS.
const SecretName = "usersapi-local/app-secret"

// EnsureSecret creates the local secret with value, or, when a stack
// already made it, returns the value it holds.
func EnsureSecret(ctx context.Context, endpoint, value string) (string, error) {
	c := secretstore.NewClient(AWSConfig(), endpoint)
	_, err := c.Create(ctx, SecretName, value)
	if awsapi.IsCode(err, "ResourceExistsException") {
		return c.Value(ctx, SecretName, "", secretstore.StageCurrent)
	}
	return value, err
}
