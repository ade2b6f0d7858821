package integration

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/nightly"
	"github.com/teamusers/usersapi/internal/provisioning"
	"github.com/teamusers/usersapi/internal/users"
)

// rawMember reads a member's item as stored: its version and its place
// in the nightly work queue.
func rawMember(t *testing.T, teamID, memberID string) (version string, duePK, dueSK string) {
	t.Helper()
	return rawMemberIn(t, local.TableName, teamID, memberID)
}

func rawMemberIn(t *testing.T, table, teamID, memberID string) (version string, duePK, dueSK string) {
	t.Helper()
	pk, sk := dynamo.MemberKey(teamID, memberID)
	out, err := local.NewDynamoDB(stack.Services.DynamoDBEndpoint).GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk}}})
	if err != nil || out.Item == nil {
		t.Fatalf("member %s: %v", memberID, err)
	}
	s := func(name string) string {
		switch v := out.Item[name].(type) {
		case *types.AttributeValueMemberS:
			return v.Value
		case *types.AttributeValueMemberN:
			return v.Value
		}
		return ""
	}
	return s("version"), s("duePK"), s("dueSK")
}

// App activity writes a member's item (and its index entries) once a day:
// the first report of the day moves the day of last activity; later ones
// that day write only their own records. The row carries the day; member
// information the exact instants, read from those records. The member's
// place in the nightly queue does not move for activity.
func TestActivityWritesAMemberOnceADay(t *testing.T) {
	ctx := context.Background()
	team := newTeam(t, "pro", 5, "owner@daily.example")
	owner := token(t, "owner@daily.example", local.TokenOptions{})
	now := time.Now().UTC()
	yesterday := users.DayStart(now, -1, time.UTC).Add(time.Hour)
	m := users.Member{ID: users.NewID("m"), TeamID: team, Email: "daily@daily.example", Role: users.RoleUser, Status: users.StatusActive,
		InvitedAt: now.Add(-30 * 24 * time.Hour), AcceptedAt: now.Add(-29 * 24 * time.Hour), FirstSignInAt: now.Add(-29 * 24 * time.Hour),
		LastSignInAt: yesterday, LastActiveAt: yesterday}
	if err := stack.Store.AddMember(ctx, m); err != nil {
		t.Fatal(err)
	}
	v0, duePK0, dueSK0 := rawMember(t, team, m.ID)
	if dueSK0 == "" {
		t.Fatal("an active member is not in the nightly queue")
	}
	app := token(t, m.Email, local.TokenOptions{})
	report := func(id string, end time.Time) {
		t.Helper()
		if r := call(t, "POST", "/v1/me/calls", app, map[string]any{"callId": id, "startedAt": end.Add(-time.Minute).Format(time.RFC3339), "durationSeconds": 60}); r.Status != 200 {
			t.Fatalf("call %s: %d %s", id, r.Status, r.Body)
		}
	}
	// Today's first call: the member is written once (a new day of last
	// activity), its queue entry stays where it was.
	first := now.Add(-2 * time.Minute).Truncate(time.Second)
	if users.DayOf(first, time.UTC) != users.DayOf(now, time.UTC) {
		first = now.Truncate(time.Second) // just after midnight: keep it today
	}
	report("first", first)
	v1, duePK1, dueSK1 := rawMember(t, team, m.ID)
	if v1 == v0 {
		t.Fatalf("the first call of the day did not write the member (version %s)", v1)
	}
	if duePK1 != duePK0 || dueSK1 != dueSK0 {
		t.Fatalf("the first call moved the member's queue entry: %s/%s → %s/%s", duePK0, dueSK0, duePK1, dueSK1)
	}
	// Later that day: another call and a sign-in write no member.
	second := now.Truncate(time.Second)
	report("second", second)
	before := time.Now().UTC()
	if r := call(t, "POST", "/v1/me/sign-ins", app, map[string]string{"appVersion": "2.0"}); r.Status != 200 {
		t.Fatalf("sign-in: %d %s", r.Status, r.Body)
	}
	if v2, _, _ := rawMember(t, team, m.ID); v2 != v1 {
		t.Fatalf("a call and a sign-in later the same day wrote the member (version %s → %s)", v1, v2)
	}
	// The row carries the day; member information the exact instants.
	rows, _ := listAll(t, team, owner, url.Values{"q": {"daily@"}})
	if len(rows) != 1 || rows[0].LastActiveOn != users.DayOf(now, time.UTC) || rows[0].LastCall != "recently" {
		t.Fatalf("rows %+v", rows)
	}
	var info memberInfo
	r := call(t, "GET", "/v1/teams/"+team+"/members/"+m.ID, owner, nil)
	r.JSON(t, &info)
	lastActive, lastSignIn := parseRFC3339(t, info.LastActiveAt), parseRFC3339(t, info.LastSignInAt)
	if lastSignIn.Before(before.Truncate(time.Second)) || !lastActive.Equal(lastSignIn) {
		t.Fatalf("member information: last active %v, last sign-in %v (the sign-in was at or after %v)", lastActive, lastSignIn, before)
	}
	if info.LastActiveOn != users.DayOf(now, time.UTC) {
		t.Fatalf("member information's day %q", info.LastActiveOn)
	}
	// Without the later sign-in, the last call's end is the last activity.
	other := users.Member{ID: users.NewID("m"), TeamID: team, Email: "caller@daily.example", Role: users.RoleUser, Status: users.StatusActive,
		InvitedAt: now.Add(-30 * 24 * time.Hour), AcceptedAt: now.Add(-29 * 24 * time.Hour), FirstSignInAt: now.Add(-29 * 24 * time.Hour),
		LastSignInAt: yesterday, LastActiveAt: yesterday}
	if err := stack.Store.AddMember(ctx, other); err != nil {
		t.Fatal(err)
	}
	app = token(t, other.Email, local.TokenOptions{})
	report("a", first)
	report("b", second)
	r = call(t, "GET", "/v1/teams/"+team+"/members/"+other.ID, owner, nil)
	r.JSON(t, &info)
	if got := parseRFC3339(t, info.LastActiveAt); !got.Equal(second) {
		t.Fatalf("last active %v, want the second call's end %v", got, second)
	}
}

