package httpapi

import (
	"net/http"
	"time"

	"github.com/teamusers/usersapi/internal/users"
)

type seatsJSON struct {
	Purchased  int `json:"purchased"`
	Assigned   int `json:"assigned"`
	Unassigned int `json:"unassigned"`
}

type teamJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Plan string `json:"plan"`
}

type summaryJSON struct {
	Team               teamJSON     `json:"team"`
	Seats              seatsJSON    `json:"seats"`
	PendingInvitations int          `json:"pendingInvitations"`
	NeverUsedApp       int          `json:"neverUsedApp"`
	Settings           settingsJSON `json:"settings"`
}

// settingsJSON are the team's settings, as the summary shows them and
// PATCH …/settings answers.
type settingsJSON struct {
	NotifyOnRevoke bool `json:"notifyOnRevoke"`
}

func settingsOf(s users.TeamSettings) settingsJSON {
	return settingsJSON{NotifyOnRevoke: s.NotifyOnRevoke}
}

// updateTeamSettings changes the team's settings; the answer is all of
// them. PATCH, not POST: setting a value twice is the same as once, so it
// needs no Idempotency-Key.
func updateTeamSettings(d Deps) http.HandlerFunc {
	return d.teamHandler(func(w http.ResponseWriter, r *http.Request, a teamAccess) error {
		var body struct {
			NotifyOnRevoke *bool `json:"notifyOnRevoke"`
		}
		if err := decodeJSON(w, r, &body); err != nil {
			return err
		}
		t, err := d.Cases.UpdateSettings(r.Context(), a.Team.ID, users.TeamChange{NotifyOnRevoke: body.NotifyOnRevoke})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, settingsOf(t.Settings))
		return nil
	})
}

// getSummary serves Section 1: one read of the team item, whose counters
// every write keeps current.
func getSummary(d Deps) http.HandlerFunc {
	return d.teamHandler(func(w http.ResponseWriter, r *http.Request, a teamAccess) error {
		s := users.SummaryOf(a.Team)
		writeJSON(w, http.StatusOK, summaryJSON{
			Team:               teamJSON{ID: a.Team.ID, Name: a.Team.Name, Plan: string(a.Team.Plan)},
			Seats:              seatsJSON{Purchased: s.Purchased, Assigned: s.Assigned, Unassigned: s.Unassigned()},
			PendingInvitations: s.PendingInvitations,
			NeverUsedApp:       s.NeverUsedApp,
			Settings:           settingsOf(a.Team.Settings),
		})
		return nil
	})
}

type memberRowJSON struct {
	ID                string `json:"id"`
	Email             string `json:"email"`
	Status            string `json:"status"`
	LastCall          string `json:"lastCall"`
	LastActiveOn      string `json:"lastActiveOn,omitempty"` // the day of the last activity (NightlyTimeZone); absent when never active
	Role              string `json:"role"`
	IsOwner           bool   `json:"isOwner"`
	InvitationExpired bool   `json:"invitationExpired"`
	EmailProblem      string `json:"emailProblem,omitempty"` // bounced, complained; absent otherwise
}

type lastEmailJSON struct {
	Kind   string  `json:"kind"`
	State  string  `json:"state"`
	At     *string `json:"at"`
	Reason string  `json:"reason,omitempty"`
}

type memberInfoJSON struct {
	memberRowJSON
	LastActiveAt        *string        `json:"lastActiveAt"` // the exact instant (the row has its day)
	InvitedAt           *string        `json:"invitedAt"`
	InvitedBy           string         `json:"invitedBy,omitempty"`
	InvitationSentAt    *string        `json:"invitationSentAt"`
	InvitationExpiresAt *string        `json:"invitationExpiresAt"`
	AcceptedAt          *string        `json:"acceptedAt"`
	FirstSignInAt       *string        `json:"firstSignInAt"`
	LastSignInAt        *string        `json:"lastSignInAt"`
	LastEmail           *lastEmailJSON `json:"lastEmail"`
	DeactivatedAt       *string        `json:"deactivatedAt"`
	// What an identity provider keeps on the member (SCIM), when one does.
	ProvisionedBy string `json:"provisionedBy,omitempty"` // the SCIM token's name
	ExternalID    string `json:"externalId,omitempty"`
}

