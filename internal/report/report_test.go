package report

import (
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/users"
)

func TestCSVIsRFC4180AndInert(t *testing.T) {
	rows := []Row{
		{Member: users.Member{Email: "=1+2@example.com", Role: users.RoleUser, Status: users.StatusActive, LastCall: users.LastCallRecently,
			LastActiveAt: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}, Calls: 3, Seconds: 150},
		{Member: users.Member{Email: "plain,\"quoted\"@example.com", Role: users.RoleAdmin, Status: users.StatusPendingAppLogin, LastCall: users.LastCallNotActive}},
		{Member: users.Member{Email: "@x@example.com"}}, {Member: users.Member{Email: "-x@example.com"}}, {Member: users.Member{Email: "+x@example.com"}},
	}
	out := CSV(rows)
	if !strings.HasPrefix(string(out), "\ufeffEmail,") {
		t.Fatalf("no UTF-8 byte-order mark before the header: %q", out[:10])
	}
	if strings.Count(string(out), "\r\n") != len(rows)+1 || strings.Count(string(out), "\n") != len(rows)+1 {
		t.Fatalf("not CRLF lines: %q", out)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(out), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], "|") != "Email|Role|Status|Last call|Last active|Calls|Talk minutes" {
		t.Fatalf("header %v", recs[0])
	}
	if strings.Join(recs[1], "|") != "'=1+2@example.com|User|Active|Recently|2026-11-28 10:00|3|2.5" {
		t.Fatalf("row 1 %v", recs[1])
	}
	if strings.Join(recs[2][1:4], "|") != "Admin|Pending app login|Not active" {
		t.Fatalf("row 2 labels %v", recs[2])
	}
	if recs[2][0] != `plain,"quoted"@example.com` || recs[2][4] != "" {
		t.Fatalf("row 2 %v", recs[2])
	}
	for i, want := range []string{"'@x@example.com", "'-x@example.com", "'+x@example.com"} {
		if recs[3+i][0] != want {
			t.Errorf("row %d: %q, want %q", 3+i, recs[3+i][0], want)
		}
	}
	for _, c := range []string{"\tx", "\rx"} {
		if Neutralise(c)[0] != '\'' {
			t.Errorf("%q not neutralised", c)
		}
	}
}

func TestParsePeriod(t *testing.T) {
	now := time.Date(2026, 11, 29, 15, 0, 0, 0, time.UTC)
	p, err := ParsePeriod("", "", now)
	if err != nil || Day(p.From) != "2026-10-31" || Day(p.To) != "2026-11-29" {
		t.Fatalf("default: %v %v", p, err)
	}
	if p, err := ParsePeriod("2025-11-29", "2026-11-29", now); err != nil || Day(p.From) != "2025-11-29" {
		t.Fatalf("366 days: %v", err)
	}
	for _, c := range [][2]string{{"2025-11-28", "2026-11-29"}, {"2026-11-30", "2026-11-29"}, {"yesterday", ""}, {"", "2026-13-01"}} {
		if _, err := ParsePeriod(c[0], c[1], now); err == nil {
			t.Errorf("%v accepted", c)
		}
	}
}

func TestFileNameIsSafeAndNamesTheTeam(t *testing.T) {
	p := Period{From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)}
	for _, c := range []struct{ name, id, want string }{
		{"Acme Inc", "t_1", "usage-Acme-Inc-2026-11-01-to-2026-11-30.csv"},
		{"  R&D / \"Ops\"; rm -rf ", "t_1", "usage-R-D-Ops-rm-rf-2026-11-01-to-2026-11-30.csv"},
		{"Café Müller", "t_1", "usage-Café-Müller-2026-11-01-to-2026-11-30.csv"},
		{"../../etc/passwd", "t_1", "usage-etc-passwd-2026-11-01-to-2026-11-30.csv"},
		{"", "t_abc", "usage-t_abc-2026-11-01-to-2026-11-30.csv"},
		{"???", "t_abc", "usage-t_abc-2026-11-01-to-2026-11-30.csv"},
		{strings.Repeat("x", 100), "t_1", "usage-" + strings.Repeat("x", 60) + "-2026-11-01-to-2026-11-30.csv"},
	} {
		if got := FileName(c.name, c.id, p); got != c.want {
			t.Errorf("FileName(%q) = %q, want %q", c.name, got, c.want)
		}
	}
	if got := ContentDisposition("usage-Acme-Inc-2026-11-01-to-2026-11-30.csv"); got != `attachment; filename="usage-Acme-Inc-2026-11-01-to-2026-11-30.csv"` {
		t.Errorf("ascii: %s", got)
	}
	if got := ContentDisposition("usage-Café-x.csv"); got != `attachment; filename="usage-Caf_-x.csv"; filename*=UTF-8''usage-Caf%C3%A9-x.csv` {
		t.Errorf("non-ascii: %s", got)
	}
}

func TestTotals(t *testing.T) {
	rows := []Row{{Calls: 2, Seconds: 90}, {Calls: 1, Seconds: 30}, {}}
	if calls, secs := Totals(rows); calls != 3 || secs != 120 || Minutes(secs) != "2.0" || Minutes(90) != "1.5" {
		t.Fatalf("totals: %d %d", calls, secs)
	}
}