func parseRFC3339(t *testing.T, s *string) time.Time {
	t.Helper()
	if s == nil {
		t.Fatal("an instant is missing")
	}
	v, err := time.Parse(time.RFC3339, *s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The nightly queue is lazy: activity leaves a member's entry where it
// was; when it comes due, the job finds nothing has changed (the member
// was active since), writes nothing a row shows, and queues the member
// again at its next change; at that one, the bucket steps down.
func TestTheNightlyQueueIsLazy(t *testing.T) {
	ctx := context.Background()
	// A table of its own: the runs below are years ahead of every other
	// test's members.
	const table = "lazy-queue-test"
	db := local.NewDynamoDB(stack.Services.DynamoDBEndpoint)
	for logical, name := range map[string]string{"Table": table, "ArchiveTable": table + "-archive"} {
		if err := local.EnsureTable(ctx, db, stack.Template, logical, name); err != nil {
			t.Fatal(err)
		}
	}
	base := dynamo.New(db, table).WithArchive(table + "-archive")
	day := func(n int) time.Time { return time.Date(2031, 3, 10+n, 12, 0, 0, 0, time.UTC) }
	at := func(t0 time.Time) *dynamo.Store { return base.WithClock(func() time.Time { return t0 }) }
	seats := 5
	created, err := provisioning.Service{Store: at(day(-50)), Now: func() time.Time { return day(-50) }}.Handle(ctx,
		provisioning.Request{Plan: "pro", Seats: &seats, OwnerEmail: "owner@lazy.example"})
	if err != nil {
		t.Fatal(err)
	}
	team := created.TeamID
	m := users.Member{ID: users.NewID("m"), TeamID: team, Email: "lazy@lazy.example", Role: users.RoleUser, Status: users.StatusActive,
		InvitedAt: day(-40), AcceptedAt: day(-39), FirstSignInAt: day(-39), LastSignInAt: day(0), LastActiveAt: day(0)}
	m.LastCall = users.BucketFor(m.Status, m.LastActiveAt, day(0), time.UTC)
	if err := at(day(0)).AddMember(ctx, m); err != nil {
		t.Fatal(err)
	}
	_, _, due0 := rawMemberIn(t, table, team, m.ID)
	if want := users.DayStart(day(0), users.RecentlyDays+1, time.UTC); !dueAt(due0).Equal(want) {
		t.Fatalf("queued at %s, want %v", due0, want)
	}
	// Two days later the app reports activity: the member is written (a
	// new day) but stays queued where it was.
	if _, changed, err := at(day(2)).UpdateMember(ctx, team, m.ID, users.RecordActivity(users.Activity{At: day(2)}, day(2), time.UTC)); err != nil || !changed {
		t.Fatalf("activity: %v %v", changed, err)
	}
	v1, _, due1 := rawMemberIn(t, table, team, m.ID)
	if due1 != due0 {
		t.Fatalf("activity moved the queue entry %s → %s", due0, due1)
	}
	// The entry comes due: nothing to change, the member is queued again
	// at the end of its new "recently".
	run := func(when time.Time) nightly.Result {
		t.Helper()
		res, err := nightly.New(base, users.DefaultRetention, when).Run(ctx)
		if err != nil || !res.Done {
			t.Fatalf("nightly at %v: %+v %v", when, res, err)
		}
		return res
	}
	night := dueAt(due0).Add(3 * time.Hour)
	// On the hostile stack a run may fail the item, which then stays due
	// for the next run (as the job promises): run again until it moved.
	var v2, due2 string
	for attempt := 0; attempt < 5; attempt++ {
		if res := run(night); res.MembersChanged != 0 {
			t.Fatalf("the due run changed %d members", res.MembersChanged)
		}
		if v2, _, due2 = rawMemberIn(t, table, team, m.ID); due2 != due0 || !faultMode {
			break
		}
	}
	if want := users.DayStart(day(2), users.RecentlyDays+1, time.UTC); !dueAt(due2).Equal(want) || v2 != v1 {
		t.Fatalf("requeued at %s (version %s → %s), want %v and the same version", due2, v1, v2, want)
	}
	if res := run(night); res.MembersChanged != 0 {
		t.Fatalf("a second run the same night changed %d", res.MembersChanged)
	}
	// At the next change, the bucket steps down.
	if res := run(dueAt(due2).Add(3 * time.Hour)); res.MembersChanged != 1 {
		t.Fatalf("the step changed %d members", res.MembersChanged)
	}
	got, err := base.GetMember(ctx, team, m.ID)
	if err != nil || got.LastCall != users.LastCallLast7Days {
		t.Fatalf("after the step: %+v %v", got, err)
	}
}

// dueAt is the instant a ByDue sort key holds.
func dueAt(dueSK string) time.Time {
	at, err := time.Parse("2006-01-02T15:04:05.000Z", dueSK[:24])
	if err != nil {
		return time.Time{}
	}
	return at
}

// Sign-ins leave the main table by DynamoDB's TTL at the end of their
// retention, and the table's stream brings each deletion (a REMOVE by the
// service itself) to the archive function, which writes it to the archive
// table. Until DynamoDB gets to it (up to days later), reads leave an
// expired sign-in out.
func TestExpiredSignInsAreArchivedFromTheStream(t *testing.T) {
	ctx := context.Background()
	team := newTeam(t, "pro", 5, "owner@ttl.example")
	now := time.Now().UTC().Truncate(time.Millisecond)
	m := users.Member{ID: users.NewID("m"), TeamID: team, Email: "old@ttl.example", Role: users.RoleUser, Status: users.StatusActive,
		InvitedAt: now.Add(-200 * 24 * time.Hour), AcceptedAt: now.Add(-199 * 24 * time.Hour), FirstSignInAt: now.Add(-199 * 24 * time.Hour),
		LastSignInAt: now.Add(-time.Hour), LastActiveAt: now.Add(-time.Hour)}
	if err := stack.Store.AddMember(ctx, m); err != nil {
		t.Fatal(err)
	}
	old := users.SignIn{TeamID: team, MemberID: m.ID, At: now.Add(-100 * 24 * time.Hour), AppVersion: "1.0", Device: "mac"}
	recent := users.SignIn{TeamID: team, MemberID: m.ID, At: now.Add(-time.Hour), AppVersion: "3.0", Device: "windows"}
	for _, in := range []users.SignIn{old, recent} {
		if err := stack.Store.RecordSignIn(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	// The old one is past its retention: the local DynamoDB deletes it
	// within a second, as DynamoDB does within days, and the stream
	// archives it.
	deadline := time.Now().Add(20 * time.Second)
	for {
		main, archived, err := stack.Store.SignIns(ctx, team, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(archived) == 1 {
			if !archived[0].At.Equal(old.At) || archived[0].Device != "mac" || len(main) != 1 || !main[0].At.Equal(recent.At) {
				t.Fatalf("main %+v, archived %+v", main, archived)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the expired sign-in was not archived (main %+v)", main)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Past the recent one's retention, before DynamoDB has deleted it:
	// reads leave it out.
	later := stack.Store.WithClock(func() time.Time { return now.Add(users.DefaultRetention + time.Hour) })
	main, _, err := later.SignIns(ctx, team, m.ID)
	if err != nil || len(main) != 0 {
		t.Fatalf("an expired sign-in is still listed: %+v %v", main, err)
	}
	if _, lastSignIn, err := later.LatestActivity(ctx, team, m.ID); err != nil || !lastSignIn.IsZero() {
		t.Fatalf("an expired sign-in is the latest: %v %v", lastSignIn, err)
	}
}
