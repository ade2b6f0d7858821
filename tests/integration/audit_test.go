package integration

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/users"
)

type auditEntry struct {
	ID     string
	At     string
	Action string
	Actor  struct{ Kind, Email, Role, Name string }
	Target *struct {
		MemberID string
		Email    string
	}
	Detail  map[string]string
	Request struct{ ID, SourceIP, Via string }
	Result  string
}

// auditLog reads every page of a team's audit log with the given filters.
func auditLog(t *testing.T, team, tok string, q url.Values) []auditEntry {
	t.Helper()
	if q.Get("target") != "" {
		settleIndexes() // a member's history is an index
	}
	var all []auditEntry
	cursor := ""
	for pages := 0; pages < 100; pages++ {
		p := url.Values{}
		for k, v := range q {
			p[k] = v
		}
		if cursor != "" {
			p.Set("cursor", cursor)
		}
		r := call(t, "GET", "/v1/teams/"+team+"/audit-log?"+p.Encode(), tok, nil)
		if r.Status != 200 {
			t.Fatalf("audit log %v: %d %s", p, r.Status, r.Body)
		}
		var pg struct {
			Entries    []auditEntry
			NextCursor string
		}
		r.JSON(t, &pg)
		all = append(all, pg.Entries...)
		if cursor = pg.NextCursor; cursor == "" {
			return all
		}
	}
	t.Fatal("the audit log does not end")
	return nil
}

func countActions(es []auditEntry) map[string]int {
	n := map[string]int{}
	for _, e := range es {
		n[e.Action]++
	}
	return n
}

