// Package bench measures what the Users page costs on large teams, against
// the real local stack: DynamoDB items read per request (what DynamoDB
// bills and what bounds latency), not wall time on a shared machine.
//
//	make bench
package bench

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/teamusers/usersapi/bench/benchkit"
	"github.com/teamusers/usersapi/internal/local"
)

// TeamSize is the large team of the benchmarks.
const TeamSize = 50_000

var (
	stack  *local.Stack
	api    *httptest.Server
	teamID string
	token  string
)

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		os.Exit(m.Run()) // `go test ./...` without -bench: nothing to set up
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	var stop func()
	var err error
	if stack, teamID, stop, err = benchkit.Start(local.StackOptions{}, TeamSize, time.Now()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	api = httptest.NewServer(stack.Gateway)
	defer api.Close()
	start := time.Now()
	if err := stack.Store.ImportMembers(ctx, teamID, local.DemoMembers(teamID, TeamSize-1, time.Now())); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "seeded %d members in %s\n", TeamSize, time.Since(start).Round(time.Second))
	token, _ = stack.Keys.Mint(benchkit.Owner, local.TokenOptions{})
	return m.Run()
}

func get(b *testing.B, path string) {
	req, _ := http.NewRequest("GET", api.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("%s: %s", path, resp.Status)
	}
}

// BenchmarkReadCost reports items read per request for the Users page's
// reads on a 50,000-member team. A Scan-and-filter design would read all
// 100,000 items of the team (members and memberships) for every page.
func BenchmarkReadCost(b *testing.B) {
	for _, c := range []struct{ name, query string }{
		{"summary", "/summary"},
		{"page_unfiltered", "/members?limit=25"},
		{"page_status_invited", "/members?status=invitation_sent&limit=25"},
		{"page_recently_admins_by_lastActive", "/members?lastCall=recently&role=admin&sort=lastActive&order=desc&limit=25"},
		{"page_signed_in_with_app_by_invitedAt", "/members?status=signed_in_with_app&sort=invitedAt&limit=25"},
		{"page_search_email_prefix", "/members?q=user12&limit=25"},
		{"page_search_domain_prefix_active", "/members?q=acme-l&status=active&limit=25"},
		{"page_100_two_statuses", "/members?status=active&status=pending_app_login&limit=100"},
	} {
		b.Run(c.name, func(b *testing.B) {
			var read int64
			for b.Loop() {
				before := stack.Store.ItemsRead()
				get(b, "/v1/teams/"+teamID+c.query)
				read += stack.Store.ItemsRead() - before
			}
			b.ReportMetric(float64(read)/float64(b.N), "items/op")
			b.ReportMetric(float64(TeamSize*2), "scan-items/op")
		})
	}
}
