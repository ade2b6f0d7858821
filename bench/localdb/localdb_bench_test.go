// Package localdb measures the local DynamoDB itself (moto behind
// scripts/moto_server.py): how long a page of 25 takes from an index and
// from the table as the table grows, with the sorted indexes and with the
// walk they replaced (every item, sorted by moto's comparison objects),
// side by side in one run on the same data. The walk is the baseline.
//
// Wall time here says nothing of DynamoDB; it says how long the local
// stack makes a developer, a test and a benchmark wait.
package localdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/bench/benchkit"
	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/provisioning"
	"github.com/teamusers/usersapi/internal/samtemplate"
	"github.com/teamusers/usersapi/internal/users"
)

// Sizes are the team's members at each step (each member is two items:
// the member and its membership, so the table holds twice as many).
// LOCALDB_SIZES=1000,20000 measures fewer.
var sizes = sizesFrom(os.Getenv("LOCALDB_SIZES"), []int{1_000, 20_000, 100_000})

func sizesFrom(env string, def []int) []int {
	if env == "" {
		return def
	}
	var out []int
	for _, f := range strings.Split(env, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 100 || (len(out) > 0 && n <= out[len(out)-1]) {
			panic("LOCALDB_SIZES: increasing numbers of members, at least 100: " + env)
		}
		out = append(out, n)
	}
	return out
}

// pages is how many pages each figure is the median of.
const pages = 3

// BenchmarkQueryPage reports, per size and mode, the median milliseconds
// of: a page of 25 of the team's partition of the table (`table`), of
// the largest member-list partition of the ByEmail index (`index`), and
// of the member list as the API reads it (`list`: the authorization read
// and the merge of every facet's partition).
func BenchmarkQueryPage(b *testing.B) {
	ctx := context.Background()
	at := time.Now().UTC()
	// The local DynamoDB alone, with the table of the template: no stream
	// poller reading the import's records, no gateway.
	svcs, store, stop := startDB(b)
	defer stop()
	seats := sizes[len(sizes)-1] + 1
	created := at.Add(-400 * 24 * time.Hour)
	tm, err := provisioning.Service{Store: store, Now: func() time.Time { return created }}.Handle(ctx,
		provisioning.Request{Plan: "pro", Seats: &seats, OwnerEmail: benchkit.Owner})
	if err != nil {
		b.Fatal(err)
	}
	team := tm.TeamID
	db := local.NewDynamoDB(svcs.DynamoDBEndpoint)
	stack := struct {
		Services *local.Services
		Store    *dynamo.Store
	}{svcs, store}
	all := benchkit.Members(team, sizes[len(sizes)-1], at)
	imported := 0
	for _, n := range sizes {
		start := time.Now()
		if err := stack.Store.ImportMembers(ctx, team, all[imported:n]); err != nil {
			b.Fatal(err)
		}
		b.Logf("%d members imported in %s", n, time.Since(start).Round(time.Second))
		imported = n
		facet := largestFacet(ctx, b, db, team, all[:n])
		pk, _ := dynamo.MemberKey(team, "")
		queries := map[string]*dynamodb.QueryInput{
			"table": {
				TableName:              aws.String(local.TableName),
				KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :m)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":pk": &types.AttributeValueMemberS{Value: pk}, ":m": &types.AttributeValueMemberS{Value: "MEMBER#"}},
				Limit: aws.Int32(25),
			},
			"index": {
				TableName:              aws.String(local.TableName),
				IndexName:              aws.String("ByEmail"),
				KeyConditionExpression: aws.String("facetPK = :f"),
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":f": &types.AttributeValueMemberS{Value: facet}},
				Limit: aws.Int32(25),
			},
		}
		tm, err := stack.Store.GetTeam(ctx, team)
		if err != nil {
			b.Fatal(err)
		}
		for _, mode := range []string{"walk", "sorted"} {
			if err := stack.Services.SetQueryMode(ctx, mode); err != nil {
				b.Fatal(err)
			}
			for _, what := range []string{"table", "index"} {
				ms, got := timePages(ctx, b, db, queries[what])
				b.ReportMetric(ms, fmt.Sprintf("%s-ms-%s-%d", what, mode, n))
				if got != 25 {
					b.Fatalf("%s page at %d members (%s): %d items", what, n, mode, got)
				}
			}
			ms := median(pages, func() time.Duration {
				start := time.Now()
				if _, _, err := stack.Store.ListMembers(ctx, tm, users.ListQuery{Sort: users.SortEmail, Limit: 25}, ""); err != nil {
					b.Fatal(err)
				}
				return time.Since(start)
			})
			b.ReportMetric(ms, fmt.Sprintf("list-ms-%s-%d", mode, n))
		}
		if err := stack.Services.SetQueryMode(ctx, "sorted"); err != nil {
			b.Fatal(err)
		}
	}
}

// startDB starts the local DynamoDB (and SES, which it comes with) in a
// folder of its own and makes the template's tables.
func startDB(b *testing.B) (*local.Services, *dynamo.Store, func()) {
	root, err := samtemplate.FindRoot()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	ctx := context.Background()
	svcs, err := local.StartServices(ctx, local.ServiceOptions{Root: root, StateDir: filepath.Join(dir, "stack")})
	if err != nil {
		b.Fatal(err)
	}
	tmpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	db := local.NewDynamoDB(svcs.DynamoDBEndpoint)
	for logical, name := range map[string]string{"Table": local.TableName, "ArchiveTable": local.ArchiveTableName} {
		if err := local.EnsureTable(ctx, db, tmpl, logical, name); err != nil {
			b.Fatal(err)
		}
	}
	return svcs, dynamo.New(db, local.TableName).WithArchive(local.ArchiveTableName), svcs.Stop
}

// timePages reads pages pages of q one after the other (each from where
// the last ended) and returns the median milliseconds and the first
// page's item count.
func timePages(ctx context.Context, b *testing.B, db *dynamodb.Client, q *dynamodb.QueryInput) (float64, int) {
	in := *q
	first := -1
	ms := median(pages, func() time.Duration {
		start := time.Now()
		out, err := db.Query(ctx, &in)
		took := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if first < 0 {
			first = len(out.Items)
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
		return took
	})
	return ms, first
}

func median(n int, f func() time.Duration) float64 {
	d := make([]time.Duration, n)
	for i := range d {
		d[i] = f()
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return float64(d[n/2].Microseconds()) / 1000
}

// largestFacet is the ByEmail partition key of the facet holding the most
// members, read from one of its member items (the key layout is the
// store's).
func largestFacet(ctx context.Context, b *testing.B, db *dynamodb.Client, team string, ms []users.Member) string {
	count := map[users.Facet]int{}
	var best users.Facet
	var id string
	for _, m := range ms {
		m.LastCall = users.BucketFor(m.Status, m.LastActiveAt, time.Now(), time.UTC)
		f := users.FacetOf(m)
		count[f]++
		if count[f] > count[best] {
			best, id = f, m.ID
		}
	}
	pk, sk := dynamo.MemberKey(team, id)
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(local.TableName), Key: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk}}})
	if err != nil {
		b.Fatal(err)
	}
	f, ok := out.Item["facetPK"].(*types.AttributeValueMemberS)
	if !ok {
		b.Fatalf("member %s has no facetPK", id)
	}
	return f.Value
}
