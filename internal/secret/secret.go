// Package secret derives purpose-specific keys from the stack's one
// application secret and seals values that must be stored but not read
// (an invitation token waiting in the email outbox).
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
)

// Derive returns a 32-byte key for one purpose.
func Derive(secret []byte, purpose string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("usersapi/" + purpose))
	return h.Sum(nil)
}

// Sealer encrypts and authenticates small values with AES-256-GCM.
type Sealer struct{ aead cipher.AEAD }

// NewSealer keys a sealer for purpose.
func NewSealer(secret []byte, purpose string) *Sealer {
	block, err := aes.NewCipher(Derive(secret, purpose))
	if err != nil {
		panic(err) // a 32-byte key never fails
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &Sealer{aead: aead}
}

// Seal encrypts v.
func (s *Sealer) Seal(v string) string {
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, []byte(v), nil))
}

// Open decrypts what Seal made.
func (s *Sealer) Open(sealed string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(b) < s.aead.NonceSize() {
		return "", errors.New("not a sealed value")
	}
	out, err := s.aead.Open(nil, b[:s.aead.NonceSize()], b[s.aead.NonceSize():], nil)
	if err != nil {
		return "", errors.New("not a sealed value")
	}
	return string(out), nil
}
