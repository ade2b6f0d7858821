// Package lambda runs every built function under the Lambda runtime
// interface emulator with its sample event (functions/*/event.json), against
// the local stack (DynamoDB, SES and Secrets Manager stand-ins): the same
// bootstrap `sam build` packages, started the way the Lambda service starts
// it, with its configuration from the environment and the application
// secret from Secrets Manager. Each invocation's answer or its effect in
// the table, the mailbox or the secret is checked, and so are the logs.
package lambda

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/provisioning"
	"github.com/teamusers/usersapi/internal/samtemplate"
	"github.com/teamusers/usersapi/internal/secretstore"
)

const (
	table   = "users-rie"
	archive = "users-archive-rie"
	owner   = "owner@acme.example" // the sample events' caller
)

// stand is the local stack and one emulator per function.
type stand struct {
	t        *testing.T
	root     string
	bin      string
	rie      string
	env      []string
	svcs     *local.Services
	db       *dynamodb.Client
	mu       sync.Mutex
	emus     map[string]*local.Emulator // by function folder
	invoked  map[string]bool
	template *samtemplate.Template
}

func TestEveryFunctionUnderTheRuntimeEmulator(t *testing.T) {
	ctx := context.Background()
	s := start(t)

	// Billing's entry point creates the team the other samples act on.
	var team provisioning.Response
	s.direct("provisionteam", s.sample("provisionteam", nil), &team)
	if team.TeamID == "" || team.Seats != 50 {
		t.Fatalf("provision: %+v", team)
	}
	ids := map[string]string{"t_demo": team.TeamID}

	// The summary: the caller's claims come from the authorizer context.
	if r := s.http("getsummary", ids, nil); r.StatusCode != 200 || !strings.Contains(r.Body, `"seats":{"purchased":50,"assigned":1,"unassigned":49}`) {
		t.Fatalf("summary: %d %s", r.StatusCode, r.Body)
	}
	if r := s.http("getsummary", ids, func(ev *events.APIGatewayV2HTTPRequest) { claim(ev, "mallory@example.com") }); r.StatusCode != 404 || !strings.Contains(r.Body, `"code":"team_not_found"`) {
		t.Fatalf("summary for a stranger: %d %s", r.StatusCode, r.Body)
	}
	// The team's settings: the sample turns the revoke notice off; the summary shows it; on again.
	if r := s.http("updateteamsettings", ids, nil); r.StatusCode != 200 || strings.TrimSpace(r.Body) != `{"notifyOnRevoke":false}` {
		t.Fatalf("settings: %d %s", r.StatusCode, r.Body)
	}
	if r := s.http("getsummary", ids, nil); !strings.Contains(r.Body, `"settings":{"notifyOnRevoke":false}`) {
		t.Fatalf("summary after the settings: %s", r.Body)
	}
	if r := s.http("updateteamsettings", ids, func(ev *events.APIGatewayV2HTTPRequest) { ev.Body = `{"notifyOnRevoke":true}` }); r.StatusCode != 200 || strings.TrimSpace(r.Body) != `{"notifyOnRevoke":true}` {
		t.Fatalf("settings back on: %d %s", r.StatusCode, r.Body)
	}

	// Invitations: two people; the invite function seals their tokens with
	// the secret it read from Secrets Manager.
	r := s.http("invite", ids, func(ev *events.APIGatewayV2HTTPRequest) {
		ev.Body = `{"emails":["new.person@acme.example","ann@acme.example"],"role":"user"}`
	})
	var invited struct {
		Results []struct{ Email, Result, MemberID string }
	}
	if err := json.Unmarshal([]byte(r.Body), &invited); err != nil || r.StatusCode != 200 || len(invited.Results) != 2 || invited.Results[0].Result != "invited" {
		t.Fatalf("invite: %d %s", r.StatusCode, r.Body)
	}
	newPerson, ann := invited.Results[0].MemberID, invited.Results[1].MemberID

	// The deliverer sends the outbox emails the stream brings and opens the
	// sealed tokens with the same secret.
	s.deliverAll(ctx)
	token := s.tokenFor(t, "new.person@acme.example")

	ids["<token from the invitation email>"] = token
	if r := s.http("acceptinvitation", ids, nil); r.StatusCode != 200 || !strings.Contains(r.Body, `"status":"pending_app_login"`) {
		t.Fatalf("accept: %d %s", r.StatusCode, r.Body)
	}

	// Reads, side by side (each emulator serves one call at a time).
	ids["m_demo"] = newPerson
	var cursor string
	s.parallel(
		func() {
			if r := s.http("getmember", ids, nil); r.StatusCode != 200 || !strings.Contains(r.Body, `"status":"pending_app_login"`) {
				t.Errorf("get member: %d %s", r.StatusCode, r.Body)
			}
		},
		func() { cursor = s.firstPage(t, ids) },
		func() {
			if r := s.http("getme", ids, nil); r.StatusCode != 200 || !strings.Contains(r.Body, `"teamId":"`+team.TeamID+`"`) {
				t.Errorf("me: %d %s", r.StatusCode, r.Body)
			}
		},
		func() { // the sample asks for the invitations: both are there, with who made them
			if r := s.http("auditlog", ids, nil); r.StatusCode != 200 || strings.Count(r.Body, `"action":"invite"`) != 2 || !strings.Contains(r.Body, `"kind":"admin"`) {
				t.Errorf("audit log: %d %s", r.StatusCode, r.Body)
			}
		},
		func() {
			r := s.http("csvselection", ids, nil)
			if r.StatusCode != 200 || !strings.Contains(r.Body, `"email":"ann@acme.example","memberId":"`+ann+`"`) || !strings.Contains(r.Body, `"notFound":[{"row":3,"email":"bob@acme.example"}]`) {
				t.Errorf("csv selection: %d %s", r.StatusCode, r.Body)
			}
		},
		func() {
			r := s.http("usagereport", ids, nil)
			if r.StatusCode != 200 || !strings.HasPrefix(r.Headers["Content-Type"], "text/csv") || !strings.Contains(r.Body, "new.person@acme.example") {
				t.Errorf("usage report: %d %v %s", r.StatusCode, r.Headers, r.Body)
			}
		},
		func() {
			for _, fn := range []string{"recordsignin", "recordcall"} {
				r := s.http(fn, ids, func(ev *events.APIGatewayV2HTTPRequest) {
					if fn == "recordcall" { // the sample's call must stay within the last year
						ev.Body = fmt.Sprintf(`{"startedAt":%q,"durationSeconds":1260}`, time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
					}
				})
				if r.StatusCode != 200 || !strings.Contains(r.Body, `"teamId":"`+team.TeamID+`"`) {
					t.Errorf("%s: %d %s", fn, r.StatusCode, r.Body)
				}
			}
		},
	)

	// Writes on one member, then the bulk and team-wide buttons.
	if r := s.http("changerole", ids, nil); r.StatusCode != 200 || !strings.Contains(r.Body, `"role":"admin"`) {
		t.Fatalf("change role: %d %s", r.StatusCode, r.Body)
	}
	if r := s.http("sendinstructions", ids, nil); r.StatusCode != 202 {
		t.Fatalf("send instructions: %d %s", r.StatusCode, r.Body)
	}
	if r := s.http("bulk", ids, func(ev *events.APIGatewayV2HTTPRequest) { ev.Body = strings.Replace(ev.Body, `"admin"`, `"user"`, 1) }); r.StatusCode != 200 || !strings.Contains(r.Body, `"result":"done"`) {
		t.Fatalf("bulk: %d %s", r.StatusCode, r.Body)
	}
	if r := s.http("resendinvite", map[string]string{"t_demo": team.TeamID, "m_demo": ann}, nil); r.StatusCode != 202 {
		t.Fatalf("resend invite: %d %s", r.StatusCode, r.Body)
	}
	if r := s.http("emailusagereport", ids, nil); r.StatusCode != 202 {
		t.Fatalf("email usage report: %d %s", r.StatusCode, r.Body)
	}
	s.deliverAll(ctx)
	if s.mail(t, owner, "Usage report") == nil || s.mail(t, "new.person@acme.example", "desktop app for") == nil {
		t.Fatal("the usage report or the instructions did not arrive")
	}

	// SES reports that the instructions bounced: EventBridge invokes the
	// bounce function with the event, tags and all.
	store := dynamo.New(s.db, table)
	sent, err := store.GetMember(ctx, team.TeamID, newPerson)
	if err != nil || sent.LastEmail == nil || sent.LastEmail.State != "sent" {
		t.Fatalf("the instructions' state: %+v %v", sent.LastEmail, err)
	}
	if out := s.invoke("emailevents", s.sample("emailevents", map[string]string{"e_demo": sent.LastEmail.ID, "t_demo": team.TeamID, "m_demo": newPerson})); string(out) != "null" {
		t.Fatalf("email events: %s", out)
	}
	if m, _ := store.GetMember(ctx, team.TeamID, newPerson); m.LastEmail == nil || m.LastEmail.State != "bounced" {
		t.Fatalf("the bounce was not recorded: %+v", m.LastEmail)
	}

	var job struct {
		JobID string `json:"jobId"`
	}
	r = s.http("resendallinvites", ids, nil)
	if err := json.Unmarshal([]byte(r.Body), &job); err != nil || r.StatusCode != 202 || job.JobID == "" {
		t.Fatalf("resend all: %d %s", r.StatusCode, r.Body)
	}
	ids["j_demo"] = job.JobID
	if r := s.http("getjob", ids, nil); r.StatusCode != 200 || !strings.Contains(r.Body, `"state":"queued"`) {
		t.Fatalf("get job: %d %s", r.StatusCode, r.Body)
	}
	var resp events.DynamoDBEventResponse
	s.direct("teamjobs", s.sample("teamjobs", ids), &resp)
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("team jobs: %+v", resp)
	}
	if r := s.http("getjob", ids, nil); r.StatusCode != 200 || !strings.Contains(r.Body, `"state":"done"`) {
		t.Fatalf("the job did not finish: %d %s", r.StatusCode, r.Body)
	}
	if r := s.http("sendallinstructions", ids, nil); r.StatusCode != 202 || !strings.Contains(r.Body, `"jobId"`) {
		t.Fatalf("send all instructions: %d %s", r.StatusCode, r.Body)
	}
	if r := s.http("removemember", map[string]string{"t_demo": team.TeamID, "m_demo": ann}, nil); r.StatusCode != 204 {
		t.Fatalf("remove: %d %s", r.StatusCode, r.Body)
	}
	if r := s.http("getmember", map[string]string{"t_demo": team.TeamID, "m_demo": ann}, nil); r.StatusCode != 404 {
		t.Fatalf("a removed member is still there: %d %s", r.StatusCode, r.Body)
	}

	// An identity provider: a SCIM token made by the admin, the discovery
	// documents, Ann provisioned again and found, deactivated and
	// reactivated by the admin, and the token revoked: its next request
	// is refused.
	r = s.http("createscimtoken", ids, nil)
	var tok struct{ ID, Token string }
	if err := json.Unmarshal([]byte(r.Body), &tok); err != nil || r.StatusCode != 201 || !strings.HasPrefix(tok.Token, "scim."+team.TeamID+".") {
		t.Fatalf("create SCIM token: %d %s", r.StatusCode, r.Body)
	}
	if r := s.http("listscimtokens", ids, nil); r.StatusCode != 200 || !strings.Contains(r.Body, tok.ID) || strings.Contains(r.Body, tok.Token) {
		t.Fatalf("list SCIM tokens: %d %s", r.StatusCode, r.Body)
	}
	if r := s.http("scimdiscovery", ids, nil); r.StatusCode != 200 || r.Headers["Content-Type"] != "application/scim+json" || !strings.Contains(r.Body, `"patch":{"supported":true}`) {
		t.Fatalf("SCIM discovery: %d %v %s", r.StatusCode, r.Headers, r.Body)
	}
	scimIDs := map[string]string{"<scim token>": tok.Token}
	r = s.http("scimwriteusers", scimIDs, nil)
	var provisioned struct{ ID string }
	if err := json.Unmarshal([]byte(r.Body), &provisioned); err != nil || r.StatusCode != 201 || !strings.Contains(r.Body, `"userName":"ann@acme.example"`) {
		t.Fatalf("SCIM create: %d %s", r.StatusCode, r.Body)
	}
	if r := s.http("scimreadusers", scimIDs, nil); r.StatusCode != 200 || !strings.Contains(r.Body, `"totalResults":1`) || !strings.Contains(r.Body, provisioned.ID) {
		t.Fatalf("SCIM filter: %d %s", r.StatusCode, r.Body)
	}
	annIDs := map[string]string{"t_demo": team.TeamID, "m_demo": provisioned.ID}
	if r := s.http("deactivatemember", annIDs, nil); r.StatusCode != 200 || !strings.Contains(r.Body, `"status":"deactivated"`) {
		t.Fatalf("deactivate: %d %s", r.StatusCode, r.Body)
	}
	if r := s.http("reactivatemember", annIDs, nil); r.StatusCode != 200 || !strings.Contains(r.Body, `"status":"pending_app_login"`) {
		t.Fatalf("reactivate: %d %s", r.StatusCode, r.Body)
	}
	if r := s.http("revokescimtoken", map[string]string{"t_demo": team.TeamID, "sk_demo": tok.ID}, nil); r.StatusCode != 204 {
		t.Fatalf("revoke: %d %s", r.StatusCode, r.Body)
	}
	if r := s.http("scimreadusers", scimIDs, nil); r.StatusCode != 401 {
		t.Fatalf("a revoked token: %d %s", r.StatusCode, r.Body)
	}

	// The nightly job, as the schedule (or its own hand-off) invokes it.
	var night struct {
		Done bool `json:"done"`
	}
	s.direct("nightly", s.sample("nightly", nil), &night)
	if !night.Done {
		t.Fatal("the nightly run did not finish")
	}

	// A sign-in past its retention, as the stream hands DynamoDB's TTL
	// deletion of it on: it lands in the archive table.
	var arch struct {
		Failures []any `json:"batchItemFailures"`
	}
	s.direct("archivesignins", s.sample("archivesignins", map[string]string{"t_demo": team.TeamID, "m_demo": newPerson}), &arch)
	_, archived, err := dynamo.New(s.db, table).WithArchive(archive).SignIns(ctx, team.TeamID, newPerson)
	if err != nil || len(arch.Failures) != 0 || len(archived) != 1 || archived[0].Device != "mac" {
		t.Fatalf("archive: %+v, archived %+v %v", arch, archived, err)
	}

	s.rotate(t, ctx, map[string]string{"t_demo": team.TeamID}, cursor)
	s.checkLogs(t)
	for _, fn := range s.template.Functions() {
		if dir := strings.ToLower(strings.TrimSuffix(fn, "Function")); !s.invoked[dir] {
			t.Errorf("%s was not run under the emulator", fn)
		}
	}
}

