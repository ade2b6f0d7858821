// Package memstore is an in-memory store with the contract of the table
// (internal/dynamo) as the use cases see it: every change is all or
// nothing, one email is one member per team, a seat is taken only while
// one is free, an identity provider's id and user name are unique in a
// team, an invitation token opens one member, a call is counted once and
// a member's day holds at most its limit; the errors the rules depend on
// are the same users kinds. It lets every use case be tested in
// milliseconds without the local stack (make unit); storetest holds the
// contract and runs it on this store and, in tests/integration, on the
// real one.
//
// It is not the table: no indexes, no stream, no TTL. Pages are by email
// whatever the sort asks, and a cursor is the last member's id.
package memstore

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/teamusers/usersapi/internal/users"
)

// Store holds teams, members and what goes with them. The zero value is
// not ready: use New.
type Store struct {
	mu   sync.Mutex
	now  func() time.Time
	zone *time.Location

	teams       map[string]users.Team
	members     map[string]map[string]users.Member // team → member id → member
	memberships map[string]map[string]string       // email → team → member id
	tokens      map[string]token                   // token hash → what it opens
	guards      map[string]string                  // "ext#"/"user#" + team + value → member id
	billing     map[string]string                  // billing account → team
	outbox      []users.Email
	audit       map[string][]users.AuditEntry // team → entries, oldest first
	days        map[string]*usageDay          // team#member#day → the day's calls
	signIns     map[string][]users.SignIn     // team#member → sign-ins
	quotas      map[string]int                // counter#window → used
	claims      map[string]int                // claim → units it holds
	jobs        map[string]users.Job
}

type token struct {
	teamID, memberID string
	accepted         bool
}

type usageDay struct {
	calls, seconds int
	keys           map[string]bool
	lastEnd        time.Time
}

// New is an empty store whose "now" is clock (nil: time.Now) and whose
// days are counted in zone (nil: UTC), as the stack's NightlyTimeZone.
func New(clock func() time.Time, zone *time.Location) *Store {
	if clock == nil {
		clock = time.Now
	}
	if zone == nil {
		zone = time.UTC
	}
	return &Store{now: clock, zone: zone,
		teams: map[string]users.Team{}, members: map[string]map[string]users.Member{}, memberships: map[string]map[string]string{},
		tokens: map[string]token{}, guards: map[string]string{}, billing: map[string]string{}, audit: map[string][]users.AuditEntry{},
		days: map[string]*usageDay{}, signIns: map[string][]users.SignIn{}, quotas: map[string]int{}, claims: map[string]int{}, jobs: map[string]users.Job{}}
}

// Outbox is every email queued so far, oldest first.
func (s *Store) Outbox() []users.Email {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.outbox)
}

// CreateTeam adds a team with its owner (provisioning.Store).
func (s *Store) CreateTeam(ctx context.Context, t users.Team, owner users.Member, billingAccount string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.teams[t.ID]; ok {
		return users.Errorf(users.KindConflict, "team_exists", "The team exists already.")
	}
	if id, ok := s.billing[billingAccount]; ok && billingAccount != "" {
		return &users.BillingAccountTaken{TeamID: id}
	}
	owner.TeamID = t.ID
	owner.LastCall = users.BucketFor(owner.Status, owner.LastActiveAt, s.now(), s.zone)
	t.Counters = users.CounterDelta("", owner.Status)
	t.Facets = map[users.Facet]int{users.FacetOf(owner): 1}
	s.teams[t.ID] = t
	s.members[t.ID] = map[string]users.Member{owner.ID: owner}
	s.setMembership(owner)
	if billingAccount != "" {
		s.billing[billingAccount] = t.ID
	}
	e := users.NewAuditEntry(ctx, t.ID, users.AuditCreateTeam, s.now())
	e.TargetID, e.TargetEmail = owner.ID, owner.Email
	s.audit[t.ID] = append(s.audit[t.ID], e)
	return nil
}

// GetTeam is a team (users.ErrTeamNotFound when there is none).
func (s *Store) GetTeam(_ context.Context, teamID string) (users.Team, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.teams[teamID]
	if !ok {
		return users.Team{}, users.ErrTeamNotFound
	}
	return t, nil
}

