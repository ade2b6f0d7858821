package httpapi

import (
	"math"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/teamusers/usersapi/internal/usecase"
	"github.com/teamusers/usersapi/internal/users"
)

// The request bodies, each read and checked in one function before a
// handler acts on it: what passes has passed every rule api/openapi.yaml
// states for it. The fuzz targets (fuzz_test.go) call these.

type inviteRequest struct {
	Emails []string
	Role   users.Role
}

func readInvite(w http.ResponseWriter, r *http.Request) (inviteRequest, error) {
	var body struct {
		Emails []string `json:"emails"`
		Role   *string  `json:"role"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		return inviteRequest{}, err
	}
	if len(body.Emails) == 0 || len(body.Emails) > users.MaxInviteEmails {
		return inviteRequest{}, users.Errorf(users.KindInvalid, "invalid_emails", "emails must list 1 to %d addresses.", users.MaxInviteEmails)
	}
	out := inviteRequest{Emails: body.Emails, Role: users.RoleUser}
	if body.Role != nil {
		role, err := users.ParseRole(*body.Role)
		if err != nil {
			return inviteRequest{}, err
		}
		out.Role = role
	}
	return out, nil
}

func readChangeRole(w http.ResponseWriter, r *http.Request) (users.Role, error) {
	var body struct {
		Role *string `json:"role"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		return "", err
	}
	if body.Role == nil {
		return "", users.Errorf(users.KindInvalid, "invalid_role", "role is required: user or admin.")
	}
	return users.ParseRole(*body.Role)
}

type bulkRequest struct {
	Action    string
	MemberIDs []string
	Role      users.Role // with change_role only
}

func readBulk(w http.ResponseWriter, r *http.Request) (bulkRequest, error) {
	var body struct {
		Action    string   `json:"action"`
		MemberIDs []string `json:"memberIds"`
		Role      *string  `json:"role"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		return bulkRequest{}, err
	}
	if !slices.Contains(usecase.BulkActions, body.Action) {
		return bulkRequest{}, users.Errorf(users.KindInvalid, "invalid_action", "action must be one of %s.", strings.Join(usecase.BulkActions, ", "))
	}
	if err := checkMemberIDs(body.MemberIDs); err != nil {
		return bulkRequest{}, err
	}
	out := bulkRequest{Action: body.Action, MemberIDs: body.MemberIDs}
	switch {
	case body.Action == usecase.ActionChangeRole && body.Role == nil:
		return bulkRequest{}, users.Errorf(users.KindInvalid, "invalid_role", "change_role needs role.")
	case body.Action == usecase.ActionChangeRole:
		role, err := users.ParseRole(*body.Role)
		if err != nil {
			return bulkRequest{}, err
		}
		out.Role = role
	case body.Role != nil:
		return bulkRequest{}, users.Errorf(users.KindInvalid, "invalid_role", "role goes only with change_role.")
	}
	return out, nil
}

// checkMemberIDs: 1 to 1,000 distinct member ids, each one we could have issued.
func checkMemberIDs(ids []string) error {
	if len(ids) == 0 || len(ids) > users.MaxBulkMembers {
		return users.Errorf(users.KindInvalid, "invalid_member_ids", "memberIds must list 1 to %d members.", users.MaxBulkMembers)
	}
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !validID(id) || seen[id] {
			return users.Errorf(users.KindInvalid, "invalid_member_ids", "memberIds must be distinct member ids; %q is not.", id)
		}
		seen[id] = true
	}
	return nil
}

// readEmptyBody accepts no body or an empty JSON object (the team-wide buttons).
func readEmptyBody(w http.ResponseWriter, r *http.Request) error {
	if r.ContentLength == 0 {
		return nil
	}
	var empty struct{}
	return decodeJSON(w, r, &empty)
}

// readAccept returns the invitation token: 43 characters of base64url,
// the encoding of the 256 random bits an invitation carries.
func readAccept(w http.ResponseWriter, r *http.Request) (string, error) {
	var body struct {
		Token string `json:"token"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		return "", err
	}
	if !users.ValidInvitationToken(body.Token) {
		return "", users.ErrInvalidToken
	}
	return body.Token, nil
}

