package local

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestVerifierAcceptsOnlyWhatTheAuthorizerWould(t *testing.T) {
	keys, err := NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	stranger, _ := NewKeys()
	v := NewVerifier(keys, Issuer, Audience)

	good, _ := keys.Mint("alice@example.com", TokenOptions{})
	claims, err := v.Verify("Bearer " + good)
	if err != nil {
		t.Fatalf("a good token was refused: %v", err)
	}
	if claims["email"] != "alice@example.com" || claims["sub"] == "" || claims["iss"] != Issuer {
		t.Fatalf("claims %v", claims)
	}

	forged, _ := stranger.Mint("alice@example.com", TokenOptions{})
	forged = strings.Replace(forged, strings.Split(forged, ".")[0], strings.Split(good, ".")[0], 1) // claim our kid
	expired, _ := keys.Mint("alice@example.com", TokenOptions{TTL: -time.Minute})
	wrongAud, _ := keys.Mint("alice@example.com", TokenOptions{Audience: "someone-else"})
	wrongIss, _ := keys.Mint("alice@example.com", TokenOptions{Issuer: "https://evil.example"})
	notYet, _ := keys.Mint("alice@example.com", TokenOptions{NotBefore: time.Now().Add(time.Hour)})
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"email": "alice@example.com", "iss": Issuer, "aud": Audience, "exp": time.Now().Add(time.Hour).Unix()})
	hmacToken, _ := hs.SignedString([]byte("guess"))
	none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"email": "alice@example.com", "iss": Issuer, "aud": Audience, "exp": time.Now().Add(time.Hour).Unix()})
	noneToken, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + parts[1] + "x." + parts[2]

	for name, header := range map[string]string{
		"missing": "", "not bearer": "Basic abc", "forged signature": "Bearer " + forged,
		"expired": "Bearer " + expired, "wrong audience": "Bearer " + wrongAud, "wrong issuer": "Bearer " + wrongIss,
		"not yet valid": "Bearer " + notYet, "HS256": "Bearer " + hmacToken, "alg none": "Bearer " + noneToken,
		"tampered payload": "Bearer " + tampered,
	} {
		if _, err := v.Verify(header); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