// UpdateTeam changes a team's plan, seats or settings.
func (s *Store) UpdateTeam(_ context.Context, teamID string, c users.TeamChange) (users.Team, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.teams[teamID]
	if !ok {
		return users.Team{}, users.ErrTeamNotFound
	}
	if c.Name != nil {
		t.Name = *c.Name
	}
	if c.Plan != nil {
		t.Plan = *c.Plan
	}
	if c.Seats != nil {
		if *c.Seats < t.Counters.Assigned {
			return users.Team{}, users.ErrSeatLimit
		}
		t.Seats = *c.Seats
	}
	if c.NotifyOnRevoke != nil {
		t.Settings.NotifyOnRevoke = *c.NotifyOnRevoke
	}
	s.teams[teamID] = t
	return t, nil
}

// Teams are the teams of ids that exist.
func (s *Store) Teams(_ context.Context, ids []string) (map[string]users.Team, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]users.Team{}
	for _, id := range ids {
		if t, ok := s.teams[id]; ok {
			out[id] = t
		}
	}
	return out, nil
}

func (s *Store) setMembership(m users.Member) {
	if s.memberships[m.Email] == nil {
		s.memberships[m.Email] = map[string]string{}
	}
	s.memberships[m.Email][m.TeamID] = m.ID
}

func guardKeys(m users.Member) []string {
	var out []string
	if m.ExternalID != "" {
		out = append(out, "ext#"+m.TeamID+"#"+m.ExternalID)
	}
	if m.UserName != "" {
		out = append(out, "user#"+m.TeamID+"#"+strings.ToLower(m.UserName))
	}
	return out
}

// check refuses a member that conflicts with another of the team (its
// address, its identity provider's keys) or that needs a seat the team
// lacks; taken is the seats the change takes.
func (s *Store) check(t users.Team, m users.Member, taken int) error {
	if id, ok := s.memberships[m.Email][m.TeamID]; ok && id != m.ID {
		return users.AlreadyMember(m.Email)
	}
	if taken > 0 && t.Counters.Assigned+taken > t.Seats {
		return users.ErrSeatLimit
	}
	for _, k := range guardKeys(m) {
		if id, ok := s.guards[k]; ok && id != m.ID {
			if strings.HasPrefix(k, "ext#") {
				return users.ErrExternalIDTaken
			}
			return users.ErrUserNameTaken
		}
	}
	return nil
}

func (s *Store) counters(t users.Team, d users.Counters, from, to *users.Member) users.Team {
	t.Counters.Assigned += d.Assigned
	t.Counters.PendingInvitations += d.PendingInvitations
	t.Counters.NeverUsedApp += d.NeverUsedApp
	facets := map[users.Facet]int{}
	for f, n := range t.Facets {
		facets[f] = n
	}
	if from != nil {
		facets[users.FacetOf(*from)]--
	}
	if to != nil {
		facets[users.FacetOf(*to)]++
	}
	t.Facets = facets
	return t
}

func (s *Store) record(ctx context.Context, teamID, action string, detail map[string]string, m users.Member) {
	if action == "" {
		return
	}
	e := users.NewAuditEntry(ctx, teamID, action, s.now())
	e.TargetID, e.TargetEmail, e.Detail = m.ID, m.Email, detail
	s.audit[teamID] = append(s.audit[teamID], e)
}

// AddMembers adds each member with its email and audit entry, all or
// nothing per member, in order: the first get the free seats. A member's
// error is users.AlreadyMember (which beats the seat limit),
// users.ErrSeatLimit or a taken identity provider key.
func (s *Store) AddMembers(ctx context.Context, teamID string, adds []users.NewMember) ([]error, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.teams[teamID]; !ok {
		return nil, users.ErrTeamNotFound
	}
	out := make([]error, len(adds))
	for i, a := range adds {
		m := a.Member
		m.TeamID = teamID
		t := s.teams[teamID]
		d := users.CounterDelta("", m.Status)
		if err := s.check(t, m, d.Assigned); err != nil {
			out[i] = err
			continue
		}
		s.members[teamID][m.ID] = m
		s.setMembership(m)
		for _, k := range guardKeys(m) {
			s.guards[k] = m.ID
		}
		if m.TokenHash != "" {
			s.tokens[m.TokenHash] = token{teamID: teamID, memberID: m.ID}
		}
		if a.Email != nil {
			s.outbox = append(s.outbox, *a.Email)
		}
		s.teams[teamID] = s.counters(t, d, nil, &m)
		s.record(ctx, teamID, a.Action, a.Detail, m)
	}
	return out, nil
}

