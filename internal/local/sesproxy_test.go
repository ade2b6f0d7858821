package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func sesProxy(t *testing.T, s *Services, o FaultOptions) *SESFaultProxy {
	t.Helper()
	p, err := StartSESFaultProxy(s.SESEndpoint, 0, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// send is one SendEmail through the proxy, attempted once (no SDK retries).
func send(ctx context.Context, endpoint, to string) error {
	client := sesv2.NewFromConfig(AWSConfig(), func(o *sesv2.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.Retryer = aws.NopRetryer{}
	})
	_, err := client.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("no-reply@usersapi.local"),
		Destination:      &sestypes.Destination{ToAddresses: []string{to}},
		Content: &sestypes.EmailContent{Simple: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String("fault test")},
			Body:    &sestypes.Body{Text: &sestypes.Content{Data: aws.String("hello")}},
		}},
	})
	return err
}

// delivered counts the mails to `to` in the SES server's store.
func delivered(t *testing.T, s *Services, to string) int {
	t.Helper()
	resp, err := http.Get(s.SESEndpoint + "/store")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var store struct {
		Emails []struct {
			Destination struct{ To []string } `json:"destination"`
		} `json:"emails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range store.Emails {
		if slices.Contains(e.Destination.To, to) {
			n++
		}
	}
	return n
}

func address(t *testing.T) string {
	return fmt.Sprintf("%s-%d@ses.example", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), time.Now().UnixNano())
}

// Each SES fault reaches the SDK as SES's own answer would, and only the
// accepted-then-timeout one leaves a mail in the store.
func TestSESFaults(t *testing.T) {
	s := startServices(t)
	ctx := context.Background()

	t.Run("pass-through", func(t *testing.T) {
		p := sesProxy(t, s, FaultOptions{})
		to := address(t)
		if err := send(ctx, p.URL, to); err != nil {
			t.Fatal(err)
		}
		if n := delivered(t, s, to); n != 1 {
			t.Fatalf("%d mails", n)
		}
		for k, v := range p.State().Counts {
			if v != 0 {
				t.Errorf("%s counted %d with faults off", k, v)
			}
		}
	})

	t.Run(FaultThrottling, func(t *testing.T) {
		p := sesProxy(t, s, FaultOptions{Rate: 1, Kinds: []string{FaultThrottling}})
		to := address(t)
		err := send(ctx, p.URL, to)
		var tooMany *sestypes.TooManyRequestsException
		if !errors.As(err, &tooMany) {
			t.Fatalf("%T %v", err, err)
		}
		if retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) != aws.TrueTernary {
			t.Error("the standard retryer does not see a throttle")
		}
		if n := delivered(t, s, to); n != 0 || p.State().Counts[FaultThrottling] != 1 {
			t.Fatalf("%d mails, counts %v", n, p.State().Counts)
		}
	})

	t.Run(FaultServerError, func(t *testing.T) {
		p := sesProxy(t, s, FaultOptions{Rate: 1, Kinds: []string{FaultServerError}})
		to := address(t)
		for range 4 {
			err := send(ctx, p.URL, to)
			var resp *smithyhttp.ResponseError
			var api smithy.APIError
			if !errors.As(err, &resp) || !errors.As(err, &api) || (resp.HTTPStatusCode() != 500 && resp.HTTPStatusCode() != 503) {
				t.Fatalf("%T %v", err, err)
			}
			if !retry.NewStandard().IsErrorRetryable(err) {
				t.Errorf("%d is not retryable to the SDK", resp.HTTPStatusCode())
			}
		}
		if n := delivered(t, s, to); n != 0 || p.State().Counts[FaultServerError] != 4 {
			t.Fatalf("%d mails, counts %v", n, p.State().Counts)
		}
	})

	t.Run(FaultAcceptedThenTimeout, func(t *testing.T) {
		p := sesProxy(t, s, FaultOptions{Rate: 1, Kinds: []string{FaultAcceptedThenTimeout}})
		p.SetHang(100 * time.Millisecond)
		to := address(t)
		// The connection drops without an answer: no status, no API error.
		err := send(ctx, p.URL, to)
		var api smithy.APIError
		if err == nil || errors.As(err, &api) {
			t.Fatalf("%T %v", err, err)
		}
		t.Logf("the caller sees: %v", err)
		// A caller whose own deadline comes first sees its timeout.
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if err := send(short, p.URL, to); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("with a 50 ms deadline: %T %v", err, err)
		}
		// Both mails were taken by SES.
		if n := delivered(t, s, to); n != 2 || p.State().Counts[FaultAcceptedThenTimeout] != 2 {
			t.Fatalf("%d mails, counts %v", n, p.State().Counts)
		}
	})

	t.Run("control", func(t *testing.T) {
		p := sesProxy(t, s, FaultOptions{})
		c := FaultControl{Endpoint: p.URL}
		st, err := c.Set(ctx, map[string]any{"rate": 1, "kinds": []string{FaultThrottling}})
		if err != nil || st.Rate != 1 || !slices.Equal(st.Kinds, []string{FaultThrottling}) {
			t.Fatalf("%+v %v", st, err)
		}
		to := address(t)
		_ = send(ctx, p.URL, to)
		if st, _ := c.State(ctx); st.Counts[FaultThrottling] != 1 {
			t.Fatalf("%+v", st)
		}
		if _, err := c.Set(ctx, map[string]any{"kinds": []string{"nonsense"}}); err == nil {
			t.Fatal("an unknown kind was taken")
		}
		if st, err := c.Set(ctx, map[string]any{"rate": 0, "kinds": nil, "reset": true}); err != nil || st.Counts[FaultThrottling] != 0 || st.Kinds != nil {
			t.Fatalf("%+v %v", st, err)
		}
		if err := send(ctx, p.URL, to); err != nil || delivered(t, s, to) != 1 {
			t.Fatalf("after turning faults off: %v", err)
		}
	})
}
