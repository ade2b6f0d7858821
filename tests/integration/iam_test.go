package integration

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/smithy-go/middleware"
	"go.yaml.in/yaml/v3"

	"github.com/teamusers/usersapi/internal/archive"
	"github.com/teamusers/usersapi/internal/delivery"
	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/httpapi"
	"github.com/teamusers/usersapi/internal/keyring"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/nightly"
	"github.com/teamusers/usersapi/internal/provisioning"
	"github.com/teamusers/usersapi/internal/samtemplate"
	"github.com/teamusers/usersapi/internal/users"
)

// The IAM proof: every DynamoDB and SES action each function's code calls
// against the local stack is granted by that function's policy in
// template.yaml, on the right resource (the table, an index, the archive),
// and every action a policy grants is one its function's calls use. The
// calls are recorded on the SDK clients, per function, while each
// function's paths run: happy paths, refusals, and the release of an
// idempotency key whose answer could not be stored.

type fnKey struct{}

// testItself marks the test's own reads.
const testItself = "(the test)"

func asFunction(ctx context.Context, fn string) context.Context {
	return context.WithValue(ctx, fnKey{}, fn)
}

// grant is one action on one resource: "dynamodb:Query on Table/index/ByEmail".
type grant struct{ Action, Resource string }

func (g grant) String() string { return g.Action + " on " + g.Resource }

type iamRecorder struct {
	mu     sync.Mutex
	used   map[string]map[grant]bool
	prefix string // test tables are <prefix><logical id>
	// failFinish makes the next idempotency finish of a function fail, so
	// the key's release runs.
	failFinish map[string]bool
}

// called reports whether the function made any call yet.
func (r *iamRecorder) called(fn string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.used[fn]) > 0
}

func (r *iamRecorder) record(ctx context.Context, in any, gs ...grant) {
	fn, _ := ctx.Value(fnKey{}).(string)
	switch in.(type) {
	case *dynamodb.CreateTableInput, *dynamodb.DescribeTableInput, *dynamodb.UpdateTimeToLiveInput:
		return // the test's own set-up, and the stream poller finding the stream
	}
	if fn == testItself {
		return
	}
	if fn == "" {
		fn = "(no function)"
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.used[fn] == nil {
		r.used[fn] = map[grant]bool{}
	}
	for _, g := range gs {
		r.used[fn][g] = true
	}
}

func (r *iamRecorder) table(name *string) string {
	return strings.TrimPrefix(aws.ToString(name), r.prefix)
}

func (r *iamRecorder) index(name, index *string) string {
	if index != nil {
		return r.table(name) + "/index/" + *index
	}
	return r.table(name)
}

// grants is what IAM checks for one request: a transaction is authorised
// item by item, a batch table by table.
func (r *iamRecorder) grants(in any) []grant {
	d := func(a, res string) grant { return grant{"dynamodb:" + a, res} }
	switch v := in.(type) {
	case *dynamodb.GetItemInput:
		return []grant{d("GetItem", r.table(v.TableName))}
	case *dynamodb.PutItemInput:
		return []grant{d("PutItem", r.table(v.TableName))}
	case *dynamodb.UpdateItemInput:
		return []grant{d("UpdateItem", r.table(v.TableName))}
	case *dynamodb.DeleteItemInput:
		return []grant{d("DeleteItem", r.table(v.TableName))}
	case *dynamodb.QueryInput:
		return []grant{d("Query", r.index(v.TableName, v.IndexName))}
	case *dynamodb.ScanInput:
		return []grant{d("Scan", r.index(v.TableName, v.IndexName))}
	case *dynamodb.BatchGetItemInput:
		var out []grant
		for t := range v.RequestItems {
			out = append(out, d("BatchGetItem", r.table(&t)))
		}
		return out
	case *dynamodb.BatchWriteItemInput:
		var out []grant
		for t := range v.RequestItems {
			out = append(out, d("BatchWriteItem", r.table(&t)))
		}
		return out
	case *dynamodb.TransactWriteItemsInput:
		var out []grant
		for _, it := range v.TransactItems {
			switch {
			case it.Put != nil:
				out = append(out, d("PutItem", r.table(it.Put.TableName)))
			case it.Update != nil:
				out = append(out, d("UpdateItem", r.table(it.Update.TableName)))
			case it.Delete != nil:
				out = append(out, d("DeleteItem", r.table(it.Delete.TableName)))
			case it.ConditionCheck != nil:
				out = append(out, d("ConditionCheckItem", r.table(it.ConditionCheck.TableName)))
			}
		}
		return out
	case *dynamodb.TransactGetItemsInput:
		var out []grant
		for _, it := range v.TransactItems {
			out = append(out, d("GetItem", r.table(it.Get.TableName)))
		}
		return out
	case *sesv2.SendEmailInput:
		// SES v2's SendEmail is authorised as ses:SendEmail, and as
		// ses:SendRawEmail when the content is a raw MIME message, on the
		// sending identity and on the configuration set it goes through.
		action := "ses:SendEmail"
		if v.Content != nil && v.Content.Raw != nil {
			action = "ses:SendRawEmail"
		}
		out := []grant{{action, "identity"}}
		if v.ConfigurationSetName != nil {
			out = append(out, grant{action, "configuration-set"})
		}
		return out
	}
	return []grant{{fmt.Sprintf("unknown:%T", in), "?"}}
}

func (r *iamRecorder) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("iam-record", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		r.record(ctx, in.Parameters, r.grants(in.Parameters)...)
		if u, ok := in.Parameters.(*dynamodb.UpdateItemInput); ok && strings.Contains(aws.ToString(u.UpdateExpression), "#s = :done") {
			fn, _ := ctx.Value(fnKey{}).(string)
			r.mu.Lock()
			fail := r.failFinish[fn]
			delete(r.failFinish, fn)
			r.mu.Unlock()
			if fail {
				return middleware.InitializeOutput{}, middleware.Metadata{}, fmt.Errorf("injected: the answer could not be stored")
			}
		}
		return next.HandleInitialize(ctx, in)
	}), middleware.Before)
}