// timeJSON renders an instant as RFC 3339 UTC, or null when unset.
func timeJSON(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

func rowJSON(m users.Member, now time.Time) memberRowJSON {
	return memberRowJSON{
		ID: m.ID, Email: m.Email, Status: string(m.Status), LastCall: string(m.LastCall),
		LastActiveOn: m.LastActiveOn, Role: string(m.Role), IsOwner: m.IsOwner,
		InvitationExpired: m.InvitationExpiredAt(now), EmailProblem: m.EmailProblem(),
	}
}

type listJSON struct {
	Members    []memberRowJSON `json:"members"`
	NextCursor string          `json:"nextCursor,omitempty"`
	// Total is how many members the filters select; present without a
	// search, from the team's facet counters (no extra read).
	Total *int `json:"total,omitempty"`
}

// listMembers serves Sections 2 and 3: search, filters, sort and pages.
func listMembers(d Deps) http.HandlerFunc {
	return d.teamHandler(func(w http.ResponseWriter, r *http.Request, a teamAccess) error {
		q, err := users.ParseListQuery(r.URL.Query())
		if err != nil {
			return err
		}
		after := ""
		if q.Cursor != "" {
			if after, err = d.Cursors.Decode(a.Team.ID, q, q.Cursor); err != nil {
				return err
			}
		}
		members, next, err := d.Cases.ListMembers(r.Context(), a.Team, q, after)
		if err != nil {
			return err
		}
		now := d.Now()
		out := listJSON{Members: make([]memberRowJSON, len(members))}
		for i, m := range members {
			out.Members[i] = rowJSON(m, now)
		}
		if next != "" {
			out.NextCursor = d.Cursors.Encode(a.Team.ID, q, next)
		}
		if q.Q == "" {
			total := a.Team.Total(q)
			out.Total = &total
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	})
}

// getMember serves the Member information view.
func getMember(d Deps) http.HandlerFunc {
	return d.teamHandler(func(w http.ResponseWriter, r *http.Request, a teamAccess) error {
		id, err := memberIDFrom(r)
		if err != nil {
			return err
		}
		m, err := d.Cases.MemberInfo(r.Context(), a.Team.ID, id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, infoJSON(m, d.Now()))
		return nil
	})
}

func infoJSON(m users.Member, now time.Time) memberInfoJSON {
	out := memberInfoJSON{
		memberRowJSON: rowJSON(m, now), LastActiveAt: timeJSON(m.LastActiveAt),
		InvitedAt: timeJSON(m.InvitedAt), InvitedBy: m.InvitedBy,
		InvitationSentAt: timeJSON(m.InvitationSentAt), InvitationExpiresAt: timeJSON(m.InvitationExpiresAt),
		AcceptedAt: timeJSON(m.AcceptedAt), FirstSignInAt: timeJSON(m.FirstSignInAt), LastSignInAt: timeJSON(m.LastSignInAt),
		DeactivatedAt: timeJSON(m.DeactivatedAt), ProvisionedBy: m.ProvisionedBy, ExternalID: m.ExternalID,
	}
	if e := m.LastEmail; e != nil {
		out.LastEmail = &lastEmailJSON{Kind: e.Kind, State: e.State, At: timeJSON(e.At), Reason: e.Reason}
	}
	return out
}

type myTeamJSON struct {
	TeamID  string `json:"teamId"`
	Name    string `json:"name"`
	Plan    string `json:"plan"`
	Role    string `json:"role"`
	IsOwner bool   `json:"isOwner"`
	Status  string `json:"status"`
}

// getMe tells the portal (or the app) which teams the caller belongs to or
// is invited to: one query of the caller's membership items and one batch
// read of those teams.
func getMe(d Deps) http.HandlerFunc {
	return d.handler(func(w http.ResponseWriter, r *http.Request) error {
		c, err := callerFrom(r.Context())
		if err != nil {
			return err
		}
		teams, err := d.Cases.MyTeams(r.Context(), c.Email)
		if err != nil {
			return err
		}
		out := make([]myTeamJSON, len(teams))
		for i, t := range teams {
			m := t.Membership
			out[i] = myTeamJSON{TeamID: t.Team.ID, Name: t.Team.Name, Plan: string(t.Team.Plan), Role: string(m.Role), IsOwner: m.IsOwner, Status: string(m.Status)}
		}
		writeJSON(w, http.StatusOK, map[string]any{"email": c.Email, "teams": out})
		return nil
	})
}
