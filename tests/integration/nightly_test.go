package integration

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/nightly"
	"github.com/teamusers/usersapi/internal/provisioning"
	"github.com/teamusers/usersapi/internal/users"
)

const day = 24 * time.Hour

// The instant the nightly runs "as of" in these tests.
var nightAt = time.Date(2026, 12, 31, 3, 0, 0, 0, time.UTC)

type nightlyFixture struct {
	store   *dynamo.Store
	team    string
	byAge   map[int]string // activity age in days → member id
	invited map[int]string // invitation age in days → member id
}

// newNightlyFixture builds, on tables of its own, a team whose members were
// last active 1, 4, 10, 40 and 120 days before nightAt, each written when it
// was fresh (so the nightly job has to move it), with sign-ins 120, 100 and
// 10 days old, and invitations 8 and 2 days old.
func newNightlyFixture(t *testing.T, name string) nightlyFixture {
	t.Helper()
	return newShardedNightlyFixture(t, name, dynamo.DefaultDueShards)
}

// newShardedNightlyFixture is newNightlyFixture with its work queue
// written over shards shards.
func newShardedNightlyFixture(t *testing.T, name string, shards int) nightlyFixture {
	t.Helper()
	ctx := context.Background()
	db := local.NewDynamoDB(stack.Services.DynamoDBEndpoint)
	for logical, table := range map[string]string{"Table": name, "ArchiveTable": name + "-archive"} {
		if err := local.EnsureTable(ctx, db, stack.Template, logical, table); err != nil {
			t.Fatal(err)
		}
	}
	base := dynamo.New(db, name).WithArchive(name + "-archive").WithDueShards(shards)
	at := func(t0 time.Time) *dynamo.Store { return base.WithClock(func() time.Time { return t0 }) }
	seats := 20
	created := nightAt.Add(-200 * day)
	team, err := provisioning.Service{Store: at(created), Now: func() time.Time { return created }}.Handle(ctx,
		provisioning.Request{Plan: "pro", Seats: &seats, OwnerEmail: "owner@night.example"})
	if err != nil {
		t.Fatal(err)
	}
	f := nightlyFixture{store: base, team: team.TeamID, byAge: map[int]string{}, invited: map[int]string{}}
	for _, age := range []int{1, 4, 10, 40, 120} {
		last := nightAt.Add(-time.Duration(age) * day)
		joined := last.Add(-day)
		m := users.Member{ID: users.NewID("m"), TeamID: f.team, Email: "active" + strconv.Itoa(age) + "@night.example", Role: users.RoleUser,
			Status: users.StatusPendingAppLogin, InvitedAt: joined.Add(-time.Hour), AcceptedAt: joined}
		if err := at(joined).AddMember(ctx, m); err != nil {
			t.Fatal(err)
		}
		signIns := []time.Time{last}
		if age == 120 {
			signIns = []time.Time{last.Add(-time.Minute), nightAt.Add(-100 * day)}
			signIns[1] = last // 120 days: two sign-ins that day
		}
		if age == 10 {
			signIns = []time.Time{nightAt.Add(-100 * day), last} // one old sign-in, one recent
		}
		for _, s := range signIns {
			if err := base.RecordSignIn(ctx, users.SignIn{TeamID: f.team, MemberID: m.ID, At: s, AppVersion: "2.0"}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := at(s.Add(time.Second)).UpdateMember(ctx, f.team, m.ID,
				users.RecordActivity(users.Activity{At: s, SignIn: true}, s.Add(time.Second), time.UTC)); err != nil {
				t.Fatal(err)
			}
		}
		f.byAge[age] = m.ID
	}
	for _, age := range []int{8, 2} {
		sent := nightAt.Add(-time.Duration(age) * day)
		id := users.NewID("m")
		m := users.Member{ID: id, TeamID: f.team, Email: "invited" + strconv.Itoa(age) + "@night.example", Role: users.RoleUser,
			Status: users.StatusInvitationSent, InvitedAt: sent, InvitationSentAt: sent, InvitationExpiresAt: sent.Add(7 * day), TokenHash: users.HashToken(id)}
		e := users.Email{ID: users.NewID("e"), Kind: users.EmailInvitation, To: m.Email, TeamID: f.team, MemberID: m.ID}
		users.QueueEmail(&m, e, sent)
		if res, err := at(sent).AddMembers(ctx, f.team, []users.NewMember{users.Admit(m, &e)}); err != nil || res[0] != nil {
			t.Fatal(err, res)
		}
		f.invited[age] = m.ID
	}
	settleIndexes() // the queue is an index
	return f
}

func (f nightlyFixture) job(store nightly.Store) nightly.Job {
	j := nightly.New(f.store, users.DefaultRetention, nightAt)
	if store != nil {
		j.Store = store
	}
	j.PageSize = 2 // many pages, so a crash can land half-way
	return j
}

// check asserts the end state one clean run gives.
func (f nightlyFixture) check(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	// Sign-ins past their retention leave the main table by TTL (these
	// tables have no archive function reading their stream: that path is
	// TestExpiredSignInsAreArchivedFromTheStream's); as of the night, the
	// reads leave them out whether DynamoDB has deleted them yet or not.
	want := map[int]struct {
		status   users.Status
		lastCall users.LastCall
		main     int // sign-ins left in the main table
	}{
		1:   {users.StatusActive, users.LastCallRecently, 1},
		4:   {users.StatusActive, users.LastCallLast7Days, 1},
		10:  {users.StatusActive, users.LastCallLast30Days, 1},
		40:  {users.StatusActive, users.LastCallMoreThan30Days, 1},
		120: {users.StatusSignedInWithApp, users.LastCallMoreThan30Days, 0},
	}
	for age, w := range want {
		m, err := f.store.GetMember(ctx, f.team, f.byAge[age])
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != w.status || m.LastCall != w.lastCall {
			t.Errorf("%d days: %s/%s, want %s/%s", age, m.Status, m.LastCall, w.status, w.lastCall)
		}
		main, _, err := f.store.WithClock(func() time.Time { return nightAt }).SignIns(ctx, f.team, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(main) != w.main {
			t.Errorf("%d days: %d sign-ins in the main table, want %d", age, len(main), w.main)
		}
	}
	for age, expired := range map[int]bool{8: true, 2: false} {
		m, _ := f.store.GetMember(ctx, f.team, f.invited[age])
		if m.InvitationExpired != expired || m.Status != users.StatusInvitationSent {
			t.Errorf("invitation %d days old: expired flag %v, status %s", age, m.InvitationExpired, m.Status)
		}
	}
	tm, _ := f.store.GetTeam(ctx, f.team)
	if tm.Counters != (users.Counters{Assigned: 8, PendingInvitations: 2, NeverUsedApp: 3}) {
		t.Errorf("counters %+v", tm.Counters)
	}
}

func TestNightlyMovesOnlyWhatChangesAndReadsOnlyThat(t *testing.T) {
	f := newNightlyFixture(t, "nightly-clean")
	j := f.job(nil)
	res, err := j.Run(context.Background())
	if err != nil || !res.Done {
		t.Fatalf("run: %+v %v", res, err)
	}
	f.check(t)
	// Changing: 4 members move bucket or status, 1 invitation is flagged;
	// no sign-in is the job's (they leave by TTL). Read: their queue
	// entries and one fresh read each, plus one (empty) query per shard.
	read := j.Store.(*dynamo.Store).ItemsRead()
	if res.MembersChanged != 5 || res.SignInsRetired != 0 || read > 3*5+int64(stack.Config.DueShards) {
		t.Fatalf("changed %d members, retired %d sign-ins, read %d items", res.MembersChanged, res.SignInsRetired, read)
	}
	// The changes the night made on its own are in the team's audit log:
	// the expired invitation and the member archived; bucket steps are routine.
	entries, _, err := f.store.AuditLog(context.Background(), f.team, users.AuditQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, e := range entries {
		if e.Actor.Kind == users.ActorSystem && e.Actor.Name == "nightly" {
			actions[e.Action]++
		}
	}
	if actions[users.AuditExpire] != 1 || actions[users.AuditArchive] != 1 || len(actions) != 2 {
		t.Fatalf("the night's audit entries: %v", actions)
	}
	// A second run the same night finds nothing to do.
	again := f.job(nil)
	if res, _ := again.Run(context.Background()); res.MembersChanged != 0 || res.SignInsRetired != 0 {
		t.Fatalf("second run: %+v", res)
	}
	f.check(t)

	// An archived member who signs in again is active and recently at once.
	back, _, err := f.store.UpdateMember(context.Background(), f.team, f.byAge[120],
		users.RecordActivity(users.Activity{At: nightAt.Add(time.Hour), SignIn: true}, nightAt.Add(time.Hour), time.UTC))
	if err != nil || back.Status != users.StatusActive || back.LastCall != users.LastCallRecently {
		t.Fatalf("sign-in after archiving: %s/%s %v", back.Status, back.LastCall, err)
	}
}

// failing is the real store, until it has done `after` writes: a crash.
type failing struct {
	*dynamo.Store
	after int32
	done  atomic.Int32
}

var errCrash = errors.New("crashed")

func (f *failing) AgeMember(ctx context.Context, teamID, memberID string) (bool, error) {
	if f.done.Add(1) > f.after {
		return false, errCrash
	}
	return f.Store.AgeMember(ctx, teamID, memberID)
}

func (f *failing) RetireQueuedSignIn(ctx context.Context, in users.SignIn) error {
	if f.done.Add(1) > f.after {
		return errCrash
	}
	return f.Store.RetireQueuedSignIn(ctx, in)
}

func TestNightlyCrashThenRerunAndConcurrentRunsEndAlike(t *testing.T) {
	// Every item after the third fails: the run goes on past each one,
	// counts them, and leaves them due; the next run finishes the night.
	crashed := newNightlyFixture(t, "nightly-crash")
	base := crashed.job(nil).Store.(*dynamo.Store)
	res, err := crashed.job(&failing{Store: base, after: 3}).Run(context.Background())
	if err != nil || !res.Done || res.Failed != 2 || res.MembersChanged != 3 {
		t.Fatalf("a run with failing items: %+v %v", res, err)
	}
	crashed.converge(t)
	crashed.check(t)

	twice := newNightlyFixture(t, "nightly-twice")
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := twice.job(nil).Run(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	twice.converge(t)
	twice.check(t)
}

// converge runs the job until a run leaves nothing failed: the night's
// work is done (on a hostile stack an item may fail and stay due).
func (f nightlyFixture) converge(t *testing.T) {
	t.Helper()
	for i := 0; i < 5; i++ {
		res, err := f.job(nil).Run(context.Background())
		if err != nil || !res.Done {
			t.Fatalf("run: %+v %v", res, err)
		}
		if res.Failed == 0 {
			return
		}
	}
	t.Fatal("the nightly job does not converge")
}

// slow is the real store, with every queue read taking a while.
type slow struct{ *dynamo.Store }

func (s slow) DueItems(ctx context.Context, shard int, after string, limit int32) ([]users.DueItem, string, error) {
	time.Sleep(40 * time.Millisecond)
	return s.Store.DueItems(ctx, shard, after, limit)
}

func TestNightlyHandsOnNearItsDeadlineAndTheNextRunResumes(t *testing.T) {
	f := newNightlyFixture(t, "nightly-handoff")
	j := f.job(slow{f.job(nil).Store.(*dynamo.Store)})
	j.Reserve = 300 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	res, err := j.Run(ctx)
	if err != nil || res.Done {
		t.Fatalf("a run near its deadline should stop and hand on: %+v %v", res, err)
	}
	if res2, err := f.job(nil).Run(context.Background()); err != nil || !res2.Done || res.MembersChanged+res2.MembersChanged != 5 {
		t.Fatalf("the next run: %+v %v (first run: %+v)", res2, err, res)
	}
	f.check(t)
}
