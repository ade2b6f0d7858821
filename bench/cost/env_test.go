package cost

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/teamusers/usersapi/bench/benchkit"
	"github.com/teamusers/usersapi/bench/meter"
	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/httpapi"
	"github.com/teamusers/usersapi/internal/keyring"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/tests/testkit"
)

// env is what every benchmark of the package shares: one quiet local
// stack, a client of its DynamoDB that the meter counts, and one that it
// does not (set-up, seeds, the meter's own reads).
var env struct {
	stack *local.Stack
	raw   *dynamodb.Client
	db    *dynamodb.Client
	meter *meter.Meter
	log   *slog.Logger
	start time.Time
	once  sync.Once
	stop  func()
	err   error
}

// results collects what the bill is made of, as the benchmarks measure it.
var results = struct {
	sync.Mutex
	ops     map[string]meter.Units // units of one operation, by name
	reads   map[int]map[string]meter.Units
	sizes   map[string]itemSize // stored items, by kind
	lambdas map[string]lambdaStat
	// archiveRate is sign-ins a second the archive function's handler
	// writes in one batch against the local DynamoDB (BenchmarkWrites).
	archiveRate float64
}{ops: map[string]meter.Units{}, reads: map[int]map[string]meter.Units{}, sizes: map[string]itemSize{}, lambdas: map[string]lambdaStat{}}

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		os.Exit(m.Run()) // `go test ./...` without -bench: nothing to set up
	}
	env.start = time.Now()
	code := m.Run()
	if env.stop != nil {
		env.stop()
	}
	fmt.Fprintf(os.Stderr, "bench/cost took %s\n", time.Since(env.start).Round(time.Second))
	os.Exit(code)
}

// useStack starts the stack the first time a benchmark needs it (the
// capacity model does not).
func useStack(b *testing.B) {
	b.Helper()
	env.once.Do(func() {
		env.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		stack, _, stop, err := benchkit.Start(local.StackOptions{Log: env.log}, 1, time.Now())
		if err != nil {
			env.err = err
			return
		}
		env.stack, env.stop = stack, stop
		env.raw = local.NewDynamoDB(stack.Services.DynamoDBEndpoint)
		env.meter = meter.New(env.raw)
		env.db = dynamodb.NewFromConfig(local.AWSConfig(), dynamo.ClientOptions, func(o *dynamodb.Options) {
			o.BaseEndpoint = aws.String(stack.Services.DynamoDBEndpoint)
		}, env.meter.Instrument)
	})
	if env.err != nil {
		b.Fatal(env.err)
	}
}

// table is one table of its own (no stream poller reads it, so nothing
// happens in the background), with a store on the metered client and the
// API on that store.
type table struct {
	name  string
	store *dynamo.Store
	api   *httptest.Server
}

func newTable(b *testing.B, name string) *table {
	b.Helper()
	useStack(b)
	ctx := context.Background()
	for logical, t := range map[string]string{"Table": name, "ArchiveTable": name + "-archive"} {
		if err := local.EnsureTable(ctx, env.raw, env.stack.Template, logical, t); err != nil {
			b.Fatal(err)
		}
	}
	store := dynamo.New(env.db, name).WithArchive(name + "-archive").WithDueShards(env.stack.Config.DueShards)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	// The functions' time limits are the template's: the local DynamoDB
	// reads a page from its sorted indexes in milliseconds at any size
	// (bench/localdb), where it once walked the table and needed 20 times
	// AWS's limits.
	gw, err := local.NewGatewayWith(env.stack.Template, httpapi.NewDeps(store, keyring.New(env.stack.Config.Secret), env.stack.Config.Policy, quiet, nil),
		env.stack.Keys, quiet, local.GatewayOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return &table{name: name, store: store, api: httptest.NewServer(gw)}
}

// drop deletes the table, so that moto's scans of the next ones do not
// walk it.
func (t *table) drop() {
	t.api.Close()
	for _, n := range []string{t.name, t.name + "-archive"} {
		_, _ = env.raw.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(n)})
	}
}

// call makes one request to the table's API and returns its status and body.
func (t *table) call(b *testing.B, method, path, email string, body any, header map[string]string) (int, []byte) {
	b.Helper()
	var raw []byte
	h := map[string]string{}
	if body != nil {
		raw, _ = json.Marshal(body)
		h["Content-Type"] = "application/json"
	}
	for k, v := range header {
		h[k] = v
	}
	tok := ""
	if email != "" {
		var err error
		if tok, err = env.stack.Keys.Mint(email, local.TokenOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	r := testkit.Do(b, nil, method, t.api.URL+path, tok, h, raw)
	return r.Status, r.Body
}

// measure runs f (a request) and returns what its DynamoDB requests cost.
func measure(b *testing.B, f func()) meter.Units {
	b.Helper()
	u, _ := env.meter.Measure(func() error { f(); return nil })
	return u
}

func recordOp(name string, u meter.Units) {
	results.Lock()
	defer results.Unlock()
	results.ops[name] = u
}

func recordRead(members int, name string, u meter.Units) {
	results.Lock()
	defer results.Unlock()
	if results.reads[members] == nil {
		results.reads[members] = map[string]meter.Units{}
	}
	results.reads[members][name] = u
}

// report puts a request's units in the benchmark's line, prefixed.
func report(b *testing.B, prefix string, u meter.Units) {
	b.ReportMetric(float64(u.ItemsRead), prefix+"items/op")
	b.ReportMetric(u.ReadUnits, prefix+"rru/op")
	if u.WriteUnits+u.IndexUnits > 0 || prefix == "" {
		b.ReportMetric(u.WriteUnits+u.IndexUnits, prefix+"wru/op")
	}
}
