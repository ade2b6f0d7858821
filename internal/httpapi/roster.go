package httpapi

import (
	"net/http"

	"github.com/teamusers/usersapi/internal/usecase"
	"github.com/teamusers/usersapi/internal/users"
)

// handler is the one shape of a handler: fn decodes the request, calls
// the use case and encodes its answer; any error it returns becomes a
// problem.
func (d Deps) handler(fn func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			writeError(r.Context(), d.Log, w, err)
		}
	}
}

// teamHandler is handler for a team's admin: it authorizes them first and
// names them in the audit context.
func (d Deps) teamHandler(fn func(w http.ResponseWriter, r *http.Request, a teamAccess) error) http.HandlerFunc {
	return d.handler(func(w http.ResponseWriter, r *http.Request) error {
		a, err := d.authorizeAdmin(r)
		if err != nil {
			return err
		}
		actor := users.Actor{Kind: users.ActorAdmin, Email: a.Caller.Email, Role: a.Membership.Role}
		return fn(w, r.WithContext(users.WithAudit(r.Context(), actor, requestOf(r.Context()))), a)
	})
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
		body, err := readInvite(w, r)
		if err != nil {
			return err
		}
		results, err := d.Cases.Invite(r.Context(), usecase.TeamOf(a.Team), a.Caller.Email, body.Emails, body.Role)
		if err != nil {
			return err
		}
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
		if err := readEmptyBody(w, r); err != nil {
			return err
		}
		m, err := d.Cases.ResendInvite(r.Context(), usecase.TeamOf(a.Team), id, a.Caller.Email)
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
		if err := readEmptyBody(w, r); err != nil {
			return err
		}
		m, err := d.Cases.SendInstructions(r.Context(), usecase.TeamOf(a.Team), id, a.Caller.Email)
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
		role, err := readChangeRole(w, r)
		if err != nil {
			return err
		}
		m, _, err := d.Cases.ChangeRole(r.Context(), a.Membership, a.Caller.Email, usecase.TeamOf(a.Team), id, role)
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
		if err := d.Cases.Remove(r.Context(), a.Membership, a.Caller.Email, usecase.TeamOf(a.Team), id); err != nil {
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
			err = readEmptyBody(w, r)
		}
		if err != nil {
			return err
		}
		m, _, err := d.Cases.Deactivate(r.Context(), a.Membership, a.Caller.Email, usecase.TeamOf(a.Team), id)
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
			err = readEmptyBody(w, r)
		}
		if err != nil {
			return err
		}
		m, _, err := d.Cases.Reactivate(r.Context(), a.Team.ID, id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, infoJSON(m, d.Now()))
		return nil
	})
}

func bulk(d Deps) http.HandlerFunc {
	return d.teamHandler(func(w http.ResponseWriter, r *http.Request, a teamAccess) error {
		body, err := readBulk(w, r)
		if err != nil {
			return err
		}
		results, err := d.Cases.Bulk(r.Context(), a.Membership, a.Caller.Email, usecase.TeamOf(a.Team), body.Action, body.MemberIDs, body.Role)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"results": results})
		return nil
	})
}

// teamJob starts a team-wide resend: the answer comes at once, the emails
// follow at the mail service's pace.
func teamJob(kind string) func(Deps) http.HandlerFunc {
	return func(d Deps) http.HandlerFunc {
		return d.teamHandler(func(w http.ResponseWriter, r *http.Request, a teamAccess) error {
			if err := readEmptyBody(w, r); err != nil {
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
	return d.handler(func(w http.ResponseWriter, r *http.Request) error {
		token, err := readAccept(w, r)
		if err != nil {
			return err
		}
		ctx := users.WithAudit(r.Context(), users.Actor{Kind: users.ActorInvitee}, requestOf(r.Context()))
		m, err := d.Cases.Accept(ctx, token)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"teamId": m.TeamID, "memberId": m.ID, "email": m.Email, "status": m.Status})
		return nil
	})
}

type activityJSON struct {
	TeamID   string `json:"teamId"`
	MemberID string `json:"memberId"`
	Status   string `json:"status"`
	LastCall string `json:"lastCall"`
}

func appActivity(d Deps, signIn bool) http.HandlerFunc {
	return d.handler(func(w http.ResponseWriter, r *http.Request) error {
		c, err := callerFrom(r.Context())
		if err != nil {
			return err
		}
		now := d.Now()
		a := users.Activity{At: now, SignIn: signIn}
		if signIn {
			if a.AppVersion, a.Device, err = readSignIn(w, r); err != nil {
				return err
			}
		} else {
			call, err := readCall(w, r, now)
			if err != nil {
				return err
			}
			a.At, a.Seconds, a.CallID = call.End, call.Seconds, call.CallID
		}
		ctx := users.WithAudit(r.Context(), users.Actor{Kind: users.ActorMember, Email: c.Email}, requestOf(r.Context()))
		ms, err := d.Cases.RecordActivity(ctx, usecase.AppCaller{Email: c.Email, EmailVerified: c.EmailVerified}, a)
		if err != nil {
			return err
		}
		out := make([]activityJSON, len(ms))
		for i, m := range ms {
			out[i] = activityJSON{TeamID: m.TeamID, MemberID: m.ID, Status: string(m.Status), LastCall: string(m.LastCall)}
		}
		writeJSON(w, http.StatusOK, map[string]any{"teams": out})
		return nil
	})
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
		if !validID(id) {
			return users.Errorf(users.KindNotFound, "job_not_found", "No such job in this team.")
		}
		j, err := d.Jobs.Get(r.Context(), a.Team.ID, id)
		if err != nil {
			return err
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
