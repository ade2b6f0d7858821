// Package samples renders one email of every kind from fixed data, through
// the same code the deliverer uses: what `make emails` screenshots
// (tests/emails) and what internal/emails's tests check, with ordinary and
// with hostile names and addresses.
package samples

import (
	"time"

	"github.com/teamusers/usersapi/internal/emails"
	"github.com/teamusers/usersapi/internal/report"
	"github.com/teamusers/usersapi/internal/users"
)

// Sample is one rendered email.
type Sample struct {
	Name    string // file-name stem: invitation, invitation-resend, …
	Kind    string // users.Email kind
	Email   users.Email
	Message emails.Message
}

// People are the names and addresses the samples carry.
type People struct {
	Team   string // the team's name
	Admin  string // the admin who acts (invites, changes, removes)
	Member string // the recipient
}

// Default are ordinary people.
var Default = People{Team: "Acme Inc", Admin: "dana.admin@acme.example", Member: "sam.lee@acme.example"}

// Links are the samples' links, as a deployed stack has them.
var Links = emails.Links{AcceptURL: "https://portal.acme.example/invitations/accept", DownloadURL: "https://acme.example/download"}

// At is the samples' now.
var At = time.Date(2026, 11, 30, 14, 5, 0, 0, time.UTC)

// Token is the samples' invitation token (43 characters, as issued).
const Token = "Xq3v9Lr2Tt7Yc1Wm8Kp4Nz6Bd5Gh0Jf2Sa9Ue3Ri7Ol"

// Render renders every kind for p with the brand.
func Render(p People, brand emails.Brand) ([]Sample, error) {
	out := []Sample{}
	email := func(name, kind string, data map[string]string) users.Email {
		data["teamName"] = p.Team
		return users.Email{ID: "e_sample_" + name, Kind: kind, To: p.Member, TeamID: "t_sample", MemberID: "m_sample", Data: data}
	}
	at := At.Format(time.RFC3339)
	expires := At.Add(7 * 24 * time.Hour).Format(time.RFC3339)
	for _, s := range []struct {
		name string
		e    users.Email
	}{
		{"invitation", email("invitation", users.EmailInvitation, map[string]string{"invitedBy": p.Admin, "role": "user", "expiresAt": expires})},
		{"invitation-resend", email("invitation-resend", users.EmailInvitation, map[string]string{"invitedBy": p.Admin, "role": "admin", "expiresAt": expires, "resend": "true"})},
		{"instructions", email("instructions", users.EmailInstructions, map[string]string{})},
		{"role-changed", email("role-changed", users.EmailRoleChanged, map[string]string{"by": p.Admin, "contact": p.Admin, "role": "admin", "fromRole": "user", "at": at})},
		{"role-changed-to-user", email("role-changed-to-user", users.EmailRoleChanged, map[string]string{"by": p.Admin, "contact": p.Admin, "role": "user", "fromRole": "admin", "at": at})},
		{"removed", email("removed", users.EmailRemoved, map[string]string{"by": p.Admin, "contact": p.Admin, "role": "user", "at": at})},
		{"invitation-revoked", email("invitation-revoked", users.EmailInvitationRevoked, map[string]string{"by": p.Admin, "contact": p.Admin, "role": "user", "at": at})},
		{"deactivated", email("deactivated", users.EmailDeactivated, map[string]string{"by": "", "contact": p.Admin, "role": "user", "at": at})},
	} {
		token := ""
		if s.e.Kind == users.EmailInvitation {
			token = Token
		}
		m, err := emails.Render(s.e, token, Links, brand)
		if err != nil {
			return nil, err
		}
		out = append(out, Sample{Name: s.name, Kind: s.e.Kind, Email: s.e, Message: m})
	}
	// The usage report, asked for by the admin: six members, one removed since.
	e := users.Email{ID: "e_sample_usage", Kind: users.EmailUsageReport, To: p.Admin, TeamID: "t_sample",
		Data: map[string]string{"teamName": p.Team, "from": "2026-11-01", "to": "2026-11-30"}}
	period := report.Period{From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)}
	m, err := emails.UsageReport(e, Rows(p), 1, period, Links, brand)
	if err != nil {
		return nil, err
	}
	return append(out, Sample{Name: "usage-report", Kind: users.EmailUsageReport, Email: e, Message: m}), nil
}

// Rows are the usage report's members.
func Rows(p People) []report.Row {
	ago := func(d time.Duration) time.Time { return At.Add(-d) }
	member := func(email string, role users.Role, status users.Status, last users.LastCall, active time.Time) users.Member {
		return users.Member{Email: email, Role: role, Status: status, LastCall: last, LastActiveAt: active}
	}
	return []report.Row{
		{Member: member(p.Admin, users.RoleAdmin, users.StatusActive, users.LastCallRecently, ago(2*time.Hour)), Calls: 42, Seconds: 42 * 1250},
		{Member: member(p.Member, users.RoleUser, users.StatusActive, users.LastCallLast7Days, ago(5*24*time.Hour)), Calls: 17, Seconds: 17 * 930},
		{Member: member("maria.garcia-fernandez@acme.example", users.RoleUser, users.StatusActive, users.LastCallLast30Days, ago(19*24*time.Hour)), Calls: 6, Seconds: 6 * 610},
		{Member: member("li.wei@acme.example", users.RoleUser, users.StatusSignedInWithApp, users.LastCallMoreThan30Days, ago(95*24*time.Hour)), Calls: 0},
		{Member: member("new.hire@acme.example", users.RoleUser, users.StatusPendingAppLogin, users.LastCallNotActive, time.Time{}), Calls: 0},
		{Member: member("=1+2@acme.example", users.RoleUser, users.StatusInvitationSent, users.LastCallPending, time.Time{}), Calls: 0},
	}
}
