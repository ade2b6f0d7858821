package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/provisioning"
	"github.com/teamusers/usersapi/internal/scim"
	"github.com/teamusers/usersapi/internal/users"
)

// storedHeaders is what the SES server was given as From, Reply-To, subject and recipients.
type storedHeaders struct {
	From    string   `json:"from"`
	ReplyTo []string `json:"replyTo"`
	Subject string   `json:"subject"`
	Dest    struct {
		To, Cc, Bcc []string
	} `json:"destination"`
}

// A member is told, by the outbox, of every change an admin makes to them:
// a role change, a removal, a revoked invitation (while the team's setting
// is on). Each notice is sent once, names the team in From and the
// subject, and replies go to the admin who acted. Nothing is sent for no
// change, for an invitee's role, or to the admin for their own action.
func TestMembersAreToldOfChangesOnce(t *testing.T) {
	team := newTeam(t, "pro", 10, "owner@notice.example")
	owner := token(t, "owner@notice.example", local.TokenOptions{})
	path := "/v1/teams/" + team
	res := invite(t, team, owner, "joined@notice.example", "pending@notice.example", "quiet@notice.example", "bulk-invitee@notice.example", "bulk-joined@notice.example")
	id := map[string]string{}
	for _, r := range res.Results {
		id[r.Email] = r.MemberID
	}
	for _, who := range []string{"joined@notice.example", "bulk-joined@notice.example"} {
		if r := call(t, "POST", "/v1/invitations/accept", "", map[string]string{"token": tokenFrom(t, waitForMail(t, who, 1)[0])}); r.Status != 200 {
			t.Fatalf("accept: %d %s", r.Status, r.Body)
		}
	}

	// A role change: the notice, from "<team> via Krisp", replies to the owner.
	if r := call(t, "PATCH", path+"/members/"+id["joined@notice.example"], owner, map[string]string{"role": "admin"}); r.Status != 200 {
		t.Fatalf("role: %d %s", r.Status, r.Body)
	}
	notice := waitForMail(t, "joined@notice.example", 2)[1]
	h := headersOf(t, "joined@notice.example", notice.Subject)
	if notice.Subject != "Your role in notice.example team is now Admin" || !strings.Contains(notice.Body.Text, "owner@notice.example changed your role in notice.example team from User to Admin") {
		t.Fatalf("role notice: %q\n%s", notice.Subject, notice.Body.Text)
	}
	checkFromAndReplyTo(t, h, "notice.example team via Krisp", "owner@notice.example")
	// The member's last email is the notice, and it was recorded as sent.
	waitFor(t, "the notice recorded as sent", func() bool {
		var m struct{ LastEmail struct{ Kind, State string } }
		call(t, "GET", path+"/members/"+id["joined@notice.example"], owner, nil).JSON(t, &m)
		return m.LastEmail.Kind == users.EmailRoleChanged && m.LastEmail.State == users.EmailSent
	})
	// The same role again changes nothing and sends nothing; an invitee's role changes quietly.
	call(t, "PATCH", path+"/members/"+id["joined@notice.example"], owner, map[string]string{"role": "admin"})
	call(t, "PATCH", path+"/members/"+id["pending@notice.example"], owner, map[string]string{"role": "admin"})

	// Removing a member who joined: the last email they get about the team.
	if r := call(t, "DELETE", path+"/members/"+id["joined@notice.example"], owner, nil); r.Status != 204 {
		t.Fatalf("remove: %d %s", r.Status, r.Body)
	}
	removed := waitForMail(t, "joined@notice.example", 3)[2]
	if removed.Subject != "You've been removed from notice.example team on Krisp" || !strings.Contains(removed.Body.Text, "owner@notice.example removed joined@notice.example from notice.example team") {
		t.Fatalf("removal notice: %q\n%s", removed.Subject, removed.Body.Text)
	}
	checkFromAndReplyTo(t, headersOf(t, "joined@notice.example", removed.Subject), "notice.example team via Krisp", "owner@notice.example")

	// Removing an invitee revokes the invitation: told, while the setting is on.
	if r := call(t, "DELETE", path+"/members/"+id["pending@notice.example"], owner, nil); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if got := waitForMail(t, "pending@notice.example", 2)[1]; got.Subject != "Your invitation to join notice.example team on Krisp was withdrawn" {
		t.Fatalf("revoke notice: %q", got.Subject)
	}

	// The setting off: the summary says so, and invitees are removed quietly;
	// members who joined are still told.
	r := call(t, "PATCH", path+"/settings", owner, map[string]bool{"notifyOnRevoke": false})
	if r.Status != 200 || strings.TrimSpace(string(r.Body)) != `{"notifyOnRevoke":false}` {
		t.Fatalf("settings: %d %s", r.Status, r.Body)
	}
	var sum struct {
		Settings struct{ NotifyOnRevoke *bool }
	}
	call(t, "GET", path+"/summary", owner, nil).JSON(t, &sum)
	if sum.Settings.NotifyOnRevoke == nil || *sum.Settings.NotifyOnRevoke {
		t.Fatalf("summary settings: %+v", sum)
	}
	// The audit log says who changed it.
	var log struct {
		Entries []struct {
			Actor  struct{ Kind, Email string }
			Detail map[string]string
		}
	}
	call(t, "GET", path+"/audit-log?action=update_team", owner, nil).JSON(t, &log)
	if len(log.Entries) != 1 || log.Entries[0].Actor.Email != "owner@notice.example" || log.Entries[0].Detail["notifyOnRevoke"] != "false" {
		t.Fatalf("audit log: %+v", log)
	}
	if r := call(t, "DELETE", path+"/members/"+id["quiet@notice.example"], owner, nil); r.Status != 204 {
		t.Fatalf("quiet revoke: %d %s", r.Status, r.Body)
	}
	var bulk struct {
		Results []struct{ MemberID, Result string }
	}
	call(t, "POST", path+"/members/bulk", owner, map[string]any{"action": "remove",
		"memberIds": []string{id["bulk-invitee@notice.example"], id["bulk-joined@notice.example"]}}).JSON(t, &bulk)
	if len(bulk.Results) != 2 || bulk.Results[0].Result != "done" || bulk.Results[1].Result != "done" {
		t.Fatalf("bulk removal: %+v", bulk)
	}
	waitForMail(t, "bulk-joined@notice.example", 2)

	// Once and only once each, and nothing for the owner.
	settle(t)
	for addr, n := range map[string]int{"joined@notice.example": 3, "pending@notice.example": 2, "quiet@notice.example": 1,
		"bulk-invitee@notice.example": 1, "bulk-joined@notice.example": 2, "owner@notice.example": 0} {
		if got := mailTo(t, addr); len(got) != n {
			var subjects []string
			for _, m := range got {
				subjects = append(subjects, m.Subject)
			}
			t.Errorf("%s got %d emails, want %d: %q", addr, len(got), n, subjects)
		}
	}
}

