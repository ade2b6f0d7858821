package integration

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/teamusers/usersapi/internal/local"
)

// selection is the csv-selection answer.
type selection struct {
	Matched []struct {
		Row             int
		Email, MemberID string
	}
	NotFound []struct {
		Row   int
		Email string
	}
	Invalid []struct {
		Row           int
		Value, Reason string
	}
}

func (s selection) String() string {
	var b strings.Builder
	for _, m := range s.Matched {
		fmt.Fprintf(&b, "M%d:%s ", m.Row, m.Email)
	}
	for _, n := range s.NotFound {
		fmt.Fprintf(&b, "N%d:%s ", n.Row, n.Email)
	}
	for _, i := range s.Invalid {
		fmt.Fprintf(&b, "I%d:%s(%s) ", i.Row, i.Value, i.Reason)
	}
	return strings.TrimSpace(b.String())
}

// xlsx is a small but real Office Open XML workbook: what an admin uploads
// after renaming team.xlsx to team.csv.
func xlsx(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for name, body := range map[string]string{
		"[Content_Types].xml":        `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>`,
		"xl/workbook.xml":            `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="Team" sheetId="1"/></sheets></workbook>`,
		"xl/worksheets/sheet1.xml":   `<?xml version="1.0" encoding="UTF-8"?><worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>ann@upload.example</t></is></c></row></sheetData></worksheet>`,
		"xl/sharedStrings.xml":       `<?xml version="1.0"?><sst count="0"/>`,
		"docProps/app.xml":           `<?xml version="1.0"?><Properties/>`,
		"xl/_rels/workbook.xml.rels": `<?xml version="1.0"?><Relationships/>`,
	} {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// unicodeText is what Excel's File > Save As > "Unicode Text" writes: UTF-16
// little-endian with a byte-order mark, tab-separated, CRLF.
func unicodeText(s string) []byte {
	out := []byte{0xff, 0xfe}
	for _, c := range utf16.Encode([]rune(s)) {
		out = append(out, byte(c), byte(c>>8))
	}
	return out
}

type formFile struct {
	field, name, contentType string
	body                     []byte
}

// browserForm builds the body a browser sends for a <form enctype=
// "multipart/form-data"> (or fetch with FormData): its own boundary, text
// fields first, then the files.
func browserForm(t *testing.T, fields map[string]string, files ...formFile) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if err := w.SetBoundary("----WebKitFormBoundary7MA4YWxkTrZu0gW"); err != nil {
		t.Fatal(err)
	}
	for k, v := range fields {
		w.WriteField(k, v)
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, f.field, f.name))
		h.Set("Content-Type", f.contentType)
		p, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		p.Write(f.body)
	}
	w.Close()
	return w.FormDataContentType(), b.Bytes()
}

func TestCSVSelectionTakesWhatBrowsersAndSpreadsheetsSend(t *testing.T) {
	team := newTeam(t, "pro", 10, "owner@upload.example")
	owner := token(t, "owner@upload.example", local.TokenOptions{})
	// An accented address, in its domain: an invitation refuses one beyond
	// ASCII before the @ (email cannot reach it).
	invite(t, team, owner, "ann@upload.example", "jose@josé.example")
	path := "/v1/teams/" + team + "/members/csv-selection"
	pick := func(name, ct string, body []byte, want string) {
		t.Helper()
		r := postRaw(t, path, owner, ct, body)
		if r.Status != 200 {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
			return
		}
		var s selection
		r.JSON(t, &s)
		if got := s.String(); got != want {
			t.Errorf("%s:\n got  %s\n want %s", name, got, want)
		}
	}
	csv := []byte("Name,Email\r\nAnn,ann@upload.example\r\nZed,zed@upload.example\r\n")
	want := "M2:ann@upload.example N3:zed@upload.example"
	pick("text/csv", "text/csv", csv, want)
	pick("Windows' type for .csv", "application/vnd.ms-excel", csv, want)
	pick("a .txt file", "text/plain; charset=utf-8", csv, want)
	pick("no type known", "application/octet-stream", csv, want)
	pick("tab-separated, commas in names", "text/tab-separated-values", []byte("Doe, Ann\tann@upload.example\n"), "M1:ann@upload.example")
	pick("Excel Unicode text (UTF-16 LE, BOM)", "text/plain",
		unicodeText("Name\tE-mail Address\r\nJosé Núñez\tJOSE@JOSÉ.example\r\nAnn\tann@upload.example\r\n"),
		"M2:jose@josé.example M3:ann@upload.example")
	pick("Excel CSV on Windows (Windows-1252)", "text/csv", []byte("Name;Email\r\nJos\xe9;jose@jos\xe9.example\r\n"), "M2:jose@josé.example")
	ct, form := browserForm(t, map[string]string{"purpose": "select"}, formFile{"file", "team.csv", "text/csv", csv})
	pick("multipart from a browser form", ct, form, want)
	ct, form = browserForm(t, nil, formFile{"upload", "Team export.txt", "text/plain", unicodeText("Email\r\nann@upload.example\r\n")})
	pick("multipart, Unicode text under another field name", ct, form, "M2:ann@upload.example")
	// curl -F 'file=<team.csv' sends the file as a plain field named "file".
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	w.WriteField("file", string(csv))
	w.Close()
	pick("multipart field named file", w.FormDataContentType(), b.Bytes(), want)
	// The multipart limit is on the file: a 4 MiB file (one row with long notes) is fine.
	long := []byte("Email,Notes\r\nann@upload.example,\"" + strings.Repeat("notes line\n", 4<<20/11) + "\"\r\n")
	ct, form = browserForm(t, nil, formFile{"file", "long.csv", "text/csv", long})
	pick("multipart, 4 MiB file", ct, form, "M2:ann@upload.example")
}

