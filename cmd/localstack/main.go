// Command localstack runs the whole API on this machine, as `make run` does:
// the DynamoDB and SES stand-ins, the table from template.yaml, the demo
// seed and the gateway. It writes what a developer needs to know to
// <state>/info.json and serves until interrupted.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/samtemplate"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "localstack:", err)
		os.Exit(1)
	}
}

func run() error {
	state := flag.String("state", ".state/run", "folder for logs, pids and info.json")
	keyFile := flag.String("key", ".state/jwt/key.pem", "the local token signing key")
	apiPort := flag.Int("api-port", 3000, "gateway port")
	ddbPort := flag.Int("dynamodb-port", 8000, "DynamoDB stand-in port")
	sesPort := flag.Int("ses-port", 8005, "SES stand-in port")
	flag.Parse()

	root, err := samtemplate.FindRoot()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	keys, err := local.LoadOrCreateKeys(*keyFile)
	if err != nil {
		return err
	}
	stack, err := local.Start(ctx, local.StackOptions{Root: root, StateDir: *state, DynamoDBPort: *ddbPort, SESPort: *sesPort, Keys: keys, Log: log,
		PortalURL: fmt.Sprintf("http://127.0.0.1:%d", *apiPort)})
	if err != nil {
		return err
	}
	defer stack.Stop()
	demo, err := local.Seed(ctx, stack.Store, time.Now())
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	url, serve, err := stack.Serve(ctx, *apiPort)
	if err != nil {
		return err
	}
	info := map[string]any{
		"apiUrl": url, "portalUrl": url + "/", "mailViewerUrl": stack.Services.SESEndpoint + "/", "dynamodbEndpoint": stack.Services.DynamoDBEndpoint,
		"sesEndpoint": stack.Services.SESEndpoint, "tableName": local.TableName, "demo": demo, "pid": os.Getpid(),
	}
	b, _ := json.MarshalIndent(info, "", "  ")
	if err := os.WriteFile(filepath.Join(*state, "info.json"), b, 0o644); err != nil {
		return err
	}
	log.Info("serving", "api", url)
	if err := serve(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