// The settings route: an admin's, with a body that says what to set.
func TestTeamSettingsRefuseWhatTheyCannotUse(t *testing.T) {
	team := newTeam(t, "pro", 5, "owner@settings.example")
	owner := token(t, "owner@settings.example", local.TokenOptions{})
	path := "/v1/teams/" + team + "/settings"
	for name, body := range map[string]any{
		"nothing":       map[string]any{},
		"null":          map[string]any{"notifyOnRevoke": nil},
		"a string":      map[string]any{"notifyOnRevoke": "yes"},
		"another key":   map[string]any{"notifyOnRevoke": true, "digest": "weekly"},
		"not an object": []bool{true},
	} {
		if c := call(t, "PATCH", path, owner, body).Problem(t, 400); c != "invalid_settings" && c != "invalid_json" {
			t.Errorf("%s: %s", name, c)
		}
	}
	if c := send(t, "PATCH", path, owner, map[string]string{"Content-Type": "text/plain"}, []byte("notifyOnRevoke=false")).Problem(t, 415); c != "unsupported_media_type" {
		t.Errorf("text body: %s", c)
	}
	res := invite(t, team, owner, "user@settings.example")
	call(t, "POST", "/v1/invitations/accept", "", map[string]string{"token": tokenFrom(t, waitForMail(t, "user@settings.example", 1)[0])})
	if c := call(t, "PATCH", path, token(t, "user@settings.example", local.TokenOptions{}), map[string]bool{"notifyOnRevoke": false}).Problem(t, 403); c != "admin_required" {
		t.Errorf("a user: %s", c)
	}
	if c := call(t, "PATCH", path, token(t, "stranger@elsewhere.example", local.TokenOptions{}), map[string]bool{"notifyOnRevoke": false}).Problem(t, 404); c != "team_not_found" {
		t.Errorf("a stranger: %s", c)
	}
	// Nothing changed: the setting is still on.
	var sum struct{ Settings struct{ NotifyOnRevoke bool } }
	call(t, "GET", "/v1/teams/"+team+"/summary", owner, nil).JSON(t, &sum)
	if !sum.Settings.NotifyOnRevoke || res.Results[0].Result != "invited" {
		t.Fatalf("after refused changes: %+v", sum)
	}
}

