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

// Every email is machine-made: Auto-Submitted (RFC 3834) tells
// out-of-office responders not to answer it, so their replies do not
// reach the admin named in Reply-To.
const (
	AutoSubmittedHeader = "Auto-Submitted"
	AutoSubmitted       = "auto-generated"
)

// attachmentHeaders are an attachment's Content-Type (with name=) and
// Content-Disposition: an ASCII filename= every client reads, and, when
// the name is not ASCII, RFC 2231's filename*= beside it (clients that
// know it prefer it).
func attachmentHeaders(a Attachment) (contentType, disposition string) {
	ascii := asciiFileName(a.Name)
	mt, params, err := mime.ParseMediaType(a.ContentType)
	if err != nil {
		mt, params = "application/octet-stream", map[string]string{}
	}
	params["name"] = ascii
	contentType = mime.FormatMediaType(mt, params)
	disposition = mime.FormatMediaType("attachment", map[string]string{"filename": ascii})
	if ascii != a.Name {
		if full := mime.FormatMediaType("attachment", map[string]string{"filename": a.Name}); full != "" {
			disposition += strings.TrimPrefix(full, "attachment")
		}
	}
	return contentType, disposition
}

// asciiFileName is name with every character that is not printable
// ASCII, or that would end a quoted parameter, made "_".
func asciiFileName(name string) string {
	b := []rune(name)
	for i, r := range b {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "attachment"
	}
	return string(b)
}

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
		AutoSubmittedHeader+": "+AutoSubmitted,
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
		ct, disposition := attachmentHeaders(a)
		w, err := mixed.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {ct},
			"Content-Transfer-Encoding": {"base64"},
			"Content-Disposition":       {disposition},
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
