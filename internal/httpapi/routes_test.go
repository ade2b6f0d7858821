package httpapi_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"go.yaml.in/yaml/v3"

	"github.com/teamusers/usersapi/internal/httpapi"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/samtemplate"
)

// The template's HttpApi events, the Go endpoint table and the OpenAPI
// document name the same routes; every function folder wires the function
// the template builds from it, and an HTTP function's main calls its own
// handler constructor (the one the local gateway maps it to) and no other,
// so it links no other handler.
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
			// x-route names the route that serves an operation when it is
			// not the path itself: the SCIM catch-all serves the discovery
			// documents.
			Route string `yaml:"x-route"`
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
		for method, op := range ops {
			if op.Route != "" {
				m, p, _ := strings.Cut(op.Route, " ")
				fromOpenAPI = append(fromOpenAPI, samtemplate.Route{Method: m, Path: p}.Pattern())
				continue
			}
			fromOpenAPI = append(fromOpenAPI, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(fromTemplate)
	slices.Sort(fromGo)
	slices.Sort(fromOpenAPI)
	fromOpenAPI = slices.Compact(fromOpenAPI)
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

	// The constructor of each function, by its name in package httpapi.
	constructors := map[string]string{}
	for fn, newHandler := range local.Handlers {
		full := runtime.FuncForPC(reflect.ValueOf(newHandler).Pointer()).Name()
		constructors[fn] = full[strings.LastIndex(full, ".")+1:]
		if _, ok := httpapi.Find(fn); !ok {
			t.Errorf("local.Handlers names %s, which has no endpoint", fn)
		}
		if want := strings.TrimSuffix(fn, "Function"); constructors[fn] != want {
			t.Errorf("%s's constructor is httpapi.%s; name it httpapi.%s", fn, constructors[fn], want)
		}
	}
	isConstructor := map[string]bool{}
	for _, name := range constructors {
		isConstructor[name] = true
	}

	for _, fn := range tmpl.Functions() {
		dir := strings.ToLower(strings.TrimSuffix(fn, "Function"))
		mainPath := filepath.Join(root, "functions", dir, "main.go")
		if _, err := os.Stat(mainPath); err != nil {
			t.Errorf("function %s: no functions/%s/main.go (sam build's makefile target expects it)", fn, dir)
			continue
		}
		_, isHTTP := httpapi.Find(fn)
		var called []string
		for _, name := range httpapiCalls(t, mainPath) {
			if isConstructor[name] {
				called = append(called, name)
			}
		}
		switch {
		case isHTTP && constructors[fn] == "":
			t.Errorf("%s has no constructor in local.Handlers", fn)
		case isHTTP && !slices.Equal(called, []string{constructors[fn]}):
			t.Errorf("functions/%s/main.go calls handler constructors %v; it must call httpapi.%s alone", dir, called, constructors[fn])
		case !isHTTP && len(called) > 0:
			t.Errorf("functions/%s/main.go is not an HTTP function but builds handlers %v", dir, called)
		}
		sample, err := os.ReadFile(filepath.Join(root, "functions", dir, "event.json"))
		if err != nil {
			t.Errorf("function %s has no sample event for sam local invoke", fn)
			continue
		}
		if isHTTP {
			var keys []string
			for _, r := range tmpl.Routes() {
				if r.Function == fn {
					keys = append(keys, r.Key())
				}
			}
			var ev events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(sample, &ev); err != nil || !slices.Contains(keys, ev.RouteKey) || ev.Version != "2.0" {
				t.Errorf("functions/%s/event.json is not a 2.0 event for %s (%v)", dir, strings.Join(keys, " or "), err)
			}
		}
	}
}

// httpapiCalls lists the functions of package httpapi that a main calls.
func httpapiCalls(t *testing.T, path string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
			if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "httpapi" {
				names = append(names, sel.Sel.Name)
			}
		}
		return true
	})
	return names
}
