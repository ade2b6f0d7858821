package security

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/users"
)

// API4 Unrestricted Resource Consumption: every input has a size, and
// what would cost work or email per request is capped per team.
func TestBodiesListsAndPagesHaveLimits(t *testing.T) {
	tm := newTeam(t, "limits.example", 3)
	team := "/v1/teams/" + tm.ID
	before := snapshot(t, tm)
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("m_%d", i)
		}
		return out
	}
	emails := make([]string, users.MaxInviteEmails+1)
	for i := range emails {
		emails[i] = fmt.Sprintf("a%d@limits.example", i)
	}
	cases := []struct {
		name   string
		r      response
		status int
		code   string
	}{
		{"a JSON body over 1 MiB", send(t, nil, "POST", team+"/invitations", tm.Token, map[string]string{"Content-Type": "application/json"},
			[]byte(`{"emails":["`+strings.Repeat("a", 1<<20)+`@limits.example"]}`)), 413, "body_too_large"},
		{"a CSV over 5 MiB", send(t, nil, "POST", team+"/members/csv-selection", tm.Token, map[string]string{"Content-Type": "text/csv"},
			append([]byte("email,notes\n"), bytes.Repeat([]byte("someone@limits.example,"+strings.Repeat("x", 177)+"\n"), 5<<20/200+1)...)), 413, "file_too_large"},
		{"a page of 101", call(t, "GET", team+"/members?limit=101", tm.Token, nil), 400, "invalid_query"},
		{"501 addresses", call(t, "POST", team+"/invitations", tm.Token, map[string]any{"emails": emails}), 400, "invalid_emails"},
		{"1,001 members in bulk", call(t, "POST", team+"/members/bulk", tm.Token, map[string]any{"action": "remove", "memberIds": ids(1001)}), 400, "invalid_member_ids"},
		{"1,001 members in a report", call(t, "POST", team+"/usage-report", tm.Token, map[string]any{"memberIds": ids(1001)}), 400, "invalid_member_ids"},
		{"a report of 367 days", call(t, "POST", team+"/usage-report", tm.Token, map[string]any{"memberIds": ids(1), "from": "2025-01-01", "to": "2026-01-02"}), 400, "invalid_period"},
		{"a body nested 100 deep", send(t, nil, "POST", team+"/invitations", tm.Token, map[string]string{"Content-Type": "application/json"},
			[]byte(`{"emails":`+strings.Repeat("[", 100)+strings.Repeat("]", 100)+`}`)), 400, "invalid_json"},
		{"a search of 255 characters", call(t, "GET", team+"/members?q="+strings.Repeat("a", 255), tm.Token, nil), 400, "invalid_query"},
		{"a cursor of 3 KB", call(t, "GET", team+"/members?cursor="+strings.Repeat("a", 3000), tm.Token, nil), 400, "invalid_cursor"},
	}
	for _, c := range cases {
		if code := c.r.Problem(t, c.status); code != c.code {
			t.Errorf("%s: %s, want %s", c.name, code, c.code)
		}
	}
	if after := snapshot(t, tm); after != before {
		t.Fatalf("the team changed:\nbefore %s\nafter  %s", before, after)
	}
}

