package security

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/internal/delivery"
	"github.com/teamusers/usersapi/internal/emails"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/users"
)

// API10 Unsafe Consumption of APIs, SES: its answers are read, not
// trusted. Only an answer that says SES took the message, with the
// message id SES gives every message it takes, counts as sent; an answer
// the SDK cannot read, or a success without an id, is an unknown outcome
// (the deliverer records the email "uncertain" and never sends it again);
// a throttle or a 5xx is transient, a 4xx permanent; the SDK never
// retries on its own, so one attempt is one request.
func TestSESAnswersAreReadNotTrusted(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		delay  time.Duration
		want   error
	}{
		{"a message id", 200, `{"MessageId":"0100018c-abc"}`, 0, nil},
		{"success without a message id", 200, `{}`, 0, delivery.ErrUnknown},
		{"a message id of the wrong type", 200, `{"MessageId":42}`, 0, delivery.ErrUnknown},
		{"an answer that is not JSON", 200, `<html>gateway</html>`, 0, delivery.ErrUnknown},
		{"a body cut short", 200, `{"MessageId":"01`, 0, delivery.ErrUnknown},
		{"an answer after the deadline", 200, `{"MessageId":"late"}`, 300 * time.Millisecond, delivery.ErrUnknown},
		{"throttled", 429, `{"message":"Maximum sending rate exceeded."}`, 0, delivery.ErrTransient},
		{"a 503 with no body", 503, ``, 0, delivery.ErrTransient},
		{"refused", 400, `{"message":"Email address is not verified."}`, 0, delivery.ErrPermanent},
	}
	for _, c := range cases {
		var requests atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			time.Sleep(c.delay)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(c.status)
			_, _ = w.Write([]byte(c.body))
		}))
		ses := delivery.SES{Client: delivery.NewSESClient(local.AWSConfig(), srv.URL), From: "no-reply@usersapi.local", Timeout: 100 * time.Millisecond}
		id, err := ses.Send(context.Background(), emails.Message{To: "someone@example.com", Subject: "s", Text: "t", HTML: "<p>t</p>"})
		srv.Close()
		switch {
		case c.want == nil && (err != nil || id != "0100018c-abc"):
			t.Errorf("%s: %q %v", c.name, id, err)
		case c.want != nil && (!errors.Is(err, c.want) || id != ""):
			t.Errorf("%s: %q %v, want %v", c.name, id, err, c.want)
		}
		if n := requests.Load(); n != 1 {
			t.Errorf("%s: %d requests for one attempt", c.name, n)
		}
	}
}

// API10, DynamoDB: what the table answers is checked before it grants
// anything. A membership item with a role or a status this code does not
// know (written by another tool, a bad migration, an attacker with table
// access) fails closed; an item that does not decode is a 500 whose cause
// is logged, not shown.
func TestUnexpectedValuesInTheTableFailClosed(t *testing.T) {
	ctx := context.Background()
	tm := newTeam(t, "table-values.example", 8)
	user := tm.first(t, users.StatusActive, users.RoleUser)
	db := local.NewDynamoDB(stack.Services.DynamoDBEndpoint)
	membership := func(role, status string) {
		_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(local.TableName),
			Key: map[string]types.AttributeValue{
				"PK": &types.AttributeValueMemberS{Value: "USER#" + user.Email}, "SK": &types.AttributeValueMemberS{Value: "TEAM#" + tm.ID},
			},
			UpdateExpression:          aws.String("SET #r = :r, #s = :s"),
			ConditionExpression:       aws.String("attribute_exists(PK)"),
			ExpressionAttributeNames:  map[string]string{"#r": "role", "#s": "status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":r": &types.AttributeValueMemberS{Value: role}, ":s": &types.AttributeValueMemberS{Value: status}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	tok := token(t, user.Email, local.TokenOptions{})
	for _, c := range []struct {
		role, status string
		want         int
		code         string
	}{
		{"superadmin", "active", 403, "admin_required"},
		{"Admin", "active", 403, "admin_required"},
		{"admin ", "active", 403, "admin_required"},
		{"admin", "removed", 404, "team_not_found"},
		{"admin", "", 404, "team_not_found"},
		{"admin", "invitation_sent", 404, "team_not_found"},
	} {
		membership(c.role, c.status)
		if code := call(t, "GET", "/v1/teams/"+tm.ID+"/summary", tok, nil).Problem(t, c.want); code != c.code {
			t.Errorf("role %q, status %q: %s", c.role, c.status, code)
		}
	}
	membership("admin", "active")
	if r := call(t, "GET", "/v1/teams/"+tm.ID+"/summary", tok, nil); r.Status != 200 {
		t.Fatalf("the same member as a real admin: %d %s", r.Status, r.Body)
	}

	// A member item whose fields have the wrong types.
	victim := tm.first(t, users.StatusPendingAppLogin, users.RoleUser)
	_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(local.TableName),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "TEAM#" + tm.ID}, "SK": &types.AttributeValueMemberS{Value: "MEMBER#" + victim.ID},
		},
		UpdateExpression:          aws.String("SET #e = :e"),
		ExpressionAttributeNames:  map[string]string{"#e": "email"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":e": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"$gt": &types.AttributeValueMemberS{Value: ""}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := call(t, "GET", "/v1/teams/"+tm.ID+"/members/"+victim.ID, tm.Token, nil)
	if code := r.Problem(t, 500); code != "internal" {
		t.Fatalf("an item that does not decode: %s", code)
	}
	if m := internals.FindString(string(r.Body)); m != "" {
		t.Fatalf("the answer shows %q: %s", m, r.Body)
	}
}
