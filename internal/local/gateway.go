// Package local is the local stand-in for AWS used by `make run` and the
// tests: it starts the DynamoDB and SES servers, creates the table from
// template.yaml, and serves the functions' handlers behind a gateway that
// authenticates and builds events the way the HTTP API does.
package local

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/teamusers/usersapi/internal/httpapi"
	"github.com/teamusers/usersapi/internal/samtemplate"
	"github.com/teamusers/usersapi/internal/users"
)

// NewGateway serves every route the template declares with the handler of
// the function it names. A route without a Go endpoint, an endpoint without
// a route, or a pattern that differs is an error: routes cannot drift.
// Each function runs as Lambda runs it (its Timeout from the template, the
// 6 MB payload limits) behind the HTTP API's limits (10 MB bodies, 30-second
// integrations); see lambda.go.
func NewGateway(tmpl *samtemplate.Template, deps httpapi.Deps, keys *Keys, log *slog.Logger) (http.Handler, error) {
	return NewGatewayWith(tmpl, deps, keys, log, GatewayOptions{})
}

// GatewayOptions adjust the gateway's strictness.
type GatewayOptions struct {
	// TimeoutScale multiplies every function's Timeout (the deadline its
	// handler sees) and the HTTP API's 30 seconds; 0 or 1 is AWS's. The
	// local stand-ins are far slower than AWS (moto answers one request at
	// a time, in Python), so a test suite sharing a busy machine may allow
	// its largest requests more time than AWS would need.
	TimeoutScale float64
}

// NewGatewayWith is NewGateway with options.
func NewGatewayWith(tmpl *samtemplate.Template, deps httpapi.Deps, keys *Keys, log *slog.Logger, o GatewayOptions) (http.Handler, error) {
	scale := o.TimeoutScale
	if scale <= 0 {
		scale = 1
	}
	verifier := NewVerifier(keys, Issuer, Audience)
	mux := http.NewServeMux()
	served := map[string]bool{}
	handlers := map[string]ProxyHandler{} // one handler per function, however many routes it serves
	for _, route := range tmpl.Routes() {
		ep, ok := httpapi.FindRoute(route.Function, route.Pattern())
		newHandler, built := Handlers[route.Function]
		if !ok || !built {
			return nil, fmt.Errorf("template route %s names %s, which has no endpoint with that route in httpapi or no constructor in local.Handlers", route.Key(), route.Function)
		}
		if ep.Public != route.Public {
			return nil, fmt.Errorf("function %s: template says %s is public: %v, httpapi says %v", route.Function, route.Key(), route.Public, ep.Public)
		}
		served[ep.Function+" "+ep.Pattern] = true
		h, ok := handlers[route.Function]
		if !ok {
			h = httpadapter.NewV2(newHandler(deps)).ProxyWithContext
			handlers[route.Function] = h
		}
		fn, limit := function(tmpl, route.Function, h, scale)
		mux.HandleFunc(route.Pattern(), func(w http.ResponseWriter, r *http.Request) {
			var claims map[string]string
			if !route.Public {
				var err error
				if claims, err = verifier.Verify(r.Header.Get("Authorization")); err != nil {
					w.Header().Set("WWW-Authenticate", "Bearer")
					httpapi.WriteProblem(w, http.StatusUnauthorized, "unauthorized", "A valid bearer token is required.")
					return
				}
			}
			ev, err := toEvent(r, route, claims)
			if err != nil {
				// What the HTTP API answers itself; no function runs.
				w.Header().Set("Content-Type", "text; charset=utf-8")
				w.WriteHeader(http.StatusRequestEntityTooLarge)
				_, _ = fmt.Fprintf(w, "HTTP content length exceeded %d bytes.", MaxPayload)
				return
			}
			integrate(w, r, fn, ev, limit, log)
		})
	}
	for _, ep := range httpapi.Endpoints {
		if !served[ep.Function+" "+ep.Pattern] {
			return nil, fmt.Errorf("endpoint %s (%s) has no route in template.yaml", ep.Function, ep.Pattern)
		}
	}
	for fn := range Handlers {
		if _, ok := handlers[fn]; !ok {
			return nil, fmt.Errorf("local.Handlers names %s, which serves no route in template.yaml", fn)
		}
	}
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(keys.JWKS())
	})
	mux.Handle("/", portal(keys)) // the Users page and its local sign-in (portal.go); else 404
	cors, ok := tmpl.CORS()
	if !ok {
		return mux, nil
	}
	return withCORS(mux, cors, PortalOrigin), nil
}

