// Package selection reads the CSV files admins upload to select members:
// whatever spreadsheets export (a UTF-8 byte-order mark, comma, semicolon or
// tab, quoted fields with delimiters and line breaks inside, CRLF or LF,
// blank lines, an optional header found by its content), streaming, with
// bounded memory, numbering rows as the spreadsheet does (from 1, header
// and blank lines included).
package selection

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// Limits of a selection file.
const (
	MaxBytes    = 5 << 20
	MaxRows     = 50_000 // rows that name someone: not the header, not blank rows
	MaxCellSize = 1024   // longer cells are cut (and never an address)
	sniffBytes  = 64 << 10
)

// Errors that refuse the whole file (see also NotTextError).
var (
	ErrTooLarge      = errors.New("the file is over 5 MiB")
	ErrTooManyRows   = errors.New("the file has more than 50,000 rows")
	ErrNoEmailColumn = errors.New("no column of the file holds email addresses")
)

// Reader yields a CSV file's records.
type Reader struct {
	r     *bufio.Reader
	delim byte
	row   int // rows started so far
	eof   bool
}

// NewReader sniffs the delimiter from the start of the file and skips a
// byte-order mark. It reads UTF-8 text (Decode makes it) and enforces no
// size limit (Select does, on the file as uploaded).
func NewReader(r io.Reader) (*Reader, error) {
	return newReader(r, 0)
}

// newReader uses delim when it is not zero instead of sniffing.
func newReader(r io.Reader, delim byte) (*Reader, error) {
	br := bufio.NewReaderSize(r, sniffBytes)
	head, err := br.Peek(sniffBytes)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
		head = head[3:]
	}
	if delim == 0 {
		delim = sniff(head)
	}
	return &Reader{r: br, delim: delim}, nil
}

// sniff picks the delimiter that occurs most, outside quotes, in the first
// non-blank line: comma when in doubt.
func sniff(head []byte) byte {
	counts := map[byte]int{}
	inQuotes, started := false, false
	for _, c := range head {
		switch {
		case c == '"':
			inQuotes = !inQuotes
		case !inQuotes && (c == '\n' || c == '\r'):
			if started {
				goto done
			}
		case !inQuotes && (c == ',' || c == ';' || c == '\t'):
			counts[c]++
		}
		if c != '\n' && c != '\r' && c != ' ' {
			started = true
		}
	}
done:
	best := byte(',')
	for _, d := range []byte{';', '\t'} {
		if counts[d] > counts[best] {
			best = d
		}
	}
	return best
}

// Delimiter is the sniffed delimiter.
func (r *Reader) Delimiter() byte { return r.delim }

// Record is one row: its number and its cells (nil for a blank row).
type Record struct {
	Row   int
	Cells []string
}

// Next reads the next row, io.EOF at the end. Cells are trimmed of
// surrounding spaces; a row of only empty cells is blank.
func (r *Reader) Next() (Record, error) {
	if r.eof {
		return Record{}, io.EOF
	}
	var cells []string
	var cell strings.Builder
	// started: the cell has something other than spaces, so a quote is
	// data, not the start of a quoted field. Kept as a flag: re-trimming
	// the cell at every quote made a file of quotes cost a kilobyte a byte.
	inQuotes, any, started := false, false, false
	flush := func() {
		cells = append(cells, strings.TrimSpace(cell.String()))
		cell.Reset()
		started = false
	}
	for {
		c, err := r.r.ReadByte()
		if err == io.EOF {
			r.eof = true
			if !any {
				return Record{}, io.EOF
			}
			flush()
			return r.record(cells)
		}
		if err != nil {
			return Record{}, err
		}
		any = true
		switch {
		case inQuotes && c == '"':
			if next, err := r.r.Peek(1); err == nil && next[0] == '"' {
				_, _ = r.r.ReadByte()
				r.add(&cell, '"')
			} else {
				inQuotes = false
			}
		case inQuotes:
			r.add(&cell, c)
		case c == '"' && !started:
			cell.Reset()
			inQuotes, started = true, true
		case c == r.delim:
			flush()
		case c == '\r':
			if next, err := r.r.Peek(1); err == nil && next[0] == '\n' {
				_, _ = r.r.ReadByte()
			}
			flush()
			return r.record(cells)
		case c == '\n':
			flush()
			return r.record(cells)
		default:
			r.add(&cell, c)
			if c != ' ' && c != '\t' {
				started = true
			}
		}
	}
}

func (r *Reader) add(b *strings.Builder, c byte) {
	if b.Len() < MaxCellSize {
		b.WriteByte(c)
	}
}

func (r *Reader) record(cells []string) (Record, error) {
	r.row++
	blank := true
	for i, c := range cells {
		if !utf8.ValidString(c) {
			// Repair, then clip again: U+FFFD is three bytes for one.
			c = clip(strings.ToValidUTF8(c, "\uFFFD"))
			cells[i] = c
		}
		if c != "" {
			blank = false
		}
	}
	if blank {
		cells = nil
	}
	return Record{Row: r.row, Cells: cells}, nil
}

// clip cuts s to at most MaxCellSize bytes, at a rune boundary.
func clip(s string) string {
	if len(s) <= MaxCellSize {
		return s
	}
	n := MaxCellSize
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
