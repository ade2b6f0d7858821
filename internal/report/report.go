// Package report builds the usage report of chosen members over a period:
// the rows, their totals and the CSV download (RFC 4180, UTF-8 with a BOM,
// the portal's labels, safe to open in a spreadsheet). The emailed version
// (the same CSV attached to an email of the family) is internal/emails'.
package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"

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
			if t, err := time.Parse(layout, strings.ToUpper(v)); err == nil { // RFC 3339 allows "t" and "z"
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
// per member and one per member-day with calls. A chosen member who has been
// removed since the selection is left out (its id is in leftOut) and the
// report covers the rest; when none of the ids is a member the request is
// refused (400), since then it names nobody.
func Build(ctx context.Context, src Source, teamID string, ids []string, p Period) (rows []Row, leftOut []string, err error) {
	ms, err := src.GetMembers(ctx, teamID, ids)
	if err != nil {
		return nil, nil, err
	}
	var found []string
	for _, id := range ids {
		if _, ok := ms[id]; ok {
			found = append(found, id)
		} else {
			leftOut = append(leftOut, id)
		}
	}
	if len(found) == 0 {
		return nil, nil, ErrNoMembers
	}
	rows = make([]Row, len(found))
	var mu sync.Mutex
	var first error
	parallel.Each(len(found), 8, func(i int) {
		u, err := src.UsageOf(ctx, teamID, found[i], Day(p.From), Day(p.To))
		mu.Lock()
		defer mu.Unlock()
		if err != nil && first == nil {
			first = err
		}
		m := ms[found[i]]
		if u.LastCall.After(m.LastActiveAt) {
			// The member's item holds the first activity of its last active
			// day; a later call that day is in the day's usage.
			m.LastActiveAt = u.LastCall
		}
		rows[i] = Row{Member: m, Calls: u.Calls, Seconds: u.Seconds}
	})
	return rows, leftOut, first
}

// ErrNoMembers refuses a report none of whose ids is a member of the team.
var ErrNoMembers = users.Errorf(users.KindInvalid, "unknown_members", "None of these ids is a member of the team.")

// Header is the CSV's first line: the portal's column names.
var Header = []string{"Email", "Role", "Status", "Last call", "Last active", "Calls", "Talk minutes"}

// bom makes Excel read the file as UTF-8 (accents in addresses and names);
// Google Sheets and other readers skip it.
const bom = "\ufeff"

// DateTime is how instants read in the report: UTC, to the minute, in a
// form every spreadsheet recognises as a date.
const DateTime = "2006-01-02 15:04"

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

// cells is one member's line in the portal's words.
func cells(r Row) []string {
	last := ""
	if !r.Member.LastActiveAt.IsZero() {
		last = r.Member.LastActiveAt.UTC().Format(DateTime)
	}
	return []string{r.Member.Email, r.Member.Role.Label(), r.Member.Status.Label(), r.Member.LastCall.Label(), last,
		fmt.Sprint(r.Calls), minutes(r.Seconds)}
}

// CSV renders the rows for Excel and Google Sheets: a UTF-8 byte-order
// mark, RFC 4180 (CRLF, quoted where needed), every cell neutralised.
func CSV(rows []Row) []byte {
	var b bytes.Buffer
	b.WriteString(bom)
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

// FileName names the download after the team and the period:
// usage-<team>-<from>-to-<to>.csv, where <team> is the team's name made
// safe for a file name, or its id when it has no usable name.
func FileName(teamName, teamID string, p Period) string {
	name := safeFileName(teamName)
	if name == "" {
		name = safeFileName(teamID)
	}
	return fmt.Sprintf("usage-%s-%s-to-%s.csv", name, Day(p.From), Day(p.To))
}

// safeFileName keeps letters (any script), digits, '.' and '_', turns
// every other run of characters into one '-', trims, and cuts at 60
// characters: nothing a file system or a download header could misread.
func safeFileName(s string) string {
	var b strings.Builder
	dash := false
	n := 0
	for _, r := range s {
		if n >= 60 {
			break
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '_' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteRune('-')
			dash = true
		}
		n++
	}
	return strings.Trim(b.String(), "-._")
}

// ContentDisposition is the download header for a file name made by
// FileName: a plain ASCII filename for old clients and, when the name has
// other letters, the exact one as RFC 6266's filename*.
func ContentDisposition(name string) string {
	ascii := true
	for _, r := range name {
		if r > 0x7e {
			ascii = false
			break
		}
	}
	if ascii {
		return `attachment; filename="` + name + `"`
	}
	fallback := strings.Map(func(r rune) rune {
		if r > 0x7e {
			return '_'
		}
		return r
	}, name)
	return `attachment; filename="` + fallback + `"; filename*=UTF-8''` + url.PathEscape(name)
}

// LeftOutNote is the sentence that says selected members were not in the
// report because they were removed from the team after being selected.
func LeftOutNote(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return "1 selected member was removed from the team since and is not in this report."
	}
	return fmt.Sprintf("%d selected members were removed from the team since and are not in this report.", n)
}

// Totals are the calls and talk seconds of all the rows.
func Totals(rows []Row) (calls, seconds int) {
	for _, r := range rows {
		calls += r.Calls
		seconds += r.Seconds
	}
	return calls, seconds
}

// Minutes writes talk seconds as the report's minutes, one decimal.
func Minutes(seconds int) string { return minutes(seconds) }
