// Package reports measures the CSV tools: a 50,000-row selection file
// parsed and matched in one request (memory against the function's 512 MB,
// reads against the file), and a usage report for 1,000 members over 366
// days (reads in proportion to members and days with calls).
package reports

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/bench/benchkit"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/report"
	"github.com/teamusers/usersapi/internal/selection"
	"github.com/teamusers/usersapi/internal/users"
)

const (
	teamSize   = 20_000
	fileRows   = 50_000
	reportSize = 1_000
	callDays   = 30 // days with calls per reported member, spread over the year
)

func file() []byte {
	var b bytes.Buffer
	b.WriteString("\ufeffName;Email Address;Department\r\n")
	for i := 0; i < fileRows; i++ {
		// The first 20,000 rows are team members, the rest are not.
		fmt.Fprintf(&b, "\"Person %d\";m%06d@acme.example;\"Sales; EMEA\"\r\n", i, i)
	}
	return b.Bytes()
}

// BenchmarkSelectionParseOnly is the reader alone, with allocations.
func BenchmarkSelectionParseOnly(b *testing.B) {
	f := file()
	b.SetBytes(int64(len(f)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := selection.Select(context.Background(), bytes.NewReader(f), func(ctx context.Context, emails []string) (map[string]string, error) {
			return map[string]string{}, nil
		})
		if err != nil || len(res.NotFound) != fileRows {
			b.Fatalf("%v %d", err, len(res.NotFound))
		}
	}
}

func BenchmarkSelectionAndReportOnTheLocalStack(b *testing.B) {
	ctx := context.Background()
	stack, teamID, stop, err := benchkit.Start(local.StackOptions{}, teamSize, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	now := time.Now().UTC()
	ms := make([]users.Member, teamSize-1)
	for i := range ms {
		ms[i] = users.Member{ID: fmt.Sprintf("m_%06d", i), TeamID: teamID, Email: fmt.Sprintf("m%06d@acme.example", i), Role: users.RoleUser,
			Status: users.StatusActive, InvitedAt: now.AddDate(-1, 0, 0), AcceptedAt: now.AddDate(-1, 0, 0), LastActiveAt: now.Add(-time.Hour)}
	}
	if err := stack.Store.ImportMembers(ctx, teamID, ms); err != nil {
		b.Fatal(err)
	}
	// Usage: the first 1,000 members called on 30 days of the last year.
	db := local.NewDynamoDB(stack.Services.DynamoDBEndpoint)
	var writes []types.WriteRequest
	for i := 0; i < reportSize; i++ {
		for d := 0; d < callDays; d++ {
			day := now.AddDate(0, 0, -d*12).Format("2006-01-02")
			writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
				"PK": &types.AttributeValueMemberS{Value: fmt.Sprintf("USAGE#%s#m_%06d", teamID, i)}, "SK": &types.AttributeValueMemberS{Value: day},
				"type": &types.AttributeValueMemberS{Value: "usage"}, "calls": &types.AttributeValueMemberN{Value: "2"}, "seconds": &types.AttributeValueMemberN{Value: "300"}}}})
		}
	}
	for len(writes) > 0 {
		n := min(25, len(writes))
		if _, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{local.TableName: writes[:n]}}); err != nil {
			b.Fatal(err)
		}
		writes = writes[n:]
	}
	f := file()

	b.Run("selection_50000_rows", func(b *testing.B) {
		for b.Loop() {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			read := stack.Store.ItemsRead()
			res, err := selection.Select(ctx, bytes.NewReader(f), func(ctx context.Context, emails []string) (map[string]string, error) {
				return stack.Store.MemberIDsByEmail(ctx, teamID, emails)
			})
			runtime.ReadMemStats(&after)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(stack.Store.ItemsRead()-read), "items-read")
			b.ReportMetric(float64(len(res.Matched)), "matched")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), "MiB-allocated")
			b.ReportMetric(float64(after.HeapInuse)/(1<<20), "MiB-heap-in-use")
		}
	})
	ids := make([]string, reportSize)
	for i := range ids {
		ids[i] = fmt.Sprintf("m_%06d", i)
	}
	for _, days := range []int{30, 366} {
		b.Run(fmt.Sprintf("report_1000_members_%d_days", days), func(b *testing.B) {
			p := report.Period{From: now.AddDate(0, 0, -(days - 1)).Truncate(24 * time.Hour), To: now.Truncate(24 * time.Hour)}
			for b.Loop() {
				read := stack.Store.ItemsRead()
				rows, _, err := report.Build(ctx, stack.Store, teamID, ids, p)
				if err != nil || len(rows) != reportSize {
					b.Fatal(err)
				}
				b.ReportMetric(float64(stack.Store.ItemsRead()-read), "items-read")
				b.ReportMetric(float64(len(report.CSV(rows)))/1024, "KiB-csv")
			}
		})
	}
}
