// Package secretstore keeps the application secret in AWS Secrets Manager:
// functions load its current and previous versions once per cold start
// (internal/keyring turns them into a key ring), and RotateSecretFunction
// rotates it on Secrets Manager's schedule.
package secretstore

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/teamusers/usersapi/internal/awsapi"
	"github.com/teamusers/usersapi/internal/keyring"
)

// Version stages Secrets Manager keeps; a rotation moves AWSCURRENT to the
// new version and AWSPREVIOUS to the one before.
const (
	StageCurrent  = "AWSCURRENT"
	StagePrevious = "AWSPREVIOUS"
	StagePending  = "AWSPENDING"
)

// Client calls Secrets Manager: the four operations this package uses.
type Client struct{ api *awsapi.Client }

// NewClient is a Secrets Manager client in cfg's region, pointed at
// endpoint when set (a local stand-in).
func NewClient(cfg aws.Config, endpoint string) *Client {
	return &Client{api: awsapi.New(cfg, "secretsmanager", endpoint)}
}

// errNotFound is Secrets Manager's answer for a missing secret or version.
const errNotFound = "ResourceNotFoundException"

// Value reads a version of the secret: by stage, or by version id and stage.
func (c *Client) Value(ctx context.Context, id, versionID, stage string) (string, error) {
	in := map[string]string{"SecretId": id}
	if versionID != "" {
		in["VersionId"] = versionID
	}
	if stage != "" {
		in["VersionStage"] = stage
	}
	var out struct {
		SecretString string
	}
	err := c.api.JSON(ctx, "secretsmanager.GetSecretValue", in, &out)
	return out.SecretString, err
}

// Stages maps each version id of the secret to its stages.
func (c *Client) Stages(ctx context.Context, id string) (map[string][]string, error) {
	var out struct {
		VersionIdsToStages map[string][]string
	}
	err := c.api.JSON(ctx, "secretsmanager.DescribeSecret", map[string]string{"SecretId": id}, &out)
	return out.VersionIdsToStages, err
}

// Put stores a new version with the given id (idempotent on it) and stages.
func (c *Client) Put(ctx context.Context, id, versionID, value string, stages ...string) error {
	return c.api.JSON(ctx, "secretsmanager.PutSecretValue", map[string]any{
		"SecretId": id, "ClientRequestToken": versionID, "SecretString": value, "VersionStages": stages,
	}, nil)
}

// MoveStage moves stage to the version to, from the version from.
func (c *Client) MoveStage(ctx context.Context, id, stage, to, from string) error {
	in := map[string]string{"SecretId": id, "VersionStage": stage, "MoveToVersionId": to}
	if from != "" {
		in["RemoveFromVersionId"] = from
	}
	return c.api.JSON(ctx, "secretsmanager.UpdateSecretVersionStage", in, nil)
}

// Create makes a secret (the template does this in AWS; the local stack
// and the tests call it) and returns its ARN.
func (c *Client) Create(ctx context.Context, name, value string) (string, error) {
	var out struct{ ARN string }
	err := c.api.JSON(ctx, "secretsmanager.CreateSecret", map[string]string{"Name": name, "SecretString": value}, &out)
	return out.ARN, err
}

// Versions reads the current and (when there is one) the previous version
// of the secret id, both at once.
func Versions(ctx context.Context, c *Client, id string) ([][]byte, error) {
	type result struct {
		v   string
		err error
	}
	get := func(stage string, out chan<- result) {
		v, err := c.Value(ctx, id, "", stage)
		out <- result{v, err}
	}
	cur, prev := make(chan result, 1), make(chan result, 1)
	go get(StageCurrent, cur)
	go get(StagePrevious, prev)
	c1, p1 := <-cur, <-prev
	if c1.err != nil {
		return nil, fmt.Errorf("read the secret's current version: %w", c1.err)
	}
	out := [][]byte{[]byte(c1.v)}
	switch {
	case p1.err == nil:
		out = append(out, []byte(p1.v))
	case awsapi.IsCode(p1.err, errNotFound): // never rotated: no previous version
	default:
		return nil, fmt.Errorf("read the secret's previous version: %w", p1.err)
	}
	return out, nil
}

// Keyring loads the secret's versions into a key ring that reloads them
// (at most once every 10 s) when it meets a version it does not hold.
func Keyring(ctx context.Context, c *Client, id string) (*keyring.Keyring, error) {
	return keyring.LoadKeyring(ctx, func(ctx context.Context) ([][]byte, error) { return Versions(ctx, c, id) }, 10*time.Second)
}

// RotationEvent is what Secrets Manager sends the rotation function, once
// per step.
type RotationEvent struct {
	Step               string `json:"Step"`
	SecretID           string `json:"SecretId"`
	ClientRequestToken string `json:"ClientRequestToken"`
}

// Rotator rotates the application secret. The secret guards nothing
// outside this stack (no database password to change in step), so the
// steps are: make a new random version (createSecret), nothing to set
// (setSecret), check it (testSecret), make it current (finishSecret). The
// old version becomes AWSPREVIOUS, which every function still accepts
// (see internal/keyring), so nothing made before the rotation breaks.
type Rotator struct {
	Client *Client
	Log    *slog.Logger
}

// Handle runs one step; each step may run again and ends in the same state.
func (r Rotator) Handle(ctx context.Context, ev RotationEvent) error {
	if ev.SecretID == "" || ev.ClientRequestToken == "" {
		return errors.New("rotation event without SecretId or ClientRequestToken")
	}
	versions, err := r.Client.Stages(ctx, ev.SecretID)
	if err != nil {
		return err
	}
	stages, ok := versions[ev.ClientRequestToken]
	if !ok {
		return fmt.Errorf("version %s is not a version of the secret", ev.ClientRequestToken)
	}
	if slices.Contains(stages, StageCurrent) {
		return nil // already finished
	}
	if !slices.Contains(stages, StagePending) {
		return fmt.Errorf("version %s is not pending rotation", ev.ClientRequestToken)
	}
	if r.Log != nil {
		r.Log.InfoContext(ctx, "rotation step", "step", ev.Step, "version", ev.ClientRequestToken)
	}
	switch ev.Step {
	case "createSecret":
		if _, err := r.Client.Value(ctx, ev.SecretID, "", StageCurrent); err != nil {
			return err
		}
		_, err := r.Client.Value(ctx, ev.SecretID, ev.ClientRequestToken, StagePending)
		if err == nil || !awsapi.IsCode(err, errNotFound) {
			return err // made by an earlier try, or a real error
		}
		return r.Client.Put(ctx, ev.SecretID, ev.ClientRequestToken, NewValue(), StagePending)
	case "setSecret":
		return nil // nothing outside this stack holds the secret
	case "testSecret":
		v, err := r.Client.Value(ctx, ev.SecretID, ev.ClientRequestToken, StagePending)
		if err != nil {
			return err
		}
		if len(v) < keyring.MinLength {
			return errors.New("the pending version is shorter than 32 bytes")
		}
		return nil
	case "finishSecret":
		current := ""
		for id, st := range versions {
			if slices.Contains(st, StageCurrent) {
				current = id
			}
		}
		return r.Client.MoveStage(ctx, ev.SecretID, StageCurrent, ev.ClientRequestToken, current)
	default:
		return fmt.Errorf("unknown rotation step %q", ev.Step)
	}
}

// NewValue is a fresh secret: 48 random bytes, base64url (64 characters).
func NewValue() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