// Limits of the app's reports.
const (
	maxAppVersion = 64
	maxDevice     = 128
	maxCallID     = 128
	maxCallLength = 24 * 3600
	// A call ends at most this far in the future (clocks differ) and
	// started at most a year ago.
	callClockSkew = 5 * time.Minute
)

func readSignIn(w http.ResponseWriter, r *http.Request) (appVersion, device string, err error) {
	var body struct {
		AppVersion string `json:"appVersion"`
		Device     string `json:"device"`
	}
	if r.ContentLength != 0 { // the app may send no body at all
		if err := decodeJSON(w, r, &body); err != nil {
			return "", "", err
		}
	}
	if utf8.RuneCountInString(body.AppVersion) > maxAppVersion || utf8.RuneCountInString(body.Device) > maxDevice {
		return "", "", users.Errorf(users.KindInvalid, "invalid_field", "appVersion is at most %d characters and device at most %d.", maxAppVersion, maxDevice)
	}
	return body.AppVersion, body.Device, nil
}

type callReport struct {
	CallID  string
	End     time.Time
	Seconds int
}

// readCall checks a call report against now: it lasted 0 to 86,400
// seconds (a whole number; 60.0 is 60, as JSON Schema counts it), started
// within the last year and has ended (startedAt + durationSeconds at most
// five minutes from now).
func readCall(w http.ResponseWriter, r *http.Request, now time.Time) (callReport, error) {
	var body struct {
		CallID          string   `json:"callId"`
		StartedAt       *string  `json:"startedAt"`
		DurationSeconds *float64 `json:"durationSeconds"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		return callReport{}, err
	}
	if body.StartedAt == nil || body.DurationSeconds == nil {
		return callReport{}, users.Errorf(users.KindInvalid, "missing_field", "startedAt and durationSeconds are required.")
	}
	started, err := parseInstant("startedAt", *body.StartedAt)
	if err != nil {
		return callReport{}, err
	}
	d := *body.DurationSeconds
	if d != math.Trunc(d) || d < 0 || d > maxCallLength {
		return callReport{}, users.Errorf(users.KindInvalid, "invalid_duration", "durationSeconds must be a whole number from 0 to %d.", maxCallLength)
	}
	end := started.Add(time.Duration(d) * time.Second)
	if end.After(now.Add(callClockSkew)) || started.Before(now.AddDate(-1, 0, 0)) {
		return callReport{}, users.Errorf(users.KindInvalid, "invalid_started_at", "startedAt must be within the last year and the call must have ended.")
	}
	if len(body.CallID) > maxCallID || !users.PrintableASCII(body.CallID) {
		return callReport{}, users.Errorf(users.KindInvalid, "invalid_call_id", "callId is at most %d visible ASCII characters.", maxCallID)
	}
	return callReport{CallID: body.CallID, End: end, Seconds: int(d)}, nil
}

// parseInstant reads an RFC 3339 date-time ("2026-11-30T14:05:00Z", with
// any offset and fraction); the error names the field and shows an example.
func parseInstant(field, v string) (time.Time, error) {
	// RFC 3339 allows a lower-case "t" and "z"; Go's layout does not.
	t, err := time.Parse(time.RFC3339Nano, strings.ToUpper(v))
	if err != nil {
		return time.Time{}, users.Errorf(users.KindInvalid, "invalid_"+snake(field), "%s must be a date and time such as 2026-11-30T14:05:00Z.", field)
	}
	return t, nil
}

// snake turns startedAt into started_at, for error codes.
func snake(s string) string {
	out := make([]byte, 0, len(s)+2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			out = append(out, '_', c+'a'-'A')
			continue
		}
		out = append(out, c)
	}
	return string(out)
}
