package emails

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
)

// An attachment's name reaches every client: an ASCII filename= (and
// name= on its type) that any reader takes, and the whole name in RFC
// 2231's filename*= when it is not ASCII; neither can end the header.
func TestAttachmentNamesHaveAnASCIIFallback(t *testing.T) {
	for _, c := range []struct{ name, ascii string }{
		{"usage-acme-2026-11.csv", "usage-acme-2026-11.csv"},
		{"usage-café-zürich-2026-11.csv", "usage-caf_-z_rich-2026-11.csv"},
		{"usage \"x\"\r\n.csv", "usage _x___.csv"},
	} {
		raw, err := RawMIME("Ops <ops@example.com>", Message{To: "a@example.com", Subject: "s", Text: "t", HTML: "<p>t</p>",
			Attachments: []Attachment{{Name: c.name, ContentType: "text/csv; charset=utf-8", Data: []byte("a,b\r\n")}}})
		if err != nil {
			t.Fatal(err)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
		r := multipart.NewReader(msg.Body, params["boundary"])
		var found bool
		for {
			p, err := r.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			disp := p.Header.Get("Content-Disposition")
			if !strings.HasPrefix(disp, "attachment") {
				continue
			}
			found = true
			if !strings.Contains(disp, `filename="`+c.ascii+`"`) && !strings.Contains(disp, "filename="+c.ascii) {
				t.Errorf("%q: disposition %q has no ASCII filename %q", c.name, disp, c.ascii)
			}
			if _, dp, err := mime.ParseMediaType(disp); err != nil || dp["filename"] != c.name {
				t.Errorf("%q: a reader of RFC 2231 gets %q (%v)", c.name, dp["filename"], err)
			}
			if _, tp, err := mime.ParseMediaType(p.Header.Get("Content-Type")); err != nil || tp["name"] != c.ascii || tp["charset"] != "utf-8" {
				t.Errorf("%q: content type %q", c.name, p.Header.Get("Content-Type"))
			}
		}
		if !found {
			t.Errorf("%q: no attachment part", c.name)
		}
	}
}
