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
