package selection

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// team is a lookup over a fixed set of members.
func team(members ...string) Lookup {
	return func(ctx context.Context, emails []string) (map[string]string, error) {
		out := map[string]string{}
		for _, e := range emails {
			for i, m := range members {
				if m == e {
					out[e] = fmt.Sprintf("m_%d", i)
				}
			}
		}
		return out, nil
	}
}

func summarize(r Result) string {
	var b strings.Builder
	for _, m := range r.Matched {
		fmt.Fprintf(&b, "M%d:%s ", m.Row, m.Email)
	}
	for _, n := range r.NotFound {
		fmt.Fprintf(&b, "N%d:%s ", n.Row, n.Email)
	}
	for _, i := range r.Invalid {
		fmt.Fprintf(&b, "I%d:%q(%s) ", i.Row, i.Value, i.Reason)
	}
	return strings.TrimSpace(b.String())
}

func TestSelectReadsWhatSpreadsheetsExport(t *testing.T) {
	lookup := team("ann@acme.example", "bob@acme.example", "=1+2@acme.example")
	cases := map[string]struct{ in, want string }{
		"plain column, no header":                       {"ann@acme.example\nbob@acme.example\n", "M1:ann@acme.example M2:bob@acme.example"},
		"BOM, CRLF, header":                             {"\ufeffEmail\r\nANN@acme.example\r\n  bob@acme.example  \r\n", "M2:ann@acme.example M3:bob@acme.example"},
		"semicolon, Excel in Europe":                    {"Name;E-mail;Role\nAnn;ann@acme.example;user\nZed;zed@acme.example;user\n", "M2:ann@acme.example N3:zed@acme.example"},
		"tab separated":                                 {"Email Address\tTeam\nbob@acme.example\tx\n", "M2:bob@acme.example"},
		"quoted with delimiters and line breaks":        {"\"Name, full\",Email\n\"Ann\nSmith\",ann@acme.example\n\"B \"\"the\"\" b\",\"bob@acme.example\"\n", "M2:ann@acme.example M3:bob@acme.example"},
		"blank lines count as rows":                     {"email\n\nann@acme.example\n\n\nbob@acme.example", "M3:ann@acme.example M6:bob@acme.example"},
		"duplicates and invalid rows":                   {"email,name\nann@acme.example,A\nAnn@Acme.Example,B\nnot-an-email,C\n,Zed\n", `M2:ann@acme.example I3:"Ann@Acme.Example"(duplicate of row 2) I4:"not-an-email"(not an email address) I5:""(the email cell is empty)`},
		"email in another column without header":        {"Ann,ann@acme.example\nBob,bob@acme.example\n", "M1:ann@acme.example M2:bob@acme.example"},
		"short row":                                     {"Name,Email\nAnn\n", `I2:""(the row has no column 2)`},
		"a formula-looking address is still an address": {"=1+2@acme.example\n", "M1:=1+2@acme.example"},
		"only a header":                                 {"Email\n", ""},
		"empty file":                                    {"", ""},
		"old Mac line ends":                             {"email\rann@acme.example\rbob@acme.example", "M2:ann@acme.example M3:bob@acme.example"},
	}
	for name, c := range cases {
		res, err := Select(context.Background(), strings.NewReader(c.in), lookup)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := summarize(res); got != c.want {
			t.Errorf("%s:\n got  %s\n want %s", name, got, c.want)
		}
	}
}

func TestSelectRefusesOversizedFilesWhole(t *testing.T) {
	rows := strings.Repeat("a@b.example\n", MaxRows+1)
	if _, err := Select(context.Background(), strings.NewReader(rows), team()); !errors.Is(err, ErrTooManyRows) {
		t.Fatalf("too many rows: %v", err)
	}
	big := io.MultiReader(strings.NewReader("email\n"), strings.NewReader(strings.Repeat("x", MaxBytes)))
	if _, err := Select(context.Background(), big, team()); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("too large: %v", err)
	}
	exactly := strings.Repeat("a@b.example\n", MaxRows)
	if _, err := Select(context.Background(), strings.NewReader(exactly), team()); err != nil {
		t.Fatalf("50,000 rows: %v", err)
	}
}

