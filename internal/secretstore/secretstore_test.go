package secretstore_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/teamusers/usersapi/internal/awsapi"
	"github.com/teamusers/usersapi/internal/keyring"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/samtemplate"
	"github.com/teamusers/usersapi/internal/secretstore"
)

// Against the local Secrets Manager (moto): a function loads the secret's
// versions; a rotation makes a new current version and keeps the old one
// as previous, so a token sealed before the rotation still opens, both in
// a function started afterwards and in one that was already running.
func TestLoadAndRotateAgainstTheLocalSecretsManager(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the local Secrets Manager (moto): make test runs it")
	}
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	svcs, err := local.StartServices(context.Background(), local.ServiceOptions{Root: root, StateDir: filepath.Join(t.TempDir(), "stack")})
	if err != nil {
		t.Fatal(err)
	}
	defer svcs.Stop()
	ctx := context.Background()
	c := secretstore.NewClient(local.AWSConfig(), svcs.DynamoDBEndpoint)
	first := secretstore.NewValue()
	arn, err := c.Create(ctx, "usersapi-test/app-secret", first)
	if err != nil || arn == "" {
		t.Fatalf("create: %q %v", arn, err)
	}

	versions, err := secretstore.Versions(ctx, c, arn)
	if err != nil || len(versions) != 1 || string(versions[0]) != first {
		t.Fatalf("a new secret: %d versions, %v", len(versions), err)
	}
	running, err := secretstore.Keyring(ctx, c, arn) // a function started before the rotation
	if err != nil {
		t.Fatal(err)
	}
	sealed := running.Sealer("invitation-token").Seal("token made before the rotation")

	// Secrets Manager starts a rotation by staging a version id as AWSPENDING
	// and calls the function's four steps with it. moto cannot stage a version
	// without a value, so the pending version is put here, and createSecret
	// finds it made (as on a retried step).
	const version = "0f4d6a52-9c55-4e2b-9d8f-3e0c1b7a2f10"
	if err := c.Put(ctx, arn, version, secretstore.NewValue(), secretstore.StagePending); err != nil {
		t.Fatal(err)
	}
	r := secretstore.Rotator{Client: c}
	for _, step := range []string{"createSecret", "setSecret", "testSecret", "finishSecret", "finishSecret"} {
		if err := r.Handle(ctx, secretstore.RotationEvent{Step: step, SecretID: arn, ClientRequestToken: version}); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	stages, err := c.Stages(ctx, arn)
	if err != nil || !slices.Contains(stages[version], secretstore.StageCurrent) {
		t.Fatalf("after the rotation: %v %v", stages, err)
	}
	if err := r.Handle(ctx, secretstore.RotationEvent{Step: "createSecret", SecretID: arn, ClientRequestToken: "not-a-version-of-it-0000000000000"}); err == nil {
		t.Fatal("a step for an unknown version succeeded")
	}

	versions, err = secretstore.Versions(ctx, c, arn)
	if err != nil || len(versions) != 2 || string(versions[1]) != first {
		t.Fatalf("after the rotation the first version is not the previous one: %d versions, %v", len(versions), err)
	}
	started, err := secretstore.Keyring(ctx, c, arn) // a function started after it
	if err != nil {
		t.Fatal(err)
	}
	if v, err := started.Sealer("invitation-token").Open(sealed); err != nil || v != "token made before the rotation" {
		t.Fatalf("a token sealed before the rotation does not open after it: %q %v", v, err)
	}
	if started.Current().ID == running.Current().ID {
		t.Fatal("the rotation did not change the current version")
	}
	// The function that was already running meets a token sealed by the new
	// version: it reloads the versions and opens it.
	newer := started.Sealer("invitation-token").Seal("token made after the rotation")
	if v, err := running.Sealer("invitation-token").Open(newer); err != nil || v != "token made after the rotation" {
		t.Fatalf("a running function cannot open a token of the new version: %q %v", v, err)
	}

	if _, err := c.Value(ctx, "no-such-secret", "", secretstore.StageCurrent); !awsapi.IsCode(err, "ResourceNotFoundException") {
		t.Fatalf("a missing secret: %v", err)
	}
	if len(secretstore.NewValue()) < keyring.MinLength {
		t.Fatal("new values are too short")
	}
}