// A team whose name tries to be markup or an address, through the real
// stack: the invitation (SES's simple content) and the usage report (raw
// MIME, read back by the SES server's MIME parser) come from our address
// alone, to the one recipient, with the name as a name.
func TestHostileTeamNamesStayNames(t *testing.T) {
	const name = `"Acme" <evil@x.example> <script>alert(1)</script>`
	seats := 5
	p, err := provisioning.Service{Store: stack.Store, Now: time.Now}.Handle(context.Background(),
		provisioning.Request{Plan: "pro", Seats: &seats, OwnerEmail: "owner@hostile.example", Name: name})
	if err != nil {
		t.Fatal(err)
	}
	owner := token(t, "owner@hostile.example", local.TokenOptions{})
	res := invite(t, p.TeamID, owner, "victim@hostile.example")
	inv := waitForMail(t, "victim@hostile.example", 1)[0]
	h := headersOf(t, "victim@hostile.example", inv.Subject)
	// The From name keeps the team's words but never an address (#24).
	checkFromAndReplyTo(t, h, `'Acme' alert(1) via Krisp`, "owner@hostile.example")
	if strings.Contains(inv.Body.HTML, "<script>") || !strings.Contains(inv.Body.HTML, "&lt;script&gt;") || !strings.Contains(inv.Subject, "<evil@x.example>") {
		t.Fatalf("invitation: %q\n%s", inv.Subject, inv.Body.HTML)
	}
	if r := call(t, "POST", "/v1/teams/"+p.TeamID+"/usage-report/email", owner, map[string]any{"memberIds": []string{res.Results[0].MemberID}}); r.Status != 202 {
		t.Fatalf("usage email: %d %s", r.Status, r.Body)
	}
	var report storedHeaders
	waitFor(t, "the usage report", func() bool {
		for _, m := range storedHeadersTo(t, "owner@hostile.example") {
			if strings.HasPrefix(m.Subject, "Usage report for ") {
				report = m
				return true
			}
		}
		return false
	})
	if len(report.Dest.To) != 1 || !strings.Contains(report.Dest.To[0], "owner@hostile.example") || len(report.Dest.Cc)+len(report.Dest.Bcc) != 0 || len(report.ReplyTo) != 0 {
		t.Fatalf("raw report's recipients: %+v", report)
	}
	from, err := mail.ParseAddress(report.From)
	if err != nil || from.Address != "no-reply@usersapi.local" || !strings.HasSuffix(from.Name, " via Krisp") {
		t.Fatalf("raw report's From %q: %v %v", report.From, from, err)
	}
	if !strings.Contains(report.Subject, `"Acme" <evil@x.example>`) {
		t.Fatalf("raw report's subject %q", report.Subject)
	}
}

func storedHeadersTo(t *testing.T, addr string) []storedHeaders {
	t.Helper()
	var store struct{ Emails []storedHeaders }
	getJSON(t, stack.Services.SESEndpoint+"/store", &store)
	var out []storedHeaders
	for _, m := range store.Emails {
		for _, to := range m.Dest.To {
			if strings.Contains(strings.ToLower(to), addr) {
				out = append(out, m)
			}
		}
	}
	return out
}

func headersOf(t *testing.T, addr, subject string) storedHeaders {
	t.Helper()
	for _, m := range storedHeadersTo(t, addr) {
		if m.Subject == subject {
			return m
		}
	}
	t.Fatalf("no email %q to %s", subject, addr)
	return storedHeaders{}
}

