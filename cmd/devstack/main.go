// Command devstack runs the whole API on this machine, as `make run` does:
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

	"github.com/teamusers/usersapi/internal/lambdaapp"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/samtemplate"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}

func run() error {
	state := flag.String("state", ".state/run", "folder for logs, pids and info.json")
	keyFile := flag.String("key", ".state/jwt/key.pem", "the local token signing key")
	apiPort := flag.Int("api-port", 3000, "gateway port")
	ddbPort := flag.Int("dynamodb-port", 8000, "DynamoDB stand-in port")
	sesPort := flag.Int("ses-port", 8005, "SES stand-in port")
	overrides := flag.String("parameter-overrides", "", `template parameters, as sam deploy takes them: "EmailCooldownSeconds=0 InvitationExpiryDays=1"`)
	check := flag.Bool("check", false, "only check the parameter overrides, print them in canonical form and exit")
	faults, err := local.FaultOptionsFromEnv() // FAULT_RATE, FAULT_INDEX_LAG_MS, FAULT_SEED; the flags win
	if err != nil {
		return err
	}
	flag.Float64Var(&faults.Rate, "fault-rate", faults.Rate, "probability that a DynamoDB or SES call fails as AWS fails (0-1)")
	lagMs := flag.Int64("index-lag-ms", faults.IndexLag.Milliseconds(), "index (GSI) reads see the table as it was this long ago")
	flag.Int64Var(&faults.Seed, "fault-seed", faults.Seed, "seed for the faults (0: random)")
	flag.Parse()
	faults.IndexLag = time.Duration(*lagMs) * time.Millisecond
	if faults.Rate < 0 || faults.Rate > 1 || faults.IndexLag < 0 {
		return fmt.Errorf("the fault rate must be from 0 to 1 and the index lag not negative")
	}

	root, err := samtemplate.FindRoot()
	if err != nil {
		return err
	}
	if *check {
		canonical, err := checkOverrides(root, *overrides)
		if err != nil {
			return err
		}
		fmt.Println(canonical)
		return nil
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	level := new(slog.LevelVar)
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	keys, err := local.LoadOrCreateKeys(*keyFile)
	if err != nil {
		return err
	}
	stack, err := local.Start(ctx, local.StackOptions{Root: root, StateDir: *state, DynamoDBPort: *ddbPort, SESPort: *sesPort, Keys: keys, Log: log,
		PortalURL: fmt.Sprintf("http://127.0.0.1:%d", *apiPort), ParameterOverrides: *overrides, LogLevel: level,
		Faults: local.FaultOptions{Seed: faults.Seed}}) // the demo data goes in on a kind stack; the faults start once it is there
	if err != nil {
		return err
	}
	defer stack.Stop()
	demo, err := local.Seed(ctx, stack.Store, time.Now())
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if faults.Hostile() {
		if err := stack.SetFaults(ctx, faults); err != nil {
			return err
		}
	}
	url, serve, err := stack.Serve(ctx, *apiPort)
	if err != nil {
		return err
	}
	info := map[string]any{
		"apiUrl": url, "portalUrl": url + "/", "mailViewerUrl": stack.Services.SESEndpoint + "/", "dynamodbEndpoint": stack.Services.DynamoDBEndpoint,
		"sesEndpoint": stack.Services.SESEndpoint, "sesProxyEndpoint": stack.SESProxy.URL, "tableName": local.TableName, "demo": demo, "pid": os.Getpid(),
		"parameters": stack.Parameters, "parameterOverrides": local.CanonicalParameters(stack.Parameters),
		"emailCooldownSeconds": int(stack.Config.Policy.Cooldown.Seconds()), "invitationExpiryDays": int(stack.Config.Policy.InvitationTTL.Hours() / 24),
		"faults": map[string]any{"rate": faults.Rate, "indexLagMs": faults.IndexLag.Milliseconds()},
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

// checkOverrides parses and checks parameter overrides against the
// template and the local stack, as Start would, without starting anything.
func checkOverrides(root, overrides string) (string, error) {
	tmpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return "", err
	}
	params, err := tmpl.ParseOverrides(overrides)
	if err != nil {
		return "", fmt.Errorf("PARAMETER_OVERRIDES: %w", err)
	}
	if err := local.ApplyParameters(params, &lambdaapp.Config{}, nil); err != nil {
		return "", fmt.Errorf("PARAMETER_OVERRIDES: %w", err)
	}
	return local.CanonicalParameters(params), nil
}
