package users

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestBucketFor(t *testing.T) {
	now := time.Date(2026, 12, 31, 3, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		status Status
		age    time.Duration // -1: never active
		want   LastCall
	}{
		{StatusInvitationSent, -1, LastCallPending},
		{StatusPendingAppLogin, -1, LastCallNotActive},
		{StatusActive, -1, LastCallNotActive},
		{StatusActive, time.Hour, LastCallRecently},
		{StatusActive, 3 * day, LastCallRecently},
		{StatusActive, 3*day + 3*time.Hour, LastCallRecently},                // Dec 28, 00:00: three days back
		{StatusActive, 3*day + 3*time.Hour + time.Second, LastCallLast7Days}, // Dec 27, 23:59:59: four
		{StatusActive, 7 * day, LastCallLast7Days},
		{StatusActive, 10 * day, LastCallLast30Days},
		{StatusActive, 30 * day, LastCallLast30Days},
		{StatusActive, 40 * day, LastCallMoreThan30Days},
		{StatusSignedInWithApp, 120 * day, LastCallMoreThan30Days},
	}
	for _, tc := range tests {
		var last time.Time
		if tc.age >= 0 {
			last = now.Add(-tc.age)
		}
		if got := BucketFor(tc.status, last, now, time.UTC); got != tc.want {
			t.Errorf("BucketFor(%s, %v ago) = %s, want %s", tc.status, tc.age, got, tc.want)
		}
		if got := BucketFor(tc.status, last, now, time.UTC); !slices.Contains(PossibleLastCalls(tc.status), got) && tc.age >= 0 {
			t.Errorf("bucket %s is not possible for %s", got, tc.status)
		}
	}
}

