package secretstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/teamusers/usersapi/internal/keyring"
	"github.com/teamusers/usersapi/internal/lambdaapp"
)

// Load reads the application secret for a function that needs it (only
// those may read it, and only they link this package and the Secrets
// Manager client): its current and previous versions from Secrets Manager
// (APP_SECRET_ID), once per cold start, or, in tests and on the local
// stack, the one value in APP_SECRET. The deployed template never puts the
// secret in the environment.
func Load(app *lambdaapp.App) (*keyring.Keyring, error) {
	c := app.Config
	if len(c.Secret) > 0 {
		if len(c.Secret) < keyring.MinLength {
			return nil, errors.New("APP_SECRET must be at least 32 bytes")
		}
		return keyring.New(c.Secret), nil
	}
	if c.SecretID == "" {
		return nil, errors.New("APP_SECRET_ID is not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ring, err := Keyring(ctx, NewClient(app.AWS, c.SecretsEndpoint), c.SecretID)
	if err != nil {
		return nil, fmt.Errorf("application secret: %w", err)
	}
	return ring, nil
}

// MustLoad is Load for main: a function that cannot read its secret does
// not start.
func MustLoad(app *lambdaapp.App) *keyring.Keyring {
	k, err := Load(app)
	if err != nil {
		lambdaapp.Fail(err)
	}
	return k
}