// API4 and API6: a team's admins may ask for InvitationsPerTeamPerDay
// invitation emails a UTC day (new invitations, Resend invite, bulk
// resend); addresses that were not invited are given back; past the limit
// the request is refused whole with 429 and Retry-After (midnight UTC).
func TestInvitationsPerTeamPerDayAreCapped(t *testing.T) {
	awayFromTheEndOf(t, users.InvitationWindow)
	tm := newTeam(t, "cap-invite.example", 2)
	team := "/v1/teams/" + tm.ID
	addresses := func(from, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("p%03d@cap-invite.example", from+i)
		}
		return out
	}
	invited := func(r response) int {
		var res struct{ Results []struct{ Result string } }
		r.JSON(t, &res)
		n := 0
		for _, x := range res.Results {
			if x.Result == "invited" {
				n++
			}
		}
		return n
	}
	// 20 invited; then 12 addresses of which one is invited: the others
	// (invalid, repeated, already members) cost nothing.
	if r := call(t, "POST", team+"/invitations", tm.Token, map[string]any{"emails": addresses(0, 20)}); r.Status != 200 || invited(r) != 20 {
		t.Fatalf("20 invitations: %d %s", r.Status, r.Body)
	}
	notInvited := append(addresses(0, 5), "not-an-address", "", "also@", tm.Owner, tm.Members[0].Email, "p900@cap-invite.example", "p900@cap-invite.example")
	if r := call(t, "POST", team+"/invitations", tm.Token, map[string]any{"emails": notInvited}); r.Status != 200 || invited(r) != 1 {
		t.Fatalf("addresses that are not invited: %d %s", r.Status, r.Body)
	}
	// 21 sent: 9 left. A request of 10 is refused whole and says so.
	before := summary(t, tm)
	r := call(t, "POST", team+"/invitations", tm.Token, map[string]any{"emails": addresses(100, 10)})
	if code := r.Problem(t, 429); code != "invitation_limit" || !strings.Contains(string(r.Body), "9 are left") {
		t.Fatalf("over the limit: %s %s", code, r.Body)
	}
	checkRetryAfter(t, r, users.InvitationWindow)
	if summary(t, tm) != before {
		t.Fatal("a refused request invited someone")
	}
	// 8 new invitations and a resend use 9: the limit is reached.
	var res struct{ Results []struct{ MemberID string } }
	r = call(t, "POST", team+"/invitations", tm.Token, map[string]any{"emails": addresses(200, 8)})
	r.JSON(t, &res)
	if invited(r) != 8 {
		t.Fatalf("8 more: %s", r.Body)
	}
	if r := call(t, "POST", team+"/members/"+res.Results[0].MemberID+"/resend-invite", tm.Token, nil); r.Status != 202 {
		t.Fatalf("resend within the limit: %d %s", r.Status, r.Body)
	}
	// Now every way of sending an invitation is refused until midnight.
	for name, r := range map[string]response{
		"an invitation": call(t, "POST", team+"/invitations", tm.Token, map[string]any{"emails": addresses(300, 1)}),
		"a resend":      call(t, "POST", team+"/members/"+res.Results[1].MemberID+"/resend-invite", tm.Token, nil),
		"a bulk resend": call(t, "POST", team+"/members/bulk", tm.Token, map[string]any{"action": "resend_invite", "memberIds": []string{res.Results[2].MemberID}}),
	} {
		if code := r.Problem(t, 429); code != "invitation_limit" {
			t.Errorf("%s at the limit: %s", name, code)
		}
		checkRetryAfter(t, r, users.InvitationWindow)
	}
	// Another team's limit is its own.
	other := newTeam(t, "cap-invite-other.example", 1)
	if r := call(t, "POST", "/v1/teams/"+other.ID+"/invitations", other.Token, map[string]any{"emails": []string{"x@cap-invite-other.example"}}); r.Status != 200 {
		t.Fatalf("another team: %d %s", r.Status, r.Body)
	}
}

// API4 and API6: TeamJobsPerTeamPerHour team-wide resends a team an hour;
// a replay of one already started is its first answer and costs nothing.
func TestTeamWideResendsPerTeamPerHourAreCapped(t *testing.T) {
	awayFromTheEndOf(t, users.TeamJobWindow)
	tm := newTeam(t, "cap-jobs.example", 4)
	team := "/v1/teams/" + tm.ID
	paths := []string{"/invitations/resend", "/instructions"}
	for i := 0; i < teamJobsPerHour; i++ {
		r := send(t, nil, "POST", team+paths[i%2], tm.Token, map[string]string{"Idempotency-Key": "job-" + strconv.Itoa(i)}, nil)
		if r.Status != 202 {
			t.Fatalf("job %d: %d %s", i, r.Status, r.Body)
		}
	}
	if r := send(t, nil, "POST", team+paths[0], tm.Token, map[string]string{"Idempotency-Key": "job-0"}, nil); r.Status != 202 || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("a replay: %d %v", r.Status, r.Header)
	}
	for _, p := range paths {
		r := call(t, "POST", team+p, tm.Token, nil)
		if code := r.Problem(t, 429); code != "team_job_limit" {
			t.Fatalf("%s over the limit: %s", p, code)
		}
		checkRetryAfter(t, r, users.TeamJobWindow)
	}
}