// checkFromAndReplyTo: From is our sender with the name given; Reply-To
// the one address.
func checkFromAndReplyTo(t *testing.T, h storedHeaders, name, replyTo string) {
	t.Helper()
	from, err := mail.ParseAddress(h.From)
	if err != nil || from.Address != "no-reply@usersapi.local" || from.Name != name {
		t.Errorf("From %q reads as %+v (%v), want %q <no-reply@usersapi.local>", h.From, from, err, name)
	}
	if len(h.ReplyTo) != 1 || h.ReplyTo[0] != replyTo || len(h.Dest.To) != 1 || len(h.Dest.Cc)+len(h.Dest.Bcc) != 0 {
		t.Errorf("Reply-To %v, destination %+v", h.ReplyTo, h.Dest)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 30 s", what)
		}
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// Deactivation is a notice too, whoever deactivates: an admin on the Users
// page (replies go to them), or the identity provider through SCIM (no
// person acted: the email says the organisation's identity provider did
// it, and replies go to the team's owner). A member the provider deletes
// is told they were removed, unless they were deactivated already and so
// told then; a role the provider changes is told like an admin's.
func TestDeactivatedMembersAreTold(t *testing.T) {
	team := newTeam(t, "pro", 10, "owner@off.example")
	owner := token(t, "owner@off.example", local.TokenOptions{})
	path := "/v1/teams/" + team
	res := invite(t, team, owner, "joined@off.example")
	id := res.Results[0].MemberID
	if r := call(t, "POST", "/v1/invitations/accept", "", map[string]string{"token": tokenFrom(t, waitForMail(t, "joined@off.example", 1)[0])}); r.Status != 200 {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
	if r := call(t, "POST", path+"/members/"+id+"/deactivate", owner, nil); r.Status != 200 {
		t.Fatalf("deactivate: %d %s", r.Status, r.Body)
	}
	off := waitForMail(t, "joined@off.example", 2)[1]
	if off.Subject != "Your off.example team account on Krisp was deactivated" || !strings.Contains(off.Body.Text, "owner@off.example deactivated joined@off.example in off.example team") {
		t.Fatalf("deactivation notice: %q\n%s", off.Subject, off.Body.Text)
	}
	checkFromAndReplyTo(t, headersOf(t, "joined@off.example", off.Subject), "off.example team via Krisp", "owner@off.example")
	// Asked again: no change, no second notice; removed later: not told again.
	call(t, "POST", path+"/members/"+id+"/deactivate", owner, nil)
	if r := call(t, "DELETE", path+"/members/"+id, owner, nil); r.Status != 204 {
		t.Fatalf("remove: %d %s", r.Status, r.Body)
	}

	// The identity provider.
	tok := newSCIMToken(t, team, owner, "Okta")
	mk := func(login string) scimUser {
		u, _ := scimCreate(t, tok, map[string]any{"schemas": []string{scim.SchemaUser}, "userName": login,
			"emails": []any{map[string]any{"primary": true, "value": login}}, "active": true})
		waitForMail(t, login, 1) // the set-up instructions
		return u
	}
	a, b, c := mk("a@off.example"), mk("b@off.example"), mk("c@off.example")
	scimUserOf(t, scimCall(t, "PATCH", "/Users/"+a.ID, tok, patchOp(map[string]any{"op": "replace", "value": map[string]any{"active": false}})))
	notice := waitForMail(t, "a@off.example", 2)[1]
	if notice.Subject != "Your off.example team account on Krisp was deactivated" ||
		!strings.Contains(notice.Body.Text, "Your organisation's identity provider deactivated a@off.example in off.example team") {
		t.Fatalf("the provider's deactivation notice: %q\n%s", notice.Subject, notice.Body.Text)
	}
	checkFromAndReplyTo(t, headersOf(t, "a@off.example", notice.Subject), "off.example team via Krisp", "owner@off.example")
	if r := scimCall(t, "DELETE", "/Users/"+a.ID, tok, nil); r.Status != 204 {
		t.Fatalf("delete a: %d %s", r.Status, r.Body)
	}
	if r := scimCall(t, "DELETE", "/Users/"+b.ID, tok, nil); r.Status != 204 {
		t.Fatalf("delete b: %d %s", r.Status, r.Body)
	}
	removed := waitForMail(t, "b@off.example", 2)[1]
	if !strings.Contains(removed.Body.Text, "Your organisation's identity provider removed b@off.example from off.example team") {
		t.Fatalf("the provider's removal notice: %q\n%s", removed.Subject, removed.Body.Text)
	}
	scimUserOf(t, scimCall(t, "PATCH", "/Users/"+c.ID, tok, patchOp(map[string]any{"op": "replace", "path": "roles",
		"value": []any{map[string]any{"value": "admin", "primary": true}}})))
	role := waitForMail(t, "c@off.example", 2)[1]
	if role.Subject != "Your role in off.example team is now Admin" || !strings.Contains(role.Body.Text, "Your organisation's identity provider changed your role") {
		t.Fatalf("the provider's role notice: %q\n%s", role.Subject, role.Body.Text)
	}

	settle(t)
	for addr, n := range map[string]int{"joined@off.example": 2, "a@off.example": 2, "b@off.example": 2, "c@off.example": 2, "owner@off.example": 0} {
		if got := mailTo(t, addr); len(got) != n {
			var subjects []string
			for _, m := range got {
				subjects = append(subjects, m.Subject)
			}
			t.Errorf("%s got %d emails, want %d: %q", addr, len(got), n, subjects)
		}
	}
}
