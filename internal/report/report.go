// Package report builds the usage report of chosen members over a period:
// a CSV download (RFC 4180, UTF-8, safe to open in a spreadsheet) and the
// emailed version (an HTML table with totals, the CSV attached, as a raw
// MIME message for SES v2).
package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"strings"
	"sync"
	"time"

	"github.com/teamusers/usersapi/internal/parallel"
	"github.com/teamusers/usersapi/internal/users"
)

// MaxDays is the longest period a report may cover.
const MaxDays = 366

// DefaultDays is the period when none is given.
const DefaultDays = 30

// Period is a range of whole UTC days, both ends included.
type Period struct {
	From, To time.Time
}

// Day formats a day as the usage items key it.
func Day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// ParsePeriod reads from and to (YYYY-MM-DD or RFC 3339; either may be
// empty): by default the last 30 days up to today.
func ParsePeriod(from, to string, now time.Time) (Period, error) {
	parse := func(name, v string) (time.Time, error) {
		for _, layout := range []string{"2006-01-02", time.RFC3339} {
			if t, err := time.Parse(layout, v); err == nil {
				return t.UTC().Truncate(24 * time.Hour), nil
			}
		}
		return time.Time{}, users.Errorf(users.KindInvalid, "invalid_period", "%s must be a date such as 2026-11-01.", name)
	}
	p := Period{To: now.UTC().Truncate(24 * time.Hour)}
	var err error
	if to != "" {
		if p.To, err = parse("to", to); err != nil {
			return p, err
		}
	}
	p.From = p.To.AddDate(0, 0, -(DefaultDays - 1))
	if from != "" {
		if p.From, err = parse("from", from); err != nil {
			return p, err
		}
	}
	switch days := int(p.To.Sub(p.From).Hours()/24) + 1; {
	case days < 1:
		return p, users.Errorf(users.KindInvalid, "invalid_period", "from must not be after to.")
	case days > MaxDays:
		return p, users.Errorf(users.KindInvalid, "invalid_period", "A report covers at most %d days.", MaxDays)
	}
	return p, nil
}

// Row is one member's line.
type Row struct {
	Member  users.Member
	Calls   int
	Seconds int
}

// Source is what a report reads.
type Source interface {
	GetMembers(ctx context.Context, teamID string, ids []string) (map[string]users.Member, error)
	UsageOf(ctx context.Context, teamID, memberID, from, to string) (Usage, error)
}

// Usage is calls and talk seconds.
type Usage = users.Usage

// Build reads the chosen members and their usage in the period: one read
// per member and one per member-day with calls. A member id that is not in
// the team refuses the report (400), so nothing is silently left out.
func Build(ctx context.Context, src Source, teamID string, ids []string, p Period) ([]Row, error) {
	ms, err := src.GetMembers(ctx, teamID, ids)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, id := range ids {
		if _, ok := ms[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		if len(missing) > 5 {
			missing = append(missing[:5], "…")
		}
		return nil, users.Errorf(users.KindInvalid, "unknown_members", "These ids are not members of the team: %s.", strings.Join(missing, ", "))
	}
	rows := make([]Row, len(ids))
	var mu sync.Mutex
	var first error
	parallel.Each(len(ids), 8, func(i int) {
		u, err := src.UsageOf(ctx, teamID, ids[i], Day(p.From), Day(p.To))
		mu.Lock()
		defer mu.Unlock()
		if err != nil && first == nil {
			first = err
		}
		rows[i] = Row{Member: ms[ids[i]], Calls: u.Calls, Seconds: u.Seconds}
	})
	return rows, first
}

// Header is the CSV's first line.
var Header = []string{"email", "role", "status", "last call", "last active", "calls", "talk minutes"}

// Neutralise makes a cell inert in spreadsheets: one that starts with =,
// +, -, @, a tab or a carriage return is prefixed with a single quote, as
// OWASP advises against CSV injection.
func Neutralise(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}

func minutes(seconds int) string { return fmt.Sprintf("%.1f", float64(seconds)/60) }

func cells(r Row) []string {
	last := ""
	if !r.Member.LastActiveAt.IsZero() {
		last = r.Member.LastActiveAt.UTC().Format(time.RFC3339)
	}
	return []string{r.Member.Email, string(r.Member.Role), string(r.Member.Status), string(r.Member.LastCall), last,
		fmt.Sprint(r.Calls), minutes(r.Seconds)}
}

// CSV renders the rows: RFC 4180 (CRLF, quoted where needed), UTF-8,
// every cell neutralised.
func CSV(rows []Row) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	_ = w.Write(Header)
	for _, r := range rows {
		c := cells(r)
		for i := range c {
			c[i] = Neutralise(c[i])
		}
		_ = w.Write(c)
	}
	w.Flush()
	return b.Bytes()
}

// FileName names the download after the team and the period.
func FileName(teamID string, p Period) string {
	return fmt.Sprintf("usage-%s-%s-to-%s.csv", teamID, Day(p.From), Day(p.To))
}

// Email is the report as an email: subject, text, HTML with totals, and
// the CSV to attach.
func Email(rows []Row, teamID string, p Period) (subject, text, htmlBody string, attachment []byte) {
	calls, secs := 0, 0
	table := make([][]string, len(rows))
	for i, r := range rows {
		calls += r.Calls
		secs += r.Seconds
		table[i] = cells(r)
	}
	// Written out rather than with html/template, which would cost the
	// deliverer's bootstrap about 5 MB (see internal/mail/render.go).
	var h strings.Builder
	fmt.Fprintf(&h, "<!doctype html><html><body style=\"font-family:sans-serif\">\n<p>Usage from %s to %s for %d members. The CSV is attached.</p>\n", Day(p.From), Day(p.To), len(table))
	h.WriteString("<table border=\"1\" cellpadding=\"4\" cellspacing=\"0\">\n<tr>")
	for _, c := range Header {
		h.WriteString("<th>" + html.EscapeString(c) + "</th>")
	}
	h.WriteString("</tr>\n")
	for _, row := range table {
		h.WriteString("<tr>")
		for _, c := range row {
			h.WriteString("<td>" + html.EscapeString(c) + "</td>")
		}
		h.WriteString("</tr>\n")
	}
	fmt.Fprintf(&h, "<tr><th colspan=\"5\" align=\"left\">Total</th><th>%d</th><th>%s</th></tr>\n</table></body></html>", calls, html.EscapeString(minutes(secs)))
	subject = fmt.Sprintf("Usage report %s to %s", Day(p.From), Day(p.To))
	text = fmt.Sprintf("Usage from %s to %s for %d members: %d calls, %s talk minutes in all. The CSV is attached.\n", Day(p.From), Day(p.To), len(rows), calls, minutes(secs))
	return subject, text, h.String(), CSV(rows)
}