// awayFromTheEndOf waits, when the current window of a limit ends within
// the next 20 seconds, for the next one: a test that counts must not see
// its count reset half-way.
func awayFromTheEndOf(t *testing.T, window time.Duration) {
	t.Helper()
	if _, left := users.Window(time.Now(), window); left < 20*time.Second {
		time.Sleep(left + time.Second)
	}
}

// checkRetryAfter: the answer says to come back when the window ends.
func checkRetryAfter(t *testing.T, r response, window time.Duration) {
	t.Helper()
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	_, left := users.Window(time.Now(), window)
	if err != nil || secs < 1 || time.Duration(secs)*time.Second > window || (time.Duration(secs)*time.Second-left).Abs() > 30*time.Second {
		t.Errorf("Retry-After %q, the window ends in %s", r.Header.Get("Retry-After"), left.Round(time.Second))
	}
}

// The limits' counters under a DynamoDB failure mode: an update applied
// whose answer is lost (a 500 after the write), which the store's retry
// policy sends again. The take counts once and is not refused by its own
// first attempt; its give-back subtracts once.
func TestALimitCountsATakeOnceWhenItsAnswerIsLost(t *testing.T) {
	ctx := context.Background()
	lose := &loseFirstAnswer{next: http.DefaultTransport}
	db := dynamodb.NewFromConfig(local.AWSConfig(), dynamo.ClientOptions, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(stack.Services.DynamoDBEndpoint)
		o.HTTPClient = &http.Client{Transport: lose}
	})
	store := dynamo.New(db, local.TableName)
	counter := "test#" + users.NewID("lost")
	window := time.Now().UTC().Truncate(time.Hour)
	count := func() (int, int) {
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(local.TableName), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "QUOTA#" + counter},
				"SK": &types.AttributeValueMemberS{Value: strconv.FormatInt(window.Unix(), 10)}}})
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(out.Item["n"].(*types.AttributeValueMemberN).Value)
		claims := 0
		if c, ok := out.Item["claims"].(*types.AttributeValueMemberSS); ok {
			claims = len(c.Value)
		}
		return n, claims
	}

	lose.arm()
	claim, _, ok, err := store.TakeQuota(ctx, counter, window, time.Hour, 3, 3)
	if err != nil || !ok || lose.lost.Load() != 1 {
		t.Fatalf("take 3 of 3 with its answer lost: %v %v (answers lost: %d)", ok, err, lose.lost.Load())
	}
	if n, claims := count(); n != 3 || claims != 1 {
		t.Fatalf("after one take of 3: n=%d, %d claims", n, claims)
	}
	if _, used, ok, err := store.TakeQuota(ctx, counter, window, time.Hour, 1, 3); err != nil || ok || used != 3 {
		t.Fatalf("a fourth: ok %v, used %d, %v", ok, used, err)
	}
	lose.arm()
	if err := store.GiveBackQuota(ctx, counter, window, claim, 2); err != nil || lose.lost.Load() != 2 {
		t.Fatalf("give back 2 with its answer lost: %v", err)
	}
	if err := store.GiveBackQuota(ctx, counter, window, claim, 2); err != nil {
		t.Fatal(err)
	}
	if n, claims := count(); n != 1 || claims != 0 {
		t.Fatalf("after giving 2 back (twice): n=%d, %d claims", n, claims)
	}
}

// loseFirstAnswer lets the next request through to DynamoDB once armed,
// then answers it with DynamoDB's 500 as if the real answer were lost.
type loseFirstAnswer struct {
	next  http.RoundTripper
	armed atomic.Bool
	lost  atomic.Int32
}

func (l *loseFirstAnswer) arm() { l.armed.Store(true) }

func (l *loseFirstAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(r)
	if err != nil || !l.armed.CompareAndSwap(true, false) {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	l.lost.Add(1)
	body := `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}`
	return &http.Response{StatusCode: 500, Status: "500 Internal Server Error", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}}, Body: io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: r}, nil
}

