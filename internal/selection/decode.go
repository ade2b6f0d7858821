package selection

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// NotTextError refuses a file that is not text: a spreadsheet, an archive,
// a PDF, an image or other binary data. What says what it looks like, in
// words for the admin who picked it.
type NotTextError struct{ What string }

func (e *NotTextError) Error() string { return "the file is " + e.What + ", not a CSV text file" }

// magic numbers of the files admins pick by mistake instead of a CSV.
var magic = []struct {
	prefix, what string
}{
	{"PK\x03\x04", "an Excel workbook (.xlsx), an OpenDocument file or another zip archive"},
	{"PK\x05\x06", "a zip archive"},
	{"PK\x07\x08", "a zip archive"},
	{"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel workbook (.xls) or another Office file"},
	{"%PDF-", "a PDF document"},
	{"\x89PNG\r\n\x1a\n", "an image (PNG)"},
	{"\xff\xd8\xff", "an image (JPEG)"},
	{"GIF87a", "an image (GIF)"},
	{"GIF89a", "an image (GIF)"},
	{"II*\x00", "an image (TIFF)"},
	{"MM\x00*", "an image (TIFF)"},
	{"\x1f\x8b", "a compressed (gzip) file"},
	{"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"},
	{"Rar!\x1a\x07", "a RAR archive"},
	{"\xfd7zXZ\x00", "a compressed (xz) file"},
	{"BZh", ""}, // checked below: bzip2 only with its block magic
	{"{\\rtf", "a rich text (RTF) document"},
	{"\x7fELF", "a program"},
	{"MZ", ""}, // checked below: a Windows program only with its PE header
	{"\xff\xfe\x00\x00", "UTF-32 text, which is not supported; save it as CSV UTF-8"},
	{"\x00\x00\xfe\xff", "UTF-32 text, which is not supported; save it as CSV UTF-8"},
}

// Decode checks that a selection file is text and returns it as UTF-8:
//
//   - a UTF-8 byte-order mark is dropped;
//   - UTF-16 with a byte-order mark (Excel's "Unicode text", little- or
//     big-endian) is converted;
//   - without a mark, text that is valid UTF-8 is read as UTF-8, and
//     anything else as Windows-1252, which is what Excel's plain "CSV" saves
//     on Windows (accented names come out right instead of garbled);
//   - a file that starts like a spreadsheet, an archive, a PDF or an image,
//     or has bytes no text has (NUL and the other C0 controls but tab, line
//     ends, form feed and Ctrl-Z) in its first 64 KiB, is a *NotTextError.
func Decode(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, sniffBytes)
	head, err := br.Peek(sniffBytes)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	for _, m := range magic {
		if !bytes.HasPrefix(head, []byte(m.prefix)) {
			continue
		}
		switch {
		case m.prefix == "BZh" && !bytes.Contains(head[:min(len(head), 10)], []byte("1AY&SY")):
			continue
		case m.prefix == "MZ" && !bytes.Contains(head[:min(len(head), 1024)], []byte("PE\x00\x00")):
			continue
		case m.what == "":
			return nil, &NotTextError{What: "a compressed (bzip2) file"}
		}
		return nil, &NotTextError{What: m.what}
	}
	switch {
	case bytes.HasPrefix(head, []byte("\xef\xbb\xbf")):
		_, _ = br.Discard(3)
		return br, nil
	case bytes.HasPrefix(head, []byte("\xff\xfe")):
		_, _ = br.Discard(2)
		return &utf16Reader{r: br, little: true}, nil
	case bytes.HasPrefix(head, []byte("\xfe\xff")):
		_, _ = br.Discard(2)
		return &utf16Reader{r: br}, nil
	}
	for _, c := range head {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\v' && c != '\f' && c != 0x1a {
			if c == 0 && looksUTF16(head) {
				return nil, &NotTextError{What: "UTF-16 text without a byte-order mark; save it as CSV UTF-8 or Unicode text"}
			}
			return nil, &NotTextError{What: "binary data"}
		}
	}
	if validUTF8Prefix(head) {
		return br, nil
	}
	for _, c := range head {
		if c >= 0x80 && c <= 0x9f && cp1252[c-0x80] == 0xfffd {
			return nil, &NotTextError{What: "text in an encoding we cannot read; save it as CSV UTF-8"}
		}
	}
	return &cp1252Reader{r: br}, nil
}