// Buckets count calendar days in the stack's zone: at every boundary, the
// last instant of a day and the first of the next, in zones east and west
// of UTC, across daylight-saving changes, and with "now" at either end of
// its day. The queue's next change is exactly the first instant at which
// the bucket steps down.
func TestBucketsAreCalendarDaysInTheZone(t *testing.T) {
	zones := []string{"UTC", "Europe/Paris", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Auckland"}
	bounds := []struct {
		days int // the last day (counted back from today) of the bucket
		in   LastCall
		next LastCall
	}{{RecentlyDays, LastCallRecently, LastCallLast7Days}, {Last7DaysDays, LastCallLast7Days, LastCallLast30Days}, {Last30DaysDays, LastCallLast30Days, LastCallMoreThan30Days}}
	for _, name := range zones {
		zone, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		// Days around the spring and autumn changes of both hemispheres,
		// and an ordinary one.
		for _, today := range []time.Time{
			time.Date(2026, 3, 30, 0, 0, 0, 0, zone), time.Date(2026, 3, 8, 0, 0, 0, 0, zone),
			time.Date(2026, 11, 2, 0, 0, 0, 0, zone), time.Date(2026, 4, 6, 0, 0, 0, 0, zone),
			time.Date(2026, 12, 7, 0, 0, 0, 0, zone),
		} {
			for _, now := range []time.Time{today, DayStart(today, 1, zone).Add(-time.Second)} {
				if DaysBetween(today, now, zone) != 0 {
					t.Fatalf("%s: %v is not on the day of %v", name, now, today)
				}
				for _, b := range bounds {
					lastOfBucket := DayStart(today, -b.days, zone)                        // the first instant of the bucket's last day
					endOfBucket := DayStart(today, -b.days+1, zone).Add(-time.Nanosecond) // its last instant
					before := lastOfBucket.Add(-time.Nanosecond)                          // the last instant of the day before
					for _, at := range []time.Time{lastOfBucket, endOfBucket} {
						if got := BucketFor(StatusActive, at, now, zone); got != b.in {
							t.Errorf("%s, now %v: active at %v is %s, want %s", name, now, at, got, b.in)
						}
					}
					if got := BucketFor(StatusActive, before, now, zone); got != b.next {
						t.Errorf("%s, now %v: active at %v is %s, want %s", name, now, before, got, b.next)
					}
					// The nightly job's queue: the member active on the
					// bucket's last day is due at the start of the day the
					// bucket no longer holds it, and not an instant before.
					m := Member{Status: StatusActive, LastActiveAt: lastOfBucket, LastCall: b.in}
					due := NextChange(m, DefaultRetention, zone)
					if got := BucketFor(StatusActive, m.LastActiveAt, due, zone); got != b.next {
						t.Errorf("%s: at its next change %v, %v is %s, want %s", name, due, m.LastActiveAt, got, b.next)
					}
					if got := BucketFor(StatusActive, m.LastActiveAt, due.Add(-time.Nanosecond), zone); got != b.in {
						t.Errorf("%s: just before its next change %v, %v is %s, want %s", name, due, m.LastActiveAt, got, b.in)
					}
				}
				// Archived once the activity is more than the retention's days back.
				ret := RetentionDays(DefaultRetention)
				if Archived(DayStart(today, -ret, zone), now, DefaultRetention, zone) || !Archived(DayStart(today, -ret, zone).Add(-time.Nanosecond), now, DefaultRetention, zone) {
					t.Errorf("%s, now %v: archiving is not at %d days", name, now, ret)
				}
			}
		}
	}
}

func TestDays(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	at := time.Date(2026, 12, 6, 23, 30, 0, 0, time.UTC) // 00:30 on Dec 7 in Paris
	if DayOf(at, time.UTC) != "2026-12-06" || DayOf(at, paris) != "2026-12-07" || DayOf(time.Time{}, paris) != "" {
		t.Fatalf("days of %v: %s, %s", at, DayOf(at, time.UTC), DayOf(at, paris))
	}
	// A 23-hour day (spring forward) still counts as one.
	if d := DaysBetween(time.Date(2026, 3, 28, 12, 0, 0, 0, paris), time.Date(2026, 3, 30, 0, 30, 0, 0, paris), paris); d != 2 {
		t.Fatalf("across the spring change: %d days", d)
	}
	if RetentionDays(90*24*time.Hour) != 90 || RetentionDays(time.Hour) != 1 {
		t.Fatal("retention days")
	}
}

func TestCounterDeltaAddsUpToARecount(t *testing.T) {
	// Walk a member through its life and check the counters equal a recount.
	path := []Status{"", StatusInvitationSent, StatusPendingAppLogin, StatusActive, StatusSignedInWithApp, StatusActive, ""}
	var c Counters
	for i := 1; i < len(path); i++ {
		d := CounterDelta(path[i-1], path[i])
		c.Assigned += d.Assigned
		c.PendingInvitations += d.PendingInvitations
		c.NeverUsedApp += d.NeverUsedApp
		want := CounterDelta("", path[i])
		if c != want {
			t.Fatalf("after %s: counters %+v, recount %+v", path[i], c, want)
		}
	}
	if c != (Counters{}) {
		t.Fatalf("a removed member leaves %+v", c)
	}
}

func TestSummaryUnassignedNeverNegative(t *testing.T) {
	s := SummaryOf(Team{Seats: 5, Counters: Counters{Assigned: 7}})
	if s.Unassigned() != 0 {
		t.Fatalf("unassigned = %d", s.Unassigned())
	}
	if got := SummaryOf(Team{Seats: 50, Counters: Counters{Assigned: 12}}).Unassigned(); got != 38 {
		t.Fatalf("unassigned = %d, want 38", got)
	}
}

func TestNormalizeEmail(t *testing.T) {
	good := map[string]string{
		"Alice@Example.COM":      "alice@example.com",
		"  bob@example.org \t":   "bob@example.org",
		"=1+2@example.com":       "=1+2@example.com",
		"a.b-c_d@sub.example.io": "a.b-c_d@sub.example.io",
	}
	for in, want := range good {
		got, ok := NormalizeEmail(in)
		if !ok || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "alice", "alice@", "@example.com", "Alice <alice@example.com>", "a b@example.com",
		"alice@localhost", "alice@example..com", "alice@.example.com", "a@b.c\x00", "alice@exa mple.com", "al\xffice@example.com"} {
		if got, ok := NormalizeEmail(in); ok {
			t.Errorf("NormalizeEmail(%q) accepted as %q", in, got)
		}
	}
}

func TestParseListQuery(t *testing.T) {
	q, err := ParseListQuery(map[string][]string{
		"q": {"ACME"}, "status": {"active", "invitation_sent,active"}, "role": {"admin"},
		"sort": {"lastActive"}, "order": {"desc"}, "limit": {"100"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if q.Q != "acme" || !slices.Equal(q.Statuses, []Status{StatusActive, StatusInvitationSent}) || q.Sort != SortLastActive || !q.Desc || q.Limit != 100 {
		t.Fatalf("parsed %+v", q)
	}
	bad := []map[string][]string{
		{"limit": {"0"}}, {"limit": {"101"}}, {"limit": {"ten"}}, {"limit": {"99999999999999999999"}},
		{"status": {"gone"}}, {"lastCall": {"yesterday"}}, {"role": {"owner"}},
		{"sort": {"name"}}, {"order": {"up"}}, {"color": {"red"}}, {"q": {"a", "b"}}, {"q": {"a b"}},
		// Empty values are refused like wrong ones, whichever the parameter.
		{"q": {""}}, {"sort": {""}}, {"order": {""}}, {"limit": {""}}, {"cursor": {""}}, {"status": {""}}, {"role": {"admin", ""}},
		// q: no white space or control character anywhere, at most 254 characters.
		{"q": {" acme"}}, {"q": {"acme\t"}}, {"q": {"a\u00a0b"}}, {"q": {"a\u3000b"}}, {"q": {"a\u0085"}}, {"q": {"\xff"}},
		{"q": {strings.Repeat("é", 255)}},
	}
	for _, params := range bad {
		if _, err := ParseListQuery(params); err == nil {
			t.Errorf("ParseListQuery(%v) accepted", params)
		} else if e, ok := AsError(err); !ok || e.Kind != KindInvalid {
			t.Errorf("ParseListQuery(%v): %v is not an invalid-request error", params, err)
		}
	}
}

func TestFacetsSkipImpossibleCombinations(t *testing.T) {
	if n := len(ListQuery{}.Facets()); n != 14 {
		t.Fatalf("all facets = %d, want 14 (7 status/bucket pairs × 2 roles)", n)
	}
	f := ListQuery{Statuses: []Status{StatusInvitationSent}, LastCalls: []LastCall{LastCallRecently}}.Facets()
	if len(f) != 0 {
		t.Fatalf("invited members are never 'recently': %v", f)
	}
	f = ListQuery{LastCalls: []LastCall{LastCallMoreThan30Days}, Roles: []Role{RoleAdmin}}.Facets()
	want := []Facet{{StatusActive, LastCallMoreThan30Days, RoleAdmin}, {StatusSignedInWithApp, LastCallMoreThan30Days, RoleAdmin}}
	if !slices.Equal(f, want) {
		t.Fatalf("facets %v, want %v", f, want)
	}
}

func TestCheckAdmin(t *testing.T) {
	pro := Team{Plan: PlanPro}
	admin := Membership{Role: RoleAdmin, Status: StatusActive}
	cases := []struct {
		team Team
		ms   Membership
		want error
	}{
		{pro, admin, nil},
		{pro, Membership{Role: RoleUser, Status: StatusActive}, ErrNotAdmin},
		{Team{Plan: "free"}, admin, ErrPlanRequired},
		{pro, Membership{Role: RoleAdmin, Status: StatusInvitationSent}, ErrTeamNotFound},
	}
	for _, c := range cases {
		if got := CheckAdmin(c.team, c.ms); got != c.want {
			t.Errorf("CheckAdmin(%v, %v) = %v, want %v", c.team.Plan, c.ms, got, c.want)
		}
	}
}

func TestInvitationExpiredAt(t *testing.T) {
	now := time.Now()
	m := Member{Status: StatusInvitationSent, InvitationExpiresAt: now.Add(-time.Minute)}
	if !m.InvitationExpiredAt(now) {
		t.Fatal("an invitation past its expiry is expired")
	}
	m.InvitationExpiresAt = now.Add(time.Hour)
	if m.InvitationExpiredAt(now) {
		t.Fatal("an invitation before its expiry is not expired")
	}
	m.Status = StatusActive
	m.InvitationExpired = true
	if m.InvitationExpiredAt(now) {
		t.Fatal("a member who joined has no expired invitation")
	}
}
