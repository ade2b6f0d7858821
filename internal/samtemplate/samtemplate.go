// Package samtemplate reads template.yaml, the one description of the
// deployed system, so that the local gateway serves exactly the routes the
// HTTP API declares and the local table has exactly the deployed schema.
package samtemplate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/global"
	"github.com/awslabs/goformation/v7/intrinsics"
)

// Template is a parsed template.yaml.
type Template struct {
	cf        *cloudformation.Template
	doc       map[string]any            // the whole template, intrinsics processed
	throttles map[string]map[string]any // the HTTP API's route settings ("" for the default), as written
}

// Route is one HttpApi event of a function.
type Route struct {
	Function string
	Method   string
	Path     string
	Public   bool // Auth.Authorizer: NONE
}

// Key is the route as API Gateway names it (the event's routeKey, the
// keys of RouteSettings): "GET /v1/me", "ANY /scim/v2/{proxy+}".
func (r Route) Key() string { return r.Method + " " + r.Path }

// Pattern is the route as a net/http pattern: ANY is every method (no
// method in the pattern), and a greedy path variable {name+} matches the
// rest of the path as {name...} does.
func (r Route) Pattern() string {
	path := r.Path
	if strings.HasSuffix(path, "+}") {
		path = strings.TrimSuffix(path, "+}") + "...}"
	}
	if r.Method == "ANY" {
		return path
	}
	return r.Method + " " + path
}

// readTypes are the resource types this package reads. goformation's typed
// resources lag behind CloudFormation (it does not know SES's EventBridge
// destination, for one) and refuse properties they do not know, so every
// other resource is dropped before it parses the template; cfn-lint checks
// the whole of it.
var readTypes = map[string]bool{
	"AWS::Serverless::Function": true, "AWS::Serverless::HttpApi": true, "AWS::DynamoDB::Table": true,
}

// Load parses the template at path. Intrinsics are left unresolved where
// they name resources; nothing read here depends on them.
func Load(path string) (*Template, error) {
	ref := func(name string, input interface{}, tpl interface{}) interface{} {
		if s, ok := input.(string); ok {
			return "ref:" + s
		}
		return nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	processed, err := intrinsics.ProcessYAML(raw, &intrinsics.ProcessorOptions{
		IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{"Ref": ref},
	})
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(processed, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	resources, _ := doc["Resources"].(map[string]any)
	throttles := map[string]map[string]any{}
	for name, r := range resources {
		m, ok := r.(map[string]any)
		if !ok || !readTypes[fmt.Sprint(m["Type"])] {
			delete(resources, name)
			continue
		}
		// Nor the HTTP API's throttling and logging settings: goformation
		// decodes them into typed fields, and a Ref to a Number parameter
		// does not decode there.
		if props, ok := m["Properties"].(map[string]any); ok && m["Type"] == "AWS::Serverless::HttpApi" {
			if d, ok := props["DefaultRouteSettings"].(map[string]any); ok {
				throttles[""] = d
			}
			if rs, ok := props["RouteSettings"].(map[string]any); ok {
				for route, v := range rs {
					if m, ok := v.(map[string]any); ok {
						throttles[route] = m
					}
				}
			}
			for _, k := range []string{"DefaultRouteSettings", "RouteSettings", "AccessLogSettings"} {
				delete(props, k)
			}
		}
	}
	filtered, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	cf, err := goformation.ParseJSONWithOptions(filtered, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return &Template{cf: cf, doc: doc, throttles: throttles}, nil
}

// FindRoot walks up from the working directory to the folder holding
// template.yaml, so tools and tests work from any package folder.
func FindRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "template.yaml")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no template.yaml above the working directory")
		}
		dir = parent
	}
}

// Routes lists every HttpApi route, sorted by pattern.
func (t *Template) Routes() []Route {
	var out []Route
	for name, fn := range t.cf.GetAllServerlessFunctionResources() {
		for _, ev := range fn.Events {
			if ev.Type != "HttpApi" || ev.Properties == nil || ev.Properties.HttpApiEvent == nil {
				continue
			}
			h := ev.Properties.HttpApiEvent
			r := Route{Function: name, Method: strings.ToUpper(aws.ToString(h.Method)), Path: aws.ToString(h.Path)}
			if h.Auth != nil && h.Auth.Authorizer != nil && *h.Auth.Authorizer == "NONE" {
				r.Public = true
			}
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pattern() < out[j].Pattern() })
	return out
}

