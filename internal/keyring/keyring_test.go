package keyring

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

var (
	k0 = []byte("0123456789abcdef0123456789abcdef")
	k1 = []byte("the next version of the secret, 32+")
	k2 = []byte("and the one after that, also 32 bytes")
)

func TestSealOpenAndTamper(t *testing.T) {
	s := NewSealer(k0, "invitation-token")
	sealed := s.Seal("the token")
	if got, err := s.Open(sealed); err != nil || got != "the token" {
		t.Fatalf("open: %q %v", got, err)
	}
	if !strings.HasPrefix(sealed, KeyID(k0)+".") {
		t.Fatalf("sealed value does not name its key version: %q", sealed)
	}
	if s.Seal("the token") == sealed {
		t.Fatal("sealing is deterministic: the nonce is not random")
	}
	other := NewSealer(k0, "something-else")
	if _, err := other.Open(sealed); err == nil {
		t.Fatal("a key for another purpose opened it")
	}
	b := []byte(sealed)
	b[len(b)-2] ^= 1
	id, data, _ := strings.Cut(sealed, ".")
	for _, bad := range []string{string(b), "", "!!", sealed[:10], ".", id + ".", "nokey123." + data, KeyID(k1) + "." + data} {
		if _, err := s.Open(bad); err == nil {
			t.Fatalf("opened %q", bad)
		}
	}
}

// A value made under the previous version still opens during a rotation;
// once that version is dropped, it does not.
func TestRotationKeepsThePreviousVersionOpen(t *testing.T) {
	before := New(k0).Sealer("invitation-token")
	sealed := before.Seal("made before the rotation")

	during := New(k1, k0).Sealer("invitation-token")
	if got, err := during.Open(sealed); err != nil || got != "made before the rotation" {
		t.Fatalf("the previous version no longer opens: %q %v", got, err)
	}
	if fresh := during.Seal("x"); !strings.HasPrefix(fresh, KeyID(k1)+".") {
		t.Fatalf("new values are not made with the current version: %q", fresh)
	}
	after := New(k2, k1).Sealer("invitation-token")
	if _, err := after.Open(sealed); err == nil {
		t.Fatal("a value opened after its version was dropped")
	}
}

// Values sealed before keys had versions (no key id) open with any held version.
func TestLegacyValuesWithoutKeyID(t *testing.T) {
	block, _ := aes.NewCipher(Derive(k0, "invitation-token"))
	a, _ := cipher.NewGCM(block)
	nonce := make([]byte, a.NonceSize())
	_, _ = rand.Read(nonce)
	legacy := base64.RawURLEncoding.EncodeToString(a.Seal(nonce, nonce, []byte("old"), nil))
	if got, err := New(k1, k0).Sealer("invitation-token").Open(legacy); err != nil || got != "old" {
		t.Fatalf("legacy value: %q %v", got, err)
	}
}

// A function that started before a rotation meets a value made by one that
// started after it: the ring reloads the versions once and opens it; an
// unknown id does not reload again until the interval has passed.
func TestUnknownKeyIDReloadsOnce(t *testing.T) {
	versions := [][]byte{k0}
	loads := 0
	load := func(context.Context) ([][]byte, error) {
		loads++
		return versions, nil
	}
	ring, err := LoadKeyring(context.Background(), load, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	ring.now = func() time.Time { return clock }

	versions = [][]byte{k1, k0} // rotated in Secrets Manager
	newer := New(k1, k0).Sealer("invitation-token").Seal("from a newer function")
	s := ring.Sealer("invitation-token")
	if got, err := s.Open(newer); err != nil || got != "from a newer function" {
		t.Fatalf("did not reload on an unknown key id: %q %v", got, err)
	}
	if loads != 2 || ring.Current().ID != KeyID(k1) {
		t.Fatalf("loads %d, current %s", loads, ring.Current().ID)
	}
	for range 10 {
		if _, err := s.Open("unknown1." + strings.Repeat("A", 40)); err != ErrUnknownKey {
			t.Fatalf("an unknown key id: %v", err)
		}
	}
	if loads != 2 {
		t.Fatalf("unknown ids reloaded %d times within the interval", loads-2)
	}
	clock = clock.Add(2 * time.Minute)
	_, _ = s.Open("unknown1." + strings.Repeat("A", 40))
	if loads != 3 {
		t.Fatalf("no reload after the interval: %d loads", loads)
	}
}

func TestLoadKeyringRefusesShortOrMissingSecrets(t *testing.T) {
	for name, versions := range map[string][][]byte{"none": nil, "short": {[]byte("short")}, "short previous": {k0, []byte("x")}} {
		load := func(context.Context) ([][]byte, error) { return versions, nil }
		if _, err := LoadKeyring(context.Background(), load, time.Minute); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
