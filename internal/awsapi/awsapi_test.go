package awsapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Lambda's Invoke cannot run on the local stack (moto would need Docker to
// run a function), so this checks the request itself: the REST path, the
// asynchronous invocation type, a SigV4 signature for the lambda service,
// and the retry policy (server errors are retried, refusals are not).
func TestInvokeAsyncSendsASignedEventInvocation(t *testing.T) {
	var calls int
	status := http.StatusInternalServerError
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		body, _ := io.ReadAll(r.Body)
		auth := r.Header.Get("Authorization")
		if r.Method != http.MethodPost || r.URL.EscapedPath() != "/2015-03-31/functions/users-dev-nightly/invocations" ||
			r.Header.Get("X-Amz-Invocation-Type") != "Event" || string(body) != `{"at":"2026-12-31T03:00:00Z"}` ||
			!strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(auth, "/eu-west-1/lambda/aws4_request") ||
			r.Header.Get("X-Amz-Security-Token") != "session" {
			t.Errorf("request: %s %s %v %s", r.Method, r.URL, r.Header, body)
		}
		if calls < 3 {
			w.WriteHeader(status)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	cfg := aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "session")}
	c := New(cfg, "lambda", srv.URL)
	if err := c.InvokeAsync(context.Background(), "users-dev-nightly", []byte(`{"at":"2026-12-31T03:00:00Z"}`)); err != nil || calls != 3 {
		t.Fatalf("after two server errors: %v, %d calls", err, calls)
	}

	calls, status = 0, http.StatusForbidden
	err := c.InvokeAsync(context.Background(), "users-dev-nightly", []byte(`{"at":"2026-12-31T03:00:00Z"}`))
	if calls != 1 || err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("a refusal was retried or hidden: %v, %d calls", err, calls)
	}
}

func TestErrorCodes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"__type":"com.amazonaws.secretsmanager#ResourceNotFoundException","Message":"Secrets Manager can't find the specified secret."}`)
	}))
	defer srv.Close()
	cfg := aws.Config{Region: "cn-north-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")}
	err := New(cfg, "secretsmanager", srv.URL).JSON(context.Background(), "secretsmanager.GetSecretValue", map[string]string{"SecretId": "x"}, nil)
	if !IsCode(err, "ResourceNotFoundException") || !strings.Contains(err.Error(), "can't find") {
		t.Fatalf("%v", err)
	}
	if got := New(cfg, "secretsmanager", "").endpoint; got != "https://secretsmanager.cn-north-1.amazonaws.com.cn" {
		t.Fatalf("endpoint %s", got)
	}
}