// rotate runs Secrets Manager's four rotation steps through
// RotateSecretFunction, then checks that a cursor made before the rotation
// still pages in a function started after it, and that a function started
// before it accepts a cursor made after it.
func (s *stand) rotate(t *testing.T, ctx context.Context, ids map[string]string, before string) {
	c := secretstore.NewClient(local.AWSConfig(), s.svcs.DynamoDBEndpoint)
	const version = "9a1e7c44-3b0d-4c55-8f2e-5d6a7b8c9d01"
	// Secrets Manager stages the pending version itself; moto cannot stage
	// one without a value, so it is put here and createSecret finds it made.
	if err := c.Put(ctx, local.SecretName, version, secretstore.NewValue(), secretstore.StagePending); err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"createSecret", "setSecret", "testSecret", "finishSecret"} {
		ev := s.sample("rotatesecret", map[string]string{"createSecret": step})
		var in secretstore.RotationEvent
		_ = json.Unmarshal(ev, &in)
		in.SecretID, in.ClientRequestToken = local.SecretName, version
		b, _ := json.Marshal(in)
		if out := s.invoke("rotatesecret", b); string(out) != "null" {
			t.Fatalf("%s: %s", step, out)
		}
	}
	stages, err := c.Stages(ctx, local.SecretName)
	if err != nil || !slices.Contains(stages[version], secretstore.StageCurrent) {
		t.Fatalf("not rotated: %v %v", stages, err)
	}
	// A list function started after the rotation reads both versions.
	fresh := s.emulator(t, "listmembers")
	if r := s.httpOn(fresh, "listmembers", ids, func(ev *events.APIGatewayV2HTTPRequest) { page(ev, before) }); r.StatusCode != 200 {
		t.Fatalf("a cursor made before the rotation: %d %s", r.StatusCode, r.Body)
	}
	r := s.httpOn(fresh, "listmembers", ids, func(ev *events.APIGatewayV2HTTPRequest) { page(ev, "") })
	var p struct{ NextCursor string }
	_ = json.Unmarshal([]byte(r.Body), &p)
	// The one started before meets the new version and reloads.
	if r := s.http("listmembers", ids, func(ev *events.APIGatewayV2HTTPRequest) { page(ev, p.NextCursor) }); r.StatusCode != 200 || p.NextCursor == "" {
		t.Fatalf("a cursor made after the rotation, in a function started before it: %d %s", r.StatusCode, r.Body)
	}
}

