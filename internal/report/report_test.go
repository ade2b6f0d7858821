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
