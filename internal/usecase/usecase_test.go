package usecase

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/keyring"
	"github.com/teamusers/usersapi/internal/users"
)

// fakeStore is a hand-written Store: each test sets what it needs.
type fakeStore struct {
	addMembers   func(teamID string, adds []users.NewMember) ([]error, error)
	updateMember func(teamID, memberID string, rule users.Rule) (users.Member, bool, error)
	invitation   func(hash string) (string, string, bool, error)
	memberships  func(email string) ([]users.Membership, error)
	addCall      func(teamID, memberID string, end time.Time, seconds int, key string) (bool, error)
	signIns      []users.SignIn
}

func (f *fakeStore) AddMembers(_ context.Context, teamID string, adds []users.NewMember) ([]error, error) {
	return f.addMembers(teamID, adds)
}
func (f *fakeStore) UpdateMember(_ context.Context, teamID, memberID string, rule users.Rule) (users.Member, bool, error) {
	return f.updateMember(teamID, memberID, rule)
}
func (f *fakeStore) Invitation(_ context.Context, hash string) (string, string, bool, error) {
	return f.invitation(hash)
}
func (f *fakeStore) Memberships(_ context.Context, email string) ([]users.Membership, error) {
	return f.memberships(email)
}
func (f *fakeStore) RecordSignIn(_ context.Context, in users.SignIn) error {
	f.signIns = append(f.signIns, in)
	return nil
}
func (f *fakeStore) AddCall(_ context.Context, teamID, memberID string, end time.Time, seconds int, key string, _ int) (bool, error) {
	return f.addCall(teamID, memberID, end, seconds, key)
}
func (f *fakeStore) SignInsOn(_ context.Context, teamID, memberID, day string, _ int) (int, error) {
	n := 0
	for _, in := range f.signIns {
		if in.TeamID == teamID && in.MemberID == memberID && in.At.UTC().Format("2006-01-02") == day {
			n++
		}
	}
	return n, nil
}
func (f *fakeStore) ListMembers(context.Context, users.Team, users.ListQuery, string) ([]users.Member, string, error) {
	return nil, "", errors.New("not used")
}

var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func service(st Store) Service {
	return Service{Store: st, Tokens: keyring.NewSealer([]byte("0123456789abcdef0123456789abcdef"), "t"), Policy: users.DefaultPolicy, Now: func() time.Time { return now }}
}

func TestInviteAnswersEveryAddressInOrder(t *testing.T) {
	var got []users.NewMember
	st := &fakeStore{addMembers: func(teamID string, adds []users.NewMember) ([]error, error) {
		got = adds
		return []error{nil, users.Errorf(users.KindConflict, "already_member", "x"), users.Errorf(users.KindConflict, "seat_limit_reached", "x")}, nil
	}}
	res, err := service(st).Invite(context.Background(), Team{ID: "t_a", Name: "Acme"}, "admin@example.com",
		[]string{"A@example.com", "nope", "b@example.com", "a@example.com", "c@example.com"}, users.RoleUser)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"invited", "invalid_email", "already_member", "duplicate_in_request", "seat_limit_reached"}
	for i, r := range res {
		if r.Result != want[i] {
			t.Errorf("%d %s: %s, want %s", i, r.Email, r.Result, want[i])
		}
	}
	if res[0].MemberID == "" || res[2].MemberID != "" {
		t.Errorf("member ids: %+v", res)
	}
	if len(got) != 3 || got[0].Member.Email != "a@example.com" || got[2].Member.Email != "c@example.com" {
		t.Fatalf("stored %+v", got)
	}
	for _, a := range got {
		m := a.Member
		if m.Status != users.StatusInvitationSent || m.TokenHash == "" || a.Email == nil || a.Email.Data["sealedToken"] == "" ||
			m.LastEmail == nil || m.LastEmail.ID != a.Email.ID || a.Email.Data["teamName"] != "Acme" || !m.InvitationExpiresAt.Equal(now.Add(users.DefaultPolicy.InvitationTTL)) {
			t.Fatalf("an invitation as stored: %+v / %+v", m, a.Email)
		}
	}
	// A store failure is the request's failure, not a result.
	st.addMembers = func(string, []users.NewMember) ([]error, error) { return nil, users.Unavailable(errors.New("busy")) }
	if _, err := service(st).Invite(context.Background(), Team{ID: "t_a"}, "x", []string{"d@example.com"}, users.RoleUser); err == nil {
		t.Fatal("a failed store call was swallowed")
	}
}

func TestAcceptRefusesMalformedAndRemovedInvitations(t *testing.T) {
	st := &fakeStore{
		invitation: func(string) (string, string, bool, error) { return "t_a", "m_gone", false, nil },
		updateMember: func(string, string, users.Rule) (users.Member, bool, error) {
			return users.Member{}, false, users.ErrMemberNotFound
		},
	}
	if _, err := service(st).Accept(context.Background(), "short"); err != users.ErrInvalidToken {
		t.Fatalf("a malformed token: %v", err)
	}
	if _, err := service(st).Accept(context.Background(), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"); err != users.ErrInvalidToken {
		t.Fatalf("the member was removed since: %v", err)
	}
}

func TestARetriedCallReportHasTheSameKey(t *testing.T) {
	var keys []string
	st := &fakeStore{
		memberships: func(string) ([]users.Membership, error) {
			return []users.Membership{{TeamID: "t_a", MemberID: "m_a", Status: users.StatusActive}, {TeamID: "t_b", MemberID: "m_b", Status: users.StatusInvitationSent}}, nil
		},
		addCall: func(team, member string, end time.Time, s int, key string) (bool, error) {
			if team != "t_a" {
				t.Errorf("a call recorded in a team not joined: %s", team)
			}
			keys = append(keys, key)
			return true, nil
		},
		updateMember: func(team, member string, rule users.Rule) (users.Member, bool, error) {
			m := users.Member{ID: member, TeamID: team, Status: users.StatusActive}
			_, err := rule(&m)
			return m, err == nil, nil
		},
	}
	s := service(st)
	call := users.Activity{At: now, Seconds: 60}
	for i := 0; i < 2; i++ {
		if _, err := s.RecordActivity(context.Background(), AppCaller{Email: "a@example.com"}, call); err != nil {
			t.Fatal(err)
		}
	}
	withID := call
	withID.CallID = "call-1"
	other := call
	other.Seconds = 61
	for _, a := range []users.Activity{withID, other} {
		if _, err := s.RecordActivity(context.Background(), AppCaller{Email: "a@example.com"}, a); err != nil {
			t.Fatal(err)
		}
	}
	if len(keys) != 4 || keys[0] != keys[1] || keys[2] == keys[0] || keys[3] == keys[0] || len(keys[0]) > 16 {
		t.Fatalf("call keys %q", keys)
	}
}
