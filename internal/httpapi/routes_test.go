package httpapi_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"go.yaml.in/yaml/v3"

	"github.com/teamusers/usersapi/internal/httpapi"
	"github.com/teamusers/usersapi/internal/samtemplate"
)

// The template's HttpApi events, the Go endpoint table and the OpenAPI
// document name the same routes, and every function folder wires the
// function the template builds from it.
func TestRoutesAgree(t *testing.T) {
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var fromTemplate, fromGo, fromOpenAPI []string
	for _, r := range tmpl.Routes() {
		fromTemplate = append(fromTemplate, r.Function+" "+r.Pattern())
	}
	for _, e := range httpapi.Endpoints {
		fromGo = append(fromGo, e.Function+" "+e.Pattern)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `yaml:"operationId"`
		} `yaml:"paths"`
	}
	b, err := os.ReadFile(filepath.Join(root, "api", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			fromOpenAPI = append(fromOpenAPI, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(fromTemplate)
	slices.Sort(fromGo)
	slices.Sort(fromOpenAPI)
	if !slices.Equal(fromTemplate, fromGo) {
		t.Errorf("template routes\n  %v\ndiffer from httpapi.Endpoints\n  %v", fromTemplate, fromGo)
	}
	var patterns []string
	for _, r := range fromGo {
		patterns = append(patterns, r[strings.Index(r, " ")+1:])
	}
	slices.Sort(patterns)
	if !slices.Equal(patterns, fromOpenAPI) {
		t.Errorf("Go routes\n  %v\ndiffer from OpenAPI paths\n  %v", patterns, fromOpenAPI)
	}

	for _, fn := range tmpl.Functions() {
		dir := strings.ToLower(strings.TrimSuffix(fn, "Function"))
		src, err := os.ReadFile(filepath.Join(root, "functions", dir, "main.go"))
		if err != nil {
			t.Errorf("function %s: no functions/%s/main.go (sam build's makefile target expects it)", fn, dir)
			continue
		}
		ep, isHTTP := httpapi.Find(fn)
		if isHTTP && !strings.Contains(string(src), `"`+fn+`"`) {
			t.Errorf("functions/%s/main.go does not serve %s", dir, fn)
		}
		sample, err := os.ReadFile(filepath.Join(root, "functions", dir, "event.json"))
		if err != nil {
			t.Errorf("function %s has no sample event for sam local invoke", fn)
			continue
		}
		if isHTTP {
			var ev events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(sample, &ev); err != nil || ev.RouteKey != ep.Pattern || ev.Version != "2.0" {
				t.Errorf("functions/%s/event.json is not a 2.0 event for %s (%v)", dir, ep.Pattern, err)
			}
		}
	}
}