// Every admin action and every change of a member is in the audit log:
// who, what, to whom, when, from which request, the result.
func TestAuditLogRecordsEveryChange(t *testing.T) {
	team := newTeam(t, "pro", 10, "owner@audit.example")
	owner := token(t, "owner@audit.example", local.TokenOptions{})
	res := invite(t, team, owner, "ann@audit.example", "bob@audit.example", "cy@audit.example")
	ann, bob, cy := res.Results[0].MemberID, res.Results[1].MemberID, res.Results[2].MemberID
	pastCooldown()
	if r := call(t, "POST", "/v1/teams/"+team+"/members/"+bob+"/resend-invite", owner, nil); r.Status != 202 {
		t.Fatalf("resend: %d %s", r.Status, r.Body)
	}
	if r := call(t, "POST", "/v1/teams/"+team+"/members/"+cy+"/send-instructions", owner, nil); r.Status != 202 {
		t.Fatalf("instructions: %d %s", r.Status, r.Body)
	}
	tok := tokenFrom(t, waitForMail(t, "ann@audit.example", 1)[0])
	if r := call(t, "POST", "/v1/invitations/accept", "", map[string]string{"token": tok}); r.Status != 200 {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
	call(t, "PATCH", "/v1/teams/"+team+"/members/"+ann, owner, map[string]string{"role": "admin"})
	call(t, "POST", "/v1/teams/"+team+"/members/bulk", owner, map[string]any{"action": "change_role", "memberIds": []string{ann, bob}, "role": "user"})
	call(t, "DELETE", "/v1/teams/"+team+"/members/"+cy, owner, nil)
	if r := call(t, "POST", "/v1/teams/"+team+"/usage-report", owner, map[string]any{"memberIds": []string{ann}}); r.Status != 200 {
		t.Fatalf("report: %d %s", r.Status, r.Body)
	}
	call(t, "POST", "/v1/teams/"+team+"/usage-report/email", owner, map[string]any{"memberIds": []string{ann}})

	all := auditLog(t, team, owner, url.Values{"limit": {"2"}}) // small pages: the cursor is exercised
	got := countActions(all)
	want := map[string]int{"create_team": 1, "invite": 3, "resend_invite": 1, "send_instructions": 1, "accept": 1,
		"change_role": 2, "remove": 1, "download_report": 1, "email_report": 1}
	for action, n := range want {
		if got[action] != n {
			t.Errorf("%s: %d entries, want %d (all: %v)", action, got[action], n, got)
		}
	}
	if len(all) != 12 {
		t.Errorf("%d entries in all, want 12: %v", len(all), got)
	}
	for i := 1; i < len(all); i++ {
		if all[i].At > all[i-1].At {
			t.Fatalf("not newest first: %s after %s", all[i].At, all[i-1].At)
		}
	}
	for _, e := range all {
		switch e.Action {
		case "create_team":
			if e.Actor.Kind != "billing" || e.Target == nil || e.Target.Email != "owner@audit.example" {
				t.Errorf("create_team: %+v", e)
			}
		case "accept":
			if e.Actor.Kind != "invitee" || e.Target == nil || e.Target.MemberID != ann || e.Request.SourceIP == "" {
				t.Errorf("accept: %+v", e)
			}
		default:
			if e.Actor.Kind != "admin" || e.Actor.Email != "owner@audit.example" || e.Actor.Role != "admin" || e.Request.ID == "" || e.Request.SourceIP == "" || e.Result != "done" {
				t.Errorf("%s: %+v", e.Action, e)
			}
		}
		if e.Action == "change_role" && e.Detail["to"] == "user" && e.Request.Via != "bulk" {
			t.Errorf("the bulk change is not marked as bulk: %+v", e)
		}
	}

	// Filters: one member's history, an action, an actor, a time range.
	history := auditLog(t, team, owner, url.Values{"target": {ann}})
	if h := countActions(history); len(history) != 4 || h["invite"] != 1 || h["accept"] != 1 || h["change_role"] != 2 {
		t.Errorf("ann's history: %v", h)
	}
	if es := auditLog(t, team, owner, url.Values{"action": {"invite"}}); len(es) != 3 {
		t.Errorf("invites: %d", len(es))
	}
	if es := auditLog(t, team, owner, url.Values{"actor": {"Owner@Audit.example"}}); len(es) != 10 {
		t.Errorf("the owner's own actions: %d, want 10", len(es))
	}
	if es := auditLog(t, team, owner, url.Values{"to": {"2020-01-01"}}); len(es) != 0 {
		t.Errorf("entries before the team existed: %d", len(es))
	}
	if es := auditLog(t, team, owner, url.Values{"from": {time.Now().UTC().Format("2006-01-02")}, "action": {"remove"}}); len(es) != 1 || es[0].Target.MemberID != cy {
		t.Errorf("today's removals: %+v", es)
	}

	// Never readable by another team, nor by a user-role member.
	other := newTeam(t, "pro", 3, "owner@audit-other.example")
	stranger := token(t, "owner@audit-other.example", local.TokenOptions{})
	if c := call(t, "GET", "/v1/teams/"+team+"/audit-log", stranger, nil).Problem(t, 404); c != "team_not_found" {
		t.Errorf("another team's admin: %s", c)
	}
	if es := auditLog(t, other, stranger, url.Values{"target": {ann}}); len(es) != 0 {
		t.Errorf("another team's member through a filter: %+v", es)
	}
	if c := call(t, "GET", "/v1/teams/"+team+"/audit-log", token(t, "bob@audit.example", local.TokenOptions{}), nil).Problem(t, 404); c != "team_not_found" {
		t.Errorf("an invitee: %s", c)
	}
	for _, q := range []string{"action=delete_everything", "limit=0", "limit=101", "from=yesterday", "cursor=bm90LWEtY3Vyc29y", "target=A!", "actor=nobody", "color=red", "action="} {
		if r := call(t, "GET", "/v1/teams/"+team+"/audit-log?"+q, owner, nil); r.Status != 400 {
			t.Errorf("%s: %d %s", q, r.Status, r.Body)
		}
	}
}

// An entry is written in the same transaction as its change: when the
// entry cannot be written, the change does not happen either.
func TestNoChangeWithoutItsAuditEntry(t *testing.T) {
	ctx := context.Background()
	team := newTeam(t, "pro", 5, "owner@atomic.example")
	owner := token(t, "owner@atomic.example", local.TokenOptions{})
	m := invite(t, team, owner, "target@atomic.example").Results[0].MemberID
	db := dynamodb.NewFromConfig(local.AWSConfig(), dynamo.ClientOptions, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(stack.Services.DynamoDBEndpoint)
		o.APIOptions = append(o.APIOptions, breakAuditEntries)
	})
	broken := dynamo.New(db, local.TableName)
	actor := users.Membership{MemberID: "m_owner", Role: users.RoleAdmin}
	_, _, err := broken.UpdateMember(users.WithAudit(ctx, users.Actor{Kind: users.ActorAdmin, Email: "owner@atomic.example"}, users.AuditRequest{}),
		team, m, users.ChangeRole(actor, users.RoleAdmin, nil))
	if err == nil {
		t.Fatal("the change was written although its audit entry could not be")
	}
	if _, _, err := broken.UpdateMember(ctx, team, m, users.Remove(actor, nil)); err == nil {
		t.Fatal("the removal was written although its audit entry could not be")
	}
	if _, err := broken.AddMembers(ctx, team, []users.NewMember{users.Admit(users.Member{ID: users.NewID("m"), Email: "more@atomic.example",
		Role: users.RoleUser, Status: users.StatusInvitationSent, TokenHash: users.HashToken("x"), InvitationExpiresAt: time.Now().Add(time.Hour)}, nil)}); err == nil {
		t.Fatal("the invitation was written although its audit entry could not be")
	}
	var info memberInfo
	call(t, "GET", "/v1/teams/"+team+"/members/"+m, owner, nil).JSON(t, &info)
	if info.Role != "user" {
		t.Fatalf("the role changed without its entry: %+v", info)
	}
	if s := summary(t, team, owner); s.Seats.Assigned != 2 {
		t.Fatalf("a member came or went without an entry: %+v", s)
	}
	es := auditLog(t, team, owner, nil)
	if n := countActions(es); len(es) != 2 || n["create_team"] != 1 || n["invite"] != 1 {
		t.Fatalf("entries: %v", n)
	}
}

// breakAuditEntries makes every transaction that carries an audit entry
// fail on that entry, as if its write had failed: a new entry never exists.
func breakAuditEntries(s *middleware.Stack) error {
	return s.Initialize.Add(middleware.InitializeMiddlewareFunc("break-audit", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		if tx, ok := in.Parameters.(*dynamodb.TransactWriteItemsInput); ok {
			for _, it := range tx.TransactItems {
				if it.Put == nil {
					continue
				}
				if v, ok := it.Put.Item["type"].(*types.AttributeValueMemberS); ok && v.Value == "audit" {
					it.Put.ConditionExpression = aws.String("attribute_exists(PK)")
				}
			}
		}
		return next.HandleInitialize(ctx, in)
	}), middleware.Before)
}
