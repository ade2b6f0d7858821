package selection

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/teamusers/usersapi/internal/users"
)

// Matched is a row whose email is a member of the team.
type Matched struct {
	Row      int    `json:"row"`
	Email    string `json:"email"`
	MemberID string `json:"memberId"`
}

// NotFound is a row with a valid email that is not in the team.
type NotFound struct {
	Row   int    `json:"row"`
	Email string `json:"email"`
}

// Invalid is a row that names no usable email, and why.
type Invalid struct {
	Row    int    `json:"row"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

// Result accounts for every non-blank row that is not the header.
type Result struct {
	Matched  []Matched  `json:"matched"`
	NotFound []NotFound `json:"notFound"`
	Invalid  []Invalid  `json:"invalid"`
}

// Lookup finds which of the emails are members: email → member id.
type Lookup func(ctx context.Context, emails []string) (map[string]string, error)

// isHeaderName recognises a column header that names emails: "Email",
// "E-mail", "Email Address", "Work email", "mail"…
func isHeaderName(cell string) bool {
	n := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '_', '.', ':':
			return -1
		}
		return r
	}, strings.ToLower(cell))
	return strings.Contains(n, "email") || n == "mail" || n == "courriel"
}

type candidate struct {
	row   int
	email string
}

// Options adjust how a file is read.
type Options struct {
	// Delimiter, when not zero, is used instead of the one sniffed from the
	// first line (a file sent as text/tab-separated-values is tab-separated
	// even when its first line has commas in it).
	Delimiter byte
}

// sampleRows is how many rows decide which column holds the emails when no
// header names it.
const sampleRows = 50

// Select reads a selection file and matches it against the team. Memory is
// bounded by the distinct valid emails (at most MaxRows), never the file.
func Select(ctx context.Context, body io.Reader, lookup Lookup) (Result, error) {
	return SelectWith(ctx, body, Options{}, lookup)
}

// SelectWith is Select with options.
func SelectWith(ctx context.Context, body io.Reader, o Options, lookup Lookup) (Result, error) {
	res, _, err := selectRows(ctx, body, o, lookup)
	return res, err
}

// selectRows also says whether the first non-blank row was a header.
//
// The email column is the one a header names ("Email", "E-mail address",
// …). Without such a header, it is the column with the most addresses in the
// first 50 rows (then the most cells with an @, then the leftmost), and a
// first row with no @ anywhere is taken for a header that names its columns
// otherwise ("Name,Contact"). A file none of whose first 50 rows has an @
// in any cell has no column of emails: ErrNoEmailColumn, before any read.
func selectRows(ctx context.Context, body io.Reader, o Options, lookup Lookup) (Result, bool, error) {
	res := Result{Matched: []Matched{}, NotFound: []NotFound{}, Invalid: []Invalid{}}
	text, err := Decode(&limited{r: body})
	if err != nil {
		return res, false, err
	}
	rd, err := newReader(text, o.Delimiter)
	if err != nil {
		return res, false, err
	}
	// The first rows, kept until the column is known.
	var sample []Record
	for len(sample) < sampleRows {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return res, false, err
		}
		if rec.Cells != nil {
			sample = append(sample, rec)
		}
	}
	if len(sample) == 0 {
		return res, false, nil // an empty file selects nobody
	}
	col, header := emailColumn(sample)
	if col < 0 {
		return res, header, ErrNoEmailColumn
	}
	if header {
		sample = sample[1:]
	}
	seen := map[string]int{} // email → first row
	var cands []candidate
	data := 0
	next := func() (Record, error) {
		if len(sample) > 0 {
			rec := sample[0]
			sample = sample[1:]
			return rec, nil
		}
		return rd.Next()
	}
	for {
		rec, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return res, header, err
		}
		if rec.Cells == nil {
			continue // a blank row
		}
		if data++; data > MaxRows {
			return res, header, ErrTooManyRows
		}
		if col >= len(rec.Cells) {
			res.Invalid = append(res.Invalid, Invalid{Row: rec.Row, Value: "", Reason: fmt.Sprintf("the row has no column %d", col+1)})
			continue
		}
		value := rec.Cells[col]
		email, reason := users.CheckEmail(value)
		switch {
		case value == "":
			res.Invalid = append(res.Invalid, Invalid{Row: rec.Row, Value: value, Reason: "the email cell is empty"})
		case reason != "":
			res.Invalid = append(res.Invalid, Invalid{Row: rec.Row, Value: value, Reason: reason})
		case seen[email] > 0:
			res.Invalid = append(res.Invalid, Invalid{Row: rec.Row, Value: value, Reason: fmt.Sprintf("duplicate of row %d", seen[email])})
		default:
			seen[email] = rec.Row
			cands = append(cands, candidate{row: rec.Row, email: email})
		}
	}
	emails := make([]string, len(cands))
	for i, c := range cands {
		emails[i] = c.email
	}
	ids, err := lookup(ctx, emails)
	if err != nil {
		return res, header, err
	}
	for _, c := range cands {
		if id, ok := ids[c.email]; ok {
			res.Matched = append(res.Matched, Matched{Row: c.row, Email: c.email, MemberID: id})
		} else {
			res.NotFound = append(res.NotFound, NotFound{Row: c.row, Email: c.email})
		}
	}
	return res, header, nil
}

// emailColumn decides, from the first non-blank rows, which column holds
// the emails and whether the first row is a header; -1 when none does.
func emailColumn(sample []Record) (col int, header bool) {
	if col := headerColumn(sample[0].Cells); col >= 0 {
		return col, true
	}
	header = true
	for _, c := range sample[0].Cells {
		if strings.ContainsRune(c, '@') {
			header = false
			break
		}
	}
	rows := sample
	if header {
		rows = sample[1:]
	}
	var valid, withAt []int
	for _, rec := range rows {
		for i, c := range rec.Cells {
			for len(valid) <= i {
				valid, withAt = append(valid, 0), append(withAt, 0)
			}
			if _, ok := users.NormalizeEmail(c); ok {
				valid[i]++
			}
			if strings.ContainsRune(c, '@') {
				withAt[i]++
			}
		}
	}
	col = -1
	for i := range valid {
		if withAt[i] > 0 && (col < 0 || valid[i] > valid[col] || valid[i] == valid[col] && withAt[i] > withAt[col]) {
			col = i
		}
	}
	return col, header
}

// headerColumn is the email column of a header row, or -1 when the row is
// data (a cell that is itself an address is never a header).
func headerColumn(cells []string) int {
	for _, c := range cells {
		if _, ok := users.NormalizeEmail(c); ok {
			return -1
		}
	}
	for i, c := range cells {
		if isHeaderName(c) {
			return i
		}
	}
	return -1
}
