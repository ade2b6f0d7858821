// Package awsapi makes the few signed AWS calls a function needs outside
// DynamoDB and SES: reading the application secret from Secrets Manager at
// a cold start, rotating it, and the nightly job's asynchronous Invoke of
// itself. A full SDK client for one call costs 0.3 MB (Secrets Manager) to
// 0.8 MB (Lambda) of every bootstrap that links it, because each client
// initialises the schemas of all its operations; these calls are signed
// with the SDK's own SigV4 signer and sent with the SDK's HTTP client
// settings, nothing hand-made about the security.
package awsapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Client calls one AWS service.
type Client struct {
	cfg      aws.Config
	service  string // signing name and endpoint prefix: "secretsmanager", "lambda"
	endpoint string // base URL
	http     *http.Client
	signer   *v4.Signer
	// Attempts is how many times a call is tried when the service is
	// throttled or fails on its side (5xx) or cannot be reached.
	Attempts int
}

// New is a client of service in cfg's region; endpoint overrides the
// service's regional URL (a local stand-in).
func New(cfg aws.Config, service, endpoint string) *Client {
	if endpoint == "" {
		suffix := "amazonaws.com"
		if strings.HasPrefix(cfg.Region, "cn-") {
			suffix = "amazonaws.com.cn"
		}
		endpoint = fmt.Sprintf("https://%s.%s.%s", service, cfg.Region, suffix)
	}
	return &Client{cfg: cfg, service: service, endpoint: strings.TrimSuffix(endpoint, "/"),
		http: &http.Client{Timeout: 10 * time.Second}, signer: v4.NewSigner(), Attempts: 3}
}

// Error is an error answer from the service.
type Error struct {
	Status  int
	Code    string // e.g. ResourceNotFoundException
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

// IsCode reports whether err is a service error with that code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// JSON calls an operation of a JSON 1.1 protocol service (Secrets
// Manager): target is "secretsmanager.GetSecretValue", in and out are the
// request and response documents.
func (c *Client) JSON(ctx context.Context, target string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	h := http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amz-Target": {target}}
	resp, err := c.Do(ctx, http.MethodPost, "/", h, body)
	if err != nil {
		return err
	}
	if out == nil || len(resp) == 0 {
		return nil
	}
	return json.Unmarshal(resp, out)
}

// Do sends a signed request and returns the body of a 2xx answer; any
// other answer is an *Error.
func (c *Client) Do(ctx context.Context, method, path string, h http.Header, body []byte) ([]byte, error) {
	var last error
	for attempt := 0; attempt < max(1, c.Attempts); attempt++ {
		if attempt > 0 {
			t := time.NewTimer(time.Duration(100<<(2*(attempt-1))) * time.Millisecond) // 100 ms, 400 ms
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, errors.Join(ctx.Err(), last)
			case <-t.C:
			}
		}
		out, retry, err := c.once(ctx, method, path, h, body)
		if err == nil || !retry {
			return out, err
		}
		last = err
	}
	return nil, last
}

func (c *Client) once(ctx context.Context, method, path string, h http.Header, body []byte) ([]byte, bool, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint+path, bytes.NewReader(body))
	if err != nil {
		return nil, false, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	creds, err := c.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, false, err
	}
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), c.service, c.cfg.Region, time.Now()); err != nil {
		return nil, false, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, true, err // not reached, or no answer
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, true, err
	}
	if resp.StatusCode/100 == 2 {
		return b, false, nil
	}
	e := &Error{Status: resp.StatusCode, Code: resp.Header.Get("X-Amzn-ErrorType")}
	var doc struct {
		Type     string `json:"__type"`
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	if json.Unmarshal(b, &doc) == nil {
		if doc.Type != "" {
			e.Code = doc.Type
		}
		e.Message = doc.Message + doc.MessageU
	}
	// "com.amazonaws.secretsmanager#ResourceNotFoundException", or with ":..." details.
	e.Code, _, _ = strings.Cut(e.Code, ":")
	if i := strings.LastIndexByte(e.Code, '#'); i >= 0 {
		e.Code = e.Code[i+1:]
	}
	retry := resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests ||
		strings.Contains(e.Code, "Throttl") || e.Code == "TooManyRequestsException"
	return nil, retry, e
}

// InvokeAsync starts function (a name or ARN) with payload through
// Lambda's asynchronous Invoke (InvocationType Event): Lambda queues the
// event and answers 202. A retried call may start the function twice;
// callers use it only for work that is safe to repeat.
func (c *Client) InvokeAsync(ctx context.Context, function string, payload []byte) error {
	h := http.Header{"X-Amz-Invocation-Type": {"Event"}, "Content-Type": {"application/json"}}
	_, err := c.Do(ctx, http.MethodPost, "/2015-03-31/functions/"+url.PathEscape(function)+"/invocations", h, payload)
	return err
}
