// Package keyring derives purpose-specific keys from the stack's application
// secret and seals values that must be stored but not read (an invitation
// token waiting in the email outbox).
//
// The secret rotates (Secrets Manager keeps the current and the previous
// version), so a function holds a Keyring: every key version it knows,
// the current one first. What is made with a key (a sealed token, a list
// cursor) carries the key's id, and is opened with that key for as long as
// the version is kept: a rotation never breaks a cursor in a reader's
// hands or a token waiting in the outbox. A key id the ring does not know
// (a newer version, made by a function that started after the rotation)
// makes the ring reload the versions once, then answer.
package keyring

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"time"
)

// MinLength is the shortest secret accepted, in bytes.
const MinLength = 32

// Derive returns a 32-byte key for one purpose.
func Derive(secret []byte, purpose string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("usersapi/" + purpose))
	return h.Sum(nil)
}

// KeyID names a version of the secret without revealing it: 8 characters,
// derived from the secret itself, so every function computes the same id
// whichever way it loaded the version.
func KeyID(secret []byte) string {
	return base64.RawURLEncoding.EncodeToString(Derive(secret, "key-id")[:6])
}

// Key is one version of the secret.
type Key struct {
	ID     string
	Secret []byte
}

// Loader returns the versions of the secret, the current one first.
type Loader func(ctx context.Context) ([][]byte, error)

// Keyring holds the versions of the secret a function knows.
type Keyring struct {
	mu     sync.Mutex
	keys   []Key // current first
	load   Loader
	every  time.Duration
	loaded time.Time
	now    func() time.Time
}

// NewKeyring holds fixed versions, the current first (tests, the local stack).
func New(current []byte, older ...[]byte) *Keyring {
	k := &Keyring{now: time.Now}
	k.set(append([][]byte{current}, older...))
	return k
}

// LoadKeyring loads the versions once and reloads them, at most once per
// every, when asked for a key id it does not hold.
func LoadKeyring(ctx context.Context, load Loader, every time.Duration) (*Keyring, error) {
	versions, err := load(ctx)
	if err != nil {
		return nil, err
	}
	if len(versions) == 0 {
		return nil, errors.New("the secret has no current version")
	}
	for _, v := range versions {
		if len(v) < MinLength {
			return nil, errors.New("the secret is shorter than 32 bytes")
		}
	}
	// loaded stays zero: the first unknown id reloads at once (a rotation
	// may have happened a second after this cold start).
	k := &Keyring{load: load, every: every, now: time.Now}
	k.set(versions)
	return k, nil
}

func (k *Keyring) set(versions [][]byte) {
	keys := make([]Key, 0, len(versions))
	for _, v := range versions {
		keys = append(keys, Key{ID: KeyID(v), Secret: v})
	}
	k.keys = keys
}

// Current is the key new values are made with.
func (k *Keyring) Current() Key {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys[0]
}

// Keys are every version held, the current first.
func (k *Keyring) Keys() []Key {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]Key(nil), k.keys...)
}

// Find returns the key with id, reloading the versions first if the ring
// does not hold it and has not reloaded lately.
func (k *Keyring) Find(ctx context.Context, id string) (Key, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if key, ok := k.find(id); ok {
		return key, true
	}
	if k.load == nil || k.now().Sub(k.loaded) < k.every {
		return Key{}, false
	}
	k.loaded = k.now()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	versions, err := k.load(ctx)
	if err != nil || len(versions) == 0 {
		return Key{}, false
	}
	for _, v := range versions {
		if len(v) < MinLength {
			return Key{}, false
		}
	}
	k.set(versions)
	return k.find(id)
}

func (k *Keyring) find(id string) (Key, bool) {
	for _, key := range k.keys {
		if key.ID == id {
			return key, true
		}
	}
	return Key{}, false
}

// Sealer encrypts and authenticates small values with AES-256-GCM under
// the ring's current key, for one purpose.
type Sealer struct {
	ring    *Keyring
	purpose string
	mu      sync.Mutex
	aeads   map[string]cipher.AEAD // by key id
}

// Sealer keys a sealer for purpose.
func (k *Keyring) Sealer(purpose string) *Sealer {
	return &Sealer{ring: k, purpose: purpose, aeads: map[string]cipher.AEAD{}}
}

// NewSealer is a sealer over one fixed secret.
func NewSealer(secret []byte, purpose string) *Sealer {
	return New(secret).Sealer(purpose)
}

func (s *Sealer) aead(key Key) cipher.AEAD {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.aeads[key.ID]; ok {
		return a
	}
	block, err := aes.NewCipher(Derive(key.Secret, s.purpose))
	if err != nil {
		panic(err) // a 32-byte key never fails
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	s.aeads[key.ID] = a
	return a
}

// Seal encrypts v: "<key id>.<nonce and ciphertext, base64url>".
func (s *Sealer) Seal(v string) string {
	key := s.ring.Current()
	a := s.aead(key)
	nonce := make([]byte, a.NonceSize())
	_, _ = rand.Read(nonce)
	return key.ID + "." + base64.RawURLEncoding.EncodeToString(a.Seal(nonce, nonce, []byte(v), nil))
}

var errNotSealed = errors.New("not a sealed value")

// ErrUnknownKey is a value sealed under a version of the secret this
// function does not hold even after reloading: made by a newer version it
// cannot read yet, or by one dropped long ago. Retrying later may work.
var ErrUnknownKey = errors.New("sealed under a version of the secret that is not held")

// Open decrypts what Seal made with any version the ring holds. A value
// without a key id (sealed before keys had versions) is tried with each.
func (s *Sealer) Open(sealed string) (string, error) {
	return s.OpenContext(context.Background(), sealed)
}

// OpenContext is Open with the context a reload of the versions runs in
// (bounded to a few seconds).
func (s *Sealer) OpenContext(ctx context.Context, sealed string) (string, error) {
	id, data, tagged := strings.Cut(sealed, ".")
	if !tagged {
		data = sealed
		for _, key := range s.ring.Keys() {
			if v, err := s.open(key, data); err == nil {
				return v, nil
			}
		}
		return "", errNotSealed
	}
	key, ok := s.ring.Find(ctx, id)
	if !ok {
		return "", ErrUnknownKey
	}
	return s.open(key, data)
}

func (s *Sealer) open(key Key, data string) (string, error) {
	a := s.aead(key)
	b, err := base64.RawURLEncoding.DecodeString(data)
	if err != nil || len(b) < a.NonceSize() {
		return "", errNotSealed
	}
	out, err := a.Open(nil, b[:a.NonceSize()], b[a.NonceSize():], nil)
	if err != nil {
		return "", errNotSealed
	}
	return string(out), nil
}