// FuzzSelect: no input panics, memory stays bounded, and every non-blank
// data row is accounted for exactly once.
func FuzzSelect(f *testing.F) {
	for _, seed := range []string{
		"email\nann@acme.example\n", "\ufeffE-mail;Name\r\n\"a;b\"@x.example;\"multi\nline\"\r\n",
		"\"unterminated\nann@acme.example", "a\tb\tc\n1\t2\t3", "\"\"\"\"\n\"\"", ",,,\n;;;\n\t\t",
		"Email Address,Role\n=cmd|' /C calc'!A0,user\n+1@x.example,admin\n", "\r\r\n\n\r", "\xff\xfe\x00e\x00m",
		"\xff\xfee\x00@\x00x\x00.\x00y\x00\n\x00", "\xfe\xff\x00a\xd8\x3d", "Name;Mail\nJos\xe9;jose@acme.example\n", "Name,Phone\nAnn,1\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		res, header, err := selectRows(context.Background(), strings.NewReader(in), Options{}, team("ann@acme.example"))
		if err != nil {
			return
		}
		// Count the rows the reader sees, independently.
		text, _ := Decode(strings.NewReader(in))
		rd, _ := NewReader(text)
		data := 0
		for {
			rec, err := rd.Next()
			if err != nil {
				break
			}
			if rec.Cells != nil {
				data++
			}
		}
		if header {
			data--
		}
		if got := len(res.Matched) + len(res.NotFound) + len(res.Invalid); got != data {
			t.Fatalf("%d rows accounted for, %d data rows in %q", got, data, in)
		}
		for _, i := range res.Invalid {
			if len(i.Value) > MaxCellSize {
				t.Fatalf("a cell of %d bytes was kept", len(i.Value))
			}
		}
	})
}

// encodeUTF16 encodes s as UTF-16 with a byte-order mark, as Excel's "Unicode
// text" does (little-endian) or as some tools do (big-endian).
func encodeUTF16(s string, little bool) []byte {
	out := []byte{0xfe, 0xff}
	if little {
		out = []byte{0xff, 0xfe}
	}
	for _, c := range utf16Encode(s) {
		if little {
			out = append(out, byte(c), byte(c>>8))
		} else {
			out = append(out, byte(c>>8), byte(c))
		}
	}
	return out
}

func utf16Encode(s string) []uint16 {
	var out []uint16
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			out = append(out, uint16(0xd800+(r>>10)), uint16(0xdc00+(r&0x3ff)))
		} else {
			out = append(out, uint16(r))
		}
	}
	return out
}

func TestSelectReadsEveryTextEncodingSpreadsheetsSave(t *testing.T) {
	lookup := team("ann@acme.example", "josé@acme.example")
	unicodeText := "Name\tE-mail\r\nJosé 😀\tJOSÉ@acme.example\r\nAnn\tann@acme.example\r\n"
	cases := map[string]struct {
		in   []byte
		want string
	}{
		"UTF-16 LE with BOM (Excel Unicode text)": {encodeUTF16(unicodeText, true), "M2:josé@acme.example M3:ann@acme.example"},
		"UTF-16 BE with BOM":                      {encodeUTF16(unicodeText, false), "M2:josé@acme.example M3:ann@acme.example"},
		"UTF-8 with BOM":                          {[]byte("\ufeff" + unicodeText), "M2:josé@acme.example M3:ann@acme.example"},
		"Windows-1252 (Excel CSV on Windows)":     {[]byte("Name;Email\r\nJos\xe9 \x80;jos\xe9@acme.example\r\n"), "M2:josé@acme.example"},
		"Windows-1252 value kept readable":        {[]byte("Email\r\nbad\x93quote@\r\n"), "I2:\"bad\u201cquote@\"(not an email address)"},
		"UTF-16 with an odd last byte":            {append(encodeUTF16("ann@acme.example\n", true), 'x'), "M1:ann@acme.example I2:\"\uFFFD\"(not an email address)"},
	}
	for name, c := range cases {
		res, err := Select(context.Background(), bytes.NewReader(c.in), lookup)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := summarize(res); got != c.want {
			t.Errorf("%s:\n got  %s\n want %s", name, got, c.want)
		}
	}
	// A UTF-16 file is converted as it streams: past the sniffed window too.
	big := "email\n" + strings.Repeat("ann@acme.example\n", 10_000)
	res, err := Select(context.Background(), bytes.NewReader(encodeUTF16(big, true)), lookup)
	if err != nil || len(res.Matched) != 1 || len(res.Invalid) != 9_999 {
		t.Fatalf("long UTF-16 file: %v %d %d", err, len(res.Matched), len(res.Invalid))
	}
}