// GetMember is a member of the team (users.ErrMemberNotFound otherwise).
func (s *Store) GetMember(_ context.Context, teamID, memberID string) (users.Member, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.members[teamID][memberID]
	if !ok {
		return users.Member{}, users.ErrMemberNotFound
	}
	return m, nil
}

// UpdateMember lets rule change a member and writes the result with all
// that goes with it, or nothing (see dynamo.Store.UpdateMember).
func (s *Store) UpdateMember(ctx context.Context, teamID, memberID string, rule users.Rule) (users.Member, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	before, ok := s.members[teamID][memberID]
	if !ok {
		return users.Member{}, false, users.ErrMemberNotFound
	}
	m := before
	ch, err := rule(&m)
	if err != nil {
		if err == users.ErrUnchanged {
			err = nil
		}
		return before, false, err
	}
	t := s.teams[teamID]
	to := m.Status
	if ch.Remove {
		to = ""
	}
	d := users.CounterDelta(before.Status, to)
	if !ch.Remove {
		if err := s.check(t, m, d.Assigned); err != nil {
			return users.Member{}, false, err
		}
	}
	switch users.OldToken(before, m, ch.Remove) {
	case users.TokenSpent:
		tk := s.tokens[before.TokenHash]
		tk.accepted = true
		s.tokens[before.TokenHash] = tk
	case users.TokenVoided:
		delete(s.tokens, before.TokenHash)
	}
	if !ch.Remove && m.TokenHash != "" && m.TokenHash != before.TokenHash {
		s.tokens[m.TokenHash] = token{teamID: teamID, memberID: m.ID}
	}
	for _, k := range guardKeys(before) {
		delete(s.guards, k)
	}
	if before.Email != m.Email || ch.Remove {
		delete(s.memberships[before.Email], teamID)
	}
	if ch.Remove {
		delete(s.members[teamID], memberID)
		s.teams[teamID] = s.counters(t, d, &before, nil)
	} else {
		s.members[teamID][memberID] = m
		s.setMembership(m)
		for _, k := range guardKeys(m) {
			s.guards[k] = m.ID
		}
		s.teams[teamID] = s.counters(t, d, &before, &m)
	}
	if ch.Email != nil {
		s.outbox = append(s.outbox, *ch.Email)
	}
	s.record(ctx, teamID, ch.Action, ch.Detail, before)
	if ch.Remove {
		return before, true, nil
	}
	return m, true, nil
}

// Invitation is the member a token's hash opens.
func (s *Store) Invitation(_ context.Context, tokenHash string) (teamID, memberID string, accepted bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenHash]
	if !ok {
		return "", "", false, users.ErrInvalidToken
	}
	return t.teamID, t.memberID, t.accepted, nil
}

// Memberships are an address's memberships, by team id.
func (s *Store) Memberships(_ context.Context, email string) ([]users.Membership, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []users.Membership
	for teamID, id := range s.memberships[email] {
		m := s.members[teamID][id]
		out = append(out, users.Membership{TeamID: teamID, MemberID: id, Role: m.Role, IsOwner: m.IsOwner, Status: m.Status})
	}
	slices.SortFunc(out, func(a, b users.Membership) int { return strings.Compare(a.TeamID, b.TeamID) })
	return out, nil
}

// RecordSignIn stores a sign-in; the same report twice is one.
func (s *Store) RecordSignIn(_ context.Context, in users.SignIn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := in.TeamID + "#" + in.MemberID
	for _, x := range s.signIns[k] {
		if x.At.Equal(in.At) {
			return nil
		}
	}
	s.signIns[k] = append(s.signIns[k], in)
	return nil
}

// SignInsOn counts a member's sign-ins on a day, up to upTo.
func (s *Store) SignInsOn(_ context.Context, teamID, memberID, day string, upTo int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, in := range s.signIns[teamID+"#"+memberID] {
		if users.DayOf(in.At, s.zone) == day && n < upTo {
			n++
		}
	}
	return n, nil
}

// AddCall counts a call on the day it ended, once per callKey, while the
// day holds fewer than limit calls (users.ErrDayFull beyond).
func (s *Store) AddCall(_ context.Context, teamID, memberID string, end time.Time, seconds int, callKey string, limit int) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := teamID + "#" + memberID + "#" + users.DayOf(end, s.zone)
	d := s.days[k]
	if d == nil {
		d = &usageDay{keys: map[string]bool{}}
		s.days[k] = d
	}
	if d.keys[callKey] {
		return false, nil
	}
	if d.calls >= limit {
		return false, users.ErrDayFull
	}
	d.keys[callKey] = true
	d.calls++
	d.seconds += seconds
	if end.After(d.lastEnd) {
		d.lastEnd = end
	}
	return true, nil
}

