package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
)

func TestMaskEmails(t *testing.T) {
	cases := map[string]string{
		"alice@example.com":                        "a***@example.com",
		"to bob.smith+tag@mail.acme.co.uk failed.": "to b***@mail.acme.co.uk failed.",
		"Email address is not verified. The following identities failed the check in region EU-WEST-1: x@y.example, \"q\"@z.example": "Email address is not verified. The following identities failed the check in region EU-WEST-1: x***@y.example, \"***@z.example",
		"invite o'neil@example.com: seat limit": "invite o***@example.com: seat limit",
		"no address here":                       "no address here",
		"a @ b, user@localhost, @example.com":   "a @ b, user@localhost, @example.com",
		"élodie@exemple.fr":                     "é***@exemple.fr",
		"\"john doe\"@example.com wrote":        "\"***@example.com wrote",
		"EMAIL#e_123 and MEMBER#m_1":            "EMAIL#e_123 and MEMBER#m_1",
		"two: a@b.example;c@d.example":          "two: a***@b.example;c***@d.example",
	}
	for in, want := range cases {
		if got := MaskEmails(in); got != want {
			t.Errorf("MaskEmails(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}

// Every line is JSON with Lambda's keys; lines written during an invocation
// carry its request id; addresses are masked in the message, in values and
// in errors.
func TestLoggerLines(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	log.InfoContext(ctx, "sent to carol@example.com", "to", "dave@example.com", "memberId", "m_1")
	log.With("team", "t_1").ErrorContext(ctx, "send failed", "error", errors.New("rejected: eve@example.com"))
	log.Info("cold start")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines:\n%s", len(lines), buf.String())
	}
	if strings.Contains(buf.String(), "carol@") || strings.Contains(buf.String(), "dave@") || strings.Contains(buf.String(), "eve@") {
		t.Fatalf("an address reached the log:\n%s", buf.String())
	}
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d is not JSON: %s", i, l)
		}
		if m["message"] == nil || m["timestamp"] == nil || m["level"] == nil {
			t.Fatalf("line %d lacks Lambda's keys: %s", i, l)
		}
		if want := i < 2; (m["requestId"] == "req-1") != want {
			t.Fatalf("line %d requestId %v", i, m["requestId"])
		}
	}
	if !strings.Contains(lines[0], `"to":"d***@example.com"`) || !strings.Contains(lines[1], `"error":"rejected: e***@example.com"`) || !strings.Contains(lines[1], `"team":"t_1"`) {
		t.Fatalf("lines:\n%s", buf.String())
	}
}

// Behind the HTTP API a line also carries the API's request id, which the
// access log shows, so an access log line leads to the function's lines.
func TestLoggerLinesBehindTheHTTPAPI(t *testing.T) {
	var buf bytes.Buffer
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-2"})
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: "/v1/me/calls", RequestContext: events.APIGatewayV2HTTPRequestContext{
		RequestID: "api-req-9", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/v1/me/calls"}}}
	r, err := (&core.RequestAccessorV2{}).EventToRequestWithContext(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	New(&buf).WarnContext(r.Context(), "request refused")
	if !strings.Contains(buf.String(), `"requestId":"req-2"`) || !strings.Contains(buf.String(), `"apiRequestId":"api-req-9"`) {
		t.Fatalf("%s", buf.String())
	}
}
