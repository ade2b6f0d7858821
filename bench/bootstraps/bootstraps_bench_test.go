// Package bootstraps measures what a cold start costs: every function's
// bootstrap size (linux/arm64, as sam build makes it) and its init time
// under the Lambda runtime interface emulator (this machine's build; the
// median of five cold starts), and for the functions that read the
// application secret, what reading it from Secrets Manager adds to the
// init (the same function with APP_SECRET in its environment instead).
package bootstraps

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/samtemplate"
	"github.com/teamusers/usersapi/internal/secretstore"
)

const coldStarts = 5

func BenchmarkBootstraps(b *testing.B) {
	root, err := samtemplate.FindRoot()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		sizes, err := local.MeasureBootstraps(ctx, root, b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		bin := b.TempDir()
		if err := local.BuildFunctions(ctx, root, bin, "", ""); err != nil {
			b.Fatal(err)
		}
		svcs, err := local.StartServices(ctx, local.ServiceOptions{Root: root, StateDir: filepath.Join(b.TempDir(), "stack")})
		if err != nil {
			b.Fatal(err)
		}
		value, err := local.EnsureSecret(ctx, svcs.DynamoDBEndpoint, secretstore.NewValue())
		if err != nil {
			b.Fatal(err)
		}
		tmpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
		if err != nil {
			b.Fatal(err)
		}
		db := local.NewDynamoDB(svcs.DynamoDBEndpoint)
		for logical, name := range map[string]string{"Table": "users-bench", "ArchiveTable": "users-archive-bench"} {
			if err := local.EnsureTable(ctx, db, tmpl, logical, name); err != nil {
				b.Fatal(err)
			}
		}
		env := []string{
			"TABLE_NAME=users-bench", "ARCHIVE_TABLE_NAME=users-archive-bench",
			"DYNAMODB_ENDPOINT=" + svcs.DynamoDBEndpoint, "SES_ENDPOINT=" + svcs.SESEndpoint, "SECRETS_MANAGER_ENDPOINT=" + svcs.DynamoDBEndpoint,
			"AWS_REGION=" + local.Region, "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
		}
		rie := filepath.Join(root, ".state", "bin", "aws-lambda-rie")
		names := make([]string, 0, len(sizes.Sizes))
		for n := range sizes.Sizes {
			names = append(names, n)
		}
		sort.Strings(names)
		var out strings.Builder
		fmt.Fprintf(&out, "\nfloors (linux/arm64, stripped): dynamodb %.2f MB, mail %.2f MB\n", mb(sizes.Floors["dynamodb"]), mb(sizes.Floors["mail"]))
		fmt.Fprintf(&out, "%-20s %-8s %9s %14s  %s\n", "function", "kind", "size", "init (median)", "init with APP_SECRET in the environment (no Secrets Manager read)")
		for _, n := range names {
			event, err := os.ReadFile(filepath.Join(root, "functions", n, "event.json"))
			if err != nil {
				b.Fatal(err)
			}
			withSM := median(b, rie, filepath.Join(bin, n), append(env, "APP_SECRET_ID="+local.SecretName), event)
			direct := ""
			if readsSecret(root, n) {
				direct = fmt.Sprintf("%.1f ms", median(b, rie, filepath.Join(bin, n), append(env, "APP_SECRET="+value), event))
			}
			fmt.Fprintf(&out, "%-20s %-8s %6.2f MB %11.1f ms  %s\n", n, sizes.Kinds[n], mb(sizes.Sizes[n]), withSM, direct)
		}
		svcs.Stop()
		fmt.Print(out.String())
	}
}

// readsSecret: the function's main loads the application secret.
func readsSecret(root, name string) bool {
	src, _ := os.ReadFile(filepath.Join(root, "functions", name, "main.go"))
	return strings.Contains(string(src), "secretstore.MustLoad(")
}

// median is the median init duration, in milliseconds, of coldStarts cold
// starts of bootstrap (each in a fresh emulator, invoked once with event).
func median(b *testing.B, rie, bootstrap string, env []string, event []byte) float64 {
	var inits []float64
	for range coldStarts {
		e, err := local.StartEmulator(rie, bootstrap, env)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.Invoke(context.Background(), event); err != nil {
			b.Fatalf("%s: %v\n%s", bootstrap, err, e.Logs())
		}
		d := e.InitDurations()
		e.Stop()
		if len(d) != 1 {
			b.Fatalf("%s: %d init reports:\n%s", bootstrap, len(d), e.Logs())
		}
		inits = append(inits, d[0])
	}
	slices.Sort(inits)
	return inits[len(inits)/2]
}

func mb(n int64) float64 { return float64(n) / 1e6 }
