package integration

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/users"
)

func TestCursorsCannotBeForgedOrMoved(t *testing.T) {
	now := time.Now()
	team := newTeam(t, "pro", 40, "owner@cursor.example")
	seed(t, team, 30, now)
	second := newTeam(t, "pro", 5, "owner2@cursor.example")
	// The owner of the first team is also an admin of the second.
	if err := stack.Store.AddMember(t.Context(), users.Member{ID: users.NewID("m"), TeamID: second, Email: "owner@cursor.example",
		Role: users.RoleAdmin, Status: users.StatusPendingAppLogin, InvitedAt: now, AcceptedAt: now}); err != nil {
		t.Fatal(err)
	}
	tok := token(t, "owner@cursor.example", local.TokenOptions{})
	r := call(t, "GET", "/v1/teams/"+team+"/members?limit=5&status=active", tok, nil)
	var pg page
	r.JSON(t, &pg)
	if pg.NextCursor == "" {
		t.Fatal("expected a next page")
	}
	payload, sig, _ := strings.Cut(pg.NextCursor, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(payload)
	edited := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), `"p":"`, `"p":"a`, 1))) + "." + sig
	teamSwap := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), team, second, 1))) + "." + sig

	for name, c := range map[string]struct{ team, query string }{
		"edited position":       {team, "limit=5&status=active&cursor=" + url.QueryEscape(edited)},
		"team id swapped":       {second, "limit=5&status=active&cursor=" + url.QueryEscape(teamSwap)},
		"replayed on a team":    {second, "limit=5&status=active&cursor=" + url.QueryEscape(pg.NextCursor)},
		"replayed with filters": {team, "limit=5&status=pending_app_login&cursor=" + url.QueryEscape(pg.NextCursor)},
		"replayed with a sort":  {team, "limit=5&status=active&sort=invitedAt&cursor=" + url.QueryEscape(pg.NextCursor)},
		"not a cursor":          {team, "cursor=%00%FF"},
	} {
		r := call(t, "GET", "/v1/teams/"+c.team+"/members?"+c.query, tok, nil)
		if code := r.Problem(t, 400); code != "invalid_cursor" {
			t.Errorf("%s: code %s", name, code)
		}
	}
	// The genuine cursor still works, with another page size.
	if r := call(t, "GET", "/v1/teams/"+team+"/members?limit=50&status=active&cursor="+url.QueryEscape(pg.NextCursor), tok, nil); r.Status != 200 {
		t.Fatalf("genuine cursor: %d %s", r.Status, r.Body)
	}
}

func TestBadListQueriesGetProblems(t *testing.T) {
	team := newTeam(t, "pro", 5, "owner@badq.example")
	tok := token(t, "owner@badq.example", local.TokenOptions{})
	for _, q := range []string{"limit=0", "limit=101", "limit=-1", "limit=1e3", "status=archived", "lastCall=today",
		"role=owner", "sort=name", "order=random", "color=blue", "q=a&q=b", "q=" + strings.Repeat("a", 300), "q=a%20b", "q=%FF%FE", "status=%FF", "sort=%C0"} {
		r := call(t, "GET", "/v1/teams/"+team+"/members?"+q, tok, nil)
		if code := r.Problem(t, 400); code != "invalid_query" {
			t.Errorf("%s: code %s", q, code)
		}
	}
}

