package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/teamusers/usersapi/internal/users"
)

// Limits of a synchronous Lambda invocation and of the HTTP API in front of
// it, as AWS enforces them (docs/architecture.md, "The gateway as strict as
// AWS").
const (
	// MaxPayload is the HTTP API's request payload limit (10 MB); the
	// gateway refuses a longer body before any function runs.
	MaxPayload = 10 << 20
	// MaxInvokeRequest is Lambda's synchronous request limit, on the event
	// as API Gateway serialises it (headers, base64 bodies and all):
	// "Request must be smaller than 6291456 bytes for the InvokeFunction
	// operation".
	MaxInvokeRequest = 6291456
	// MaxInvokeResponse is Lambda's synchronous response limit: "Response
	// payload size exceeded maximum allowed payload size (6291556 bytes)".
	MaxInvokeResponse = 6291556
	// IntegrationTimeout is the HTTP API's longest wait for an integration.
	IntegrationTimeout = 30 * time.Second
)

// Kinds of failed invocation; the gateway answers each as API Gateway does.
var (
	ErrRequestTooLarge  = errors.New("RequestEntityTooLargeException: Request must be smaller than 6291456 bytes for the InvokeFunction operation")
	ErrResponseTooLarge = errors.New("Response payload size exceeded maximum allowed payload size (6291556 bytes)")
	ErrTimedOut         = errors.New("Task timed out")
)

// ProxyHandler is a function's handler: an API Gateway v2 event in, a
// response out (httpadapter's ProxyWithContext).
type ProxyHandler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Function is one Lambda function behind a route.
type Function struct {
	Name    string        // logical id in template.yaml
	Timeout time.Duration // its Timeout from template.yaml
	Handler ProxyHandler
}

// Invoke runs the function once the way Lambda runs a synchronous
// invocation: the event must fit in 6 MB, the handler's context ends at the
// function's Timeout (its deadline is what lambdacontext would report), and a
// panic, an error, running out of time or a response over 6 MB is a
// function error. Only ctx's values reach the handler: a caller that hangs
// up does not stop a Lambda function.
//
// Unlike Lambda, a handler that ignores its context keeps running after the
// timeout (Lambda would freeze it); every AWS call it makes then fails,
// because the SDK honours the context.
func (f Function) Invoke(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	var zero events.APIGatewayV2HTTPResponse
	if n, err := eventSize(ev); err != nil {
		return zero, err
	} else if n > MaxInvokeRequest {
		return zero, ErrRequestTooLarge
	}
	type result struct {
		resp events.APIGatewayV2HTTPResponse
		err  error
	}
	done := make(chan result, 1)
	running := make(chan context.Context, 1)
	values := context.WithoutCancel(ctx)
	go func() {
		// The clock starts when the function does, as Lambda's does: a
		// goroutine the scheduler is slow to start has not used its time.
		ctx, cancel := context.WithTimeout(values, f.Timeout)
		defer cancel()
		running <- ctx
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: fmt.Errorf("function panicked: %v", p)}
			}
		}()
		resp, err := f.Handler(ctx, ev)
		done <- result{resp, err}
	}()
	deadline := <-running
	var res result
	select {
	case res = <-done:
	case <-deadline.Done():
		// The context also ends when the function returns: its answer,
		// if there is one, wins.
		select {
		case res = <-done:
		default:
			return zero, fmt.Errorf("%w after %.2f seconds", ErrTimedOut, f.Timeout.Seconds())
		}
	}
	if res.err != nil {
		return zero, res.err
	}
	b, err := json.Marshal(res.resp) // as the runtime serialises it
	if err != nil {
		return zero, err
	}
	if len(b) > MaxInvokeResponse {
		return zero, ErrResponseTooLarge
	}
	return res.resp, nil
}

// eventSize is the length of the event as API Gateway sends it to Lambda.
func eventSize(ev events.APIGatewayV2HTTPRequest) (int, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		return 0, err
	}
	return buf.Len() - 1, nil // Encode adds a newline
}

// integrate serves one request through fn as the HTTP API's Lambda proxy
// integration does: it waits at most `limit` (the HTTP API's 30 seconds)
// and answers AWS's own errors when the function cannot.
func integrate(w http.ResponseWriter, r *http.Request, fn Function, ev events.APIGatewayV2HTTPRequest, limit time.Duration, log logger) {
	type result struct {
		resp events.APIGatewayV2HTTPResponse
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := fn.Invoke(r.Context(), ev)
		done <- result{resp, err}
	}()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case res := <-done:
		switch {
		case res.err == nil:
			writeResponse(w, res.resp)
		case errors.Is(res.err, ErrRequestTooLarge):
			log.Warn("function not invoked", "function", fn.Name, "error", res.err.Error())
			awsError(w, http.StatusRequestEntityTooLarge, "Request Too Long")
		default:
			log.Error("function failed", "function", fn.Name, "error", res.err.Error())
			awsError(w, http.StatusInternalServerError, "Internal Server Error")
		}
	case <-timer.C:
		log.Error("integration timed out", "function", fn.Name, "after", limit.String())
		awsError(w, http.StatusServiceUnavailable, "Service Unavailable")
	case <-r.Context().Done():
		// The caller hung up; the function runs on, as in AWS.
	}
}

type logger interface {
	Warn(msg string, args ...any)
	Error(msg string, args ...any)
}

// awsError is an answer API Gateway itself gives: {"message": …} JSON, not
// the functions' problem+json.
func awsError(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Apigw-Requestid", users.NewID("apigw"))
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"message": message})
	_, _ = w.Write(b)
}
