package testkit

import (
	"testing"

	"github.com/teamusers/usersapi/internal/local"
)

// Token is a bearer token for email that the local gateway's authorizer
// accepts (keys: the stack's).
func Token(t testing.TB, keys *local.Keys, email string, o local.TokenOptions) string {
	t.Helper()
	tok, err := keys.Mint(email, o)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