// Functions lists the logical ids of every function.
func (t *Template) Functions() []string {
	var out []string
	for name := range t.cf.GetAllServerlessFunctionResources() {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// DefaultTimeout is Lambda's function timeout when neither the function
// nor Globals sets one (AWS::Serverless::Function's default).
const DefaultTimeout = 3 * time.Second

// Timeout is the function's Timeout: its own, else Globals' (SAM merges
// Globals into every function; goformation does not), else Lambda's default.
func (t *Template) Timeout(function string) time.Duration {
	if fn, ok := t.cf.GetAllServerlessFunctionResources()[function]; ok && fn.Timeout != nil {
		return time.Duration(*fn.Timeout) * time.Second
	}
	if g, ok := t.cf.Globals["Function"].(*global.Function); ok && g.Timeout != nil {
		return time.Duration(*g.Timeout) * time.Second
	}
	return DefaultTimeout
}

// DefaultMemorySize is Lambda's memory, in MB, when neither the function
// nor Globals sets one.
const DefaultMemorySize = 128

// MemorySize is the function's MemorySize in MB: its own, else Globals',
// else Lambda's default. The benchmarks price GB-seconds with it.
func (t *Template) MemorySize(function string) int {
	if fn, ok := t.cf.GetAllServerlessFunctionResources()[function]; ok && fn.MemorySize != nil {
		return *fn.MemorySize
	}
	if g, ok := t.cf.Globals["Function"].(*global.Function); ok && g.MemorySize != nil {
		return *g.MemorySize
	}
	return DefaultMemorySize
}

// CreateTableInput turns the AWS::DynamoDB::Table resource with the given
// logical id into the CreateTable call that makes the same table locally.
func (t *Template) CreateTableInput(logicalID, tableName string) (*ddb.CreateTableInput, error) {
	tbl, ok := t.cf.GetAllDynamoDBTableResources()[logicalID]
	if !ok {
		return nil, fmt.Errorf("template has no table %s", logicalID)
	}
	in := &ddb.CreateTableInput{TableName: aws.String(tableName), BillingMode: types.BillingModePayPerRequest}
	for _, a := range tbl.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName), AttributeType: types.ScalarAttributeType(a.AttributeType)})
	}
	for _, k := range tbl.KeySchema {
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: types.KeyType(k.KeyType)})
	}
	for _, g := range tbl.GlobalSecondaryIndexes {
		gsi := types.GlobalSecondaryIndex{IndexName: aws.String(g.IndexName), Projection: &types.Projection{}}
		for _, k := range g.KeySchema {
			gsi.KeySchema = append(gsi.KeySchema, types.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: types.KeyType(k.KeyType)})
		}
		if g.Projection != nil && g.Projection.ProjectionType != nil {
			gsi.Projection.ProjectionType = types.ProjectionType(*g.Projection.ProjectionType)
			gsi.Projection.NonKeyAttributes = g.Projection.NonKeyAttributes
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gsi)
	}
	if tbl.TableClass != nil {
		in.TableClass = types.TableClass(*tbl.TableClass)
	}
	if s := tbl.StreamSpecification; s != nil {
		in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewType(s.StreamViewType)}
	}
	return in, nil
}

// Throttle is a route's throttling in the HTTP API's stage: steady
// requests a second, and the burst.
type Throttle struct{ Rate, Burst float64 }

// Throttle is the throttling of a route ("POST /v1/me/calls"), as the
// stage applies it: its RouteSettings, else DefaultRouteSettings, with
// parameters at their defaults.
func (t *Template) Throttle(routeKey string) (Throttle, bool) {
	set, ok := t.throttles[routeKey]
	if !ok {
		if set, ok = t.throttles[""]; !ok {
			return Throttle{}, false
		}
	}
	params := t.Parameters()
	value := func(v any) float64 {
		switch x := v.(type) {
		case float64:
			return x
		case string:
			if name, ok := strings.CutPrefix(x, "ref:"); ok {
				f, _ := strconv.ParseFloat(params[name].Default, 64)
				return f
			}
			f, _ := strconv.ParseFloat(x, 64)
			return f
		}
		return 0
	}
	return Throttle{Rate: value(set["ThrottlingRateLimit"]), Burst: value(set["ThrottlingBurstLimit"])}, true
}

// TimeToLive is the TTL attribute of the AWS::DynamoDB::Table resource
// with the given logical id, when TTL is enabled on it (the local stack
// turns it on as CloudFormation does: items expire there as in AWS).
func (t *Template) TimeToLive(logicalID string) (string, bool) {
	tbl, ok := t.cf.GetAllDynamoDBTableResources()[logicalID]
	if !ok || tbl.TimeToLiveSpecification == nil || !tbl.TimeToLiveSpecification.Enabled {
		return "", false
	}
	return aws.ToString(tbl.TimeToLiveSpecification.AttributeName), true
}

// CORS is the HTTP API's CORS configuration.
type CORS struct {
	AllowHeaders, AllowMethods, ExposeHeaders []string
	MaxAge                                    int
}

// CORS reads the CORS configuration of the HttpApi resource (origins are
// a deployment parameter, so the caller supplies them).
func (t *Template) CORS() (CORS, bool) {
	for _, api := range t.cf.GetAllServerlessHttpApiResources() {
		if api.CorsConfiguration == nil || api.CorsConfiguration.CorsConfigurationObject == nil {
			continue
		}
		c := api.CorsConfiguration.CorsConfigurationObject
		out := CORS{AllowHeaders: c.AllowHeaders, AllowMethods: c.AllowMethods, ExposeHeaders: c.ExposeHeaders}
		if c.MaxAge != nil {
			out.MaxAge = *c.MaxAge
		}
		return out, true
	}
	return CORS{}, false
}
