// Command devctl is the developer's handle on a running local stack:
//
//	devctl token -email alice@example.com        a bearer token the gateway accepts
//	devctl team -plan pro -seats 50 -owner a@b   billing's provisioning call
//	devctl team -team t_… -plan free             change a team
//	devctl nightly -at 2026-12-31T03:00:00Z      the nightly job as of an instant
//	devctl faults [-rate 0.1] [-index-lag-ms 500] the faults injected so far (after changing them)
//	devctl load [-duration 60s] [-rate 50]       a bounded load test of the running stack
//
// Each prints its result as its last line.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/lambdaapp"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/nightly"
	"github.com/teamusers/usersapi/internal/provisioning"
	"github.com/teamusers/usersapi/internal/users"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: devctl token|team|nightly|faults|load [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "token":
		err = token(os.Args[2:])
	case "team":
		err = team(os.Args[2:])
	case "nightly":
		err = runNightly(os.Args[2:])
	case "faults":
		err = faults(os.Args[2:])
	case "load":
		err = load(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "devctl:", err)
		os.Exit(1)
	}
}

func token(args []string) error {
	fs := flag.NewFlagSet("token", flag.ExitOnError)
	email := fs.String("email", "", "the caller's email")
	keyFile := fs.String("key", ".state/jwt/key.pem", "the local signing key")
	ttl := fs.Duration("ttl", 12*time.Hour, "how long the token is valid")
	_ = fs.Parse(args)
	if *email == "" {
		return fmt.Errorf("EMAIL is required: make token EMAIL=alice@example.com")
	}
	keys, err := local.LoadOrCreateKeys(*keyFile)
	if err != nil {
		return err
	}
	t, err := keys.Mint(*email, local.TokenOptions{TTL: *ttl})
	if err != nil {
		return err
	}
	fmt.Println(t)
	return nil
}

type info struct {
	DynamoDBEndpoint string            `json:"dynamodbEndpoint"`
	SESProxyEndpoint string            `json:"sesProxyEndpoint"`
	TableName        string            `json:"tableName"`
	Parameters       map[string]string `json:"parameters"` // the running stack's PARAMETER_OVERRIDES
}

func readInfo(state string) (info, error) {
	var i info
	b, err := os.ReadFile(filepath.Join(state, "info.json"))
	if err != nil {
		return i, fmt.Errorf("the local stack is not running (make run): %w", err)
	}
	return i, json.Unmarshal(b, &i)
}

func team(args []string) error {
	fs := flag.NewFlagSet("team", flag.ExitOnError)
	state := fs.String("state", ".state/run", "the running stack's state folder")
	teamID := fs.String("team", "", "an existing team to change")
	plan := fs.String("plan", "", "pro, free, …")
	seats := fs.Int("seats", 0, "purchased seats")
	owner := fs.String("owner", "", "the owner's email (new teams)")
	billing := fs.String("billing", "", "billing's account id: a retried creation returns the same team")
	name := fs.String("name", "", "the team's name, e.g. \"Acme Inc\"")
	_ = fs.Parse(args)
	inf, err := readInfo(*state)
	if err != nil {
		return err
	}
	req := provisioning.Request{TeamID: *teamID, Plan: *plan, OwnerEmail: *owner, BillingAccountID: *billing, Name: *name}
	if *seats != 0 {
		req.Seats = seats
	}
	svc := provisioning.Service{Store: dynamo.New(local.NewDynamoDB(inf.DynamoDBEndpoint), inf.TableName), Now: time.Now}
	resp, err := svc.Handle(context.Background(), req)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(resp)
	fmt.Println(string(b))
	return nil
}

