package selection

import (
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
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		res, err := Select(context.Background(), strings.NewReader(in), team("ann@acme.example"))
		if err != nil {
			return
		}
		// Count the rows the reader sees, independently.
		rd, _ := NewReader(strings.NewReader(in))
		data, first := 0, true
		for {
			rec, err := rd.Next()
			if err != nil {
				break
			}
			if rec.Cells == nil {
				continue
			}
			if first {
				first = false
				if headerColumn(rec.Cells) >= 0 {
					continue
				}
			}
			data++
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
