package integration

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/users"
)

type row struct {
	ID                string `json:"id"`
	Email             string `json:"email"`
	Status            string `json:"status"`
	LastCall          string `json:"lastCall"`
	LastActiveOn      string `json:"lastActiveOn"`
	Role              string `json:"role"`
	IsOwner           bool   `json:"isOwner"`
	InvitationExpired bool   `json:"invitationExpired"`
}

type page struct {
	Members    []row  `json:"members"`
	NextCursor string `json:"nextCursor"`
	Total      *int   `json:"total"`
}

// listAll pages through a query to its end and returns the rows in order.
// Without a search, every page's total must be the number of rows the
// query has in all: nothing may change the team meanwhile.
func listAll(t *testing.T, team, tok string, params url.Values) ([]row, int) {
	t.Helper()
	return pageThrough(t, team, tok, params, true)
}

// listWhileChanging pages through a query while others change the team:
// its totals are not checked against the rows.
func listWhileChanging(t *testing.T, team, tok string, params url.Values) ([]row, int) {
	t.Helper()
	return pageThrough(t, team, tok, params, false)
}

func pageThrough(t *testing.T, team, tok string, params url.Values, checkTotals bool) ([]row, int) {
	t.Helper()
	if checkTotals {
		settleIndexes()
	}
	var all []row
	var totals []int
	pages := 0
	cursor := ""
	for {
		p := url.Values{}
		for k, v := range params {
			p[k] = v
		}
		if cursor != "" {
			p.Set("cursor", cursor)
		}
		r := call(t, "GET", "/v1/teams/"+team+"/members?"+p.Encode(), tok, nil)
		if r.Status != 200 {
			t.Fatalf("list %v: %d %s", p, r.Status, r.Body)
		}
		var pg page
		r.JSON(t, &pg)
		pages++
		all = append(all, pg.Members...)
		switch {
		case params.Get("q") != "" && pg.Total != nil:
			t.Fatalf("list %v: a total with a search", p)
		case params.Get("q") == "" && pg.Total == nil:
			t.Fatalf("list %v: no total", p)
		case pg.Total != nil:
			totals = append(totals, *pg.Total)
		}
		if pg.NextCursor == "" {
			for _, n := range totals {
				if !checkTotals {
					break
				}
				if n != len(all) {
					t.Fatalf("list %v: total %d, but %d rows", params, n, len(all))
				}
			}
			return all, pages
		}
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
		cursor = pg.NextCursor
	}
}

// oracle computes the expected list from the members in memory, with the
// documented order: the sort column, ties broken by member id (by email
// for last activity, which sorts by the day, then the address), members
// who never used the app before everyone else when sorting by last
// activity.
func oracle(ms []users.Member, q users.ListQuery) []string {
	key := func(m users.Member) string {
		switch q.Sort {
		case users.SortLastActive:
			if m.LastActiveAt.IsZero() {
				return "0#" + m.Email
			}
			return "1" + users.DayOf(m.LastActiveAt, time.UTC) + "#" + m.Email
		case users.SortInvitedAt:
			return m.InvitedAt.UTC().Format("2006-01-02T15:04:05.000") + "#" + m.ID
		}
		return m.Email
	}
	var sel []users.Member
	for _, m := range ms {
		if q.Matches(m) {
			sel = append(sel, m)
		}
	}
	slices.SortFunc(sel, func(a, b users.Member) int {
		if q.Desc {
			return strings.Compare(key(b), key(a))
		}
		return strings.Compare(key(a), key(b))
	})
	ids := make([]string, len(sel))
	for i, m := range sel {
		ids[i] = m.ID
	}
	return ids
}

func TestMemberListMatchesAnInMemoryOracle(t *testing.T) {
	now := time.Now()
	team := newTeam(t, "pro", 120, "owner@acme.example")
	ms := seed(t, team, 89, now)
	owner, err := stack.Store.GetMember(t.Context(), team, mustOwnerID(t, team))
	if err != nil {
		t.Fatal(err)
	}
	ms = append(ms, owner)
	tok := token(t, "owner@acme.example", local.TokenOptions{})

	queries := []string{
		"", "limit=7", "limit=100", "status=invitation_sent&limit=1",
		"status=active", "status=invitation_sent", "status=pending_app_login&status=signed_in_with_app",
		"lastCall=recently", "lastCall=last_7_days,last_30_days", "lastCall=more_than_30_days&role=admin",
		"role=admin", "role=user&status=active&lastCall=recently&limit=3",
		"status=invitation_sent&lastCall=recently", // impossible: empty
		"sort=lastActive", "sort=lastActive&order=desc&limit=9", "sort=invitedAt&order=desc", "sort=invitedAt&status=active&role=user",
		"order=desc&limit=13", "order=desc&status=active&limit=4",
		"q=user01", "q=USER1&limit=4", "q=acme", "q=acme-l&limit=5", "q=@acme.example&limit=11", "q=a&order=desc&limit=17",
		"q=freelance&status=active", "q=user0&role=admin&order=desc", "q=nomatch", "q=user020@acme.example",
		"q=acme&sort=lastActive&order=desc&limit=10", "q=user1&sort=invitedAt&limit=6", "q=fr&sort=lastActive&status=active",
	}
	for _, raw := range queries {
		params, _ := url.ParseQuery(raw)
		q, err := users.ParseListQuery(params)
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		got, pages := listAll(t, team, tok, params)
		want := oracle(ms, q)
		ids := make([]string, len(got))
		for i, r := range got {
			ids[i] = r.ID
		}
		if !slices.Equal(ids, want) {
			t.Errorf("%q: got %d rows %v\nwant %d rows %v", raw, len(ids), emailsOf(got), len(want), want)
			continue
		}
		if wantPages := max(1, (len(want)+q.Limit-1)/q.Limit); pages != wantPages && !(len(want)%q.Limit == 0 && pages == wantPages+1) {
			t.Errorf("%q: %d rows in %d pages of %d", raw, len(want), pages, q.Limit)
		}
	}

	// Rows carry the fields of the spec, with the values stored.
	byID := map[string]users.Member{}
	for _, m := range ms {
		byID[m.ID] = m
	}
	all, _ := listAll(t, team, tok, url.Values{"limit": {"100"}})
	for _, r := range all {
		m := byID[r.ID]
		if r.Email != m.Email || r.Status != string(m.Status) || r.LastCall != string(m.LastCall) || r.Role != string(m.Role) ||
			r.IsOwner != m.IsOwner || r.InvitationExpired != m.InvitationExpiredAt(time.Now()) || r.LastActiveOn != users.DayOf(m.LastActiveAt, time.UTC) {
			t.Fatalf("row %+v does not match member %+v", r, m)
		}
	}
}

func emailsOf(rs []row) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Email
	}
	return out
}

func mustOwnerID(t *testing.T, team string) string {
	tm, err := stack.Store.GetTeam(t.Context(), team)
	if err != nil {
		t.Fatal(err)
	}
	return tm.OwnerMemberID
}
