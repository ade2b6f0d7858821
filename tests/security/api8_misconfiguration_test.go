package security

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/teamusers/usersapi/internal/httpapi"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/samtemplate"
	"github.com/teamusers/usersapi/internal/users"
)

// API8 Security Misconfiguration, CORS: only the portal's origin, in the
// template as on the local gateway; no wildcard, no credentials.
func TestCORSAllowsThePortalOriginOnly(t *testing.T) {
	root, _ := samtemplate.FindRoot()
	raw, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var tmpl struct {
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				CorsConfiguration struct {
					AllowOrigins     []yaml.Node `yaml:"AllowOrigins"`
					AllowCredentials *bool       `yaml:"AllowCredentials"`
				} `yaml:"CorsConfiguration"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(raw, &tmpl); err != nil {
		t.Fatal(err)
	}
	cors := tmpl.Resources["HttpApi"].Properties.CorsConfiguration
	if len(cors.AllowOrigins) != 1 || cors.AllowOrigins[0].Tag != "!Ref" || cors.AllowOrigins[0].Value != "PortalOrigin" ||
		(cors.AllowCredentials != nil && *cors.AllowCredentials) {
		t.Fatalf("the HTTP API's CORS must allow exactly !Ref PortalOrigin, without credentials: %+v", cors)
	}

	tm := newTeam(t, "cors.example", 2)
	for _, origin := range []string{"https://evil.example", "null", local.PortalOrigin + ".evil.example", "http://localhost:5174"} {
		// A preflight and a request with the token (as a script on that
		// origin would send it): no CORS header, so the browser hides the answer.
		pre, _ := http.NewRequest("OPTIONS", api.URL+"/v1/teams/"+tm.ID+"/members", nil)
		pre.Header.Set("Origin", origin)
		pre.Header.Set("Access-Control-Request-Method", "GET")
		pre.Header.Set("Access-Control-Request-Headers", "authorization")
		get, _ := http.NewRequest("GET", api.URL+"/v1/teams/"+tm.ID+"/members", nil)
		get.Header.Set("Origin", origin)
		get.Header.Set("Authorization", "Bearer "+tm.Token)
		for _, req := range []*http.Request{pre, get} {
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			for name := range resp.Header {
				if strings.HasPrefix(strings.ToLower(name), "access-control-") {
					t.Errorf("%s from %s: %s: %v", req.Method, origin, name, resp.Header[name])
				}
			}
		}
	}
	get, _ := http.NewRequest("GET", api.URL+"/v1/teams/"+tm.ID+"/summary", nil)
	get.Header.Set("Origin", local.PortalOrigin)
	get.Header.Set("Authorization", "Bearer "+tm.Token)
	resp, err := http.DefaultClient.Do(get)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != local.PortalOrigin || resp.Header.Get("Access-Control-Allow-Credentials") != "" ||
		!strings.Contains(resp.Header.Get("Vary"), "Origin") {
		t.Fatalf("from the portal: %v", resp.Header)
	}
}

// API8, headers: every answer of every route, served or refused, is
// no-store and nosniff.
func TestEveryAnswerIsNoStoreAndNosniff(t *testing.T) {
	tm := newTeam(t, "headers.example", 8)
	member := tm.first(t, users.StatusInvitationSent, users.RoleUser)
	var job struct{ JobID string }
	call(t, "POST", "/v1/teams/"+tm.ID+"/instructions", tm.Token, nil).JSON(t, &job)
	spare, _ := scimToken(t, tm, "spare")
	_, idp := scimToken(t, tm, "IdP")
	ids := map[string]string{"teamId": tm.ID, "memberId": member.ID, "jobId": job.JobID, "tokenId": spare, "userId": member.ID}
	bodies := map[string]string{
		"CreateScimTokenFunction": `{"name":"another"}`,
		"InviteFunction":          `{"emails":["n@headers.example"]}`, "BulkFunction": `{"action":"send_instructions","memberIds":["` + member.ID + `"]}`,
		"ChangeRoleFunction": `{"role":"user"}`, "UsageReportFunction": `{"memberIds":["` + member.ID + `"]}`,
		"EmailUsageReportFunction": `{"memberIds":["` + member.ID + `"]}`, "CsvSelectionFunction": "email\nn@headers.example\n",
		"AcceptInvitationFunction": `{"token":"` + strings.Repeat("x", 43) + `"}`,
		"RecordCallFunction":       `{"startedAt":"` + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339) + `","durationSeconds":60}`,
	}
	served := 0
	scimBodies := map[string]string{
		"POST":  `{"userName":"idp@headers.example","active":true}`,
		"PUT":   `{"userName":"` + member.Email + `","active":true}`,
		"PATCH": `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"Headers"}]}`,
	}
	for _, e := range httpapi.Endpoints {
		method, path := pathOf(e, ids)
		ct, tok, body := "application/json", tm.Token, bodies[e.Function]
		switch {
		case e.Function == "CsvSelectionFunction":
			ct = "text/csv"
		case e.SCIM:
			ct, tok, body = "application/scim+json", idp, scimBodies[method]
		}
		for _, body := range []string{body, `{"unknown":1}`} {
			r := send(t, nil, method, path, tok, map[string]string{"Content-Type": ct}, []byte(body))
			if r.Status < 300 {
				served++
			}
			if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s %s answered %d without no-store and nosniff: %v", method, path, r.Status, r.Header)
			}
		}
	}
	if served < len(httpapi.Endpoints)-3 {
		t.Fatalf("only %d requests were served", served)
	}
}

// internals are what an answer must never show of how the API is built.
var internals = regexp.MustCompile(`(?i)goroutine|\.go:\d|panic|runtime error|dynamodb|operation error|exception|smithy|` +
	`moto|aws-sdk|stack trace|json: |cannot unmarshal|reflect|float64|\bint\b|struct|users\.|httpapi|127\.0\.0\.1|localhost`)

// API8, errors: no stack trace or internal message in any answer, when
// the request is wrong and when a dependency fails.
func TestNoAnswerShowsInternals(t *testing.T) {
	tm := newTeam(t, "internals.example", 3)
	team := "/v1/teams/" + tm.ID
	var answers []response
	for _, c := range []struct{ method, path, body string }{
		{"POST", team + "/invitations", `{"emails":"x"}`},
		{"POST", team + "/invitations", `{"emails":[1,2]}`},
		{"POST", team + "/invitations", `{"emails":["a@b.example"],"role":5}`},
		{"POST", team + "/invitations", `{"emails":["a@b.example"]`},
		{"POST", team + "/invitations", `{"emails":["a@b.example"]}{}`},
		{"POST", team + "/members/bulk", `{"action":"remove","memberIds":[{"$ne":null}]}`},
		{"POST", "/v1/me/calls", `{"startedAt":"yesterday","durationSeconds":1e400}`},
		{"POST", "/v1/me/calls", `{"startedAt":"2026-13-45T99:99:99Z","durationSeconds":60}`},
		{"POST", team + "/usage-report", `{"memberIds":["m_x"],"from":"01/02/2026"}`},
		{"GET", team + "/members?limit=1e9&sort=__proto__", ""},
		{"GET", team + "/members?cursor=eyJ0IjoidF94In0.AAAA.BBBB", ""},
		{"GET", team + "/members/..%2F..%2Fsummary", ""},
		{"POST", team + "/members/csv-selection", "PK\x03\x04binary"},
	} {
		ct := "application/json"
		if strings.HasSuffix(c.path, "csv-selection") {
			ct = "text/csv"
		}
		answers = append(answers, send(t, nil, c.method, c.path, tm.Token, map[string]string{"Content-Type": ct}, []byte(c.body)))
	}
	// The SCIM service's wrong requests: SCIM errors, nothing internal.
	_, idp := scimToken(t, tm, "IdP")
	member := tm.Members[0].ID
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/Users", `{"userName":`},
		{"POST", "/Users", `[1,2]`},
		{"POST", "/Users", `{"userName":{"$ne":null},"active":"maybe"}`},
		{"POST", "/Users", `{"userName":"a@b.example","emails":[{"value":1e400}]}`},
		{"PUT", "/Users/" + member, `{"userName":"x","roles":[{"value":"root"}]}`},
		{"PATCH", "/Users/" + member, `{"Operations":[{"op":"replace","path":"emails[type eq \"work\"","value":"x"}]}`},
		{"PATCH", "/Users/" + member, `{"Operations":[{"op":"copy","path":"userName"}]}`},
		{"PATCH", "/Users/" + member, `{"Operations":[{"op":"remove"}]}`},
		{"GET", "/Users?filter=" + url.QueryEscape(`userName eq "a" and (`), ""},
		{"GET", "/Users?filter=" + url.QueryEscape(`name.givenName co "%"`), ""},
		{"GET", "/Users?startIndex=one", ""},
		{"GET", "/Users?sortBy=userName", ""},
		{"GET", "/Users?attributes=" + url.QueryEscape("a.b.c"), ""},
		{"GET", "/Users/..%2F..%2FServiceProviderConfig", ""},
		{"GET", "/Schemas?filter=x", ""},
	} {
		r := send(t, nil, c.method, "/scim/v2"+c.path, idp, map[string]string{"Content-Type": "application/scim+json"}, []byte(c.body))
		if r.Header.Get("Content-Type") != "application/scim+json" {
			t.Errorf("%s %s: %d as %q: %s", c.method, c.path, r.Status, r.Header.Get("Content-Type"), r.Body)
		}
		answers = append(answers, r)
	}
	// DynamoDB failing on every call, past the store's retries: 503 with
	// Retry-After and nothing of the cause (which is logged).
	ctx := context.Background()
	if err := stack.SetFaults(ctx, local.FaultOptions{Rate: 1, Kinds: []string{local.FaultInternalError}}); err != nil {
		t.Fatal(err)
	}
	failing := []response{
		call(t, "GET", team+"/summary", tm.Token, nil),
		call(t, "POST", team+"/invitations", tm.Token, map[string]any{"emails": []string{"x@internals.example"}}),
	}
	scimFailing := scimCall(t, "GET", "/Users/"+member, idp, nil)
	if err := stack.SetFaults(ctx, local.FaultOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, r := range failing {
		if code := r.Problem(t, 503); code != "unavailable" || r.Header.Get("Retry-After") == "" {
			t.Errorf("DynamoDB failing: %s %v", code, r.Header)
		}
	}
	if scimFailing.SCIMError(t, 503); scimFailing.Header.Get("Retry-After") == "" {
		t.Errorf("DynamoDB failing under SCIM: %v", scimFailing.Header)
	}
	failing = append(failing, scimFailing)
	for _, r := range append(answers, failing...) {
		if r.Status < 400 || r.Status >= 600 {
			t.Errorf("a wrong request was served: %d %s", r.Status, r.Body)
			continue
		}
		if m := internals.FindString(string(r.Body)); m != "" {
			t.Errorf("%d answer shows %q: %s", r.Status, m, r.Body)
		}
	}
	if !strings.Contains(logs.String(), "InternalServerError") && !strings.Contains(logs.String(), "500") {
		t.Errorf("the cause was not logged:\n%s", logs.String())
	}
}
