// Package lambda runs the built function binaries under the Lambda runtime
// interface emulator with their sample events (functions/*/event.json),
// against the local DynamoDB: the same bootstrap `sam build` packages,
// started the way the Lambda service starts it.
package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/provisioning"
	"github.com/teamusers/usersapi/internal/samtemplate"
)

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// emulate builds functions/<dir> and serves it under aws-lambda-rie.
func emulate(t *testing.T, root, dir string, env []string) (invoke func(event []byte) []byte) {
	t.Helper()
	rie := filepath.Join(root, ".state", "bin", "aws-lambda-rie")
	if _, err := os.Stat(rie); err != nil {
		t.Fatalf("%s is missing: `make deps` installs it", rie)
	}
	bin := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, "./functions/"+dir)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", dir, err, out)
	}
	port, apiPort := freePort(t), freePort(t)
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", fmt.Sprintf("127.0.0.1:%d", port),
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", apiPort), bin)
	cmd.Env = append(os.Environ(), env...)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("emulator log of %s:\n%s", dir, logs.String())
		}
	})
	url := fmt.Sprintf("http://127.0.0.1:%d/2015-03-31/functions/function/invocations", port)
	return func(event []byte) []byte {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			resp, err := http.Post(url, "application/json", bytes.NewReader(event))
			if err == nil {
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return b
			}
			if time.Now().After(deadline) {
				t.Fatalf("the emulator did not answer: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func TestBuiltFunctionsServeTheirSampleEventsUnderTheEmulator(t *testing.T) {
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	stack, err := local.Start(context.Background(), local.StackOptions{Root: root, StateDir: filepath.Join(t.TempDir(), "stack")})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Stop()
	env := []string{"TABLE_NAME=" + local.TableName, "DYNAMODB_ENDPOINT=" + stack.Services.DynamoDBEndpoint,
		"APP_SECRET=0123456789abcdef0123456789abcdef", "AWS_REGION=" + local.Region,
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_EC2_METADATA_DISABLED=true"}

	// Billing's entry point, with its sample event.
	ev, _ := os.ReadFile(filepath.Join(root, "functions", "provisionteam", "event.json"))
	out := emulate(t, root, "provisionteam", env)(ev)
	var team provisioning.Response
	if err := json.Unmarshal(out, &team); err != nil || team.TeamID == "" || team.Seats != 50 {
		t.Fatalf("provision: %s", out)
	}
	if _, err := stack.Store.GetTeam(context.Background(), team.TeamID); err != nil {
		t.Fatalf("the provisioned team is not in the table: %v", err)
	}

	// The summary function with its sample event, pointed at that team:
	// the claims come from the authorizer context, as in AWS.
	raw, _ := os.ReadFile(filepath.Join(root, "functions", "getsummary", "event.json"))
	summary := emulate(t, root, "getsummary", env)
	type call struct {
		team, email string
		status      int
		body        string
	}
	calls := []call{
		{team.TeamID, "alice@example.com", 200, `"seats":{"purchased":50,"assigned":1,"unassigned":49}`},
		{team.TeamID, "mallory@example.com", 404, `"code":"team_not_found"`},
	}
	for _, c := range calls {
		var req events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			t.Fatal(err)
		}
		req.RawPath = strings.Replace(req.RawPath, "t_demo", c.team, 1)
		req.RequestContext.HTTP.Path = req.RawPath
		req.PathParameters["teamId"] = c.team
		req.RequestContext.Authorizer.JWT.Claims["email"] = c.email
		b, _ := json.Marshal(req)
		var resp events.APIGatewayV2HTTPResponse
		out := summary(b)
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("not a proxy response: %s", out)
		}
		if resp.StatusCode != c.status || !strings.Contains(resp.Body, c.body) {
			t.Fatalf("%s: %d %s", c.email, resp.StatusCode, resp.Body)
		}
	}
}