// function is the Lambda function behind a route, with its template
// Timeout, and how long the HTTP API waits for it, both scaled.
func function(tmpl *samtemplate.Template, name string, h ProxyHandler, scale float64) (Function, time.Duration) {
	return Function{Name: name, Timeout: time.Duration(float64(tmpl.Timeout(name)) * scale), Handler: h},
		time.Duration(float64(IntegrationTimeout) * scale)
}

// PortalOrigin is the local stand-in for the PortalOrigin parameter: the
// portal's development server.
const PortalOrigin = "http://localhost:5173"

// withCORS answers CORS as the HTTP API does with the template's
// configuration: preflights from the allowed origin get 204 with the
// allowed methods and headers; other origins get no CORS headers.
func withCORS(next http.Handler, c samtemplate.CORS, origin string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != origin {
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				w.WriteHeader(http.StatusNoContent)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", strings.Join(c.AllowMethods, ","))
			h.Set("Access-Control-Allow-Headers", strings.Join(c.AllowHeaders, ","))
			if c.MaxAge > 0 {
				h.Set("Access-Control-Max-Age", fmt.Sprint(c.MaxAge))
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if len(c.ExposeHeaders) > 0 {
			h.Set("Access-Control-Expose-Headers", strings.Join(c.ExposeHeaders, ","))
		}
		next.ServeHTTP(w, r)
	})
}

// toEvent builds the payload-format-2.0 event the HTTP API would send.
func toEvent(r *http.Request, route samtemplate.Route, claims map[string]string) (events.APIGatewayV2HTTPRequest, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayload+1))
	if err != nil || len(body) > MaxPayload {
		return events.APIGatewayV2HTTPRequest{}, fmt.Errorf("payload too large")
	}
	headers := map[string]string{}
	for name, vals := range r.Header {
		if strings.EqualFold(name, "Cookie") {
			continue
		}
		headers[strings.ToLower(name)] = strings.Join(vals, ",")
	}
	query := map[string]string{}
	for name, vals := range r.URL.Query() {
		query[name] = strings.Join(vals, ",")
	}
	path := map[string]string{}
	for _, seg := range strings.Split(route.Path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			name := strings.TrimSuffix(seg[1:len(seg)-1], "+") // {proxy+}: the rest of the path
			path[name] = r.PathValue(name)
		}
	}
	var cookies []string
	for _, c := range r.Cookies() {
		cookies = append(cookies, c.String())
	}
	now := time.Now()
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: route.Key(), RawPath: r.URL.EscapedPath(), RawQueryString: r.URL.RawQuery,
		Cookies: cookies, Headers: headers, QueryStringParameters: query, PathParameters: path,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: route.Key(), AccountID: "000000000000", Stage: "$default", APIID: "local",
			DomainName: r.Host, DomainPrefix: "local", RequestID: users.NewID("req"),
			Time: now.UTC().Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: r.Method, Path: r.URL.Path, Protocol: r.Proto, SourceIP: strings.Split(r.RemoteAddr, ":")[0], UserAgent: r.UserAgent(),
			},
		},
	}
	if claims != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims, Scopes: nil},
		}
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type")) && utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return ev, nil
}

func isText(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return strings.HasPrefix(mt, "text/") || mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "application/x-www-form-urlencoded"
}

func writeResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) {
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		w.Header().Del(k)
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if b, err := base64.StdEncoding.DecodeString(resp.Body); err == nil {
			body = b
		}
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = io.Copy(w, bytes.NewReader(body))
}
