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
	if !strings.Contains(string(out), "\r\n") || strings.Count(string(out), "\r\n") != len(rows)+1 {
		t.Fatalf("not CRLF lines: %q", out)
	}
	recs, err := csv.NewReader(strings.NewReader(string(out))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], "|") != "email|role|status|last call|last active|calls|talk minutes" {
		t.Fatalf("header %v", recs[0])
	}
	if recs[1][0] != "'=1+2@example.com" || recs[1][5] != "3" || recs[1][6] != "2.5" || recs[1][4] != "2026-11-28T10:00:00Z" {
		t.Fatalf("row 1 %v", recs[1])
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

// The emailed report's HTML escapes what members typed into their address
// and keeps the table's shape: a header row, a row a member, the totals.
func TestEmailHTMLIsEscaped(t *testing.T) {
	p := Period{From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)}
	rows := []Row{{Member: users.Member{Email: `"<img src=x onerror=alert(1)>"@example.com`, Role: users.RoleUser}, Calls: 2, Seconds: 90}}
	subject, text, html, attachment := Email(rows, "t_1", p)
	if strings.Contains(html, "<img") || !strings.Contains(html, "<td>&#34;&lt;img src=x onerror=alert(1)&gt;&#34;@example.com</td>") {
		t.Fatalf("not escaped: %s", html)
	}
	if strings.Count(html, "<tr>") != 3 || !strings.Contains(html, "<th>2</th><th>1.5</th>") || !strings.HasPrefix(subject, "Usage report 2026-11-01") ||
		!strings.Contains(text, "2 calls") || len(attachment) == 0 {
		t.Fatalf("report email: %q %q %s", subject, text, html)
	}
}
