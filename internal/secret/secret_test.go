package secret

import "testing"

func TestSealOpenAndTamper(t *testing.T) {
	s := NewSealer([]byte("0123456789abcdef0123456789abcdef"), "invitation-token")
	sealed := s.Seal("the token")
	if got, err := s.Open(sealed); err != nil || got != "the token" {
		t.Fatalf("open: %q %v", got, err)
	}
	if s.Seal("the token") == sealed {
		t.Fatal("sealing is deterministic: the nonce is not random")
	}
	other := NewSealer([]byte("0123456789abcdef0123456789abcdef"), "something-else")
	if _, err := other.Open(sealed); err == nil {
		t.Fatal("a key for another purpose opened it")
	}
	b := []byte(sealed)
	b[len(b)-2] ^= 1
	for _, bad := range []string{string(b), "", "!!", sealed[:10]} {
		if _, err := s.Open(bad); err == nil {
			t.Fatalf("opened %q", bad)
		}
	}
}