func TestSelectRefusesFilesThatAreNotText(t *testing.T) {
	zip := []byte("PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00b\xee\x9dh^\x01\x00\x00\x90\x04\x00\x00\x13\x00\x08\x02[Content_Types].xml")
	cases := map[string]struct {
		in   []byte
		what string
	}{
		"xlsx renamed .csv":  {zip, "an Excel workbook (.xlsx), an OpenDocument file or another zip archive"},
		"old xls":            {[]byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00"), "an old Excel workbook (.xls) or another Office file"},
		"PDF":                {[]byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"), "a PDF document"},
		"PNG":                {[]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "an image (PNG)"},
		"JPEG":               {[]byte("\xff\xd8\xff\xe0\x00\x10JFIF"), "an image (JPEG)"},
		"gzip":               {[]byte("\x1f\x8b\x08\x00"), "a compressed (gzip) file"},
		"NUL bytes":          {[]byte("email\nann@acme.example\x00\x00\x01\x02"), "binary data"},
		"UTF-16 without BOM": {encodeUTF16("email\nann@acme.example\n", true)[2:], "UTF-16 text without a byte-order mark; save it as CSV UTF-8 or Unicode text"},
		"UTF-32":             {[]byte("\xff\xfe\x00\x00e\x00\x00\x00"), "UTF-32 text, which is not supported; save it as CSV UTF-8"},
		"undefined in 1252":  {[]byte("email\nann\x81@acme.example\n"), "text in an encoding we cannot read; save it as CSV UTF-8"},
		"escape sequences":   {[]byte("email\n\x1b[31mann@acme.example\n"), "binary data"},
	}
	for name, c := range cases {
		_, err := Select(context.Background(), bytes.NewReader(c.in), team())
		var nt *NotTextError
		if !errors.As(err, &nt) || nt.What != c.what {
			t.Errorf("%s: %v, want not text (%s)", name, err, c.what)
		}
	}
	// Text that merely starts with the letters of a magic number is text.
	for _, in := range []string{"MZ@acme.example\n", "BZh@acme.example\n", "PK@acme.example\n"} {
		if _, err := Select(context.Background(), strings.NewReader(in), team()); err != nil {
			t.Errorf("%q: %v", in, err)
		}
	}
}

func TestSelectNeedsAColumnOfEmails(t *testing.T) {
	for name, in := range map[string]string{
		"names and phones":        "Name,Phone\nAnn,555-0100\nBob,555-0101\n",
		"one column, no @":        "Ann\nBob\nCy\n",
		"a header and no rows":    "Name,Phone\n",
		"the @ only after row 51": "Name\n" + strings.Repeat("Ann\n", 50) + "ann@acme.example\n",
	} {
		if _, err := Select(context.Background(), strings.NewReader(in), team()); !errors.Is(err, ErrNoEmailColumn) {
			t.Errorf("%s: %v, want no email column", name, err)
		}
	}
	lookup := team("ann@acme.example", "bob@acme.example")
	for name, c := range map[string]struct{ in, want string }{
		"a header that does not say email":  {"Name,Contact\nAnn,ann@acme.example\nBob,bob@acme.example\n", "M2:ann@acme.example M3:bob@acme.example"},
		"the column with most addresses":    {"Ann,manager@acme.example,ann@acme.example\nBob,x,bob@acme.example\n", "M1:ann@acme.example M2:bob@acme.example"},
		"mistyped addresses still a column": {"Email\nann@\nbob@@acme\n", `I2:"ann@"(not an email address) I3:"bob@@acme"(not an email address)`},
		"unnamed column of typos":           {"ann@\nbob@acme\n", `I1:"ann@"(not an email address) I2:"bob@acme"(the domain has no dot (name@example.com))`},
		"a header named Email, no rows":     {"Email\n", ""},
	} {
		res, err := Select(context.Background(), strings.NewReader(c.in), lookup)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := summarize(res); got != c.want {
			t.Errorf("%s:\n got  %s\n want %s", name, got, c.want)
		}
	}
}

func TestSelectWithAGivenDelimiter(t *testing.T) {
	in := "Smith, Ann\tann@acme.example\nDoe, Bob\tbob@acme.example\n"
	res, err := SelectWith(context.Background(), strings.NewReader(in), Options{Delimiter: '\t'}, team("ann@acme.example", "bob@acme.example"))
	if err != nil || summarize(res) != "M1:ann@acme.example M2:bob@acme.example" {
		t.Fatalf("%v %s", err, summarize(res))
	}
}

func TestTheLimitIsOnTheFileAsUploaded(t *testing.T) {
	// A UTF-16 file of 5 MiB is about 2.5 MiB of text: still refused, since
	// the limit is on what was uploaded.
	body := encodeUTF16("email\n"+strings.Repeat("a", MaxBytes/2), true)
	if _, err := Select(context.Background(), bytes.NewReader(body), team()); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("UTF-16 over 5 MiB: %v", err)
	}
	// Windows-1252 text just under 5 MiB grows when converted, and is accepted.
	row := append(bytes.Repeat([]byte("\x80"), 96), "@acme.example\n"...) // 110 bytes, 302 once converted
	w := append([]byte("email\n"), bytes.Repeat(row, (MaxBytes-6)/len(row))...)
	if _, err := Select(context.Background(), bytes.NewReader(w), team()); err != nil {
		t.Fatalf("Windows-1252 under 5 MiB: %v", err)
	}
}
