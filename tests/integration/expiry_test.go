package integration

import (
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/users"
)

func TestExpiredInvitationStaysListedAndCanBeResent(t *testing.T) {
	team := newTeam(t, "pro", 5, "owner@expiry.example")
	admin := token(t, "owner@expiry.example", local.TokenOptions{})
	b := make([]byte, 32)
	rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	sent := time.Now().Add(-8 * 24 * time.Hour)
	m := users.Member{ID: users.NewID("m"), TeamID: team, Email: "slow@expiry.example", Role: users.RoleUser, Status: users.StatusInvitationSent,
		InvitedAt: sent, InvitationSentAt: sent, InvitationExpiresAt: sent.Add(7 * 24 * time.Hour), TokenHash: users.HashToken(tok)}
	mail := users.Email{ID: users.NewID("e"), Kind: users.EmailInvitation, To: m.Email, TeamID: team, MemberID: m.ID,
		Data: map[string]string{"sealedToken": stack.Deps.Cases.Tokens.Seal(tok)}}
	users.QueueEmail(&m, mail, sent)
	if res, err := stack.Store.AddMembers(t.Context(), team, []users.NewMember{users.Admit(m, &mail)}); err != nil || res[0] != nil {
		t.Fatal(err, res)
	}
	if got := tokenFrom(t, waitForMail(t, m.Email, 1)[0]); got != tok {
		t.Fatal("the emailed token is not the stored one")
	}
	if c := call(t, "POST", "/v1/invitations/accept", "", map[string]string{"token": tok}).Problem(t, 410); c != "invitation_expired" {
		t.Fatalf("expired accept: %s", c)
	}
	rows, _ := listAll(t, team, admin, url.Values{"status": {"invitation_sent"}})
	if len(rows) != 1 || !rows[0].InvitationExpired || rows[0].LastCall != "pending" {
		t.Fatalf("expired invitation in the list: %+v", rows)
	}
	if s := summary(t, team, admin); s.PendingInvitations != 1 {
		t.Fatalf("an expired invitation still counts as pending: %+v", s)
	}
	if r := call(t, "POST", "/v1/teams/"+team+"/members/"+m.ID+"/resend-invite", admin, nil); r.Status != 202 {
		t.Fatalf("resend: %d %s", r.Status, r.Body)
	}
	fresh := tokenFrom(t, waitForMail(t, m.Email, 2)[1])
	var info memberInfo
	call(t, "GET", "/v1/teams/"+team+"/members/"+m.ID, admin, nil).JSON(t, &info)
	if info.InvitationExpired || info.InvitationExpiresAt == nil {
		t.Fatalf("after resend: %+v", info)
	}
	if exp, _ := time.Parse(time.RFC3339, *info.InvitationExpiresAt); exp.Sub(time.Now()) < 6*24*time.Hour {
		t.Fatalf("new expiry %s is not a week away", exp)
	}
	if r := call(t, "POST", "/v1/invitations/accept", "", map[string]string{"token": fresh}); r.Status != 200 {
		t.Fatalf("accept after resend: %d %s", r.Status, r.Body)
	}
}