func TestMemberInformation(t *testing.T) {
	now := time.Now()
	team := newTeam(t, "pro", 30, "owner@info.example")
	other := newTeam(t, "pro", 5, "owner@info-other.example")
	ms := seed(t, team, 20, now)
	tok := token(t, "owner@info.example", local.TokenOptions{})
	var active, invited users.Member
	for _, m := range ms {
		switch {
		case m.Status == users.StatusActive && active.ID == "":
			active = m
		case m.Status == users.StatusInvitationSent && invited.ID == "":
			invited = m
		}
	}
	var info struct {
		row
		InvitedAt           *string `json:"invitedAt"`
		InvitedBy           string  `json:"invitedBy"`
		InvitationExpiresAt *string `json:"invitationExpiresAt"`
		AcceptedAt          *string `json:"acceptedAt"`
		FirstSignInAt       *string `json:"firstSignInAt"`
		LastSignInAt        *string `json:"lastSignInAt"`
		LastEmail           any     `json:"lastEmail"`
	}
	r := call(t, "GET", "/v1/teams/"+team+"/members/"+active.ID, tok, nil)
	r.JSON(t, &info)
	at := func(p *string) time.Time {
		if p == nil {
			return time.Time{}
		}
		v, err := time.Parse(time.RFC3339, *p)
		if err != nil {
			t.Fatalf("%q is not RFC 3339", *p)
		}
		return v
	}
	if info.ID != active.ID || info.Email != active.Email || info.Status != "active" || info.InvitedBy != active.InvitedBy ||
		!at(info.AcceptedAt).Equal(active.AcceptedAt.Truncate(time.Second)) ||
		!at(info.FirstSignInAt).Equal(active.FirstSignInAt.Truncate(time.Second)) ||
		!at(info.LastSignInAt).Equal(active.LastSignInAt.Truncate(time.Second)) || info.LastEmail != nil {
		t.Fatalf("member information %s does not match %+v", r.Body, active)
	}
	r = call(t, "GET", "/v1/teams/"+team+"/members/"+invited.ID, tok, nil)
	r.JSON(t, &info)
	if info.AcceptedAt != nil || info.FirstSignInAt != nil || info.InvitationExpiresAt == nil || info.LastCall != "pending" ||
		info.InvitationExpired != !now.Before(invited.InvitationExpiresAt) {
		t.Fatalf("invited member information: %s", r.Body)
	}
	// Another team's member, and ids that are not ours, are simply not found.
	otherOwner := mustOwnerID(t, other)
	for _, id := range []string{otherOwner, "m_nobody", "..%2F..%2Fsummary", strings.Repeat("m", 65)} {
		if code := call(t, "GET", "/v1/teams/"+team+"/members/"+id, tok, nil).Problem(t, 404); code != "member_not_found" && code != "route_not_found" {
			t.Errorf("%s: code %s", id, code)
		}
	}
}

// The summary is the team item's counters, kept by the writes: it reads the
// same two items whatever the team's size, and equals a recount.
func TestSummaryIsConstantCostAndEqualsARecount(t *testing.T) {
	now := time.Now()
	team := newTeam(t, "pro", 100, "owner@summary.example")
	ms := seed(t, team, 79, now)
	tok := token(t, "owner@summary.example", local.TokenOptions{})
	before := stack.Store.ItemsRead()
	r := call(t, "GET", "/v1/teams/"+team+"/summary", tok, nil)
	if read := stack.Store.ItemsRead() - before; read != 2 {
		t.Errorf("summary read %d items, want 2 (team and membership)", read)
	}
	var s struct {
		Seats              struct{ Purchased, Assigned, Unassigned int }
		PendingInvitations int
		NeverUsedApp       int
	}
	r.JSON(t, &s)
	want := struct{ assigned, pending, never int }{assigned: len(ms) + 1, never: 1} // the owner never used the app
	for _, m := range ms {
		switch m.Status {
		case users.StatusInvitationSent:
			want.pending++
			want.never++
		case users.StatusPendingAppLogin:
			want.never++
		}
	}
	// And a recount through the API's own list agrees.
	all, _ := listAll(t, team, tok, url.Values{"limit": {"100"}})
	if len(all) != want.assigned {
		t.Fatalf("list has %d members, want %d", len(all), want.assigned)
	}
	if s.Seats.Purchased != 100 || s.Seats.Assigned != want.assigned || s.Seats.Unassigned != 100-want.assigned ||
		s.PendingInvitations != want.pending || s.NeverUsedApp != want.never {
		t.Fatalf("summary %s, want %+v", r.Body, want)
	}
}

// A filtered page reads in proportion to the page, not the team.
func TestFilteredPageReadsInProportionToThePage(t *testing.T) {
	now := time.Now()
	team := newTeam(t, "pro", 400, "owner@cost.example")
	seed(t, team, 399, now)
	tok := token(t, "owner@cost.example", local.TokenOptions{})
	for _, q := range []string{"limit=25", "status=active&limit=25", "lastCall=recently&role=user&limit=25",
		"status=invitation_sent&limit=25&sort=invitedAt&order=desc", "q=user1&limit=25"} {
		before := stack.Store.ItemsRead()
		r := call(t, "GET", "/v1/teams/"+team+"/members?"+q, tok, nil)
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", q, r.Status, r.Body)
		}
		// 2 items for authorization, the page, and at most a few per index partition.
		if read := stack.Store.ItemsRead() - before; read > 2+26+14*3 {
			t.Errorf("%s: read %d items from a 400-member team", q, read)
		}
	}
}
