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
// admin console are not routes; no route is public but the one the
// document says takes no token.
func TestOnlyTheDocumentedRoutesAnswer(t *testing.T) {
	root, _ := samtemplate.FindRoot()
	raw, err := os.ReadFile(filepath.Join(root, "api", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Security *[]map[string][]string `yaml:"security"`
		} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, e := range httpapi.Endpoints {
		method, path, _ := strings.Cut(e.Pattern, " ")
		op, ok := doc.Paths[path][strings.ToLower(method)]
		if !ok {
			t.Errorf("%s is not in the document", e.Pattern)
			continue
		}
		if documentedPublic := op.Security != nil && len(*op.Security) == 0; documentedPublic != e.Public {
			t.Errorf("%s: public %v in the route table, %v in the document", e.Pattern, e.Public, documentedPublic)
		}
	}
	publics := slices.DeleteFunc(slices.Clone(httpapi.Endpoints), func(e httpapi.Endpoint) bool { return !e.Public })
	if len(publics) != 1 || publics[0].Function != "AcceptInvitationFunction" {
		t.Fatalf("public routes: %v", publics)
	}

	tm := newTeam(t, "inventory.example", 1)
	for _, p := range []string{
		"/v0/teams/" + tm.ID + "/members", "/v2/teams/" + tm.ID + "/members", "/v1/teams", "/v1/teams/" + tm.ID,
		"/v1/teams/" + tm.ID + "/audit", "/v1/admin", "/v1/users", "/v1/teams/" + tm.ID + "/members/export",
		"/debug/pprof/", "/metrics", "/.env", "/.git/config", "/openapi.yaml", "/swagger.json", "/v1/internal/seed",
	} {
		for _, method := range []string{"GET", "POST", "DELETE"} {
			r := send(t, nil, method, p, tm.Token, nil, nil)
			if r.Status != 404 {
				t.Errorf("%s %s: %d %s", method, p, r.Status, r.Body)
			}
		}
	}
}
