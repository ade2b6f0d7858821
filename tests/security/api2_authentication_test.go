package security

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/httpapi"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/provisioning"
	"github.com/teamusers/usersapi/internal/users"
)

// API2 Broken Authentication: every route behind the authorizer, from the
// route table (a route added tomorrow is attacked the day it is added),
// refuses every kind of bad token with 401 and WWW-Authenticate, before
// any function runs, and nothing changes. The public route takes no token.
func TestEveryProtectedRouteRefusesEveryBadToken(t *testing.T) {
	tm := newTeam(t, "authn.example", 8)
	member := tm.first(t, users.StatusActive, users.RoleUser)
	good := tm.Token
	_, scimTok := scimToken(t, tm, "IdP")
	before := snapshot(t, tm)

	bad := map[string]string{
		"no token":            "",
		"not a JWT":           "not-a-token",
		"two parts":           "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0",
		"garbage in 3 parts":  "a.b.c",
		"alg none":            unsigned(t, good, `{"alg":"none","typ":"JWT"}`),
		"alg none, no dot":    strings.TrimSuffix(unsigned(t, good, `{"alg":"none"}`), "."),
		"HS256 with the JWKS": hs256WithPublicKey(t, good),
		"signed by another key": func() string {
			other, err := local.NewKeys()
			if err != nil {
				t.Fatal(err)
			}
			tok, _ := other.Mint(tm.Owner, local.TokenOptions{})
			return tok
		}(),
		"payload changed under its signature": swapPayload(t, good, token(t, member.Email, local.TokenOptions{})),
		"expired":                             token(t, tm.Owner, local.TokenOptions{TTL: -time.Minute}),
		"not yet valid":                       token(t, tm.Owner, local.TokenOptions{NotBefore: time.Now().Add(time.Hour)}),
		"wrong issuer":                        token(t, tm.Owner, local.TokenOptions{Issuer: "https://issuer.evil.example"}),
		"wrong audience":                      token(t, tm.Owner, local.TokenOptions{Audience: "another-app"}),
		"unknown key id":                      withHeader(t, good, "kid", "not-our-key"),
		"the team's SCIM token":               scimTok,
	}
	for _, e := range httpapi.Endpoints {
		if e.Public {
			continue
		}
		method, path := pathOf(e, map[string]string{"teamId": tm.ID, "memberId": member.ID, "jobId": "j_doesnotexist"})
		for name, tok := range bad {
			h := map[string]string{"Content-Type": "application/json"}
			r := sendRaw(t, method, path, tok, h, []byte(`{}`))
			if code := r.Problem(t, 401); code != "unauthorized" || r.Header.Get("WWW-Authenticate") != "Bearer" {
				t.Errorf("%s %s with %s: %s %q", method, path, name, code, r.Header.Get("WWW-Authenticate"))
			}
		}
	}
	// A token without an email claim passes the authorizer (it checks only
	// the signature, issuer, audience and times) and the function refuses it.
	for _, e := range httpapi.Endpoints {
		if e.Public {
			continue
		}
		method, path := pathOf(e, map[string]string{"teamId": tm.ID, "memberId": member.ID, "jobId": "j_doesnotexist"})
		if code := call(t, method, path, token(t, "", local.TokenOptions{}), map[string]any{}).Problem(t, 401); code != "unauthorized" {
			t.Errorf("%s %s with no email claim: %s", method, path, code)
		}
	}
	if after := snapshot(t, tm); after != before {
		t.Fatalf("the team changed under refused requests:\nbefore %s\nafter  %s", before, after)
	}
	// The same routes with the good token are served: the refusals above
	// are the tokens', not the routes'.
	if r := call(t, "GET", "/v1/teams/"+tm.ID+"/summary", good, nil); r.Status != 200 {
		t.Fatalf("the owner's token: %d %s", r.Status, r.Body)
	}
}

// sendRaw sends the Authorization header as given ("Bearer <tok>", or none).
func sendRaw(t *testing.T, method, path, tok string, headers map[string]string, body []byte) response {
	t.Helper()
	return send(t, nil, method, path, tok, headers, body)
}

func segments(t *testing.T, tok string) []string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %s", tok)
	}
	return parts
}

// unsigned is the token's claims under another header and no signature.
func unsigned(t *testing.T, tok, header string) string {
	p := segments(t, tok)
	return base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + p[1] + "."
}

