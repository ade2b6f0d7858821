package cost

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/teamusers/usersapi/bench/benchkit"
	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/samtemplate"
	"github.com/teamusers/usersapi/internal/users"
)

// lambdaStat is one function as the emulator ran it.
type lambdaStat struct {
	Function    string  // logical id in template.yaml
	MemoryMB    int     // its MemorySize
	BilledMs    float64 // mean billed duration of the warm invocations
	LogBytes    float64 // mean bytes an invocation logs (the platform's START/END/REPORT lines and the function's own)
	InitMs      float64 // the cold start's INIT REPORT
	Invocations int     // warm invocations measured
	Items       float64 // for the nightly job: items handled in the measured run
}

// emulated is one built bootstrap served by aws-lambda-rie.
type emulated struct{ *local.Emulator }

// emulate builds functions/<dir> (the same code `sam build` packages, for
// this machine) and starts it under the runtime interface emulator.
func emulate(b *testing.B, root, dir string, envs []string) emulated {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-trimpath", "-tags", "lambda.norpc", "-ldflags=-s -w", "-o", bin, "./functions/"+dir)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build %s: %v\n%s", dir, err, out)
	}
	e, err := local.StartEmulator(filepath.Join(root, ".state", "bin", "aws-lambda-rie"), bin,
		append(envs, "AWS_LAMBDA_FUNCTION_NAME="+dir))
	if err != nil {
		b.Fatal(err)
	}
	return emulated{e}
}

// invoke sends one event and waits for the answer (one at a time: the
// emulator serves one invocation at once).
func (e emulated) invoke(b *testing.B, event any) []byte {
	b.Helper()
	raw, _ := json.Marshal(event)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := e.Invoke(ctx, raw)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

var (
	reportLine = regexp.MustCompile(`REPORT RequestId: (\S+).*?Billed Duration: (\d+) ms`)
	initLine   = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
)

// stats reads the emulator's log: billed durations of the invocations
// after the first (the cold one), their log bytes, the cold start.
func (e emulated) stats(function string, memory int) lambdaStat {
	out := e.Logs()
	s := lambdaStat{Function: function, MemoryMB: memory}
	if m := initLine.FindStringSubmatch(out); m != nil {
		s.InitMs, _ = strconv.ParseFloat(m[1], 64)
	}
	// Log bytes: every line but the emulator's own ("(rapid)"), split by
	// invocation at the START lines.
	var perInvocation []int
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "(rapid)") {
			continue
		}
		if strings.HasPrefix(line, "START RequestId:") {
			perInvocation = append(perInvocation, 0)
		}
		if len(perInvocation) > 0 {
			perInvocation[len(perInvocation)-1] += len(line) + 1
		}
	}
	reports := reportLine.FindAllStringSubmatch(out, -1)
	total, logs := 0.0, 0
	for i, r := range reports {
		if i == 0 {
			continue // the cold invocation
		}
		ms, _ := strconv.ParseFloat(r[2], 64)
		total += ms
		if i < len(perInvocation) {
			logs += perInvocation[i]
		}
	}
	if n := len(reports) - 1; n > 0 {
		s.Invocations = n
		s.BilledMs = total / float64(n)
		s.LogBytes = float64(logs) / float64(n)
	}
	return s
}

// httpEvent is an API Gateway v2 event for a route, as the JWT authorizer
// hands it on (claims of email, or none).
func httpEvent(method, path string, params map[string]string, email string, body any) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: method + " " + path, RawPath: path,
		Headers: map[string]string{"content-type": "application/json", "idempotency-key": users.NewID("k")},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			AccountID: "123456789012", APIID: "bench", Stage: "$default", RequestID: users.NewID("r"),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, Protocol: "HTTP/1.1", SourceIP: "203.0.113.10"},
		},
		PathParameters: params,
	}
	if email != "" {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{
				"sub": "sub-" + email, "email": email, "email_verified": "true"}},
		}
	}
	if body != nil {
		raw, _ := json.Marshal(body)
		ev.Body = string(raw)
	}
	return ev
}