func runNightly(args []string) error {
	fs := flag.NewFlagSet("nightly", flag.ExitOnError)
	state := fs.String("state", ".state/run", "the running stack's state folder")
	atFlag := fs.String("at", "", "the instant to run as of (RFC 3339); default now")
	_ = fs.Parse(args)
	at := time.Now().UTC()
	if *atFlag != "" {
		var err error
		if at, err = time.Parse(time.RFC3339, *atFlag); err != nil {
			return fmt.Errorf("AT must be an RFC 3339 instant such as 2026-12-31T03:00:00Z: %w", err)
		}
	}
	inf, err := readInfo(*state)
	if err != nil {
		return err
	}
	// The nightly job runs with the stack's own parameters (SignInRetentionDays, DueShards).
	cfg := lambdaapp.Config{Retention: users.DefaultRetention, DueShards: dynamo.DefaultDueShards}
	if err := local.ApplyParameters(inf.Parameters, &cfg, nil); err != nil {
		return err
	}
	store := dynamo.New(local.NewDynamoDB(inf.DynamoDBEndpoint), inf.TableName).WithArchive(local.ArchiveTableName).WithDueShards(cfg.DueShards).WithZone(cfg.Zone)
	res, err := nightly.New(store, cfg.Retention, at).WithShardsBefore(cfg.DueShardsBefore).Run(context.Background())
	if err != nil {
		return err
	}
	b, _ := json.Marshal(map[string]any{"at": at, "result": res})
	fmt.Println(string(b))
	return nil
}

// faults prints, as its last line, the faults both stand-ins of the running
// stack have injected so far: {"dynamodb":{…},"ses":{…}}. With -rate or
// -index-lag-ms it first changes them (on both stand-ins).
func faults(args []string) error {
	fs := flag.NewFlagSet("faults", flag.ExitOnError)
	state := fs.String("state", ".state/run", "the running stack's state folder")
	rate := fs.String("rate", "", "set the fault rate (0-1) first")
	lag := fs.String("index-lag-ms", "", "set the index lag (milliseconds) first")
	reset := fs.Bool("reset", false, "zero the counts first")
	_ = fs.Parse(args)
	inf, err := readInfo(*state)
	if err != nil {
		return err
	}
	if inf.SESProxyEndpoint == "" {
		return fmt.Errorf("the running stack predates fault injection; make stop && make run")
	}
	ctx := context.Background()
	ddb, ses := local.FaultControl{Endpoint: inf.DynamoDBEndpoint}, local.FaultControl{Endpoint: inf.SESProxyEndpoint}
	set := map[string]any{}
	if *rate != "" {
		r, err := strconv.ParseFloat(*rate, 64)
		if err != nil || r < 0 || r > 1 {
			return fmt.Errorf("FAULT_RATE must be a number from 0 to 1")
		}
		set["rate"] = r
	}
	if *reset {
		set["reset"] = true
	}
	if len(set) > 0 {
		if _, err := ses.Set(ctx, set); err != nil {
			return err
		}
	}
	if *lag != "" {
		ms, err := strconv.Atoi(*lag)
		if err != nil || ms < 0 {
			return fmt.Errorf("FAULT_INDEX_LAG_MS must be a whole number of milliseconds")
		}
		set["indexLagMs"] = ms
	}
	if len(set) > 0 {
		st, err := ddb.Set(ctx, set)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "faults: rate %g, index lag %d ms\n", st.Rate, st.IndexLagMs)
		if err := recordFaults(*state, st); err != nil {
			return err
		}
	}
	d, err := ddb.State(ctx)
	if err != nil {
		return err
	}
	e, err := ses.State(ctx)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(local.FaultCounts{DynamoDB: d.Counts, SES: e.Counts})
	fmt.Println(string(b))
	return nil
}

// recordFaults keeps info.json's "faults" true after a change.
func recordFaults(state string, st local.FaultState) error {
	path := filepath.Join(state, "info.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	m["faults"] = map[string]any{"rate": st.Rate, "indexLagMs": st.IndexLagMs}
	b, _ = json.MarshalIndent(m, "", "  ")
	return os.WriteFile(path, b, 0o644)
}
