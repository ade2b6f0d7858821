package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/provisioning"
	"github.com/teamusers/usersapi/internal/users"
)

func TestProvisioningCreatesAndChangesTeams(t *testing.T) {
	ctx := context.Background()
	svc := provisioning.Service{Store: stack.Store, Now: time.Now}
	n := func(v int) *int { return &v }
	team := newTeam(t, "pro", 3, "Owner@Prov.Example")
	tok := token(t, "owner@prov.example", local.TokenOptions{})
	want := `{"team":{"id":"` + team + `","name":"prov.example team","plan":"pro"},"seats":{"purchased":3,"assigned":1,"unassigned":2},"pendingInvitations":0,"neverUsedApp":1,"settings":{"notifyOnRevoke":true}}` + "\n"
	if r := call(t, "GET", "/v1/teams/"+team+"/summary", tok, nil); r.Status != 200 || string(r.Body) != want {
		t.Fatalf("new team summary: %d %s", r.Status, r.Body)
	}
	// Without a name, a team is named after its owner.
	if unnamed, err := svc.Handle(ctx, provisioning.Request{Plan: "pro", Seats: n(3), OwnerEmail: "Solo@Prov.example"}); err != nil || unnamed.Name != "solo@prov.example's team" {
		t.Fatalf("unnamed team: %+v %v", unnamed, err)
	}
	// Billing names the team, and may rename it.
	named, err := svc.Handle(ctx, provisioning.Request{Plan: "pro", Seats: n(3), OwnerEmail: "named@prov.example", Name: "  Acme Inc  "})
	if err != nil || named.Name != "Acme Inc" {
		t.Fatalf("named team: %+v %v", named, err)
	}
	if resp, err := svc.Handle(ctx, provisioning.Request{TeamID: named.TeamID, Name: "Acme, Inc."}); err != nil || resp.Name != "Acme, Inc." || resp.Seats != 3 {
		t.Fatalf("rename: %+v %v", resp, err)
	}
	seed(t, team, 2, time.Now())

	// Seats cannot drop below the members already holding them.
	if _, err := svc.Handle(ctx, provisioning.Request{TeamID: team, Seats: n(2)}); code(err) != "seats_below_assigned" {
		t.Fatalf("cut below assigned: %v", err)
	}
	if resp, err := svc.Handle(ctx, provisioning.Request{TeamID: team, Seats: n(10)}); err != nil || resp.Seats != 10 {
		t.Fatalf("add seats: %+v %v", resp, err)
	}
	// Downgrading the plan closes the Users page.
	if _, err := svc.Handle(ctx, provisioning.Request{TeamID: team, Plan: "free"}); err != nil {
		t.Fatal(err)
	}
	if c := call(t, "GET", "/v1/teams/"+team+"/summary", tok, nil).Problem(t, 403); c != "plan_required" {
		t.Fatalf("after downgrade: %s", c)
	}
	if _, err := svc.Handle(ctx, provisioning.Request{TeamID: team, Plan: "pro"}); err != nil {
		t.Fatal(err)
	}
	if r := call(t, "GET", "/v1/teams/"+team+"/summary", tok, nil); r.Status != 200 {
		t.Fatalf("after upgrade: %d %s", r.Status, r.Body)
	}

	// Billing retries: the same account gets the same team, once.
	acct := provisioning.Request{Plan: "pro", Seats: n(7), OwnerEmail: "retry@prov.example", BillingAccountID: "acct_42"}
	first, err := svc.Handle(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	again, err := svc.Handle(ctx, acct)
	if err != nil || again != first {
		t.Fatalf("a retried creation made %+v then %+v (%v)", first, again, err)
	}
	if ms, _ := stack.Store.Memberships(ctx, "retry@prov.example"); len(ms) != 1 {
		t.Fatalf("the owner is in %d teams after a retried creation", len(ms))
	}

	for name, c := range map[string]struct {
		req  provisioning.Request
		code string
	}{
		"bad billing id":    {provisioning.Request{Plan: "pro", Seats: n(5), OwnerEmail: "a@prov.example", BillingAccountID: "has space"}, "invalid_billing_account"},
		"no owner":          {provisioning.Request{Plan: "pro", Seats: n(5)}, "invalid_email"},
		"bad owner":         {provisioning.Request{Plan: "pro", Seats: n(5), OwnerEmail: "not-an-email"}, "invalid_email"},
		"no seats":          {provisioning.Request{Plan: "pro", OwnerEmail: "a@prov.example"}, "missing_field"},
		"zero seats":        {provisioning.Request{Plan: "pro", Seats: n(0), OwnerEmail: "a@prov.example"}, "invalid_seats"},
		"bad plan":          {provisioning.Request{Plan: "Pro Plus", Seats: n(5), OwnerEmail: "a@prov.example"}, "invalid_plan"},
		"unknown team":      {provisioning.Request{TeamID: "t_nope", Seats: n(5)}, "team_not_found"},
		"nothing to change": {provisioning.Request{TeamID: team}, "nothing_to_change"},
		"owner change":      {provisioning.Request{TeamID: team, Plan: "pro", OwnerEmail: "b@prov.example"}, "owner_immutable"},
		"blank name":        {provisioning.Request{TeamID: team, Name: "   "}, "invalid_name"},
		"name with a break": {provisioning.Request{TeamID: team, Name: "Acme\r\nBcc: x@evil.example"}, "invalid_name"},
		"long name":         {provisioning.Request{Plan: "pro", Seats: n(5), OwnerEmail: "a@prov.example", Name: strings.Repeat("é", 101)}, "invalid_name"},
	} {
		if _, err := svc.Handle(ctx, c.req); code(err) != c.code {
			t.Errorf("%s: %v, want %s", name, err, c.code)
		}
	}
}

func code(err error) string {
	if e, ok := users.AsError(err); ok {
		return e.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}
