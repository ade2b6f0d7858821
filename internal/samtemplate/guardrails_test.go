package samtemplate_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/samtemplate"
)

// node is a YAML node with lookups; intrinsic tags (!Ref, !GetAtt) are
// kept on the node, so `!Ref AppSecret` reads as Tag "!Ref", Value "AppSecret".
type node struct{ *yaml.Node }

func (n node) get(path ...string) node {
	cur := n.Node
	for _, key := range path {
		if cur == nil || cur.Kind != yaml.MappingNode {
			return node{}
		}
		var next *yaml.Node
		for i := 0; i+1 < len(cur.Content); i += 2 {
			if cur.Content[i].Value == key {
				next = cur.Content[i+1]
			}
		}
		cur = next
	}
	return node{cur}
}

func (n node) keys() []string {
	var out []string
	if n.Node != nil && n.Kind == yaml.MappingNode {
		for i := 0; i < len(n.Content); i += 2 {
			out = append(out, n.Content[i].Value)
		}
	}
	return out
}

func (n node) value() string {
	if n.Node == nil {
		return ""
	}
	return n.Value
}

func (n node) text() string {
	if n.Node == nil {
		return ""
	}
	b, _ := yaml.Marshal(n.Node)
	return string(b)
}

// The deployed template keeps the guardrails the docs promise: the secret
// never in an environment variable and readable only by the functions
// whose main loads it; throttles only on routes that exist; an error alarm
// on every function no API route covers; the nightly job alone at a time
// with its failures kept; the stream-failure queue kept on delete; the
// table expiring items by their ttl attribute.
func TestTemplateGuardrails(t *testing.T) {
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
	tmpl := node{doc.Content[0]}
	res := tmpl.get("Resources")
	parsed, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}

	if strings.Contains(tmpl.get("Globals").text(), "APP_SECRET:") || tmpl.get("Parameters", "AppSecret").Node != nil {
		t.Error("the secret is a parameter or in the environment")
	}
	httpFns := map[string]bool{}
	var routes []string
	for _, r := range parsed.Routes() {
		httpFns[r.Function] = true
		routes = append(routes, r.Key())
	}
	for _, fn := range parsed.Functions() {
		f := res.get(fn, "Properties")
		if f.get("Environment", "Variables", "APP_SECRET").Node != nil {
			t.Errorf("%s has the secret in its environment", fn)
		}
		hasID := f.get("Environment", "Variables", "APP_SECRET_ID").Node != nil
		policy := f.get("Policies").text()
		mayRead := strings.Contains(policy, "secretsmanager:GetSecretValue")
		main, err := os.ReadFile(filepath.Join(root, "functions", strings.ToLower(strings.TrimSuffix(fn, "Function")), "main.go"))
		if err != nil {
			t.Fatal(err)
		}
		loads := strings.Contains(string(main), "secretstore.MustLoad(")
		if fn != "RotateSecretFunction" && (hasID != loads || mayRead != loads) {
			t.Errorf("%s: its main loads the secret: %v; APP_SECRET_ID set: %v; may read it: %v (all three must agree)", fn, loads, hasID, mayRead)
		}
		if mayRead && !strings.Contains(policy, "Resource: !Ref AppSecret") {
			t.Errorf("%s may read secrets other than AppSecret:\n%s", fn, policy)
		}
		if !httpFns[fn] {
			alarm := res.get(strings.TrimSuffix(fn, "Function")+"ErrorsAlarm", "Properties")
			if alarm.get("MetricName").value() != "Errors" || !strings.Contains(alarm.get("Dimensions").text(), "!Ref "+fn) {
				t.Errorf("%s has no errors alarm (no API route reports its failures)", fn)
			}
		}
	}
	if a := res.get("ApiServerErrorsAlarm", "Properties"); a.get("MetricName").value() != "5xx" {
		t.Error("no alarm on the API's 5xx")
	}
	for _, key := range res.get("HttpApi", "Properties", "RouteSettings").keys() {
		if !slices.Contains(routes, key) {
			t.Errorf("RouteSettings names %q, which is no route (the deploy would fail)", key)
		}
	}
	nightly := res.get("NightlyFunction", "Properties")
	if nightly.get("ReservedConcurrentExecutions").value() != "1" ||
		nightly.get("EventInvokeConfig", "DestinationConfig", "OnFailure", "Destination").value() != "NightlyFailures.Arn" ||
		nightly.get("Events", "Nightly", "Properties", "DeadLetterConfig", "Arn").value() != "NightlyFailures.Arn" {
		t.Errorf("the nightly function may run twice at once or lose its failures:\n%s", nightly.text())
	}
	for _, q := range []string{"StreamFailures", "NightlyFailures"} {
		if res.get(q, "DeletionPolicy").value() != "Retain" || res.get(q, "UpdateReplacePolicy").value() != "Retain" || res.get(q, "Properties", "MessageRetentionPeriod").value() != "1209600" {
			t.Errorf("%s is not kept (retention, deletion, replacement)", q)
		}
		if !strings.Contains(tmpl.get("Resources").text(), "!GetAtt "+q+".QueueName") {
			t.Errorf("no alarm on messages in %s", q)
		}
	}
	if res.get("NightlyNotFinishedAlarm", "Properties", "MetricName").value() != "NightlyRunsCompleted" || res.get("EmailsFailingAlarm").Node == nil {
		t.Error("the nightly-run and failing-email alarms are missing")
	}
	// The store's expiring items (idempotency records, outbox emails,
	// tokens, audit entries, SCIM page marks) say when in `ttl`.
	if ttl := res.get("Table", "Properties", "TimeToLiveSpecification"); ttl.get("AttributeName").value() != "ttl" || ttl.get("Enabled").value() != "true" {
		t.Errorf("the table does not expire items by their ttl attribute:\n%s", ttl.text())
	}
}

// env.local.json (sam local's --env-vars) sets only variables the template
// declares (sam local ignores the others) and points the functions at what
// `make run` creates: its table names and secret.
func TestSamLocalEnvFile(t *testing.T) {
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "env.local.json"))
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]map[string]string
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	src, _ := os.ReadFile(filepath.Join(root, "template.yaml"))
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
	tmpl := node{doc.Content[0]}
	declared := map[string]bool{}
	for _, k := range tmpl.get("Globals", "Function", "Environment", "Variables").keys() {
		declared[k] = true
	}
	for _, fn := range tmpl.get("Resources").keys() {
		for _, k := range tmpl.get("Resources", fn, "Properties", "Environment", "Variables").keys() {
			declared[k] = true
		}
	}
	for scope, vars := range env {
		if scope != "Parameters" && tmpl.get("Resources", scope).Node == nil {
			t.Errorf("env.local.json names %s, which is no function", scope)
		}
		for k := range vars {
			if !declared[k] {
				t.Errorf("env.local.json sets %s, which the template does not declare: sam local would ignore it", k)
			}
		}
	}
	p := env["Parameters"]
	if p["TABLE_NAME"] != local.TableName || p["ARCHIVE_TABLE_NAME"] != local.ArchiveTableName || p["APP_SECRET_ID"] != local.SecretName {
		t.Errorf("env.local.json does not name the local stack's tables and secret: %v", p)
	}
}