// lambdas runs the functions the profile invokes under the emulator,
// against a table of the local stack holding a team of 1,000 members, and
// records their billed durations and log volume.
func lambdas(b *testing.B) {
	ctx := context.Background()
	root, err := samtemplate.FindRoot()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, ".state", "bin", "aws-lambda-rie")); err != nil {
		b.Fatal("aws-lambda-rie is missing: `make deps` installs it")
	}
	now := time.Now().UTC().Truncate(time.Second)
	t := newTable(b, "cost-lambda")
	defer t.drop()
	seed := dynamo.New(env.raw, t.name).WithArchive(t.name + "-archive").WithDueShards(env.stack.Config.DueShards)
	team, err := benchkit.NewTeam(seed, 2000, benchkit.Owner)
	if err != nil {
		b.Fatal(err)
	}
	ms := benchkit.Members(team, 1000, now)
	// The nightly run: 50 more members leave "recently" (active three days
	// ago), besides the 1% of the seed. (Sign-ins leave by TTL.)
	for i := range 50 {
		last := users.DayStart(now, -users.RecentlyDays, time.UTC).Add(time.Hour)
		ms = append(ms, users.Member{ID: users.NewID("m"), TeamID: team, Email: fmt.Sprintf("step%d@acme.example", i), Role: users.RoleUser,
			Status: users.StatusActive, InvitedAt: now.Add(-100 * 24 * time.Hour), AcceptedAt: now.Add(-99 * 24 * time.Hour),
			FirstSignInAt: last, LastSignInAt: last, LastActiveAt: last})
	}
	if err := seed.WithClock(func() time.Time { return now }).ImportMembers(ctx, team, ms); err != nil {
		b.Fatal(err)
	}
	// App users: active members last seen on an earlier day within two
	// days, one per invocation, so every report is their first activity of
	// the day and writes the member (the daily case).
	var app []string
	for _, m := range ms {
		if m.Status == users.StatusActive && users.DaysBetween(m.LastActiveAt, now, time.UTC) >= 1 && m.LastActiveAt.After(now.Add(-48*time.Hour)) {
			app = append(app, m.Email)
		}
	}
	const warm = 15
	if len(app) < 2*(warm+1) {
		b.Fatalf("%d app users", len(app))
	}
	// Invitations whose tokens we know, to accept.
	var tokens []string
	for i := range warm + 1 {
		tok := token43()
		m := users.Member{ID: users.NewID("m"), TeamID: team, Email: fmt.Sprintf("joiner%d@acme.example", i), Role: users.RoleUser,
			Status: users.StatusInvitationSent, InvitedAt: now, InvitationSentAt: now, InvitationExpiresAt: now.Add(7 * 24 * time.Hour), TokenHash: users.HashToken(tok)}
		if res, err := seed.AddMembers(ctx, team, []users.NewMember{users.Admit(m, nil)}); err != nil || res[0] != nil {
			b.Fatal(err, res)
		}
		tokens = append(tokens, tok)
	}

	envs := []string{
		"TABLE_NAME=" + t.name, "ARCHIVE_TABLE_NAME=" + t.name + "-archive",
		"DYNAMODB_ENDPOINT=" + env.stack.Services.DynamoDBEndpoint, "SES_ENDPOINT=" + env.stack.Services.SESEndpoint,
		"APP_SECRET=" + string(env.stack.Config.Secret), "MAIL_FROM=" + env.stack.Config.MailFrom,
		"SES_MAX_SEND_RATE=1000", fmt.Sprintf("DUE_SHARDS=%d", env.stack.Config.DueShards),
		"AWS_REGION=" + local.Region, "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_LAMBDA_LOG_FORMAT=JSON", "AWS_LAMBDA_LOG_LEVEL=INFO",
	}
	teamPath := "/v1/teams/" + team
	p := map[string]string{"teamId": team}
	invited := make([]string, 0, warm+1)
	cases := []struct {
		dir, function string
		event         func(i int) any
	}{
		{"getme", "GetMeFunction", func(int) any { return httpEvent("GET", "/v1/me", nil, benchkit.Owner, nil) }},
		{"getsummary", "GetSummaryFunction", func(int) any { return httpEvent("GET", teamPath+"/summary", p, benchkit.Owner, nil) }},
		{"listmembers", "ListMembersFunction", func(int) any { return httpEvent("GET", teamPath+"/members", p, benchkit.Owner, nil) }},
		{"recordsignin", "RecordSignInFunction", func(i int) any {
			return httpEvent("POST", "/v1/me/sign-ins", nil, app[i], map[string]string{"appVersion": "3.1.0", "device": "mac"})
		}},
		{"recordcall", "RecordCallFunction", func(i int) any {
			return httpEvent("POST", "/v1/me/calls", nil, app[warm+1+i], map[string]any{"callId": users.NewID("c"),
				"startedAt": now.Add(-10 * time.Minute).Format(time.RFC3339), "durationSeconds": 300})
		}},
		{"invite", "InviteFunction", func(i int) any {
			return httpEvent("POST", teamPath+"/invitations", p, benchkit.Owner, map[string]any{"emails": []string{fmt.Sprintf("invitee%d@acme.example", i)}})
		}},
		{"acceptinvitation", "AcceptInvitationFunction", func(i int) any {
			return httpEvent("POST", "/v1/invitations/accept", nil, "", map[string]string{"token": tokens[i]})
		}},
		{"deliveremail", "DeliverEmailFunction", func(i int) any {
			m, err := seed.GetMember(ctx, team, invited[i])
			if err != nil || m.LastEmail == nil {
				b.Fatalf("invited member %s: %v", invited[i], err)
			}
			return events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{{EventName: "INSERT", EventSource: "aws:dynamodb",
				Change: events.DynamoDBStreamRecord{Keys: map[string]events.DynamoDBAttributeValue{"PK": events.NewStringAttribute("EMAIL#" + m.LastEmail.ID)},
					SequenceNumber: strconv.Itoa(i + 1), StreamViewType: "NEW_AND_OLD_IMAGES"}}}}
		}},
	}
	for _, c := range cases {
		b.Run(c.dir, func(b *testing.B) {
			e := emulate(b, root, c.dir, envs)
			defer e.Stop()
			for i := range warm + 1 {
				out := e.invoke(b, c.event(i))
				var resp events.APIGatewayV2HTTPResponse
				if c.dir != "deliveremail" {
					if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode >= 300 {
						b.Fatalf("%s #%d: %s", c.dir, i, out)
					}
				}
				if c.dir == "invite" {
					var r struct {
						Results []struct{ MemberID string } `json:"results"`
					}
					_ = json.Unmarshal([]byte(resp.Body), &r)
					invited = append(invited, r.Results[0].MemberID)
				}
			}
			time.Sleep(200 * time.Millisecond) // the last REPORT line
			s := e.stats(c.function, env.stack.Template.MemorySize(c.function))
			b.ReportMetric(s.BilledMs, "billed-ms/op")
			b.ReportMetric(s.LogBytes, "log-bytes/op")
			b.ReportMetric(s.InitMs, "init-ms")
			b.ReportMetric(float64(s.MemoryMB), "memory-mb")
			results.Lock()
			results.lambdas[c.dir] = s
			results.Unlock()
		})
	}
	// The nightly job, one run over what is due a day later: the run's
	// billed duration per item it handled.
	b.Run("nightly", func(b *testing.B) {
		e := emulate(b, root, "nightly", envs)
		defer e.Stop()
		e.invoke(b, map[string]any{"at": now.Add(-time.Hour)}) // cold, finds nothing due
		out := e.invoke(b, map[string]any{"at": now.Add(24 * time.Hour)})
		var res struct {
			MembersChanged int64
			Done           bool
		}
		if err := json.Unmarshal(out, &res); err != nil || !res.Done || res.MembersChanged < 50 {
			b.Fatalf("nightly: %s", out)
		}
		time.Sleep(200 * time.Millisecond)
		s := e.stats("NightlyFunction", env.stack.Template.MemorySize("NightlyFunction"))
		s.Items = float64(res.MembersChanged)
		b.ReportMetric(s.BilledMs, "billed-ms/op")
		b.ReportMetric(s.Items, "items")
		b.ReportMetric(s.BilledMs/s.Items, "billed-ms/item")
		b.ReportMetric(float64(s.MemoryMB), "memory-mb")
		results.Lock()
		results.lambdas["nightly"] = s
		results.Unlock()
	})
}
