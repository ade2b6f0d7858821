package integration

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/local"
)

// The demo make run seeds has weeks of calls, so the first usage report an
// admin downloads shows numbers, and no call comes after a member's last
// activity.
func TestDemoTeamHasCallsToReport(t *testing.T) {
	now := time.Now()
	demo, err := local.Seed(context.Background(), stack.Store, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(demo.CallerIDs) != 5 {
		t.Fatalf("callers %v", demo.CallerIDs)
	}
	owner := token(t, demo.AdminEmail, local.TokenOptions{})
	r := call(t, "POST", "/v1/teams/"+demo.TeamID+"/usage-report", owner, map[string]any{"memberIds": demo.CallerIDs})
	if r.Status != 200 {
		t.Fatalf("report: %d %s", r.Status, r.Body)
	}
	for _, row := range reportRows(t, r.Body)[1:] {
		calls, _ := strconv.Atoi(row[5])
		if calls < 2 || row[6] == "0.0" || row[2] != "Active" {
			t.Errorf("a demo caller without calls in the last 30 days: %v", row)
		}
	}
	ms := local.DemoMembers("t", 149, now)
	last := map[string]string{}
	for _, m := range ms {
		if !m.LastActiveAt.IsZero() {
			last[m.ID] = m.LastActiveAt.UTC().Format("2006-01-02")
		}
	}
	days, first := map[string]int{}, map[string]string{}
	for _, u := range local.DemoCalls(ms) {
		if u.Day > last[u.MemberID] || u.Calls < 1 || u.Seconds < 120*u.Calls {
			t.Fatalf("call day %+v after the member's last activity %s", u, last[u.MemberID])
		}
		days[u.MemberID]++
		if first[u.MemberID] == "" || u.Day < first[u.MemberID] {
			first[u.MemberID] = u.Day
		}
	}
	for id := range last {
		f, _ := time.Parse("2006-01-02", first[id])
		l, _ := time.Parse("2006-01-02", last[id])
		if days[id] < 8 || l.Sub(f) < 14*24*time.Hour {
			t.Errorf("member %s has calls on %d days from %s to %s, want a few weeks' worth", id, days[id], first[id], last[id])
		}
	}
}
