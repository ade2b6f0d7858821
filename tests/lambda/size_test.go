package lambda

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/samtemplate"
)

// Allowance is what our code and any client beyond DynamoDB and SES may
// add to a bootstrap over the size floor of its kind: the Lambda runtime,
// the API Gateway adapter, the time zone database (0.40 MB: Lambda's
// provided.al2023 has none) and the SDK clients with one call each and no
// code of ours (testdata/floor). Measuring against the floor keeps the
// budget about what this project controls; both are printed, and
// docs/benchmarks.md compares them with the absolute budgets first set
// (7.5 MB and 8.5 MB), which today's SDK no longer fits.
const Allowance = 1_000_000 // bytes

// Every function's bootstrap, built as sam build builds it, stays within
// its floor plus the allowance. Sizes are deterministic for a toolchain
// and go.sum, so this cannot flake; it fails when, for instance, a function
// links another handler, the config package or text/template again.
func TestBootstrapsStayWithinTheirBudgets(t *testing.T) {
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := local.MeasureBootstraps(context.Background(), root, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(b.Sizes))
	for n := range b.Sizes {
		names = append(names, n)
	}
	sort.Strings(names)
	var table strings.Builder
	fmt.Fprintf(&table, "floors: dynamodb %.2f MB, mail %.2f MB; allowance %.2f MB\n", mb(b.Floors["dynamodb"]), mb(b.Floors["mail"]), mb(Allowance))
	for _, n := range names {
		floor := b.Floor(b.Kinds[n])
		fmt.Fprintf(&table, "%-20s %-8s %.2f MB  (budget %.2f MB; %+.2f MB over the floor)\n", n, b.Kinds[n], mb(b.Sizes[n]), mb(floor+Allowance), mb(b.Sizes[n]-floor))
		if b.Sizes[n] > floor+Allowance {
			t.Errorf("%s is %.2f MB, over its budget of %.2f MB (its floor + %.2f MB): `go list -deps ./functions/%s` shows what it links",
				n, mb(b.Sizes[n]), mb(floor+Allowance), mb(Allowance), n)
		}
	}
	t.Log("\n" + table.String())
}

func mb(n int64) float64 { return float64(n) / 1e6 }