// policies reads each function's granted DynamoDB and SES actions from the
// template, with their resources named by logical id.
func policies(t *testing.T) map[string]map[grant]bool {
	t.Helper()
	root, _ := samtemplate.FindRoot()
	b, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				Policies []struct {
					Statement []struct {
						Effect   string    `yaml:"Effect"`
						Action   yaml.Node `yaml:"Action"`
						Resource yaml.Node `yaml:"Resource"`
					} `yaml:"Statement"`
				} `yaml:"Policies"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	list := func(n yaml.Node) []*yaml.Node {
		if n.Kind == yaml.SequenceNode {
			return n.Content
		}
		return []*yaml.Node{&n}
	}
	resource := func(n *yaml.Node) string {
		v := n.Value
		switch n.Tag {
		case "!GetAtt":
			return strings.TrimSuffix(v, ".Arn")
		case "!Sub":
			if i := strings.Index(v, ".Arn}"); strings.HasPrefix(v, "${") && i > 0 {
				return v[2:i] + v[i+5:]
			}
		case "!Ref":
			if strings.HasSuffix(v, "IdentityArn") {
				return "identity"
			}
		}
		if strings.Contains(v, ":configuration-set/") {
			return "configuration-set"
		}
		return v
	}
	out := map[string]map[grant]bool{}
	for name, res := range doc.Resources {
		if res.Type != "AWS::Serverless::Function" {
			continue
		}
		for _, p := range res.Properties.Policies {
			for _, st := range p.Statement {
				if st.Effect != "Allow" {
					continue
				}
				for _, a := range list(st.Action) {
					if !strings.HasPrefix(a.Value, "dynamodb:") && !strings.HasPrefix(a.Value, "ses:") {
						continue
					}
					for _, r := range list(st.Resource) {
						if out[name] == nil {
							out[name] = map[grant]bool{}
						}
						out[name][grant{a.Value, resource(r)}] = true
					}
				}
			}
		}
	}
	return out
}

func TestEveryFunctionIsGrantedExactlyTheActionsItCalls(t *testing.T) {
	ctx := context.Background()
	const prefix = "iam-"
	rec := &iamRecorder{used: map[string]map[grant]bool{}, prefix: prefix, failFinish: map[string]bool{}}
	db := dynamodb.NewFromConfig(local.AWSConfig(), dynamo.ClientOptions, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(stack.Services.DynamoDBEndpoint)
		o.APIOptions = append(o.APIOptions, rec.middleware)
	})
	for _, logical := range []string{"Table", "ArchiveTable"} {
		if err := local.EnsureTable(ctx, db, stack.Template, logical, prefix+logical); err != nil {
			t.Fatal(err)
		}
	}
	ses := sesv2.NewFromConfig(local.AWSConfig(), delivery.SESOptions, func(o *sesv2.Options) {
		o.BaseEndpoint = aws.String(stack.Services.SESEndpoint)
		o.APIOptions = append(o.APIOptions, rec.middleware)
	})
	store := dynamo.New(db, prefix+"Table").WithArchive(prefix + "ArchiveTable")
	cfg := stack.Config
	cfg.TableName, cfg.ArchiveTable = prefix+"Table", prefix+"ArchiveTable"
	cfg.Policy.Cooldown = 0
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	keys := keyring.New(cfg.Secret)
	deps := httpapi.NewDeps(store, keys, cfg.Policy, log, nil)
	gw, err := local.NewGatewayWith(stack.Template, deps, stack.Keys, log, local.GatewayOptions{TimeoutScale: 3}) // as TestMain's stack
	if err != nil {
		t.Fatal(err)
	}
	// Which function serves a request: the route's function in the template.
	routes := http.NewServeMux()
	fnOf := map[string]string{}
	for _, r := range stack.Template.Routes() {
		fnOf[r.Pattern()] = r.Function
		routes.HandleFunc(r.Pattern(), func(http.ResponseWriter, *http.Request) {})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pattern := routes.Handler(r)
		gw.ServeHTTP(w, r.WithContext(asFunction(r.Context(), fnOf[pattern])))
	}))
	defer srv.Close()

	// The background functions, each with its own context.
	deliverer := delivery.NewDeliverer(store, store, store.SendSlots("ses", stack.MailSettings().SendRate), ses, stack.MailSettings(), keys, log, nil)
	// SES's mailbox simulator answers bounces as SES does, to the bounce
	// function.
	emailEvents := delivery.NewEvents(store, log, nil)
	deliverer.Sender = &local.MailboxSimulator{Next: deliverer.Sender, Log: log, Delay: 50 * time.Millisecond, Backoff: 100 * time.Millisecond, Retries: 6,
		Publish: func(ctx context.Context, ev events.CloudWatchEvent) error {
			return emailEvents.Handle(asFunction(ctx, "EmailEventsFunction"), ev)
		}}
	poller := &local.StreamPoller{DB: db, Streams: local.NewStreams(stack.Services.DynamoDBEndpoint), Table: prefix + "Table", Log: log, Timeout: time.Minute,
		Handlers: []local.StreamHandler{
			func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
				return dynamo.EmailStream(deliverer.Deliver, log)(asFunction(ctx, "DeliverEmailFunction"), ev)
			},
			func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
				return dynamo.JobStream(deps.Jobs.Run, log)(asFunction(ctx, "TeamJobsFunction"), ev)
			},
			func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
				return archive.Archiver{Store: store, Log: log}.HandleStream(asFunction(ctx, "ArchiveSignInsFunction"), ev)
			},
		}}
	pctx, stopPoller := context.WithCancel(ctx)
	defer stopPoller()
	go func() { _ = poller.Run(pctx) }()

	// Billing's entry point: create (twice, as billing retries), then change.
	pctx2 := asFunction(ctx, "ProvisionTeamFunction")
	prov := provisioning.Service{Store: store, Now: time.Now}
	seats := 12
	created, err := prov.Handle(pctx2, provisioning.Request{Plan: "pro", Seats: &seats, OwnerEmail: "owner@iam.example", BillingAccountID: "acct-iam"})
	if err != nil {
		t.Fatal(err)
	}
	if again, err := prov.Handle(pctx2, provisioning.Request{Plan: "pro", Seats: &seats, OwnerEmail: "owner@iam.example", BillingAccountID: "acct-iam"}); err != nil || again.TeamID != created.TeamID {
		t.Fatalf("billing's retry: %+v %v", again, err)
	}
	seats = 8
	if _, err := prov.Handle(pctx2, provisioning.Request{TeamID: created.TeamID, Seats: &seats}); err != nil {
		t.Fatal(err)
	}
	team := "/v1/teams/" + created.TeamID
	owner := token(t, "owner@iam.example", local.TokenOptions{})
	do := func(method, path, tok string, body any, wantStatus ...int) response {
		t.Helper()
		var b []byte
		h := map[string]string{}
		if body != nil {
			b, _ = jsonBytes(body)
			h["Content-Type"] = "application/json"
		}
		if s, ok := body.(rawBody); ok {
			b, h["Content-Type"] = []byte(s.data), s.contentType
		}
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(string(b)))
		for k, v := range h {
			req.Header.Set(k, v)
		}
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if len(wantStatus) > 0 && !slices.Contains(wantStatus, resp.StatusCode) {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, out)
		}
		return response{Status: resp.StatusCode, Header: resp.Header, Body: out}
	}
	// Every POST once with an Idempotency-Key whose answer cannot be
	// stored: the key is released.
	withKey := func(path string, body any) {
		t.Helper()
		req := httptest.NewRequest("POST", path, nil)
		_, pattern := routes.Handler(req)
		rec.mu.Lock()
		rec.failFinish[fnOf[pattern]] = true
		rec.mu.Unlock()
		b, ct := []byte(nil), "application/json"
		if s, ok := body.(rawBody); ok {
			b, ct = []byte(s.data), s.contentType
		} else if body != nil {
			b, _ = jsonBytes(body)
		}
		hr, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(string(b)))
		hr.Header.Set("Content-Type", ct)
		hr.Header.Set("Authorization", "Bearer "+owner)
		hr.Header.Set("Idempotency-Key", users.NewID("k"))
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	var inv inviteResults
	do("POST", team+"/invitations", owner, map[string]any{"emails": []string{"a@iam.example", "b@iam.example", "c@iam.example", "d@iam.example", "bounce@simulator.amazonses.com"}}, 200).JSON(t, &inv)
	withKey(team+"/invitations", map[string]any{"emails": []string{"f@iam.example"}})
	do("POST", team+"/invitations", owner, map[string]any{"emails": []string{"g@iam.example", "h@iam.example", "a@iam.example"}}, 200) // seats run out
	a, b, c, d := inv.Results[0].MemberID, inv.Results[1].MemberID, inv.Results[2].MemberID, inv.Results[3].MemberID
	waitForMail(t, "a@iam.example", 1)
	do("POST", "/v1/invitations/accept", "", map[string]string{"token": tokenFrom(t, mailTo(t, "a@iam.example")[0])}, 200)
	withKey("/v1/invitations/accept", map[string]string{"token": tokenFrom(t, waitForMail(t, "b@iam.example", 1)[0])})
	do("GET", team+"/summary", owner, nil, 200)
	do("PATCH", team+"/settings", owner, map[string]bool{"notifyOnRevoke": true}, 200)
	do("GET", "/v1/me", owner, nil, 200)
	do("GET", team+"/audit-log", owner, nil, 200)
	do("GET", team+"/audit-log?target="+inv.Results[0].MemberID+"&action=invite", owner, nil, 200)
	for _, q := range []string{"", "sort=lastActive", "sort=invitedAt&order=desc", "q=@iam", "q=a&sort=lastActive", "status=active&role=admin"} {
		do("GET", team+"/members?"+q, owner, nil, 200)
	}
	do("GET", team+"/members/"+a, owner, nil, 200)
	do("PATCH", team+"/members/"+a, owner, map[string]string{"role": "admin"}, 200)
	do("POST", team+"/members/"+c+"/resend-invite", owner, nil, 202)
	withKey(team+"/members/"+c+"/resend-invite", nil)
	do("POST", team+"/members/"+d+"/send-instructions", owner, nil, 202)
	withKey(team+"/members/"+d+"/send-instructions", nil)
	do("POST", team+"/members/bulk", owner, map[string]any{"action": "resend_invite", "memberIds": []string{c, d}}, 200)
	withKey(team+"/members/bulk", map[string]any{"action": "send_instructions", "memberIds": []string{c}})
	var job struct{ JobID string }
	do("POST", team+"/invitations/resend", owner, nil, 202).JSON(t, &job)
	withKey(team+"/invitations/resend", nil)
	do("POST", team+"/instructions", owner, nil, 202)
	withKey(team+"/instructions", nil)
	do("GET", team+"/jobs/"+job.JobID, owner, nil, 200)
	csv := rawBody{"text/csv", "email\na@iam.example\nzed@iam.example\n"}
	do("POST", team+"/members/csv-selection", owner, csv, 200)
	withKey(team+"/members/csv-selection", csv)

	// The app: sign-ins and calls, by a member who joined.
	app := token(t, "a@iam.example", local.TokenOptions{})
	do("POST", "/v1/me/sign-ins", app, map[string]string{"appVersion": "1.0"}, 200)
	withKey("/v1/me/sign-ins", map[string]string{"device": "laptop"})
	call := map[string]any{"startedAt": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "durationSeconds": 120}
	do("POST", "/v1/me/calls", app, call, 200)
	withKey("/v1/me/calls", call)
	period := map[string]any{"memberIds": []string{a, b}}
	do("POST", team+"/usage-report", owner, period, 200)
	withKey(team+"/usage-report", period)
	do("POST", team+"/usage-report/email", owner, period, 202)
	withKey(team+"/usage-report/email", period)
	do("DELETE", team+"/members/"+d, owner, nil, 204)
	do("POST", team+"/members/bulk", owner, map[string]any{"action": "remove", "memberIds": []string{c}}, 200)

	// Deactivation (an invitee's link voided, a joined member) and back.
	inv2 := inviteResults{}
	do("POST", team+"/invitations", owner, map[string]any{"emails": []string{"e@iam.example"}}, 200).JSON(t, &inv2)
	e := inv2.Results[0].MemberID
	do("POST", team+"/members/"+e+"/deactivate", owner, nil, 200)
	withKey(team+"/members/"+b+"/deactivate", nil)
	do("POST", team+"/members/"+e+"/reactivate", owner, nil, 200)
	withKey(team+"/members/"+b+"/reactivate", nil)
	do("POST", team+"/members/bulk", owner, map[string]any{"action": "deactivate", "memberIds": []string{e}}, 200)
	do("POST", team+"/members/bulk", owner, map[string]any{"action": "reactivate", "memberIds": []string{e}}, 200)

	// The SCIM tokens, and the SCIM service with one, with a few seats
	// more from billing (to run out of later).
	seats = 12
	if _, err := prov.Handle(pctx2, provisioning.Request{TeamID: created.TeamID, Seats: &seats}); err != nil {
		t.Fatal(err)
	}
	var scimTok struct{ ID, Token string }
	do("POST", team+"/scim-tokens", owner, map[string]string{"name": "Okta"}, 201).JSON(t, &scimTok)
	withKey(team+"/scim-tokens", map[string]string{"name": "spare"})
	do("GET", team+"/scim-tokens", owner, nil, 200)
	do("GET", "/scim/v2/ServiceProviderConfig", "", nil, 200)
	do("GET", "/scim/v2/Schemas", "", nil, 200)
	do("PATCH", "/scim/v2/Groups", "", nil, 404)
	do("GET", "/scim/v2/Users?startIndex=1&count=10", scimTok.Token, nil, 200)
	var su struct{ ID string }
	do("POST", "/scim/v2/Users", scimTok.Token, map[string]any{"userName": "okta-1", "externalId": "00u1", "emails": []any{map[string]any{"value": "s1@iam.example", "primary": true}}}, 201).JSON(t, &su)
	do("POST", "/scim/v2/Users", scimTok.Token, map[string]any{"userName": "okta-1", "emails": "s9@iam.example"}, 409)
	// Page by page: a page marks where the next begins, the next starts there.
	do("GET", "/scim/v2/Users?startIndex=1&count=1", scimTok.Token, nil, 200)
	do("GET", "/scim/v2/Users?startIndex=2&count=1", scimTok.Token, nil, 200)
	for _, f := range []string{`userName eq "okta-1"`, `userName eq "a@iam.example"`, `externalId eq "00u1"`, `emails.value eq "s1@iam.example"`, `id eq "` + su.ID + `"`} {
		do("GET", "/scim/v2/Users?filter="+url.QueryEscape(f), scimTok.Token, nil, 200)
	}
	do("GET", "/scim/v2/Users/"+su.ID, scimTok.Token, nil, 200)
	do("PUT", "/scim/v2/Users/"+su.ID, scimTok.Token, map[string]any{"userName": "okta-1", "externalId": "00u2", "emails": "s2@iam.example"}, 200)
	do("PATCH", "/scim/v2/Users/"+su.ID, scimTok.Token, map[string]any{"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": false}}}}, 200)
	do("PATCH", "/scim/v2/Users/"+su.ID, scimTok.Token, map[string]any{"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": true}}}}, 200)
	for i := 0; i < 6; i++ { // until the seats run out
		do("POST", "/scim/v2/Users", scimTok.Token, map[string]any{"userName": sprintf("okta-more-%d", i), "emails": sprintf("m%d@iam.example", i)}, 201, 403)
	}
	do("DELETE", "/scim/v2/Users/"+su.ID, scimTok.Token, nil, 204)
	do("DELETE", team+"/scim-tokens/"+scimTok.ID, owner, nil, 204)
	do("GET", "/scim/v2/Users", scimTok.Token, nil, 401)

	// Let the stream functions finish: every email delivered.
	deadline := time.Now().Add(60 * time.Second)
	for !poller.Idle() || len(mailTo(t, "owner@iam.example")) < 2 || !bounced(t, store, created.TeamID, inv.Results[4].MemberID) {
		if time.Now().After(deadline) {
			t.Fatal("the stream functions did not finish")
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)

	// The nightly job, far enough ahead to age members.
	later := time.Now().Add(120 * 24 * time.Hour)
	res, err := nightly.New(store, cfg.Retention, later).Run(asFunction(ctx, "NightlyFunction"))
	if err != nil || res.Failed != 0 || res.MembersChanged == 0 {
		t.Fatalf("nightly: %+v %v", res, err)
	}
	// The sign-ins' TTL comes: DynamoDB deletes them and the stream hands
	// the deletions to the archive function.
	if n, err := stack.Services.ExpireUntil(ctx, later); err != nil || n == 0 {
		t.Fatalf("expire: %d %v", n, err)
	}
	deadline = time.Now().Add(30 * time.Second)
	for !rec.called("ArchiveSignInsFunction") || !poller.Idle() {
		if time.Now().After(deadline) {
			t.Fatal("the archive function did not run")
		}
		time.Sleep(100 * time.Millisecond)
	}

	granted := policies(t)
	var problems []string
	for fn, used := range rec.used {
		for g := range used {
			if !granted[fn][g] {
				problems = append(problems, fmt.Sprintf("%s calls %s, which its policy does not grant", fn, g))
			}
		}
	}
	for fn, gs := range granted {
		for g := range gs {
			if !rec.used[fn][g] {
				problems = append(problems, fmt.Sprintf("%s is granted %s, which none of its calls use", fn, g))
			}
		}
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		t.Fatalf("the template's policies and the code disagree:\n  %s", strings.Join(problems, "\n  "))
	}
}

// rawBody is a request body that is not JSON.
type rawBody struct{ contentType, data string }

func bounced(t *testing.T, store *dynamo.Store, team, member string) bool {
	m, err := store.GetMember(asFunction(context.Background(), testItself), team, member)
	return err == nil && m.LastEmail != nil && m.LastEmail.State == "bounced"
}
