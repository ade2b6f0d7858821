package security

import (
	"strings"
	"testing"

	"github.com/teamusers/usersapi/internal/users"
)

// API6 Unrestricted Access to Sensitive Business Flows: the public accept
// endpoint is limited per source address (API Gateway's sourceIp, which
// the caller cannot choose: a header cannot change it), whatever the
// attempts' outcome; one address over its limit does not block another,
// and a blocked attempt spends no invitation. (Invitation spam by an
// admin: TestInvitationsPerTeamPerDayAreCapped.)
func TestAcceptAttemptsPerSourceAddressAreCapped(t *testing.T) {
	awayFromTheEndOf(t, users.AcceptWindow)
	tm := newTeam(t, "accept-limit.example", 1)
	call(t, "POST", "/v1/teams/"+tm.ID+"/invitations", tm.Token, map[string]any{"emails": []string{"joiner@accept-limit.example"}})
	valid := waitForToken(t, "joiner@accept-limit.example")

	attacker, neighbour := from("127.0.0.2"), from("127.0.0.3")
	guess := func(i int) []byte {
		return []byte(`{"token":"` + strings.Repeat(string(rune('A'+i)), users.InvitationTokenLength) + `"}`)
	}
	h := map[string]string{"Content-Type": "application/json", "X-Forwarded-For": "203.0.113.9"}
	for i := 0; i < acceptsPerMinute; i++ {
		h["X-Forwarded-For"] = "203.0.113." + string(rune('1'+i)) // a header changes nothing
		if code := send(t, attacker, "POST", "/v1/invitations/accept", "", h, guess(i)).Problem(t, 400); code != "invalid_token" {
			t.Fatalf("guess %d: %s", i, code)
		}
	}
	for _, body := range [][]byte{guess(9), []byte(`{"token":"` + valid + `"}`), []byte(`not even JSON`)} {
		r := send(t, attacker, "POST", "/v1/invitations/accept", "", h, body)
		if code := r.Problem(t, 429); code != "too_many_attempts" {
			t.Fatalf("over the limit: %s", code)
		}
		checkRetryAfter(t, r, users.AcceptWindow)
	}
	// Another address is not blocked, and the invitation is still there.
	r := send(t, neighbour, "POST", "/v1/invitations/accept", "", map[string]string{"Content-Type": "application/json"}, []byte(`{"token":"`+valid+`"}`))
	if r.Status != 200 || !strings.Contains(string(r.Body), "joiner@accept-limit.example") {
		t.Fatalf("from another address: %d %s", r.Status, r.Body)
	}
}
