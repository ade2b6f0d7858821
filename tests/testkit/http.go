package testkit

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/teamusers/usersapi/internal/scim"
)

// Response is an HTTP answer, read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends one request (client nil: http.DefaultClient) with a bearer
// token (tok "": none), the headers and the raw body (nil: none), and
// reads the answer whole.
func Do(t testing.TB, client *http.Client, method, url, tok string, headers map[string]string, body []byte) Response {
	t.Helper()
	if client == nil {
		client = http.DefaultClient
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// JSON decodes the body into v.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Problem checks that the answer is a whole problem+json (RFC 9457) of
// that status and returns its code.
func (r Response) Problem(t testing.TB, status int) string {
	t.Helper()
	r.expect(t, status, "application/problem+json")
	var p struct {
		Type, Title, Detail, Code string
		Status                    int
	}
	r.JSON(t, &p)
	if p.Status != status || p.Code == "" || p.Detail == "" || p.Title == "" || p.Type == "" {
		t.Fatalf("incomplete problem: %s", r.Body)
	}
	return p.Code
}

// SCIMError checks that the answer is SCIM's error of that status (RFC
// 7644 §3.12), never problem+json, and returns its scimType.
func (r Response) SCIMError(t testing.TB, status int) string {
	t.Helper()
	r.expect(t, status, "application/scim+json")
	var e scim.ErrorJSON
	r.JSON(t, &e)
	if len(e.Schemas) != 1 || e.Schemas[0] != scim.SchemaError || e.Status != strconv.Itoa(status) || e.Detail == "" {
		t.Fatalf("not a SCIM error: %s", r.Body)
	}
	return e.ScimType
}

// expect checks the answer's status and content type.
func (r Response) expect(t testing.TB, status int, contentType string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != contentType {
		t.Fatalf("content type %q, want %s: %s", ct, contentType, r.Body)
	}
}
