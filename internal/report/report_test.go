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

// The emailed report's HTML escapes what members typed into their address
// and keeps the table's shape: a header row, a row a member, the totals.
func TestEmailHTMLIsEscaped(t *testing.T) {
	p := Period{From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)}
	rows := []Row{{Member: users.Member{Email: `"<img src=x onerror=alert(1)>"@example.com`, Role: users.RoleUser}, Calls: 2, Seconds: 90}}
	subject, text, html, attachment := Email("<b>Acme</b>", rows, 0, p)
	if strings.Contains(html, "<img") || strings.Contains(html, "<b>") || !strings.Contains(html, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Fatalf("not escaped: %s", html)
	}
	if strings.Count(html, "<tr>") != 3 || !strings.Contains(html, "<th>2</th><th>1.5</th>") || !strings.Contains(subject, "usage report 2026-11-01") ||
		!strings.Contains(text, "2 calls") || len(attachment) == 0 {
		t.Fatalf("report email: %q %q %s", subject, text, html)
	}
}
