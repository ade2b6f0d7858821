package emails

import (
	"bytes"
	"encoding/base64"
	"errors"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"strings"
	"time"
)

// RawMIME builds a multipart/mixed message: the text and HTML bodies as
// alternatives, then each attachment in base64. from is a mailbox made by
// FormatAddress; the recipient and Reply-To must be plain addresses
// (cleanAddress), the subject is made one line and encoded (RFC 2047,
// folded between encoded-words), so no value can add or end a header.
func RawMIME(from string, m Message) ([]byte, error) {
	if strings.ContainsAny(from, "\r\n") {
		return nil, errors.New("the sender has a line break")
	}
	to := cleanAddress(m.To)
	if to == "" {
		return nil, errors.New("the recipient is not a plain address")
	}
	var b bytes.Buffer
	mixed := multipart.NewWriter(&b)
	subject := mime.QEncoding.Encode("utf-8", headerText(m.Subject, maxSubject))
	head := []string{
		"From: " + from,
		"To: " + to,
	}
	if r := cleanAddress(m.ReplyTo); r != "" {
		head = append(head, "Reply-To: "+r)
	}
	head = append(head,
		"Subject: "+strings.ReplaceAll(subject, "?= =?", "?=\r\n =?"),
		"Date: "+time.Now().UTC().Format(time.RFC1123Z),
		"MIME-Version: 1.0",
		"Content-Type: multipart/mixed; boundary="+mixed.Boundary(),
	)
	var out bytes.Buffer
	out.WriteString(strings.Join(head, "\r\n") + "\r\n\r\n")

	var alt bytes.Buffer
	altW := multipart.NewWriter(&alt)
	for _, part := range []struct{ ct, body string }{{"text/plain; charset=utf-8", m.Text}, {"text/html; charset=utf-8", m.HTML}} {
		w, err := altW.CreatePart(textproto.MIMEHeader{"Content-Type": {part.ct}, "Content-Transfer-Encoding": {"quoted-printable"}})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(part.body)); err != nil {
			return nil, err
		}
		qp.Close()
	}
	altW.Close()
	w, err := mixed.CreatePart(textproto.MIMEHeader{"Content-Type": {"multipart/alternative; boundary=" + altW.Boundary()}})
	if err != nil {
		return nil, err
	}
	w.Write(alt.Bytes())
	for _, a := range m.Attachments {
		w, err := mixed.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {a.ContentType},
			"Content-Transfer-Encoding": {"base64"},
			"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": a.Name})},
		})
		if err != nil {
			return nil, err
		}
		enc := base64.StdEncoding.EncodeToString(a.Data)
		for len(enc) > 76 {
			w.Write([]byte(enc[:76] + "\r\n"))
			enc = enc[76:]
		}
		w.Write([]byte(enc + "\r\n"))
	}
	mixed.Close()
	out.Write(b.Bytes())
	return out.Bytes(), nil
}