// validUTF8Prefix is utf8.Valid, forgiving a rune cut by the end of the
// sniffed window.
func validUTF8Prefix(b []byte) bool {
	if utf8.Valid(b) {
		return true
	}
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			return !utf8.FullRune(b[i:]) && utf8.Valid(b[:i])
		}
	}
	return false
}

// looksUTF16 spots ASCII text stored as UTF-16: a NUL in every other byte.
func looksUTF16(b []byte) bool {
	n := min(len(b), 512) &^ 1
	if n < 8 {
		return false
	}
	even, odd := 0, 0
	for i := 0; i < n; i += 2 {
		if b[i] == 0 {
			even++
		}
		if b[i+1] == 0 {
			odd++
		}
	}
	return even*10 >= n/2*9 || odd*10 >= n/2*9
}

// utf16Reader converts UTF-16 to UTF-8 as it is read. An unpaired
// surrogate or an odd last byte becomes U+FFFD.
type utf16Reader struct {
	r      *bufio.Reader
	little bool
	out    []byte // converted, not yet returned
	buf    []byte // out's storage, reused
	high   rune   // a high surrogate waiting for its pair
	in     [4096]byte
	odd    int // 0 or 1 byte carried over from the last read
	eof    bool
}

func (u *utf16Reader) Read(p []byte) (int, error) {
	for len(u.out) == 0 {
		if u.eof {
			return 0, io.EOF
		}
		u.out = u.buf[:0]
		n, err := u.r.Read(u.in[u.odd:])
		n += u.odd
		if err == io.EOF {
			u.eof = true
		} else if err != nil {
			return 0, err
		}
		even := n &^ 1
		for i := 0; i < even; i += 2 {
			var c rune
			if u.little {
				c = rune(u.in[i]) | rune(u.in[i+1])<<8
			} else {
				c = rune(u.in[i])<<8 | rune(u.in[i+1])
			}
			u.emit(c)
		}
		u.odd = n - even
		if u.odd == 1 {
			u.in[0] = u.in[even]
		}
		u.buf = u.out
		if u.eof {
			if u.high != 0 {
				u.out = utf8.AppendRune(u.out, utf8.RuneError)
				u.high = 0
			}
			if u.odd == 1 {
				u.out = utf8.AppendRune(u.out, utf8.RuneError)
				u.odd = 0
			}
		}
	}
	n := copy(p, u.out)
	u.out = u.out[n:]
	return n, nil
}

func (u *utf16Reader) emit(c rune) {
	switch {
	case u.high != 0 && utf16.IsSurrogate(c) && c >= 0xdc00:
		u.out = utf8.AppendRune(u.out, utf16.DecodeRune(u.high, c))
		u.high = 0
		return
	case u.high != 0:
		u.out = utf8.AppendRune(u.out, utf8.RuneError)
		u.high = 0
	}
	switch {
	case c >= 0xd800 && c < 0xdc00:
		u.high = c
	case utf16.IsSurrogate(c):
		u.out = utf8.AppendRune(u.out, utf8.RuneError)
	default:
		u.out = utf8.AppendRune(u.out, c)
	}
}

// cp1252 maps the bytes 0x80–0x9F of Windows-1252; the rest of its upper
// half is Latin-1. U+FFFD marks the five bytes it leaves undefined.
var cp1252 = [32]rune{
	0x20ac, 0xfffd, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0xfffd, 0x017d, 0xfffd,
	0xfffd, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0xfffd, 0x017e, 0x0178,
}

// cp1252Reader converts Windows-1252 to UTF-8 as it is read.
type cp1252Reader struct {
	r   *bufio.Reader
	out []byte
	buf []byte
	in  [4096]byte
}

func (c *cp1252Reader) Read(p []byte) (int, error) {
	for len(c.out) == 0 {
		c.out = c.buf[:0]
		n, err := c.r.Read(c.in[:])
		for _, b := range c.in[:n] {
			switch {
			case b < 0x80:
				c.out = append(c.out, b)
			case b < 0xa0:
				c.out = utf8.AppendRune(c.out, cp1252[b-0x80])
			default:
				c.out = utf8.AppendRune(c.out, rune(b))
			}
		}
		c.buf = c.out
		if err != nil && len(c.out) == 0 {
			return 0, err
		}
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	return n, nil
}

// limited counts the file's own bytes: the 5 MiB limit is on the file as
// uploaded, whatever its encoding.
type limited struct {
	r io.Reader
	n int64
}

func (l *limited) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > MaxBytes {
		return n, ErrTooLarge
	}
	return n, err
}
