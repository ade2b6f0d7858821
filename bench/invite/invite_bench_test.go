// Package invite measures the largest invitation request the API takes:
// 500 addresses in one POST, into a team with room for all of them. It
// reports the answer's wall time under the local stack (against the
// function's 10-second timeout) and the DynamoDB requests it made, counted
// on the client.
package invite

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/teamusers/usersapi/bench/benchkit"
	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/httpapi"
	"github.com/teamusers/usersapi/internal/keyring"
	"github.com/teamusers/usersapi/internal/local"
)

const addresses = 500

func BenchmarkInvite500(b *testing.B) {
	stack, _, stop, err := benchkit.Start(local.StackOptions{}, 1, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	var requests, transactions atomic.Int64
	db := dynamodb.NewFromConfig(local.AWSConfig(), dynamo.ClientOptions, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(stack.Services.DynamoDBEndpoint)
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("count", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				requests.Add(1)
				if _, ok := in.Parameters.(*dynamodb.TransactWriteItemsInput); ok {
					transactions.Add(1)
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
		})
	})
	// A table of its own, with no stream poller on it: the emails the
	// invitations queue are not delivered, so the answer is the request's
	// work alone (serialised moto would otherwise interleave 500 deliveries).
	if err := local.EnsureTable(context.Background(), db, stack.Template, "Table", "invite-bench"); err != nil {
		b.Fatal(err)
	}
	store := dynamo.New(db, "invite-bench")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	gw, err := local.NewGateway(stack.Template, httpapi.NewDeps(store, keyring.New(stack.Config.Secret), stack.Config.Policy, log, nil), stack.Keys, log)
	if err != nil {
		b.Fatal(err)
	}
	api := httptest.NewServer(gw)
	defer api.Close()
	tok, _ := stack.Keys.Mint(benchkit.Owner, local.TokenOptions{})
	seats := 0
	round := 0
	for b.Loop() {
		// A fresh team each round, with a seat for everyone.
		seats = addresses + 1
		team, err := benchkit.NewTeam(store, seats, benchkit.Owner)
		if err != nil {
			b.Fatal(err)
		}
		emails := make([]string, addresses)
		for i := range emails {
			emails[i] = fmt.Sprintf(`"r%d-%03d@acme.example"`, round, i)
		}
		round++
		body := `{"emails":[` + strings.Join(emails, ",") + `]}`
		requests.Store(0)
		transactions.Store(0)
		req, _ := http.NewRequest("POST", api.URL+"/v1/teams/"+team+"/invitations", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("invite: %v %v", err, resp)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		elapsed := time.Since(start)
		if n := strings.Count(string(out), `"result":"invited"`); n != addresses {
			b.Fatalf("%d invited", n)
		}
		b.ReportMetric(float64(elapsed.Milliseconds()), "answer-ms")
		b.ReportMetric(10_000, "timeout-ms")
		b.ReportMetric(float64(transactions.Load()), "transactions")
		b.ReportMetric(float64(requests.Load()), "dynamodb-requests")
	}
}
