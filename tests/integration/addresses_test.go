package integration

import (
	"testing"

	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/users"
)

// Addresses nobody should be invited at come back as invalid_email with a
// reason the portal can show, and take no seat.
func TestInvalidEmailsSayWhy(t *testing.T) {
	team := newTeam(t, "pro", 20, "owner@addr.example")
	admin := token(t, "owner@addr.example", local.TokenOptions{})
	want := map[string]string{
		"user@[127.0.0.1]":          users.ReasonAddressLiteral,
		"user@[IPv6:2001:db8::1]":   users.ReasonAddressLiteral,
		"user@10.0.0.1":             users.ReasonAddressLiteral,
		`"john..doe"@addr.example`:  users.ReasonQuoted,
		"Ann <ann@addr.example>":    users.ReasonDecorated,
		"ann@addr.example, bob@x.y": users.ReasonSeveral,
		"ann smith@addr.example":    users.ReasonSpace,
		"user@localhost":            users.ReasonDomainNoDot,
		"user@addr_example.com":     users.ReasonDomainMalformed,
		"not-an-email":              users.ReasonNotAnEmail,
		"":                          users.ReasonEmpty,
	}
	var emails []string
	for e := range want {
		emails = append(emails, e)
	}
	emails = append(emails, "fine@addr.example")
	res := invite(t, team, admin, emails...)
	for i, r := range res.Results {
		if emails[i] == "fine@addr.example" {
			if r.Result != "invited" || r.Reason != "" {
				t.Errorf("a good address: %+v", r)
			}
			continue
		}
		if r.Result != "invalid_email" || r.Reason != want[emails[i]] || r.MemberID != "" || r.Email != emails[i] {
			t.Errorf("%q: %+v, want reason %q", emails[i], r, want[emails[i]])
		}
	}
	if s := summary(t, team, admin); s.Seats.Assigned != 2 {
		t.Fatalf("invalid addresses took seats: %+v", s)
	}
}
