package security

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/teamusers/usersapi/internal/httpapi"
	"github.com/teamusers/usersapi/internal/samtemplate"
)

// API9 Improper Inventory Management: what answers is what the document
// lists. Every route of the table is in api/openapi.yaml (and
// TestRoutesAgree holds table, template, mains and document together);
// the paths an attacker tries for a forgotten version, a debug page or an
// admin console are not routes; no route goes without the JWT authorizer
// but those the document says take no JWT: the invitation accept (the
// token is in the body) and the SCIM service (the team's SCIM token,
// checked by its functions; the discovery documents need none).
func TestOnlyTheDocumentedRoutesAnswer(t *testing.T) {
	root, _ := samtemplate.FindRoot()
	raw, err := os.ReadFile(filepath.Join(root, "api", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	type operation struct {
		Security *[]map[string][]string `yaml:"security"`
		Route    string                 `yaml:"x-route"`
	}
	var doc struct {
		Paths map[string]map[string]operation `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	byRoute := map[string][]operation{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			pattern := strings.ToUpper(method) + " " + path
			if op.Route != "" {
				m, p, _ := strings.Cut(op.Route, " ")
				pattern = samtemplate.Route{Method: m, Path: p}.Pattern()
			}
			byRoute[pattern] = append(byRoute[pattern], op)
		}
	}
	schemes := func(op operation) []string {
		if op.Security == nil {
			return []string{"bearer"} // the document's default
		}
		var out []string
		for _, req := range *op.Security {
			for name := range req {
				out = append(out, name)
			}
		}
		return out
	}
	for _, e := range httpapi.Endpoints {
		ops, ok := byRoute[e.Pattern]
		if !ok {
			t.Errorf("%s is not in the document", e.Pattern)
			continue
		}
		for _, op := range ops {
			s := schemes(op)
			if jwt := slices.Contains(s, "bearer"); jwt == e.Public {
				t.Errorf("%s: public %v in the route table, but the document's security is %v", e.Pattern, e.Public, s)
			}
			if e.SCIM && e.Function != "ScimDiscoveryFunction" && !slices.Equal(s, []string{"scimToken"}) {
				t.Errorf("%s: a SCIM route whose document security is %v, not the SCIM token", e.Pattern, s)
			}
		}
	}
	publics := slices.DeleteFunc(slices.Clone(httpapi.Endpoints), func(e httpapi.Endpoint) bool {
		return !e.Public || e.Function == "AcceptInvitationFunction" || e.SCIM && strings.HasPrefix(e.Pattern, "/scim/v2/") ||
			e.SCIM && strings.Contains(e.Pattern, " /scim/v2/")
	})
	if len(publics) != 0 {
		t.Fatalf("public routes beside the accept and the SCIM service: %v", publics)
	}

	tm := newTeam(t, "inventory.example", 1)
	for _, p := range []string{
		"/v0/teams/" + tm.ID + "/members", "/v2/teams/" + tm.ID + "/members", "/v1/teams", "/v1/teams/" + tm.ID,
		"/v1/teams/" + tm.ID + "/audit", "/v1/admin", "/v1/users", "/v1/teams/" + tm.ID + "/members/export",
		"/debug/pprof/", "/metrics", "/.env", "/.git/config", "/openapi.yaml", "/swagger.json", "/v1/internal/seed",
		"/scim/v1/Users", "/scim/Users", "/scim/v2/Groups", "/scim/v2/Bulk", "/scim/v2/Me", "/scim/v2/Users/" + tm.ID + "/x",
	} {
		for _, method := range []string{"GET", "POST", "DELETE"} {
			r := send(t, nil, method, p, tm.Token, nil, nil)
			if r.Status != 404 {
				t.Errorf("%s %s: %d %s", method, p, r.Status, r.Body)
			}
		}
	}
}
