package users

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"strings"
	"time"
)

// SCIMToken is a team's credential for its identity provider (Okta,
// Microsoft Entra ID…): the bearer of the token provisions the team's
// members through the SCIM service. Only the SHA-256 of the token is
// stored; the token itself is shown once, when it is made.
type SCIMToken struct {
	ID        string
	TeamID    string
	Name      string // what the admin called it ("Okta"); the audit log's actor
	Hash      string // HashToken of the whole token
	CreatedAt time.Time
	CreatedBy string // the admin who made it
}

// MaxSCIMTokens bounds a team's live tokens: one per identity provider,
// and a spare while one is rotated, with room to spare.
const MaxSCIMTokens = 10

// scimTokenPrefix starts every token, so a leaked one is recognisable
// (secret scanners, logs) and never taken for another kind of token.
const scimTokenPrefix = "scim"

// NewSCIMToken makes a token for a team: the secret the admin copies, and
// the record that is stored (its hash only). The token names its team and
// its own id, so checking it is one read of exactly the items it needs:
//
//	scim.<teamId>.<tokenId>.<43 characters: 256 random bits, base64url>
func NewSCIMToken(teamID, name, createdBy string, now time.Time) (secret string, t SCIMToken) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	id := NewID("sk")
	secret = strings.Join([]string{scimTokenPrefix, teamID, id, base64.RawURLEncoding.EncodeToString(b)}, ".")
	return secret, SCIMToken{ID: id, TeamID: teamID, Name: name, Hash: HashToken(secret), CreatedAt: now, CreatedBy: createdBy}
}

// ParseSCIMToken reads the team and token ids a presented token names. It
// proves nothing: Matches does, against the stored hash.
func ParseSCIMToken(s string) (teamID, tokenID string, ok bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 || parts[0] != scimTokenPrefix || len(parts[3]) != 43 {
		return "", "", false
	}
	for _, id := range parts[1:3] {
		if id == "" || len(id) > 64 || !PrintableASCII(id) {
			return "", "", false
		}
	}
	return parts[1], parts[2], true
}

// Matches compares a presented token with the stored hash in constant time.
func (t SCIMToken) Matches(presented string) bool {
	return t.Hash != "" && subtle.ConstantTimeCompare([]byte(t.Hash), []byte(HashToken(presented))) == 1
}