// LatestActivity is the end of the member's last call and their last
// sign-in.
func (s *Store) LatestActivity(_ context.Context, teamID, memberID string) (lastCall, lastSignIn time.Time, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prefix := teamID + "#" + memberID + "#"
	for k, d := range s.days {
		if strings.HasPrefix(k, prefix) && d.lastEnd.After(lastCall) {
			lastCall = d.lastEnd
		}
	}
	for _, in := range s.signIns[teamID+"#"+memberID] {
		if in.At.After(lastSignIn) {
			lastSignIn = in.At
		}
	}
	return lastCall, lastSignIn, nil
}

// ListMembers is a page of the members the query selects, by email (the
// order the sort asks is the table's business: this store keeps one); the
// cursor is the last member's id.
func (s *Store) ListMembers(_ context.Context, team users.Team, q users.ListQuery, after string) ([]users.Member, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []users.Member
	for _, m := range s.members[team.ID] {
		if q.Matches(m) {
			all = append(all, m)
		}
	}
	slices.SortFunc(all, func(a, b users.Member) int {
		return cmp.Or(strings.Compare(a.Email, b.Email), strings.Compare(a.ID, b.ID))
	})
	if q.Desc {
		slices.Reverse(all)
	}
	if after != "" {
		i := slices.IndexFunc(all, func(m users.Member) bool { return m.ID == after })
		if i < 0 {
			return nil, "", users.ErrInvalidCursor
		}
		all = all[i+1:]
	}
	limit := q.Limit
	if limit <= 0 {
		limit = users.DefaultListLimit
	}
	if len(all) <= limit {
		return all, "", nil
	}
	return all[:limit], all[limit-1].ID, nil
}

// AuditLog is the team's audit entries, newest first, up to q.Limit.
func (s *Store) AuditLog(_ context.Context, teamID string, q users.AuditQuery) ([]users.AuditEntry, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	entries := slices.Clone(s.audit[teamID])
	slices.Reverse(entries)
	if q.Limit > 0 && len(entries) > q.Limit {
		entries = entries[:q.Limit]
	}
	return entries, "", nil
}

// TakeQuota takes n units of a counter's window while the count stays
// within limit; claim names what was taken, to give it back. When it
// refuses, used is the count already taken (-1 when n alone is over).
func (s *Store) TakeQuota(_ context.Context, counter string, window time.Time, _ time.Duration, n, limit int) (claim string, used int, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := counter + "#" + window.UTC().Format(time.RFC3339)
	if n > limit {
		return "", -1, false, nil
	}
	if s.quotas[k]+n > limit {
		return "", s.quotas[k], false, nil
	}
	s.quotas[k] += n
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	claim = k + "#" + hex.EncodeToString(b)
	s.claims[claim] = n
	return claim, 0, true, nil
}

// GiveBackQuota returns up to n of what a claim took.
func (s *Store) GiveBackQuota(_ context.Context, counter string, window time.Time, claim string, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := counter + "#" + window.UTC().Format(time.RFC3339)
	n = min(n, s.claims[claim])
	s.claims[claim] -= n
	s.quotas[k] -= n
	return nil
}

// Used is how much of a counter's window is taken (for tests).
func (s *Store) Used(counter string, window time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.quotas[counter+"#"+window.UTC().Format(time.RFC3339)]
}

// CreateJob records a team job.
func (s *Store) CreateJob(_ context.Context, j users.Job) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if j.CreatedAt.IsZero() {
		j.CreatedAt = s.now()
	}
	s.jobs[j.ID] = j
	return nil
}

// GetJob is a job (job_not_found otherwise).
func (s *Store) GetJob(_ context.Context, id string) (users.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok {
		return users.Job{}, users.Errorf(users.KindNotFound, "job_not_found", "No such job.")
	}
	return j, nil
}

// SaveJob checkpoints a job that is still where from says.
func (s *Store) SaveJob(_ context.Context, j users.Job, from string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.jobs[j.ID]; !ok || cur.Position != from {
		return users.ErrJobMoved
	}
	s.jobs[j.ID] = j
	return nil
}
