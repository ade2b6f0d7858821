package httpapi

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/teamusers/usersapi/internal/roster"
	"github.com/teamusers/usersapi/internal/users"
)

// teamHandler authorizes an admin, then runs fn; any error becomes a problem.
func (d Deps) teamHandler(fn func(w http.ResponseWriter, r *http.Request, a teamAccess) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, err := d.authorizeAdmin(r)
		if err == nil {
			actor := users.Actor{Kind: users.ActorAdmin, Email: a.Caller.Email, Role: a.Membership.Role}
			r = r.WithContext(users.WithAudit(r.Context(), actor, requestOf(r.Context())))
			err = fn(w, r, a)
		}
		if err != nil {
			writeError(r.Context(), d.Log, w, err)
		}
	}
}

func memberIDFrom(r *http.Request) (string, error) {
	id := r.PathValue("memberId")
	if !validID(id) {
		return "", users.ErrMemberNotFound
	}
	return id, nil
}

func invite(d Deps) http.HandlerFunc {
	return d.teamHandler(func(w http.ResponseWriter, r *http.Request, a teamAccess) error {
		var body struct {
			Emails []string `json:"emails"`
			Role   string   `json:"role"`
		}
		if err := decodeJSON(w, r, &body); err != nil {
			return err
		}
		if len(body.Emails) == 0 || len(body.Emails) > users.MaxInviteEmails {
			return users.Errorf(users.KindInvalid, "invalid_emails", "emails must list 1 to %d addresses.", users.MaxInviteEmails)
		}
		if body.Role == "" {
			body.Role = string(users.RoleUser)
		}
		role, err := users.ParseRole(body.Role)
		if err != nil {
			return err
		}
		results, err := d.Roster.Invite(r.Context(), roster.TeamOf(a.Team), a.Caller.Email, body.Emails, role)
		if err != nil {
			return err
		}
		d.countInvitations(results)
		writeJSON(w, http.StatusOK, map[string]any{"results": results})
		return nil
	})
}

func resendInvite(d Deps) http.HandlerFunc {
	return d.teamHandler(func(w http.ResponseWriter, r *http.Request, a teamAccess) error {
		id, err := memberIDFrom(r)
		if err != nil {
			return err
		}
		m, err := d.Roster.ResendInvite(r.Context(), roster.TeamOf(a.Team), id, a.Caller.Email)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusAccepted, infoJSON(m, d.Now()))
		return nil
	})
}

func sendInstructions(d Deps) http.HandlerFunc {
	return d.teamHandler(func(w http.ResponseWriter, r *http.Request, a teamAccess) error {
		id, err := memberIDFrom(r)
		if err != nil {
			return err
		}
		m, err := d.Roster.SendInstructions(r.Context(), roster.TeamOf(a.Team), id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusAccepted, infoJSON(m, d.Now()))
		return nil
	})
}

func changeRole(d Deps) http.HandlerFunc {
	return d.teamHandler(func(w http.ResponseWriter, r *http.Request, a teamAccess) error {
		id, err := memberIDFrom(r)
		if err != nil {
			return err
		}
		var body struct {
			Role string `json:"role"`
		}
		if err := decodeJSON(w, r, &body); err != nil {
			return err
		}
		role, err := users.ParseRole(body.Role)
		if err != nil {
			return err
		}
		m, _, err := d.Roster.ChangeRole(r.Context(), a.Membership, a.Team.ID, id, role)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, infoJSON(m, d.Now()))
		return nil
	})
}

