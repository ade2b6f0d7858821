package users

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewID returns a random 128-bit id with a readable prefix, e.g. "m_…".
func NewID(prefix string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails on supported platforms
	return prefix + "_" + strings.ToLower(idEncoding.EncodeToString(b))
}

// PrintableASCII reports whether s has only visible ASCII characters (no
// spaces): what identifiers chosen by callers, such as idempotency keys and
// billing account ids, may hold.
func PrintableASCII(s string) bool {
	for _, c := range s {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}
