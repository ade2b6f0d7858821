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

// Select reads a selection file and matches it against the team. Memory is
// bounded by the distinct valid emails (at most MaxRows), never the file.
func Select(ctx context.Context, body io.Reader, lookup Lookup) (Result, error) {
	res := Result{Matched: []Matched{}, NotFound: []NotFound{}, Invalid: []Invalid{}}
	rd, err := NewReader(body)
	if err != nil {
		return res, err
	}
	col := -1
	firstRow := true
	seen := map[string]int{} // email → first row
	var cands []candidate
	data := 0
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return res, err
		}
		if rec.Cells == nil {
			continue // a blank row
		}
		if firstRow {
			firstRow = false
			col = headerColumn(rec.Cells)
			if col >= 0 {
				continue // the header row
			}
			col = 0
			for i, c := range rec.Cells {
				if _, ok := users.NormalizeEmail(c); ok {
					col = i
					break
				}
			}
		}
		if data++; data > MaxRows {
			return res, ErrTooManyRows
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
		return res, err
	}
	for _, c := range cands {
		if id, ok := ids[c.email]; ok {
			res.Matched = append(res.Matched, Matched{Row: c.row, Email: c.email, MemberID: id})
		} else {
			res.NotFound = append(res.NotFound, NotFound{Row: c.row, Email: c.email})
		}
	}
	return res, nil
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