func removeMember(d Deps) http.HandlerFunc {
	return d.teamHandler(func(w http.ResponseWriter, r *http.Request, a teamAccess) error {
		id, err := memberIDFrom(r)
		if err != nil {
			return err
		}
		if err := d.Roster.Remove(r.Context(), a.Membership, a.Team.ID, id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// deactivateMember and reactivateMember answer with the member information;
// asking for the state the member is already in changes nothing and
// answers the same.
func deactivateMember(d Deps) http.HandlerFunc {
	return d.teamHandler(func(w http.ResponseWriter, r *http.Request, a teamAccess) error {
		id, err := memberIDFrom(r)
		if err == nil {
			err = emptyBody(w, r)
		}
		if err != nil {
			return err
		}
		m, _, err := d.Roster.Deactivate(r.Context(), a.Membership, a.Team.ID, id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, infoJSON(m, d.Now()))
		return nil
	})
}

func reactivateMember(d Deps) http.HandlerFunc {
	return d.teamHandler(func(w http.ResponseWriter, r *http.Request, a teamAccess) error {
		id, err := memberIDFrom(r)
		if err == nil {
			err = emptyBody(w, r)
		}
		if err != nil {
			return err
		}
		m, _, err := d.Roster.Reactivate(r.Context(), a.Team.ID, id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, infoJSON(m, d.Now()))
		return nil
	})
}

// emptyBody accepts no body, or an empty JSON object.
func emptyBody(w http.ResponseWriter, r *http.Request) error {
	if r.ContentLength > 0 {
		var empty struct{}
		return decodeJSON(w, r, &empty)
	}
	return nil
}

func bulk(d Deps) http.HandlerFunc {
	return d.teamHandler(func(w http.ResponseWriter, r *http.Request, a teamAccess) error {
		var body struct {
			Action    string   `json:"action"`
			MemberIDs []string `json:"memberIds"`
			Role      *string  `json:"role"`
		}
		if err := decodeJSON(w, r, &body); err != nil {
			return err
		}
		if !slices.Contains(roster.BulkActions, body.Action) {
			return users.Errorf(users.KindInvalid, "invalid_action", "action must be one of %s.", strings.Join(roster.BulkActions, ", "))
		}
		if len(body.MemberIDs) == 0 || len(body.MemberIDs) > users.MaxBulkMembers {
			return users.Errorf(users.KindInvalid, "invalid_member_ids", "memberIds must list 1 to %d members.", users.MaxBulkMembers)
		}
		seen := map[string]bool{}
		for _, id := range body.MemberIDs {
			if !validID(id) || seen[id] {
				return users.Errorf(users.KindInvalid, "invalid_member_ids", "memberIds must be distinct member ids; %q is not.", id)
			}
			seen[id] = true
		}
		var role users.Role
		switch {
		case body.Action == roster.ActionChangeRole && body.Role == nil:
			return users.Errorf(users.KindInvalid, "invalid_role", "change_role needs role.")
		case body.Action == roster.ActionChangeRole:
			var err error
			if role, err = users.ParseRole(*body.Role); err != nil {
				return err
			}
		case body.Role != nil:
			return users.Errorf(users.KindInvalid, "invalid_role", "role goes only with change_role.")
		}
		results := d.Roster.Bulk(r.Context(), a.Membership, a.Caller.Email, roster.TeamOf(a.Team), body.Action, body.MemberIDs, role)
		writeJSON(w, http.StatusOK, map[string]any{"results": results})
		return nil
	})
}

// teamJob starts a team-wide resend: the answer comes at once, the emails
// follow at the mail service's pace.
func teamJob(kind string) func(Deps) http.HandlerFunc {
	return func(d Deps) http.HandlerFunc {
		return d.teamHandler(func(w http.ResponseWriter, r *http.Request, a teamAccess) error {
			if err := emptyBody(w, r); err != nil {
				return err
			}
			job, err := d.Jobs.Start(r.Context(), a.Team, kind, a.Caller.Email)
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusAccepted, map[string]any{"jobId": job.ID, "state": job.State, "members": job.Expected})
			return nil
		})
	}
}

func accept(d Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Token string `json:"token"`
		}
		err := decodeJSON(w, r, &body)
		var m users.Member
		if err == nil {
			ctx := users.WithAudit(r.Context(), users.Actor{Kind: users.ActorInvitee}, requestOf(r.Context()))
			m, err = d.Roster.Accept(ctx, body.Token)
		}
		if err != nil {
			writeError(r.Context(), d.Log, w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"teamId": m.TeamID, "memberId": m.ID, "email": m.Email, "status": m.Status})
	}
}

type activityJSON struct {
	TeamID   string `json:"teamId"`
	MemberID string `json:"memberId"`
	Status   string `json:"status"`
	LastCall string `json:"lastCall"`
}

func appActivity(d Deps, signIn bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := func() error {
			c, err := callerFrom(r.Context())
			if err != nil {
				return err
			}
			now := d.Now()
			a := users.Activity{At: now, SignIn: signIn}
			if signIn {
				var body struct {
					AppVersion string `json:"appVersion"`
					Device     string `json:"device"`
				}
				if r.ContentLength != 0 { // the app may send no body at all
					if err := decodeJSON(w, r, &body); err != nil {
						return err
					}
				}
				if len(body.AppVersion) > 64 || len(body.Device) > 128 {
					return users.Errorf(users.KindInvalid, "invalid_field", "appVersion is at most 64 characters and device at most 128.")
				}
				a.AppVersion, a.Device = body.AppVersion, body.Device
			} else {
				var body struct {
					CallID          string     `json:"callId"`
					StartedAt       *time.Time `json:"startedAt"`
					DurationSeconds *int       `json:"durationSeconds"`
				}
				if err := decodeJSON(w, r, &body); err != nil {
					return err
				}
				if body.StartedAt == nil || body.DurationSeconds == nil {
					return users.Errorf(users.KindInvalid, "missing_field", "startedAt and durationSeconds are required.")
				}
				if *body.DurationSeconds < 0 || *body.DurationSeconds > 24*3600 {
					return users.Errorf(users.KindInvalid, "invalid_duration", "durationSeconds must be from 0 to 86400.")
				}
				end := body.StartedAt.Add(time.Duration(*body.DurationSeconds) * time.Second)
				if end.After(now.Add(5*time.Minute)) || body.StartedAt.Before(now.AddDate(-1, 0, 0)) {
					return users.Errorf(users.KindInvalid, "invalid_started_at", "startedAt must be within the last year and the call must have ended.")
				}
				if len(body.CallID) > 128 || !users.PrintableASCII(body.CallID) {
					return users.Errorf(users.KindInvalid, "invalid_call_id", "callId is at most 128 visible characters.")
				}
				a.At, a.Seconds, a.CallID = end, *body.DurationSeconds, body.CallID
			}
			ctx := users.WithAudit(r.Context(), users.Actor{Kind: users.ActorMember, Email: c.Email}, requestOf(r.Context()))
			ms, err := d.Roster.RecordActivity(ctx, roster.AppCaller{Email: c.Email, EmailVerified: c.EmailVerified}, a)
			if err != nil {
				return err
			}
			out := make([]activityJSON, len(ms))
			for i, m := range ms {
				out[i] = activityJSON{TeamID: m.TeamID, MemberID: m.ID, Status: string(m.Status), LastCall: string(m.LastCall)}
			}
			writeJSON(w, http.StatusOK, map[string]any{"teams": out})
			return nil
		}()
		if err != nil {
			writeError(r.Context(), d.Log, w, err)
		}
	}
}