var jsonLine = regexp.MustCompile(`(?m)^\{.*\}$`)

// checkLogs: every line a function logs is JSON; those written during an
// invocation carry its request id; no address appears unmasked; the
// deliverer and the nightly job wrote their metrics.
func (s *stand) checkLogs(t *testing.T) {
	for dir, e := range s.emus {
		logs := e.Logs()
		for _, addr := range []string{"new.person@", "ann@", "owner@"} {
			if strings.Contains(logs, addr) {
				t.Errorf("%s logged an address (%s...):\n%s", dir, addr, logs)
			}
		}
		for _, line := range jsonLine.FindAllString(logs, -1) {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Errorf("%s: not JSON: %s", dir, line)
				continue
			}
			if _, emf := m["_aws"]; emf {
				continue
			}
			if m["requestId"] == nil && m["message"] != "cannot start" {
				t.Errorf("%s: a log line without the request id: %s", dir, line)
			}
		}
	}
	for dir, metric := range map[string]string{"deliveremail": `"EmailsSent":1`, "nightly": `"NightlyRunsCompleted":1`, "invite": `"Invitations":2`} {
		if !strings.Contains(s.emus[dir].Logs(), metric) {
			t.Errorf("%s wrote no %s metric:\n%s", dir, metric, s.emus[dir].Logs())
		}
	}
}