func TestCSVSelectionRefusesWhatIsNotACSVOfEmails(t *testing.T) {
	team := newTeam(t, "pro", 10, "owner@notcsv.example")
	owner := token(t, "owner@notcsv.example", local.TokenOptions{})
	invite(t, team, owner, "ann@notcsv.example")
	path := "/v1/teams/" + team + "/members/csv-selection"
	refuse := func(name, ct string, body []byte, status int, code, detail string) {
		t.Helper()
		r := postRaw(t, path, owner, ct, body)
		if c := r.Problem(t, status); c != code {
			t.Errorf("%s: %s, want %s", name, c, code)
		}
		var p struct{ Detail string }
		json.Unmarshal(r.Body, &p)
		if !strings.Contains(p.Detail, detail) {
			t.Errorf("%s: detail %q does not say %q", name, p.Detail, detail)
		}
	}
	book := xlsx(t)
	refuse("an .xlsx renamed .csv", "text/csv", book, 415, "not_csv", "Excel workbook (.xlsx)")
	ct, form := browserForm(t, nil, formFile{"file", "team.csv", "text/csv", book})
	refuse("an .xlsx in a form", ct, form, 415, "not_csv", "Excel workbook (.xlsx)")
	refuse("a PDF", "application/octet-stream", []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"), 415, "not_csv", "PDF")
	refuse("a PNG", "text/csv", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"), 415, "not_csv", "image")
	refuse("an old .xls", "application/vnd.ms-excel", []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"+strings.Repeat("\x00", 64)), 415, "not_csv", ".xls")
	refuse("binary", "text/csv", []byte("email\nann@notcsv.example\x00\x00\x03\x04"), 415, "not_csv", "binary")
	refuse("no column of emails", "text/csv", []byte("Name,Phone\r\nAnn,555-0100\r\nBob,555-0101\r\n"), 400, "no_email_column", "Email")
	refuse("JSON", "application/json", []byte(`{"emails":["ann@notcsv.example"]}`), 415, "unsupported_media_type", "text/csv")
	two := []formFile{{"file", "a.csv", "text/csv", []byte("ann@notcsv.example\n")}, {"file2", "b.csv", "text/csv", []byte("ann@notcsv.example\n")}}
	ct, form = browserForm(t, nil, two...)
	refuse("two files", ct, form, 400, "invalid_multipart", "one file")
	ct, form = browserForm(t, map[string]string{"note": "hello"})
	refuse("no file", ct, form, 400, "invalid_multipart", "no file")
	refuse("no boundary", "multipart/form-data", []byte("--x\r\n"), 400, "invalid_multipart", "boundary")
	refuse("a form cut short", "multipart/form-data; boundary=xyz", []byte("--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nann@notcsv.example\n"), 400, "invalid_body", "end")
	// In AWS a form's body reaches the function base64-encoded, and Lambda
	// takes at most 6 MB: a file near 5 MiB must come as text/csv.
	big := []byte("Email,Notes\r\nann@notcsv.example,\"" + strings.Repeat("notes line\n", (5<<20-1024)/11) + "\"\r\n")
	ct, form = browserForm(t, nil, formFile{"file", "big.csv", "text/csv", big})
	// API Gateway answers that itself, as AWS does (not problem+json).
	if r := postRaw(t, path, owner, ct, form); r.Status != 413 || !strings.Contains(string(r.Body), "Request Too Long") {
		t.Errorf("a 5 MiB file in a form: %d %s", r.Status, r.Body)
	}
	if r := postRaw(t, path, owner, "text/csv", big); r.Status != 200 {
		t.Errorf("the same file as text/csv: %d %s", r.Status, r.Body)
	}
	if s := summary(t, team, owner); s.Seats.Assigned != 2 {
		t.Fatalf("a refused upload changed the team: %+v", s)
	}
}
