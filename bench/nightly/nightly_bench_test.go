// Package nightly measures the nightly job on 100,000 members of which
// about 1% change state that night, side by side with what a
// scan-and-filter design reads.
package nightly

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/teamusers/usersapi/bench/benchkit"
	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/nightly"
	"github.com/teamusers/usersapi/internal/users"
)

const (
	members  = 100_000
	changing = 1_000
)

func BenchmarkNightly100kMembers1PercentChanging(b *testing.B) {
	ctx := context.Background()
	at := time.Date(2026, 12, 31, 3, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	created := at.Add(-400 * day)
	stack, teamID, stop, err := benchkit.Start(local.StackOptions{}, members, created)
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	// Everyone was last active a day before the run: "recently", next due in
	// two days. 1% were last active 3 days and 2 hours before: due tonight.
	ms := make([]users.Member, members-1)
	for i := range ms {
		last := at.Add(-day)
		if i%(members/changing) == 0 {
			last = at.Add(-3*day - 2*time.Hour)
		}
		ms[i] = users.Member{ID: users.NewID("m"), TeamID: teamID, Email: fmt.Sprintf("m%06d@acme.example", i), Role: users.RoleUser,
			Status: users.StatusActive, InvitedAt: created, AcceptedAt: created, FirstSignInAt: created, LastSignInAt: last, LastActiveAt: last}
	}
	start := time.Now()
	if err := stack.Store.WithClock(func() time.Time { return at.Add(-3 * day) }).ImportMembers(ctx, teamID, ms); err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "seeded %d members in %s\n", members, time.Since(start).Round(time.Second))

	for b.Loop() {
		job := nightly.New(stack.Store, users.DefaultRetention, at)
		res, err := job.Run(ctx)
		if err != nil || !res.Done {
			b.Fatalf("%+v %v", res, err)
		}
		b.ReportMetric(float64(res.MembersChanged), "members-changed")
		b.ReportMetric(float64(job.Store.(*dynamo.Store).ItemsRead()), "items-read")
		b.ReportMetric(float64(scanBaseline(ctx, stack)), "scan-items-read")
	}
}

// scanBaseline is what finding the changing members by scanning the table
// and filtering reads: every item of the table, whatever changes. (Paging a
// real Scan through moto costs seconds a page, so the count comes from
// DescribeTable, which is the same number.)
func scanBaseline(ctx context.Context, stack *local.Stack) int64 {
	out, err := local.NewDynamoDB(stack.Services.DynamoDBEndpoint).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(local.TableName)})
	if err != nil {
		return -1
	}
	return aws.ToInt64(out.Table.ItemCount)
}