// start builds every bootstrap for this machine while the stand-ins start,
// creates the tables from the template and the secret in Secrets Manager,
// and starts one emulator per function.
func start(t *testing.T) *stand {
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	s := &stand{t: t, root: root, bin: t.TempDir(), rie: filepath.Join(root, ".state", "bin", "aws-lambda-rie"), emus: map[string]*local.Emulator{}, invoked: map[string]bool{}}
	if _, err := os.Stat(s.rie); err != nil {
		t.Fatalf("%s is missing: `make deps` installs it", s.rie)
	}
	built := make(chan error, 1)
	go func() { built <- local.BuildFunctions(context.Background(), root, s.bin, "", "") }()
	if s.template, err = samtemplate.Load(filepath.Join(root, "template.yaml")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s.svcs, err = local.StartServices(ctx, local.ServiceOptions{Root: root, StateDir: filepath.Join(t.TempDir(), "stack")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.svcs.Stop)
	s.db = local.NewDynamoDB(s.svcs.DynamoDBEndpoint)
	for logical, name := range map[string]string{"Table": table, "ArchiveTable": archive} {
		if err := local.EnsureTable(ctx, s.db, s.template, logical, name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := local.EnsureSecret(ctx, s.svcs.DynamoDBEndpoint, secretstore.NewValue()); err != nil {
		t.Fatal(err)
	}
	// What the template and the Lambda service set, pointed at the stand-ins.
	s.env = []string{
		"TABLE_NAME=" + table, "ARCHIVE_TABLE_NAME=" + archive,
		"DYNAMODB_ENDPOINT=" + s.svcs.DynamoDBEndpoint, "SES_ENDPOINT=" + s.svcs.SESEndpoint, "SECRETS_MANAGER_ENDPOINT=" + s.svcs.DynamoDBEndpoint,
		"APP_SECRET_ID=" + local.SecretName, "APP_SECRET=",
		"MAIL_FROM=no-reply@usersapi.local", "ACCEPT_URL=" + local.PortalOrigin + "/invitations/accept", "DOWNLOAD_URL=" + local.PortalOrigin + "/download",
		"EMAIL_COOLDOWN_SECONDS=0", "METRICS_NAMESPACE=UsersApi/local", "SES_MAX_SEND_RATE=50",
		"AWS_REGION=" + local.Region, "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_SESSION_TOKEN=local",
	}
	if err := <-built; err != nil {
		t.Fatal(err)
	}
	for _, fn := range s.template.Functions() {
		dir := strings.ToLower(strings.TrimSuffix(fn, "Function"))
		s.emus[dir] = s.emulator(t, dir)
	}
	return s
}

func (s *stand) emulator(t *testing.T, dir string) *local.Emulator {
	e, err := local.StartEmulator(s.rie, filepath.Join(s.bin, dir), s.env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.Stop()
		if t.Failed() {
			t.Logf("emulator log of %s:\n%s", dir, e.Logs())
		}
	})
	return e
}

// sample is functions/<dir>/event.json with its placeholders replaced.
func (s *stand) sample(dir string, replace map[string]string) []byte {
	b, err := os.ReadFile(filepath.Join(s.root, "functions", dir, "event.json"))
	if err != nil {
		s.t.Fatal(err)
	}
	out := string(b)
	for from, to := range replace {
		out = strings.ReplaceAll(out, from, to)
	}
	return []byte(out)
}

func (s *stand) invoke(dir string, event []byte) []byte {
	return s.invokeOn(s.emus[dir], dir, event)
}

func (s *stand) invokeOn(e *local.Emulator, dir string, event []byte) []byte {
	s.mu.Lock()
	s.invoked[dir] = true
	s.mu.Unlock()
	out, err := e.Invoke(context.Background(), event)
	if err != nil {
		s.t.Fatalf("%s: %v", dir, err)
	}
	return out
}

// direct invokes a non-HTTP function and decodes its answer.
func (s *stand) direct(dir string, event []byte, out any) {
	b := s.invoke(dir, event)
	if err := json.Unmarshal(b, out); err != nil {
		s.t.Fatalf("%s answered %s", dir, b)
	}
}

// http invokes an HTTP function with its sample event, placeholders
// replaced and then changed by edit.
func (s *stand) http(dir string, replace map[string]string, edit func(*events.APIGatewayV2HTTPRequest)) events.APIGatewayV2HTTPResponse {
	return s.httpOn(s.emus[dir], dir, replace, edit)
}

func (s *stand) httpOn(e *local.Emulator, dir string, replace map[string]string, edit func(*events.APIGatewayV2HTTPRequest)) events.APIGatewayV2HTTPResponse {
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(s.sample(dir, replace), &req); err != nil {
		s.t.Fatal(err)
	}
	if edit != nil {
		edit(&req)
	}
	b, _ := json.Marshal(req)
	out := s.invokeOn(e, dir, b)
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode == 0 {
		s.t.Fatalf("%s: not a proxy response: %s", dir, out)
	}
	return resp
}

func claim(ev *events.APIGatewayV2HTTPRequest, email string) {
	ev.RequestContext.Authorizer.JWT.Claims["email"] = email
}

// page asks for one member a page, after cursor.
func page(ev *events.APIGatewayV2HTTPRequest, cursor string) {
	q := url.Values{"limit": {"1"}}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	ev.QueryStringParameters = map[string]string{"limit": "1"}
	if cursor != "" {
		ev.QueryStringParameters["cursor"] = cursor
	}
	ev.RawQueryString = q.Encode()
}

func (s *stand) firstPage(t *testing.T, ids map[string]string) string {
	r := s.http("listmembers", ids, func(ev *events.APIGatewayV2HTTPRequest) { page(ev, "") })
	var p struct {
		Members    []json.RawMessage
		NextCursor string
	}
	if err := json.Unmarshal([]byte(r.Body), &p); err != nil || r.StatusCode != 200 || len(p.Members) != 1 || p.NextCursor == "" {
		t.Errorf("list members: %d %s", r.StatusCode, r.Body)
	}
	return p.NextCursor
}

func (s *stand) parallel(fns ...func()) {
	var wg sync.WaitGroup
	for _, fn := range fns {
		wg.Add(1)
		go func() { defer wg.Done(); fn() }()
	}
	wg.Wait()
}

// deliverAll hands every outbox email in the table to the deliverer in one
// stream batch, as the table's stream does.
func (s *stand) deliverAll(ctx context.Context) {
	out, err := s.db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table),
		FilterExpression:          aws.String("begins_with(PK, :e)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":e": &types.AttributeValueMemberS{Value: "EMAIL#"}}})
	if err != nil {
		s.t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(s.sample("deliveremail", nil), &ev); err != nil {
		s.t.Fatal(err)
	}
	rec := ev.Records[0]
	ev.Records = nil
	for i, item := range out.Items {
		pk := item["PK"].(*types.AttributeValueMemberS).Value
		r := rec
		r.Change.Keys = map[string]events.DynamoDBAttributeValue{"PK": events.NewStringAttribute(pk), "SK": events.NewStringAttribute("EMAIL")}
		r.Change.NewImage = r.Change.Keys
		r.Change.SequenceNumber = fmt.Sprint(1000 + i)
		ev.Records = append(ev.Records, r)
	}
	b, _ := json.Marshal(ev)
	var resp events.DynamoDBEventResponse
	s.direct("deliveremail", b, &resp)
	if len(resp.BatchItemFailures) != 0 {
		s.t.Fatalf("delivery: %+v", resp)
	}
}

type stored struct {
	Subject     string
	Destination struct{ To []string }
	Body        struct{ Text string }
}

// mail is the last email to addr whose subject contains subject.
func (s *stand) mail(t *testing.T, addr, subject string) *stored {
	resp, err := http.Get(s.svcs.SESEndpoint + "/store")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var store struct{ Emails []stored }
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
		t.Fatal(err)
	}
	for i := len(store.Emails) - 1; i >= 0; i-- {
		m := store.Emails[i]
		if slices.Contains(m.Destination.To, addr) && strings.Contains(strings.ToLower(m.Subject), strings.ToLower(subject)) {
			return &m
		}
	}
	return nil
}

var tokenParam = regexp.MustCompile(`token=([A-Za-z0-9_-]+)`)

func (s *stand) tokenFor(t *testing.T, addr string) string {
	m := s.mail(t, addr, "invitation from")
	if m == nil {
		t.Fatalf("no invitation reached %s", addr)
	}
	match := tokenParam.FindStringSubmatch(m.Body.Text)
	if match == nil {
		t.Fatalf("no token in %q", m.Body.Text)
	}
	return match[1]
}