// API4 through the SCIM service: a body, a filter, a PATCH and a page
// have sizes; a team holds at most 10 SCIM tokens; the users a provider
// can add are bounded by the team's seats (each takes one, and the 403
// that refuses the next says so). Refused requests change nothing.
func TestSCIMHasLimits(t *testing.T) {
	tm := newTeam(t, "scim-limits.example", 3)
	member := tm.first(t, users.StatusPendingAppLogin, users.RoleUser)
	_, idp := scimToken(t, tm, "IdP")
	before := snapshot(t, tm)
	ops := make([]any, 101)
	for i := range ops {
		ops[i] = map[string]any{"op": "replace", "path": "displayName", "value": "x"}
	}
	cases := []struct {
		name     string
		r        response
		status   int
		scimType string
	}{
		{"a body over 1 MiB", send(t, nil, "POST", "/scim/v2/Users", idp, map[string]string{"Content-Type": "application/scim+json"},
			[]byte(`{"userName":"a@scim-limits.example","displayName":"`+strings.Repeat("a", 1<<20)+`"}`)), 413, ""},
		{"a filter of 4,097 characters", scimCall(t, "GET", `/Users?filter=`+url.QueryEscape(`userName eq "`+strings.Repeat("a", 4083)+`"`), idp, nil), 400, "invalidFilter"},
		{"a PATCH of 101 operations", scimCall(t, "PATCH", "/Users/"+member.ID, idp, map[string]any{"Operations": ops}), 400, "invalidSyntax"},
		{"a name of 257 characters", scimCall(t, "PATCH", "/Users/"+member.ID, idp, map[string]any{"Operations": []any{
			map[string]any{"op": "replace", "path": "displayName", "value": strings.Repeat("a", 257)}}}), 400, "invalidValue"},
		{"11 addresses", scimCall(t, "PUT", "/Users/"+member.ID, idp, map[string]any{"userName": member.Email, "emails": func() []any {
			out := make([]any, 11)
			for i := range out {
				out[i] = fmt.Sprintf("e%d@scim-limits.example", i)
			}
			return out
		}()}), 400, "invalidValue"},
		{"a filter that would read the team", scimCall(t, "GET", `/Users?filter=`+url.QueryEscape(`userName sw "a"`), idp, nil), 400, "tooMany"},
	}
	for _, c := range cases {
		if got := c.r.SCIMError(t, c.status); got != c.scimType {
			t.Errorf("%s: %q, want %q", c.name, got, c.scimType)
		}
	}
	// A page is at most 500 users, whatever count asks.
	var page struct{ ItemsPerPage, TotalResults int }
	r := scimCall(t, "GET", "/Users?count=100000", idp, nil)
	r.JSON(t, &page)
	if r.Status != 200 || page.ItemsPerPage != page.TotalResults || page.TotalResults > 500 {
		t.Errorf("count=100000: %d %s", r.Status, r.Body)
	}
	if after := snapshot(t, tm); after != before {
		t.Fatalf("the team changed:\nbefore %s\nafter  %s", before, after)
	}
	// 10 tokens a team (one made above): the 11th is refused.
	for i := 2; i <= 10; i++ {
		scimToken(t, tm, fmt.Sprintf("IdP %d", i))
	}
	if code := call(t, "POST", "/v1/teams/"+tm.ID+"/scim-tokens", tm.Token, map[string]string{"name": "one too many"}).Problem(t, 409); code != "scim_token_limit" {
		t.Errorf("the 11th token: %s", code)
	}
	// Every seat taken: the provider's next user is refused, and no email goes.
	small := newTeamWithSeats(t, "scim-seats.example", 2, 0)
	_, smallIdP := scimToken(t, small, "IdP")
	if r := scimCall(t, "POST", "/Users", smallIdP, map[string]any{"userName": "first@scim-seats.example"}); r.Status != 201 {
		t.Fatalf("the last seat: %d %s", r.Status, r.Body)
	}
	mail := mailCount(t)
	scimCall(t, "POST", "/Users", smallIdP, map[string]any{"userName": "second@scim-seats.example"}).SCIMError(t, 403)
	if n := mailCount(t); n != mail {
		t.Errorf("%d emails for a refused user", n-mail)
	}
}

