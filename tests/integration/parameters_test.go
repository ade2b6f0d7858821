package integration

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/provisioning"
	"github.com/teamusers/usersapi/internal/samtemplate"
	"github.com/teamusers/usersapi/internal/users"
)

// make run PARAMETER_OVERRIDES="…" sets the template's parameters on the
// local stack: checked against template.yaml before anything starts, and
// then in force.
func TestParameterOverridesSetTheLocalStack(t *testing.T) {
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	for overrides, msg := range map[string]string{
		"EmailCooldown=0":          "EmailCooldown is not a parameter of template.yaml",
		"InvitationExpiryDays=45":  "InvitationExpiryDays must be from 1 to 30, not 45",
		"InvitationExpiryDays=1.5": "InvitationExpiryDays must be a whole number",
		"JwtIssuer=https://cognito-idp.eu-west-1.amazonaws.com/pool": "JwtIssuer cannot be set on the local stack",
	} {
		dir := t.TempDir()
		_, err := local.Start(context.Background(), local.StackOptions{Root: root, StateDir: dir, ParameterOverrides: overrides, Log: quiet})
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: %v, want %q", overrides, err, msg)
		}
		if _, err := os.Stat(filepath.Join(dir, "dynamodb.log")); err == nil {
			t.Errorf("%q: the services started before the overrides were checked", overrides)
		}
	}

	s, err := local.Start(context.Background(), local.StackOptions{Root: root, StateDir: t.TempDir(), Log: quiet,
		ParameterOverrides: "EmailCooldownSeconds=0 InvitationExpiryDays=1 NightlyTimeZone=Pacific/Kiritimati"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	gw := httptest.NewServer(s.Gateway)
	defer gw.Close()
	seats := 5
	created, err := provisioning.Service{Store: s.Store, Now: time.Now}.Handle(context.Background(), provisioning.Request{Plan: "pro", Seats: &seats, OwnerEmail: "owner@params.example"})
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := s.Keys.Mint("owner@params.example", local.TokenOptions{})
	// Requests go to this stack's gateway, not the shared one.
	at := func(path string, body any) response {
		t.Helper()
		var b []byte
		if body != nil {
			b, _ = json.Marshal(body)
		}
		return sendTo(t, gw.URL, "POST", path, tok, map[string]string{"Content-Type": "application/json"}, b)
	}
	var res inviteResults
	at("/v1/teams/"+created.TeamID+"/invitations", map[string]any{"emails": []string{"new@params.example"}}).JSON(t, &res)
	var info struct{ InvitedAt, InvitationExpiresAt time.Time }
	r := at("/v1/teams/"+created.TeamID+"/members/"+res.Results[0].MemberID+"/resend-invite", nil)
	r.JSON(t, &info)
	// No cooldown: resending at once is accepted (the default is 10 minutes).
	if r.Status != 202 {
		t.Fatalf("resend at once with EmailCooldownSeconds=0: %d %s", r.Status, r.Body)
	}
	if got := time.Until(info.InvitationExpiresAt); got > 24*time.Hour || got < 23*time.Hour {
		t.Fatalf("InvitationExpiryDays=1: the invitation expires in %v", got)
	}
	if r := at("/v1/teams/"+created.TeamID+"/members/"+res.Results[0].MemberID+"/send-instructions", nil); r.Status != 202 {
		t.Fatalf("instructions right after: %d %s", r.Status, r.Body)
	}

	// NightlyTimeZone=Pacific/Kiritimati (UTC+14): days are counted there.
	// A call that ended at 11:00 UTC ended on the next day in Kiritimati,
	// and the row's day of last activity is that day.
	zone, _ := time.LoadLocation("Pacific/Kiritimati")
	now := time.Now().UTC()
	end := time.Date(now.Year(), now.Month(), now.Day(), 11, 0, 0, 0, time.UTC)
	if end.After(now) {
		end = end.Add(-24 * time.Hour)
	}
	m := users.Member{ID: users.NewID("m"), TeamID: created.TeamID, Email: "far@params.example", Role: users.RoleUser, Status: users.StatusActive,
		InvitedAt: now.Add(-30 * 24 * time.Hour), AcceptedAt: now.Add(-29 * 24 * time.Hour), FirstSignInAt: now.Add(-29 * 24 * time.Hour),
		LastSignInAt: now.Add(-20 * 24 * time.Hour), LastActiveAt: now.Add(-20 * 24 * time.Hour)}
	if err := s.Store.AddMember(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	app, _ := s.Keys.Mint(m.Email, local.TokenOptions{})
	b, _ := json.Marshal(map[string]any{"callId": "far", "startedAt": end.Add(-time.Minute).Format(time.RFC3339), "durationSeconds": 60})
	if r := sendTo(t, gw.URL, "POST", "/v1/me/calls", app, map[string]string{"Content-Type": "application/json"}, b); r.Status != 200 {
		t.Fatalf("call: %d %s", r.Status, r.Body)
	}
	var pg page
	sendTo(t, gw.URL, "GET", "/v1/teams/"+created.TeamID+"/members?q=far%40", tok, nil, nil).JSON(t, &pg)
	want := users.DayOf(end, zone)
	if want == users.DayOf(end, time.UTC) {
		t.Fatalf("the test's instant %v is the same day in both zones", end)
	}
	if len(pg.Members) != 1 || pg.Members[0].LastActiveOn != want {
		t.Fatalf("rows %+v, want the day of last activity %s (Kiritimati)", pg.Members, want)
	}
}
