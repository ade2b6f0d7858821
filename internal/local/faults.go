package local

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"time"
)

// The hostile local stack: the DynamoDB and SES stand-ins fail the way AWS
// does, at a chosen rate (docs/architecture.md, "The hostile local stack").

// Fault kinds. DynamoDB's are injected by scripts/moto_server.py, SES's by
// SESFaultProxy; both count them by these names.
const (
	FaultThrottling              = "throttling"                    // both
	FaultProvisionedThroughput   = "provisionedThroughputExceeded" // DynamoDB
	FaultInternalError           = "internalError"                 // DynamoDB: 500 before the call runs
	FaultInternalErrorAfterWrite = "internalErrorAfterWrite"       // DynamoDB: 500 after the write happened
	FaultTransactionConflict     = "transactionConflict"           // DynamoDB transactions
	FaultUnprocessed             = "unprocessed"                   // DynamoDB batches
	FaultIndexLagReads           = "indexLagReads"                 // DynamoDB: index reads served from the past (a count, not a kind to pick)
	FaultServerError             = "serverError"                   // SES: 500 or 503, not forwarded
	FaultAcceptedThenTimeout     = "acceptedThenTimeout"           // SES: forwarded, then no answer
)

// DynamoDBFaultKinds and SESFaultKinds are the kinds each stand-in injects.
var (
	DynamoDBFaultKinds = []string{FaultThrottling, FaultProvisionedThroughput, FaultInternalError,
		FaultInternalErrorAfterWrite, FaultTransactionConflict, FaultUnprocessed}
	SESFaultKinds = []string{FaultThrottling, FaultServerError, FaultAcceptedThenTimeout}
)

// FaultOptions say how hostile the stand-ins are. The zero value is a
// kind stack (no faults); DynamoDB's limits and ClientRequestToken are
// honoured either way.
type FaultOptions struct {
	Rate     float64       // probability that a data-plane call fails, 0–1
	IndexLag time.Duration // index (GSI) reads see the table as it was this long ago
	Seed     int64         // 0: a random seed (each stand-in logs the one it uses)
	Kinds    []string      // nil: every kind; else only these (tests pick one at a time)
}

// FaultOptionsFromEnv reads FAULT_RATE, FAULT_INDEX_LAG_MS and FAULT_SEED,
// as `make run` and `make test` pass them. Unset means no faults.
func FaultOptionsFromEnv() (FaultOptions, error) {
	var o FaultOptions
	if v := os.Getenv("FAULT_RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r < 0 || r > 1 {
			return o, fmt.Errorf("FAULT_RATE must be a number from 0 to 1, got %q", v)
		}
		o.Rate = r
	}
	if v := os.Getenv("FAULT_INDEX_LAG_MS"); v != "" {
		ms, err := strconv.Atoi(v)
		if err != nil || ms < 0 {
			return o, fmt.Errorf("FAULT_INDEX_LAG_MS must be a whole number of milliseconds, got %q", v)
		}
		o.IndexLag = time.Duration(ms) * time.Millisecond
	}
	if v := os.Getenv("FAULT_SEED"); v != "" {
		s, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return o, fmt.Errorf("FAULT_SEED must be a whole number, got %q", v)
		}
		o.Seed = s
	}
	return o, nil
}

// Hostile reports whether any fault is switched on.
func (o FaultOptions) Hostile() bool { return o.Rate > 0 || o.IndexLag > 0 }

// kindsFor is the kinds filter for a stand-in that injects `known`: nil
// (every kind) when the options name none, else the named kinds it knows
// (possibly none at all).
func (o FaultOptions) kindsFor(known []string) []string {
	if o.Kinds == nil {
		return nil
	}
	out := []string{}
	for _, k := range o.Kinds {
		if slices.Contains(known, k) {
			out = append(out, k)
		}
	}
	return out
}

// FaultCounts are the faults injected so far, by kind, as `make faults`
// prints them.
type FaultCounts struct {
	DynamoDB map[string]int `json:"dynamodb"`
	SES      map[string]int `json:"ses"`
}

// FaultState is what a stand-in's /_faults endpoint answers.
type FaultState struct {
	Rate            float64        `json:"rate"`
	IndexLagMs      int            `json:"indexLagMs,omitempty"`
	Seed            int64          `json:"seed"`
	Kinds           []string       `json:"kinds"`
	TokenTTLSeconds float64        `json:"tokenTtlSeconds,omitempty"`
	TokenReplays    int            `json:"tokenReplays,omitempty"` // TransactWriteItems answered from a committed ClientRequestToken
	Counts          map[string]int `json:"counts"`
}

// FaultControl talks to a stand-in's /_faults endpoint: the DynamoDB
// stand-in's (moto) or the SES fault proxy's. It works from another
// process, which is how `make faults` reads a running `make run`.
type FaultControl struct {
	Endpoint string // the stand-in's base URL
}

// State reads the stand-in's settings and counts.
func (c FaultControl) State(ctx context.Context) (FaultState, error) {
	return c.do(ctx, http.MethodGet, nil)
}

// Set changes the stand-in's settings; fields not in the map keep their
// values. Keys: rate, indexLagMs, seed, kinds (null: all), tokenTtlSeconds,
// reset (true zeroes the counts).
func (c FaultControl) Set(ctx context.Context, settings map[string]any) (FaultState, error) {
	b, err := json.Marshal(settings)
	if err != nil {
		return FaultState{}, err
	}
	return c.do(ctx, http.MethodPost, b)
}

func (c FaultControl) do(ctx context.Context, method string, body []byte) (FaultState, error) {
	var st FaultState
	req, err := http.NewRequestWithContext(ctx, method, c.Endpoint+"/_faults", bytes.NewReader(body))
	if err != nil {
		return st, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("%s %s/_faults: %s %s", method, c.Endpoint, resp.Status, bytes.TrimSpace(b))
	}
	return st, json.Unmarshal(b, &st)
}

// settings turns options into a Set for a stand-in that injects `known`.
func (o FaultOptions) settings(known []string) map[string]any {
	m := map[string]any{"rate": o.Rate, "indexLagMs": o.IndexLag.Milliseconds(), "kinds": o.kindsFor(known)}
	if o.Seed != 0 {
		m["seed"] = o.Seed
	}
	return m
}