// hs256WithPublicKey signs the claims with HMAC, keyed by the issuer's
// public key as published: the algorithm confusion attack.
func hs256WithPublicKey(t *testing.T, tok string) string {
	p := segments(t, tok)
	head := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	mac := hmac.New(sha256.New, stack.Keys.JWKS())
	mac.Write([]byte(head + "." + p[1]))
	return head + "." + p[1] + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// swapPayload puts other's claims under tok's header and signature.
func swapPayload(t *testing.T, tok, other string) string {
	p, q := segments(t, tok), segments(t, other)
	return p[0] + "." + q[1] + "." + p[2]
}

// withHeader changes one field of the token's header, keeping its signature.
func withHeader(t *testing.T, tok, name, value string) string {
	p := segments(t, tok)
	raw, err := base64.RawURLEncoding.DecodeString(p[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	h[name] = value
	b, _ := json.Marshal(h)
	return base64.RawURLEncoding.EncodeToString(b) + "." + p[1] + "." + p[2]
}

// API2, the SCIM service: its credential is a SCIM token of the team,
// checked by the functions themselves (API Gateway's JWT authorizer is not
// on these routes). Every SCIM route that reads or changes users, from the
// route table, refuses a missing token, the portal's JWT, garbage, a token
// of the right shape with another secret or another id, a revoked token
// and another scheme (another team's token is API1's: it finds no user), with SCIM's 401 and WWW-Authenticate, and nothing
// changes. A team that left the pro plan: 403. The discovery documents
// are the same for everyone and need no token.
func TestEverySCIMRouteRefusesEveryBadToken(t *testing.T) {
	tm := newTeam(t, "scim-authn.example", 10)
	member := tm.first(t, users.StatusActive, users.RoleUser)
	revokedID, revoked := scimToken(t, tm, "revoked")
	if r := call(t, "DELETE", "/v1/teams/"+tm.ID+"/scim-tokens/"+revokedID, tm.Token, nil); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	_, good := scimToken(t, tm, "good")
	parts := strings.SplitN(good, ".", 4)
	if len(parts) != 4 {
		t.Fatalf("SCIM token %q", good)
	}
	before := snapshot(t, tm)

	bad := map[string]struct{ scheme, tok string }{
		"no token":                 {"Bearer", ""},
		"the admin's JWT":          {"Bearer", tm.Token},
		"garbage":                  {"Bearer", "not-a-token"},
		"the prefix alone":         {"Bearer", "scim..."},
		"another secret":           {"Bearer", strings.Join(parts[:3], ".") + "." + strings.Repeat("A", 43)},
		"a secret one short":       {"Bearer", good[:len(good)-1]},
		"an unknown token id":      {"Bearer", parts[0] + "." + parts[1] + ".sk_unknown." + parts[3]},
		"a revoked token":          {"Bearer", revoked},
		"the token as Basic":       {"Basic", good},
		"the token with no scheme": {"", good},
		"the token twice":          {"Bearer", good + " " + good},
		"a space inside":           {"Bearer", parts[0] + "." + parts[1] + " ." + parts[2] + "." + parts[3]},
	}
	bodies := map[string]string{
		"POST":  `{"userName":"new@scim-authn.example","active":true}`,
		"PUT":   `{"userName":"` + member.Email + `","active":false}`,
		"PATCH": `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`,
	}
	routes := 0
	for _, e := range httpapi.Endpoints {
		if !e.SCIM || e.Function == "ScimDiscoveryFunction" {
			continue
		}
		routes++
		method, path := pathOf(e, map[string]string{"userId": member.ID})
		for name, c := range bad {
			h := map[string]string{"Content-Type": "application/scim+json"}
			if c.tok != "" || c.scheme != "Bearer" {
				h["Authorization"] = strings.TrimSpace(c.scheme + " " + c.tok)
			}
			r := send(t, nil, method, path, "", h, []byte(bodies[method]))
			r.SCIMError(t, 401)
			if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s %s with %s: WWW-Authenticate %q", method, path, name, r.Header.Get("WWW-Authenticate"))
			}
		}
	}
	if routes < 6 {
		t.Fatalf("only %d SCIM routes in the table", routes)
	}
	if after := snapshot(t, tm); after != before {
		t.Fatalf("the team changed under refused SCIM requests:\nbefore %s\nafter  %s", before, after)
	}
	// The good token is served, and the discovery documents need none.
	if r := scimCall(t, "GET", "/Users/"+member.ID, good, nil); r.Status != 200 {
		t.Fatalf("the good token: %d %s", r.Status, r.Body)
	}
	if r := scimCall(t, "GET", "/ServiceProviderConfig", "", nil); r.Status != 200 {
		t.Fatalf("discovery without a token: %d %s", r.Status, r.Body)
	}
	// The team leaves the pro plan: its token is refused (403), as its
	// admins are on the portal.
	if _, err := (provisioning.Service{Store: stack.Store, Now: time.Now}).Handle(context.Background(), provisioning.Request{TeamID: tm.ID, Plan: "free"}); err != nil {
		t.Fatal(err)
	}
	scimCall(t, "GET", "/Users/"+member.ID, good, nil).SCIMError(t, 403)
}