type jobJSON struct {
	ID        string         `json:"id"`
	JobID     string         `json:"jobId"` // the same id, as the 202 that started the job names it
	Kind      string         `json:"kind"`
	State     string         `json:"state"`
	Members   int            `json:"members"`
	Done      int            `json:"done"`
	Skipped   int            `json:"skipped"`
	Failed    int            `json:"failed"`
	Reasons   map[string]int `json:"reasons"`
	CreatedAt *string        `json:"createdAt"`
}

// getJob lets the portal follow a team-wide resend to its end.
func getJob(d Deps) http.HandlerFunc {
	return d.teamHandler(func(w http.ResponseWriter, r *http.Request, a teamAccess) error {
		id := r.PathValue("jobId")
		notFound := users.Errorf(users.KindNotFound, "job_not_found", "No such job in this team.")
		if !validID(id) {
			return notFound
		}
		j, err := d.Jobs.JobStore.GetJob(r.Context(), id)
		if e, ok := users.AsError(err); ok && e.Kind == users.KindNotFound {
			return notFound
		}
		if err != nil {
			return err
		}
		if j.TeamID != a.Team.ID {
			return notFound
		}
		reasons := j.Reasons
		if reasons == nil {
			reasons = map[string]int{}
		}
		writeJSON(w, http.StatusOK, jobJSON{ID: j.ID, JobID: j.ID, Kind: j.Kind, State: j.State, Members: j.Expected, Done: j.Done,
			Skipped: j.Skipped, Failed: j.Failed, Reasons: reasons, CreatedAt: timeJSON(j.CreatedAt)})
		return nil
	})
}
