package httpapi

import (
	"encoding/base64"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/teamusers/usersapi/internal/users"
)

// The audit log's page size.
const (
	DefaultAuditLimit = 50
	MaxAuditLimit     = 100
)

type auditActorJSON struct {
	Kind  string `json:"kind"`
	Email string `json:"email,omitempty"`
	Role  string `json:"role,omitempty"`
	Name  string `json:"name,omitempty"`
}

type auditTargetJSON struct {
	MemberID string `json:"memberId"`
	Email    string `json:"email"`
}

type auditRequestJSON struct {
	ID       string `json:"id,omitempty"`
	SourceIP string `json:"sourceIp,omitempty"`
	Via      string `json:"via,omitempty"`
}

type auditEntryJSON struct {
	ID      string            `json:"id"`
	At      *string           `json:"at"`
	Actor   auditActorJSON    `json:"actor"`
	Action  string            `json:"action"`
	Target  *auditTargetJSON  `json:"target"`
	Detail  map[string]string `json:"detail"`
	Request auditRequestJSON  `json:"request"`
	Result  string            `json:"result"`
}

// auditPosition is where a page ended: the last entry's time and id.
var auditPosition = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#a_[a-z0-9]{1,40}$`)

// parseAuditQuery reads the audit log's filters: actor (an email), action,
// target (a member id), from and to (a date, or an instant), limit and
// cursor. Anything else, or a value given twice or empty, is refused.
func parseAuditQuery(params map[string][]string, now time.Time) (users.AuditQuery, error) {
	q := users.AuditQuery{Limit: DefaultAuditLimit}
	bad := func(format string, args ...any) (users.AuditQuery, error) {
		return q, users.Errorf(users.KindInvalid, "invalid_query", format, args...)
	}
	for name, vals := range params {
		if !slices.Contains([]string{"actor", "action", "target", "from", "to", "limit", "cursor"}, name) {
			return bad("Unknown parameter %q.", name)
		}
		if len(vals) != 1 || vals[0] == "" {
			return bad("Parameter %q must be given once, with a value.", name)
		}
	}
	get := func(name string) string {
		if v := params[name]; len(v) == 1 {
			return v[0]
		}
		return ""
	}
	if v := get("actor"); v != "" {
		email, ok := users.NormalizeEmail(v)
		if !ok {
			return bad("Parameter actor must be an email address.")
		}
		q.Actor = email
	}
	if v := get("action"); v != "" {
		if !slices.Contains(users.AuditActions, v) {
			return bad("Parameter action has an unknown value %q.", v)
		}
		q.Action = v
	}
	if v := get("target"); v != "" {
		if !validID(v) {
			return bad("Parameter target must be a member id.")
		}
		q.TargetID = v
	}
	for _, p := range []struct {
		name string
		into *time.Time
		end  bool
	}{{"from", &q.From, false}, {"to", &q.To, true}} {
		v := get(p.name)
		if v == "" {
			continue
		}
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			*p.into = t.UTC()
		} else if d, err := time.Parse("2006-01-02", v); err == nil {
			if p.end {
				d = d.Add(24*time.Hour - time.Millisecond) // the whole day
			}
			*p.into = d
		} else {
			return bad("Parameter %s must be a date such as 2026-11-30 or an instant such as 2026-11-30T12:00:00Z.", p.name)
		}
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
		return q, users.Errorf(users.KindInvalid, "invalid_period", "Parameter from must not be after to.")
	}
	if v := get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxAuditLimit {
			return bad("Parameter limit must be a whole number from 1 to %d.", MaxAuditLimit)
		}
		q.Limit = n
	}
	if v := get("cursor"); v != "" {
		pos, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || !auditPosition.Match(pos) {
			return q, users.ErrInvalidCursor
		}
		q.After = string(pos)
	}
	return q, nil
}

// getAuditLog serves the team's audit log, newest first. The cursor is the
// position of the last entry shown; it is read within the caller's team
// only, so it needs no signature: at worst it moves the reader within
// their own team's log.
func getAuditLog(d Deps) http.HandlerFunc {
	return d.teamHandler(func(w http.ResponseWriter, r *http.Request, a teamAccess) error {
		q, err := parseAuditQuery(r.URL.Query(), d.Now())
		if err != nil {
			return err
		}
		entries, next, err := d.Cases.AuditLog(r.Context(), a.Team.ID, q)
		if err != nil {
			return err
		}
		out := struct {
			Entries    []auditEntryJSON `json:"entries"`
			NextCursor string           `json:"nextCursor,omitempty"`
		}{Entries: make([]auditEntryJSON, len(entries))}
		for i, e := range entries {
			j := auditEntryJSON{ID: e.ID, At: timeJSON(e.At), Action: e.Action, Detail: e.Detail, Result: e.Result,
				Actor:   auditActorJSON{Kind: e.Actor.Kind, Email: e.Actor.Email, Role: string(e.Actor.Role), Name: e.Actor.Name},
				Request: auditRequestJSON{ID: e.Request.ID, SourceIP: e.Request.SourceIP, Via: e.Request.Via}}
			if j.Detail == nil {
				j.Detail = map[string]string{}
			}
			if e.TargetID != "" {
				j.Target = &auditTargetJSON{MemberID: e.TargetID, Email: e.TargetEmail}
			}
			out.Entries[i] = j
		}
		if next != "" {
			out.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(next))
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	})
}
