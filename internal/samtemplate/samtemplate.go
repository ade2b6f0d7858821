// Package samtemplate reads template.yaml, the one description of the
// deployed system, so that the local gateway serves exactly the routes the
// HTTP API declares and the local table has exactly the deployed schema.
package samtemplate

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/intrinsics"
	"go.yaml.in/yaml/v3"
)

// Template is a parsed template.yaml.
type Template struct {
	cf *cloudformation.Template
}

// Route is one HttpApi event of a function.
type Route struct {
	Function string
	Method   string
	Path     string
	Public   bool // Auth.Authorizer: NONE
}

// Pattern is the route as a net/http pattern.
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// Load parses the template at path. Only the resources read here reach
// goformation (functions, the HTTP API, tables), and of the HTTP API not
// its throttling and logging settings: goformation decodes properties into
// typed fields, and a Ref to a Number parameter (a log group's retention,
// a throttle) does not decode into them. Intrinsics are left unresolved
// where they name resources; nothing read here depends on them.
func Load(path string) (*Template, error) {
	ref := func(name string, input interface{}, tpl interface{}) interface{} {
		if s, ok := input.(string); ok {
			return "ref:" + s
		}
		return nil
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	src, err = readable(src)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	cf, err := goformation.ParseYAMLWithOptions(src, &intrinsics.ProcessorOptions{
		IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{"Ref": ref},
	})
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return &Template{cf: cf}, nil
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

// readable keeps of the template what Load reads.
func readable(src []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 {
		return src, nil
	}
	resources := mapValue(doc.Content[0], "Resources")
	if resources == nil {
		return src, nil
	}
	keep := map[string]bool{"AWS::Serverless::Function": true, "AWS::Serverless::HttpApi": true, "AWS::DynamoDB::Table": true}
	var kept []*yaml.Node
	for i := 0; i+1 < len(resources.Content); i += 2 {
		res := resources.Content[i+1]
		typ := mapValue(res, "Type")
		if typ == nil || !keep[typ.Value] {
			continue
		}
		if typ.Value == "AWS::Serverless::HttpApi" {
			if props := mapValue(res, "Properties"); props != nil {
				dropKeys(props, "DefaultRouteSettings", "RouteSettings", "AccessLogSettings")
			}
		}
		kept = append(kept, resources.Content[i], res)
	}
	resources.Content = kept
	return yaml.Marshal(&doc)
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func dropKeys(m *yaml.Node, keys ...string) {
	var out []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if !slices.Contains(keys, m.Content[i].Value) {
			out = append(out, m.Content[i], m.Content[i+1])
		}
	}
	m.Content = out
}