// A member's app reports are capped a UTC day (the template's
// CallsPerMemberPerDay and SignInsPerMemberPerDay, low on this stack):
// over the cap, 429 report_limit and nothing is recorded; a repeat of a
// call already counted is still answered as before; another day, and
// another member, have their own count. A team's app reports are so
// bounded by its members.
func TestAppReportsPerMemberPerDayAreCapped(t *testing.T) {
	awayFromTheEndOf(t, users.ReportWindow)
	ctx := context.Background()
	tm := newTeam(t, "cap-reports.example", 10)
	m, other := tm.first(t, users.StatusActive, users.RoleUser), tm.first(t, users.StatusActive, users.RoleAdmin)
	app, otherApp := token(t, m.Email, local.TokenOptions{}), token(t, other.Email, local.TokenOptions{})
	today := time.Now().UTC().Format("2006-01-02")
	signIns := func(id string) int {
		n, err := stack.Store.SignInsOn(ctx, tm.ID, id, today, 100)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	calls := func(id, day string) int {
		u, err := stack.Store.UsageOf(ctx, tm.ID, id, day, day)
		if err != nil {
			t.Fatal(err)
		}
		return u.Calls
	}

	base := signIns(m.ID)
	for i := base; i < signInsPerDay; i++ {
		if r := call(t, "POST", "/v1/me/sign-ins", app, nil); r.Status != 200 {
			t.Fatalf("sign-in %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	r := call(t, "POST", "/v1/me/sign-ins", app, nil)
	if code := r.Problem(t, 429); code != "report_limit" || !strings.Contains(string(r.Body), fmt.Sprintf("%d sign-ins a day", signInsPerDay)) {
		t.Fatalf("a sign-in over the cap: %s %s", code, r.Body)
	}
	checkRetryAfter(t, r, users.ReportWindow)
	if n := signIns(m.ID); n != signInsPerDay {
		t.Fatalf("%d sign-ins recorded today, want the cap (%d)", n, signInsPerDay)
	}
	if r := call(t, "POST", "/v1/me/sign-ins", otherApp, nil); r.Status != 200 {
		t.Fatalf("another member's sign-in: %d %s", r.Status, r.Body)
	}

	report := func(tok, id string, end time.Time) response {
		return call(t, "POST", "/v1/me/calls", tok, map[string]any{"callId": id, "startedAt": end.Add(-time.Minute).Format(time.RFC3339), "durationSeconds": 60})
	}
	now := time.Now().UTC().Truncate(time.Second)
	for i := range callsPerDay {
		if r := report(app, fmt.Sprintf("c%d", i), now.Add(-time.Duration(i)*time.Second)); r.Status != 200 {
			t.Fatalf("call %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	r = report(app, "c-over", now)
	if code := r.Problem(t, 429); code != "report_limit" || !strings.Contains(string(r.Body), today) {
		t.Fatalf("a call over the cap: %s %s", code, r.Body)
	}
	checkRetryAfter(t, r, users.ReportWindow)
	if r := report(app, "c0", now); r.Status != 200 {
		t.Fatalf("a repeat of a counted call: %d %s", r.Status, r.Body)
	}
	if n := calls(m.ID, today); n != callsPerDay {
		t.Fatalf("%d calls counted today, want the cap (%d)", n, callsPerDay)
	}
	if r := report(otherApp, "c-other", now); r.Status != 200 {
		t.Fatalf("another member's call: %d %s", r.Status, r.Body)
	}

	// Yesterday has its own count; over it, no Retry-After: waiting would
	// not help a day that has ended.
	yesterday := now.Add(-24 * time.Hour)
	for i := range callsPerDay {
		if r := report(app, fmt.Sprintf("y%d", i), yesterday.Add(-time.Duration(i)*time.Second)); r.Status != 200 {
			t.Fatalf("yesterday's call %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	r = report(app, "y-over", yesterday)
	if code := r.Problem(t, 429); code != "report_limit" || r.Header.Get("Retry-After") != "" {
		t.Fatalf("yesterday over the cap: %s Retry-After %q %s", code, r.Header.Get("Retry-After"), r.Body)
	}
	if n := calls(m.ID, yesterday.Format("2006-01-02")); n != callsPerDay {
		t.Fatalf("%d calls counted yesterday, want %d", n, callsPerDay)
	}
}
