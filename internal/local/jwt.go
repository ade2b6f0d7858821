package local

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The local identity provider's issuer and audience: what the deployed
// stack's JwtIssuer and JwtAudience parameters are to a Cognito user pool.
const (
	Issuer   = "https://issuer.usersapi.local"
	Audience = "usersapi-portal"
)

// Keys is the local identity provider: an RSA key that signs tokens and the
// JWKS that the gateway verifies them against, as the HTTP API's JWT
// authorizer verifies a user pool's tokens.
type Keys struct {
	key *rsa.PrivateKey
	kid string
}

// NewKeys makes a fresh key (tests).
func NewKeys() (*Keys, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return newKeys(k), nil
}

func newKeys(k *rsa.PrivateKey) *Keys {
	sum := sha256.Sum256(k.PublicKey.N.Bytes())
	return &Keys{key: k, kid: base64.RawURLEncoding.EncodeToString(sum[:8])}
}

// LoadOrCreateKeys keeps the key in a file so that tokens printed by
// `make token` stay valid across `make run` restarts.
func LoadOrCreateKeys(path string) (*Keys, error) {
	if b, err := os.ReadFile(path); err == nil {
		blk, _ := pem.Decode(b)
		if blk == nil {
			return nil, fmt.Errorf("%s: not a PEM key", path)
		}
		k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return newKeys(k), nil
	}
	keys, err := NewKeys()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(keys.key)})
	if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
		return nil, err
	}
	return keys, nil
}

// TokenOptions shape a minted token; the zero value is a valid token.
type TokenOptions struct {
	TTL       time.Duration // default 12h; negative makes an expired token
	Issuer    string        // default Issuer
	Audience  string        // default Audience
	NotBefore time.Time
	Sub       string // default derived from the email
	// Unverified mints a token whose email_verified claim is false; by
	// default the identity provider has verified the address.
	Unverified bool
}

// Mint signs a token for email.
func (k *Keys) Mint(email string, o TokenOptions) (string, error) {
	now := time.Now()
	if o.TTL == 0 {
		o.TTL = 12 * time.Hour
	}
	if o.Issuer == "" {
		o.Issuer = Issuer
	}
	if o.Audience == "" {
		o.Audience = Audience
	}
	if o.Sub == "" {
		sum := sha256.Sum256([]byte(strings.ToLower(email)))
		o.Sub = fmt.Sprintf("%x", sum[:16])
	}
	claims := jwt.MapClaims{
		"sub": o.Sub, "email": email, "iss": o.Issuer, "aud": o.Audience,
		"iat": now.Unix(), "exp": now.Add(o.TTL).Unix(), "token_use": "id", "email_verified": !o.Unverified,
	}
	if !o.NotBefore.IsZero() {
		claims["nbf"] = o.NotBefore.Unix()
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = k.kid
	return t.SignedString(k.key)
}

// JWKS is the public key set, as an identity provider publishes it.
func (k *Keys) JWKS() []byte {
	pub := k.key.PublicKey
	b, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.kid,
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
	return b
}

// Verifier checks bearer tokens the way the HTTP API JWT authorizer does:
// an RS256 signature by a key of the JWKS, the issuer, the audience, and the
// exp and nbf times. It returns the claims as the authorizer passes them on.
type Verifier struct {
	keys     map[string]*rsa.PublicKey
	issuer   string
	audience string
}

// NewVerifier trusts the given keys for the given issuer and audience.
func NewVerifier(k *Keys, issuer, audience string) *Verifier {
	return &Verifier{keys: map[string]*rsa.PublicKey{k.kid: &k.key.PublicKey}, issuer: issuer, audience: audience}
}

var errUnauthorized = errors.New("unauthorized")

// Verify validates the Authorization header's token.
func (v *Verifier) Verify(header string) (map[string]string, error) {
	raw := strings.TrimSpace(header)
	if len(raw) > 7 && strings.EqualFold(raw[:7], "bearer ") {
		raw = strings.TrimSpace(raw[7:])
	}
	if raw == "" {
		return nil, errUnauthorized
	}
	p := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(v.issuer),
		jwt.WithAudience(v.audience), jwt.WithExpirationRequired())
	claims := jwt.MapClaims{}
	_, err := p.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if k, ok := v.keys[kid]; ok {
			return k, nil
		}
		return nil, errUnauthorized
	})
	if err != nil {
		return nil, errUnauthorized
	}
	out := make(map[string]string, len(claims))
	for name, val := range claims {
		switch x := val.(type) {
		case string:
			out[name] = x
		case float64:
			out[name] = fmt.Sprintf("%.0f", x)
		default:
			out[name] = fmt.Sprint(x)
		}
	}
	return out, nil
}
