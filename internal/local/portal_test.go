package local

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPortalServesThePageAndNothingElse(t *testing.T) {
	keys, err := NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	h := portal(keys)
	for _, c := range []struct {
		method, path, body string
		status             int
		contentType, has   string
	}{
		{"GET", "/", "", 200, "text/html", `<script type="module" src="/js/main.js">`},
		{"GET", "/invitations/accept?token=abc", "", 200, "text/html", "Accept your invitation"},
		{"HEAD", "/", "", 200, "text/html", ""},
		{"GET", "/config.json", "", 200, "application/json", `"kind":"local"`},
		{"GET", "/js/main.js", "", 200, "text/javascript", "import"},
		{"GET", "/styles.css", "", 200, "text/css", ":root"},
		{"GET", "/../template.yaml", "", 404, "application/problem+json", "route_not_found"},
		{"GET", "/%2e%2e/go.mod", "", 404, "application/problem+json", "route_not_found"},
		{"GET", "/js/", "", 404, "application/problem+json", "route_not_found"},
		{"GET", "/nope.html", "", 404, "application/problem+json", "route_not_found"},
		{"GET", "/v1/teams/t/unknown", "", 404, "application/problem+json", "route_not_found"},
		{"POST", "/", "{}", 404, "application/problem+json", "route_not_found"},
		{"GET", TokenRoute, "", 404, "application/problem+json", "route_not_found"},
		{"POST", TokenRoute, `{"email":"not an email"}`, 400, "application/problem+json", "invalid_email"},
		{"POST", TokenRoute, `{"email":`, 400, "application/problem+json", "invalid_json"},
	} {
		r := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.status || !strings.HasPrefix(w.Header().Get("Content-Type"), c.contentType) || !strings.Contains(w.Body.String(), c.has) {
			t.Errorf("%s %s: %d %s %.120q", c.method, c.path, w.Code, w.Header().Get("Content-Type"), w.Body.String())
		}
	}
}

func TestPortalSignInMintsATokenTheGatewayAccepts(t *testing.T) {
	keys, err := NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	portal(keys).ServeHTTP(w, httptest.NewRequest("POST", TokenRoute, strings.NewReader(`{"email":" Ana@Example.com "}`)))
	if w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	var out struct{ Token, Email string }
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	claims, err := NewVerifier(keys, Issuer, Audience).Verify("Bearer " + out.Token)
	if err != nil || claims["email"] != "Ana@Example.com" || out.Email != "Ana@Example.com" {
		t.Fatalf("claims %v, err %v, email %q", claims, err, out.Email)
	}
}
