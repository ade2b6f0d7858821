package usecase

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/teamusers/usersapi/internal/users"
)

// ErrNoTeam means the caller of an app endpoint has joined no team.
var ErrNoTeam = &users.Error{Kind: users.KindNotFound, Code: "no_team", Message: "This account has not joined a team; accept an invitation first."}

// AppCaller is who reports activity from the app, as their token says.
type AppCaller struct {
	Email         string
	EmailVerified bool // the identity provider verified the address
}

// RecordActivity records app activity for every team the caller has
// joined. A sign-in with a verified address also joins every team that
// invited it and whose invitation is live (users.JoinBySignIn).
func (s Service) RecordActivity(ctx context.Context, c AppCaller, a users.Activity) ([]users.Member, error) {
	ms, err := s.Store.Memberships(ctx, c.Email)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	if a.SignIn {
		// A member's sign-ins of the day are capped; counted before
		// anything is written, for every team (one person, one app: the
		// counts are the same), so a refused sign-in changes nothing.
		day, limit := now.UTC().Format("2006-01-02"), s.Policy.Limits.SignInsPerMemberPerDay
		for _, m := range ms {
			if m.Status == users.StatusDeactivated || m.Status == users.StatusInvitationSent {
				continue
			}
			n, err := s.Store.SignInsOn(ctx, m.TeamID, m.MemberID, day, limit)
			if err != nil {
				return nil, err
			}
			if n >= limit {
				return nil, users.ReportLimit("sign-ins", limit, day, now)
			}
		}
	}
	var out []users.Member
	deactivated, full := false, false
	for _, m := range ms {
		rule := users.RecordActivity(a, now, s.Policy.Zone)
		switch m.Status {
		case users.StatusDeactivated:
			deactivated = true
			continue // turned off: neither sign-ins nor calls count
		case users.StatusInvitationSent:
			if !a.SignIn || !c.EmailVerified {
				continue
			}
			rule = users.JoinBySignIn(a, now, s.Policy.Zone)
		}
		// The member first: one deactivated a moment ago refuses the
		// activity, and then nothing of it is recorded.
		mem, _, err := s.Store.UpdateMember(ctx, m.TeamID, m.MemberID, rule)
		switch {
		case errors.Is(err, users.ErrMemberDeactivated):
			deactivated = true
			continue
		case errors.Is(err, users.ErrMemberNotFound), errors.Is(err, users.ErrTokenExpired):
			continue // removed a moment ago; an expired invitation needs a resend
		case err != nil:
			return nil, err
		}
		if a.SignIn {
			err = s.Store.RecordSignIn(ctx, users.SignIn{TeamID: m.TeamID, MemberID: m.MemberID, At: a.At, AppVersion: a.AppVersion, Device: a.Device})
		} else {
			_, err = s.Store.AddCall(ctx, m.TeamID, m.MemberID, a.At, a.Seconds, callKey(a), s.Policy.Limits.CallsPerMemberPerDay)
		}
		if errors.Is(err, users.ErrDayFull) {
			full = true
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, mem)
	}
	switch {
	case full:
		// The day's calls are at the cap: the app is told, and retries
		// (Retry-After) only when the day is today.
		return nil, users.ReportLimit("calls", s.Policy.Limits.CallsPerMemberPerDay, a.At.UTC().Format("2006-01-02"), now)
	case len(out) == 0 && deactivated:
		// The app is told plainly, rather than "no team".
		return nil, users.ErrMemberDeactivated
	case len(out) == 0:
		return nil, ErrNoTeam
	}
	return out, nil
}

// callKey identifies a call among its member's calls of a day: the app's
// callId when it sends one, else the call's end and duration (two calls of
// one person never end at the same millisecond with the same length). It is
// a short digest, so a day's item holds thousands of them.
func callKey(a users.Activity) string {
	id := a.CallID
	if id == "" {
		id = fmt.Sprintf("t:%d:%d", a.At.UnixMilli(), a.Seconds)
	}
	sum := sha256.Sum256([]byte(id))
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}
