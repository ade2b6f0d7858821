package cost

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/bench/meter"
	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/keyring"
	"github.com/teamusers/usersapi/internal/provisioning"
	"github.com/teamusers/usersapi/internal/samtemplate"
	"github.com/teamusers/usersapi/internal/usecase"
	"github.com/teamusers/usersapi/internal/users"
)

// The capacity model: a day of the profile for a million teams and a
// hundred million members, replayed through the store's own code and key
// functions, without the local stack.
//
//  1. Each operation of the profile (an app sign-in, a call, a call that
//     is a member's first activity of the day, an admin opening the page,
//     an invitation and the invitee's first sign-in, the archive of an
//     expired sign-in) runs once through the store
//     against traceDB, which records which partition of which table or
//     index it read or wrote, and how many units: the operation's
//     footprint, in roles (the team's partition, the member's facet in
//     each index, the work-queue shard of the member or of the sign-in,
//     the member's usage, sign-in and membership partitions).
//  2. The day is replayed: every team gets a size and a time zone, every
//     member a sign-in and five calls at local working hours, every admin
//     ten page opens, every team 2% of its size in invitations a month
//     (a thirtieth of that a day); each event adds its footprint, keyed by
//     the real key
//     functions (the queue shard of each member and of each sign-in is
//     dynamo.DueShardOf its key), minute by minute. The sign-ins of 90
//     days ago expire and are archived; every admin also makes the
//     requests of adminDay, counted by route.
//
// Out come, per kind of partition key, the busiest key's rate at the
// day's average and at its busiest minute, against DynamoDB's 1,000 write
// and 3,000 read units a second per partition.
type capModel struct {
	teams       int
	members     int
	maxTeam     int
	zones       []zone
	invited     float64 // share of a team invited a month
	meetings    float64 // share of calls that end on the hour or the half hour (0: spread evenly)
	retention   time.Duration
	shardCounts []int
}

type zone struct {
	offset time.Duration
	share  float64
}

// adminDay is what one admin does on the Users page in a day, besides
// opening it (ten times) and inviting (2% of the team a month), where the
// issue is silent: by function, how many requests. An admin of a large
// team works through pages and members; these are generous for a small
// one. Exports (issue #24) are not a route yet.
var adminDay = map[string]float64{
	"listmembers":         10, // filters, searches, next pages beyond each open's first page
	"getmember":           5,
	"csvselection":        0.5,
	"usagereport":         1,
	"emailusagereport":    0.2,
	"bulk":                0.5,
	"changerole":          0.1,
	"removemember":        0.1,
	"resendinvite":        0.2,
	"sendinstructions":    0.1,
	"resendallinvites":    0.05,
	"sendallinstructions": 0.05,
	"getjob":              0.5,
	"auditlog":            0.2,
	"deactivatemember":    0.02,
	"reactivatemember":    0.01,
	"updateteamsettings":  0.01,
	"listscimtokens":      0.01,
}

// modelRoutes are the functions the model counts requests of (the app's,
// an admin's page, the admin's actions).
var modelRoutes = []string{"recordsignin", "recordcall", "getme", "getsummary", "listmembers", "invite", "acceptinvitation",
	"getmember", "csvselection", "usagereport", "emailusagereport", "bulk", "changerole", "removemember", "resendinvite",
	"sendinstructions", "resendallinvites", "sendallinstructions", "getjob", "auditlog", "deactivatemember", "reactivatemember",
	"updateteamsettings", "listscimtokens"}

// Where the profile is silent, the model says so:
//   - team sizes follow a bounded Pareto law (α = 1.1, from 5 to 100,000
//     members), scaled to 100,000,000 members over 1,000,000 teams;
//   - teams are spread over time zones as below (a spread, not a forecast);
//   - a sign-in falls in 08:00–10:00 local, each of the five calls in
//     09:00–17:30, each of an admin's ten opens in 09:00–17:00, uniformly;
//     one admin per 100 members (at least one);
//   - an invitation falls in 09:00–17:00 local, and the invitee joins by
//     a first sign-in to the app the same day (the invitation link's
//     accept writes the same partitions: the member, the team's counters,
//     the token, the audit log);
//   - a sign-in expires (TTL) 90 days after it was made, to the minute,
//     and the stream archives it that minute (DynamoDB deletes expired
//     items within days, which only spreads them more);
//   - calls end evenly over the working day, or (meetings > 0) that share
//     of them ends on the hour or the half hour.
var defaultModel = capModel{
	teams: 1_000_000, members: 100_000_000, maxTeam: 100_000,
	zones: []zone{{-8 * time.Hour, .12}, {-7 * time.Hour, .04}, {-6 * time.Hour, .08}, {-5 * time.Hour, .16}, {-3 * time.Hour, .05},
		{0, .08}, {time.Hour, .16}, {2 * time.Hour, .06}, {3 * time.Hour, .03}, {5*time.Hour + 30*time.Minute, .07},
		{8 * time.Hour, .08}, {9 * time.Hour, .05}, {10 * time.Hour, .02}},
	retention: users.DefaultRetention, invited: 0.02,
	shardCounts: []int{16, 32, 64, 128, 256, 512, 1024},
}

// footprint is an operation's accesses, by role.
type footprint map[string]access

func (f footprint) add(role string, a access) {
	x := f[role]
	x.Read += a.Read
	x.Write += a.Write
	x.Table, x.Index = a.Table, a.Index
	f[role] = x
}

// footprints runs each operation of the profile once through the store
// against traceDB and sorts what it touched into roles.
func footprints(b *testing.B) map[string]footprint {
	ctx := context.Background()
	root, err := samtemplate.FindRoot()
	if err != nil {
		b.Fatal(err)
	}
	tmpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	in, err := tmpl.CreateTableInput("Table", "t")
	if err != nil {
		b.Fatal(err)
	}
	db := newTraceDB(meter.SchemaOf(in))
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	clock := now
	shards := dynamo.DefaultDueShards
	store := dynamo.New(db, "t").WithArchive("t-archive").WithDueShards(shards).WithClock(func() time.Time { return clock })
	// A team of 40 (enough for a page of 25) with members like the bench's.
	seats := 100
	team, err := provisioning.Service{Store: store, Now: func() time.Time { return now }}.Handle(ctx,
		provisioning.Request{Plan: "pro", Seats: &seats, OwnerEmail: "owner@acme.example"})
	if err != nil {
		b.Fatal(err)
	}
	var ms []users.Member
	for i := range 40 {
		last := now.Add(-20 * time.Hour)
		ms = append(ms, users.Member{ID: users.NewID("m"), TeamID: team.TeamID, Email: fmt.Sprintf("user%d@acme.example", 10000+i), Role: users.RoleUser,
			Status: users.StatusActive, InvitedAt: now.Add(-100 * 24 * time.Hour), AcceptedAt: now.Add(-99 * 24 * time.Hour),
			FirstSignInAt: now.Add(-99 * 24 * time.Hour), LastSignInAt: last, LastActiveAt: last})
	}
	if err := store.ImportMembers(ctx, team.TeamID, ms); err != nil {
		b.Fatal(err)
	}
	// A member whose queue shard differs from those of its sign-ins (today's
	// and 91 days ago), so that the footprint tells them apart.
	var m users.Member
	for _, c := range ms {
		pk, sk := dynamo.MemberKey(team.TeamID, c.ID)
		s1, s2 := dynamo.SignInKey(team.TeamID, c.ID, now)
		o1, o2 := dynamo.SignInKey(team.TeamID, c.ID, now.Add(-91*24*time.Hour))
		own := dynamo.DueShardOf(pk, sk, shards)
		if own != dynamo.DueShardOf(s1, s2, shards) && own != dynamo.DueShardOf(o1, o2, shards) {
			m = c
			break
		}
	}
	memberPK, memberSK := dynamo.MemberKey(team.TeamID, m.ID)
	svc := usecase.Service{Store: store, Tokens: keyring.NewSealer([]byte("0123456789abcdef0123456789abcdef"), "invitation-token"),
		Policy: users.DefaultPolicy, Now: func() time.Time { return clock }}
	caller := usecase.AppCaller{Email: m.Email, EmailVerified: true}
	db.take()

	role := func(a access) string {
		switch {
		case strings.HasPrefix(a.Key, "DUE#"):
			if a.Key == fmt.Sprintf("DUE#%02d", dynamo.DueShardOf(memberPK, memberSK, shards)) {
				return "due:member"
			}
			return "due:signin"
		case a.Table == "t-archive":
			return "archive:signin"
		case a.Index == "ByDomain":
			return "domain"
		case a.Index == "ByAuditTarget":
			return "auditTarget" // a member's own history
		case a.Index != "":
			return "facet:" + a.Index
		case strings.HasPrefix(a.Key, "TEAM#"):
			return "team"
		}
		return strings.ToLower(strings.SplitN(a.Key, "#", 2)[0]) // user, usage, signin, email, idem…
	}
	collect := func() footprint {
		f := footprint{}
		for _, a := range db.take() {
			f.add(role(a), a)
		}
		return f
	}
	out := map[string]footprint{}
	// The day's first report, a sign-in (yesterday's activity is 20 hours old).
	if _, err := svc.RecordActivity(ctx, caller, users.Activity{At: now, SignIn: true, AppVersion: "3.1.0", Device: "mac"}); err != nil {
		b.Fatal(err)
	}
	out["sign-in"] = collect()
	// A call an hour later (the day's activity is recorded: its usage alone).
	clock = now.Add(time.Hour)
	if _, err := svc.RecordActivity(ctx, caller, users.Activity{At: clock, Seconds: 300, CallID: "c1"}); err != nil {
		b.Fatal(err)
	}
	out["call"] = collect()
	// A call that is another member's first activity of the day (an
	// all-hands before anyone signed in): the member is written too.
	first := ms[0]
	if first.ID == m.ID {
		first = ms[1]
	}
	if _, err := svc.RecordActivity(ctx, usecase.AppCaller{Email: first.Email, EmailVerified: true}, users.Activity{At: clock, Seconds: 300, CallID: "c2"}); err != nil {
		b.Fatal(err)
	}
	out["first-call"] = collect()
	// An admin opens the page: GET /v1/me, the summary, the first page.
	admin, _ := store.Memberships(ctx, "owner@acme.example")
	_, _ = store.Teams(ctx, []string{admin[0].TeamID})
	_, _, _ = store.Access(ctx, team.TeamID, "owner@acme.example")
	tm, _, _ := store.Access(ctx, team.TeamID, "owner@acme.example")
	if _, _, err := store.ListMembers(ctx, tm, users.ListQuery{Sort: users.SortEmail, Limit: 25}, ""); err != nil {
		b.Fatal(err)
	}
	out["open"] = collect()
	// An admin invites one address; the invitee signs in to the app, which
	// joins the team. Both are audited. The queue shard of the invitee's
	// entry is its own member's: the replay gives both "due" roles the
	// invitee's shard.
	admin0 := users.WithAudit(ctx, users.Actor{Kind: users.ActorAdmin, Email: "owner@acme.example", Role: users.RoleAdmin}, users.AuditRequest{ID: "r1", SourceIP: "203.0.113.10"})
	res, err := svc.Invite(admin0, usecase.Team{ID: team.TeamID, Name: "Acme"}, "owner@acme.example", []string{"invitee@acme.example"}, users.RoleUser)
	if err != nil || len(res) != 1 || res[0].Result != "invited" {
		b.Fatalf("invite: %+v %v", res, err)
	}
	out["invite"] = collect()
	clock = now.Add(2 * time.Hour)
	if _, err := svc.RecordActivity(ctx, usecase.AppCaller{Email: "invitee@acme.example", EmailVerified: true},
		users.Activity{At: clock, SignIn: true, AppVersion: "3.1.0", Device: "mac"}); err != nil {
		b.Fatal(err)
	}
	out["join"] = collect()
	clock = now
	// Archiving a sign-in: DynamoDB's TTL deletes it (free, no request of
	// ours) and the stream's consumer puts it into the archive table.
	old := users.SignIn{TeamID: team.TeamID, MemberID: m.ID, At: now.Add(-91 * 24 * time.Hour), AppVersion: "3.1.0"}
	if err := store.RecordSignIn(ctx, old); err != nil {
		b.Fatal(err)
	}
	db.take()
	clock = now
	if err := store.ArchiveSignIn(ctx, old); err != nil {
		b.Fatal(err)
	}
	out["archive"] = collect()
	// What a member stores in the twelfth month, for the table's size:
	// the member and its membership, 90 days of sign-ins, a year of usage
	// days (each with its index entries and 100 bytes of overhead apiece).
	stored := func(pk, sk string) float64 {
		it := db.items[itemKey("t", map[string]types.AttributeValue{"PK": str(pk), "SK": str(sk)})]
		if it == nil {
			b.Fatalf("no item %s %s", pk, sk)
		}
		n := float64(meter.ItemSize(it)) + 100
		for _, g := range in.GlobalSecondaryIndexes {
			if e := db.schema.Entry(aws.ToString(g.IndexName), it); e != nil {
				n += float64(meter.ItemSize(e)) + 100
			}
		}
		return n
	}
	spk, ssk := dynamo.SignInKey(team.TeamID, m.ID, now)
	memberBytes = stored(memberPK, memberSK) + stored("USER#"+m.Email, "TEAM#"+team.TeamID) +
		90*stored(spk, ssk) + 365*stored("USAGE#"+team.TeamID+"#"+m.ID, now.Add(time.Hour).Format("2006-01-02"))
	return out
}

// memberBytes is what one member stores in the main table in the
// twelfth month of the profile (footprints measures it).
var memberBytes float64

func roleNames(f map[string]footprint) []string {
	var out []string
	for _, fp := range f {
		for r := range fp {
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	sort.Strings(out)
	return out
}

// teamSizes are the model's team sizes: quantiles of a bounded Pareto law
// (α = 1.1, 5 to maxTeam members), scaled so that they add up to the
// model's members, none above maxTeam.
func (c capModel) teamSizes() []int {
	const alpha, lo = 1.1, 5.0
	hi := float64(c.maxTeam)
	raw := make([]float64, c.teams)
	for i := range raw {
		u := (float64(i) + 0.5) / float64(c.teams)
		raw[i] = lo / math.Pow(1-u*(1-math.Pow(lo/hi, alpha)), 1/alpha)
	}
	sizes := make([]int, c.teams)
	sum := func(scale float64) int {
		total := 0
		for i, x := range raw {
			sizes[i] = min(c.maxTeam, max(1, int(math.Round(x*scale))))
			total += sizes[i]
		}
		return total
	}
	loS, hiS := 0.01, 100.0
	for range 60 {
		mid := math.Sqrt(loS * hiS)
		if sum(mid) < c.members {
			loS = mid
		} else {
			hiS = mid
		}
	}
	total := sum(hiS)
	// The rounding's remainder comes off (or onto) the smallest teams.
	for i := 0; total != c.members; i = (i + 1) % c.teams {
		if total > c.members && sizes[i] > 1 {
			sizes[i]--
			total--
		} else if total < c.members && sizes[i] < c.maxTeam {
			sizes[i]++
			total++
		}
	}
	return sizes
}

// rates keeps a key's units per minute of the day; touched lists the
// minutes written since the last reset, so that a small team costs its
// events, not the day's 1,440 minutes.
type rates struct {
	w, r    [1440]float64
	touched []int
	mark    [1440]bool
}

func (x *rates) add(m int, w, r float64) {
	if !x.mark[m] {
		x.mark[m] = true
		x.touched = append(x.touched, m)
	}
	x.w[m] += w
	x.r[m] += r
}

// stats are the key's day: average and busiest-minute units a second.
func (x *rates) stats() (avgW, peakW, avgR, peakR float64) {
	for _, m := range x.touched {
		avgW, avgR = avgW+x.w[m], avgR+x.r[m]
		peakW, peakR = max(peakW, x.w[m]), max(peakR, x.r[m])
	}
	return avgW / 86400, peakW / 60, avgR / 86400, peakR / 60
}

func (x *rates) reset() {
	for _, m := range x.touched {
		x.w[m], x.r[m], x.mark[m] = 0, 0, false
	}
	x.touched = x.touched[:0]
}

// hottest is the busiest key of a role over the day.
type hottest struct {
	keys                     int
	avgW, peakW, avgR, peakR float64
	over                     int // keys whose busiest minute is over a partition's limit
}

func (h *hottest) see(x *rates) {
	h.keys++
	aw, pw, ar, pr := x.stats()
	h.avgW, h.peakW, h.avgR, h.peakR = max(h.avgW, aw), max(h.peakW, pw), max(h.avgR, ar), max(h.peakR, pr)
	if pw > 1000 || pr > 3000 {
		h.over++
	}
}

// capacityResult is what the replay found.
type capacityResult struct {
	roles    map[string]*hottest
	due      map[int][2]float64 // shards → busiest shard's average and peak write units a second
	tableW   [1440]float64      // all table and index write units, per minute
	tableR   [1440]float64
	requests map[string]*[1440]float64 // API requests per minute, by function
	sizes    []int
	nightly  float64       // sign-ins archived in the day (by the stream, as they expire)
	archived [1440]float64 // sign-ins archived per minute
	archiveW [1440]float64 // archive table write units per minute
	invites  float64       // invitations of the day
}

// replay runs the day.
func (c capModel) replay(fp map[string]footprint) capacityResult {
	res := capacityResult{roles: map[string]*hottest{}, due: map[int][2]float64{}, requests: map[string]*[1440]float64{}}
	for _, fn := range modelRoutes {
		res.requests[fn] = &[1440]float64{}
	}
	maxShards := c.shardCounts[len(c.shardCounts)-1]
	due := make([][1440]float64, maxShards)
	res.sizes = c.teamSizes()
	rng := rand.New(rand.NewPCG(1, 2))
	role := func(r string) *hottest {
		if res.roles[r] == nil {
			res.roles[r] = &hottest{}
		}
		return res.roles[r]
	}
	// The team's keys (its facets for users and for admins apart), reused
	// team after team, and the member's own. Each operation's footprint is
	// compiled once into where each of its accesses goes.
	perTeam := []string{"team", "domain", "facet:ByEmail", "facet:ByLastActive", "facet:ByInvitedAt", "audit"}
	teamKeys := make([]*rates, 2*len(perTeam)) // [i] users' (or the team's), [len+i] admins' facet
	for i := range teamKeys {
		teamKeys[i] = &rates{}
	}
	member := &rates{}
	const (
		toDueMember = -1 - iota
		toDueSignIn
		toNowhere
		toMember
	)
	type step struct {
		to, admin int // a team key index, or one of the to… kinds; admin: the key for an admin's event
		w, r      float64
	}
	compiled := map[string][]step{}
	for op, f := range fp {
		for r, a := range f {
			st := step{to: toMember, w: a.Write, r: a.Read}
			switch {
			case r == "due:member":
				st.to = toDueMember
			case r == "due:signin":
				st.to = toDueSignIn
			case r == "archive:signin":
				st.to = toNowhere
			case slices.Contains(perTeam, r):
				st.to = slices.Index(perTeam, r)
			}
			st.admin = st.to
			if st.to >= 0 && strings.HasPrefix(r, "facet:") {
				st.admin = st.to + len(perTeam)
			}
			compiled[op] = append(compiled[op], st)
		}
	}
	apply := func(op string, minute int, isAdmin bool, memberShard, signInShard int) {
		for _, st := range compiled[op] {
			if st.to == toNowhere { // the archive table: its own quota
				res.archiveW[minute] += st.w
				continue
			}
			res.tableW[minute] += st.w
			res.tableR[minute] += st.r
			to := st.to
			if isAdmin {
				to = st.admin
			}
			switch to {
			case toDueMember:
				due[memberShard][minute] += st.w
			case toDueSignIn:
				due[signInShard][minute] += st.w
			case toNowhere:
			case toMember:
				member.add(minute, st.w, st.r)
			default:
				teamKeys[to].add(minute, st.w, st.r)
			}
		}
	}
	zoneOf := func() time.Duration {
		u, acc := rng.Float64(), 0.0
		for _, z := range c.zones {
			if acc += z.share; u < acc {
				return z.offset
			}
		}
		return c.zones[len(c.zones)-1].offset
	}
	minuteAt := func(local0, span, offset time.Duration) int {
		t := local0 + time.Duration(rng.Float64()*float64(span)) - offset
		m := int(t/time.Minute) % 1440
		if m < 0 {
			m += 1440
		}
		return m
	}
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for ti, size := range res.sizes {
		teamID := "t_" + pad26(ti)
		offset := zoneOf()
		admins := max(1, size/100)
		for _, x := range teamKeys {
			x.reset()
		}
		for mi := range size {
			memberID := "m_" + pad26(mi)
			pk, sk := dynamo.MemberKey(teamID, memberID)
			mShard := dynamo.DueShardOf(pk, sk, maxShards)
			isAdmin := mi < admins
			member.reset()
			signMin := minuteAt(8*time.Hour, 2*time.Hour, offset)
			at := day.Add(time.Duration(signMin) * time.Minute)
			spk, ssk := dynamo.SignInKey(teamID, memberID, at)
			apply("sign-in", signMin, isAdmin, mShard, dynamo.DueShardOf(spk, ssk, maxShards))
			res.requests["recordsignin"][signMin]++
			for range 5 {
				cm := minuteAt(9*time.Hour, 8*time.Hour+30*time.Minute, offset)
				if c.meetings > 0 && rng.Float64() < c.meetings {
					cm -= cm % 30 // a meeting's call ends on the hour or the half hour
				}
				apply("call", cm, isAdmin, mShard, 0)
				res.requests["recordcall"][cm]++
			}
			if isAdmin {
				for range 10 {
					om := minuteAt(9*time.Hour, 8*time.Hour, offset)
					apply("open", om, isAdmin, mShard, 0)
					for _, fn := range []string{"getme", "getsummary", "listmembers"} {
						res.requests[fn][om]++
					}
				}
				// The admin's other requests (their reads and writes are
				// small beside the app's: counted as requests only).
				for fn, n := range adminDay {
					k := int(n)
					if rng.Float64() < n-float64(k) {
						k++
					}
					for range k {
						res.requests[fn][minuteAt(9*time.Hour, 8*time.Hour, offset)]++
					}
				}
			}
			// This member's sign-in of 90 days ago expires (its TTL, the
			// same minute 90 days later) and the stream archives it: a put
			// into the archive table, not the main one.
			opk, osk := dynamo.SignInKey(teamID, memberID, at.Add(-c.retention))
			apply("archive", signMin, false, mShard, dynamo.DueShardOf(opk, osk, maxShards))
			res.archived[signMin]++
			res.nightly++
			role("member").see(member)
		}
		// The day's invitations (a thirtieth of the month's 2%, the
		// fraction drawn), each invitee joining by a first sign-in.
		e := c.invited * float64(size) / 30
		invites := int(e)
		if rng.Float64() < e-float64(invites) {
			invites++
		}
		for j := range invites {
			member.reset()
			pk, sk := dynamo.MemberKey(teamID, "m_"+pad26(size+j))
			shard := dynamo.DueShardOf(pk, sk, maxShards)
			im := minuteAt(9*time.Hour, 8*time.Hour, offset)
			apply("invite", im, false, shard, shard)
			res.requests["invite"][im]++
			jm := minuteAt(9*time.Hour, 8*time.Hour, offset)
			apply("join", jm, false, shard, shard)
			res.requests["recordsignin"][jm]++
			res.requests["acceptinvitation"][jm] += 0.5 // half accept by the link first (the app's sign-in joins the rest)
			res.invites++
			role("member").see(member)
		}
		for i, x := range teamKeys {
			if r := perTeam[i%len(perTeam)]; i < len(perTeam) || strings.HasPrefix(r, "facet:") {
				role(r).see(x)
			}
		}
	}
	// The queue's shards, for each count: a count that divides the largest
	// gathers its shards (a hash modulo n is the hash modulo the largest,
	// modulo n).
	for _, n := range c.shardCounts {
		worstAvg, worstPeak := 0.0, 0.0
		for s := range n {
			var w [1440]float64
			for j := s; j < maxShards; j += n {
				for m := range w {
					w[m] += due[j][m]
				}
			}
			total, peak := 0.0, 0.0
			for _, v := range w {
				total, peak = total+v, max(peak, v)
			}
			worstAvg, worstPeak = max(worstAvg, total/86400), max(worstPeak, peak/60)
		}
		res.due[n] = [2]float64{worstAvg, worstPeak}
	}
	return res
}

// pad26 writes n as the 26 characters of an id (ids are "t_" or "m_" and
// 26 base-32 characters: users.NewID).
func pad26(n int) string {
	s := strconv.Itoa(n)
	return strings.Repeat("0", 26-len(s)) + s
}

// capacity runs the model and prints its table.
func capacity(b *testing.B) {
	fp := footprints(b)
	c := defaultModel
	if v, err := strconv.Atoi(os.Getenv("CAPACITY_TEAMS")); err == nil && v > 0 {
		c.teams, c.members = v, v*100 // a smaller world, for a quicker look
	}
	start := time.Now()
	res := c.replay(fp)
	elapsed := time.Since(start)
	var out strings.Builder
	fmt.Fprintf(&out, "\nCapacity model: %s teams, %s members, a weekday of the profile (replayed in %s)\n",
		commas(int64(c.teams)), commas(int64(c.members)), elapsed.Round(time.Second))
	sz := slices.Clone(res.sizes)
	sort.Ints(sz)
	fmt.Fprintf(&out, "team sizes: median %d, 99th percentile %d, largest %s\n\n", sz[len(sz)/2], sz[len(sz)*99/100], commas(int64(sz[len(sz)-1])))
	fmt.Fprintf(&out, "footprint of one operation (read, write request units by partition):\n")
	for _, op := range []string{"sign-in", "call", "open", "invite", "join", "archive"} {
		var parts []string
		for _, r := range roleNames(map[string]footprint{op: fp[op]}) {
			a := fp[op][r]
			parts = append(parts, fmt.Sprintf("%s %.1f/%.1f", r, a.Read, a.Write))
		}
		fmt.Fprintf(&out, "  %-8s %s\n", op, strings.Join(parts, ", "))
	}
	fmt.Fprintf(&out, "\n| partition key | keys | busiest key, write units/s: day's average | at its busiest minute | read units/s: average | busiest minute | keys over the limit | a team this large reaches a limit |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	names := map[string]string{
		"team": "team partition `TEAM#<team>` (team item and members)", "domain": "`ByDomain` partition (the team)",
		"facet:ByEmail": "facet `<team>#<status>#<bucket>#<role>` in `ByEmail`", "facet:ByLastActive": "facet in `ByLastActive`",
		"facet:ByInvitedAt": "facet in `ByInvitedAt`", "audit": "audit log `AUDIT#<team>`",
		"member": "a member's or an item's own: `USER#`, `USAGE#`, `SIGNIN#`, `INVITE#`, `EMAIL#`, its history in `ByAuditTarget`",
	}
	order := []string{"team", "domain", "facet:ByEmail", "facet:ByLastActive", "facet:ByInvitedAt", "audit", "member"}
	for _, r := range order {
		h := res.roles[r]
		if h == nil {
			continue
		}
		limitTeam := "—"
		if r != "member" && h.peakW+h.peakR > 0 {
			// The busiest key is the largest team's: its rate grows with the team.
			f := max(h.peakW/1000, h.peakR/3000)
			limitTeam = commas(int64(float64(slices.Max(res.sizes)) / f))
		}
		fmt.Fprintf(&out, "| %s | %s | %.2f | %.2f | %.2f | %.2f | %d | %s |\n", names[r], commas(int64(h.keys)), h.avgW, h.peakW, h.avgR, h.peakR, h.over, limitTeam)
		b.ReportMetric(h.peakW, r+"-peak-wru/s")
	}
	chosen := 0
	for _, n := range c.shardCounts {
		d := res.due[n]
		fmt.Fprintf(&out, "| work queue `DUE#` over %d shards | %d | %.0f | %.0f | | | %s | |\n", n, n, d[0], d[1], overOf(d[1], n))
		if chosen == 0 && d[1] <= 500 {
			chosen = n
		}
		b.ReportMetric(d[1], fmt.Sprintf("due%d-peak-wru/s", n))
	}
	tw, tr, pw, pr := 0.0, 0.0, 0.0, 0.0
	for m := range res.tableW {
		tw, tr = tw+res.tableW[m], tr+res.tableR[m]
		pw, pr = max(pw, res.tableW[m]/60), max(pr, res.tableR[m]/60)
	}
	fmt.Fprintf(&out, "\nwhole table and indexes: %s write units/s on average, %s at the busiest minute; %s read units/s, %s at the busiest minute\n",
		commas(int64(tw/86400)), commas(int64(pw)), commas(int64(tr/86400)), commas(int64(pr)))
	size := memberBytes * float64(c.members)
	parts := int(math.Ceil(max(pw/1000, pr/3000, size/(10<<30))))
	fmt.Fprintf(&out, "table in the twelfth month: %.1f TB (%s bytes a member), so at least %s partitions (10 GB, 1,000 write and 3,000 read units a second each)\n",
		size/1e12, commas(int64(memberBytes)), commas(int64(parts)))
	fmt.Fprintf(&out, "stream: a shard per partition, %s records/s at the busiest minute, %.0f per shard\n",
		commas(int64(pw)), pw/float64(max(parts, 1)))
	fmt.Fprintf(&out, "invitations: %s in the day, each joined by a first sign-in\n", commas(int64(res.invites)))
	results.Lock()
	lam := results.lambdas
	results.Unlock()
	fmt.Fprintf(&out, "\n| function | requests/s, average | busiest minute | billed ms (emulator) | concurrency at the busiest minute |\n|---|---:|---:|---:|---:|\n")
	for _, fn := range []string{"recordsignin", "recordcall", "getme", "getsummary", "listmembers", "invite"} {
		total, peak := 0.0, 0.0
		for _, v := range res.requests[fn] {
			total, peak = total+v, max(peak, v/60)
		}
		conc := "run with BenchmarkLambda"
		ms := ""
		if s, ok := lam[fn]; ok {
			ms = fmt.Sprintf("%.0f", s.BilledMs)
			conc = commas(int64(math.Ceil(peak * s.BilledMs / 1000)))
		}
		fmt.Fprintf(&out, "| %s | %s | %s | %s | %s |\n", fn, commas(int64(total/86400)), commas(int64(peak)), ms, conc)
	}
	fmt.Fprintf(&out, "\nwork queue: %d shards keep the busiest shard at or under half a partition's 1,000 write units a second\n", chosen)
	c.routes(b, &out, res)
	c.archive(b, &out, res, parts)
	c.bursts(b, &out, fp, res)
	c.meetingsBurst(b, &out, fp)
	fmt.Print(out.String())
	b.ReportMetric(float64(chosen), "due-shards-chosen")
}

// routes compares each route's busiest minute with its throttle in the
// template's stage (its RouteSettings or the default, parameters at their
// defaults): a throttle protects the account and must never be what
// refuses a day's ordinary traffic, so it is at least twice the busiest
// minute; fairness between teams is the per-team quotas' job.
func (c capModel) routes(b *testing.B, out *strings.Builder, res capacityResult) {
	root, err := samtemplate.FindRoot()
	if err != nil {
		b.Fatal(err)
	}
	tmpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	keyOf := map[string]string{}
	for _, r := range tmpl.Routes() {
		keyOf[strings.ToLower(strings.TrimSuffix(r.Function, "Function"))] = r.Key()
	}
	fmt.Fprintf(out, "\n| route | requests/s, average | busiest minute | throttle (rate) | throttle ÷ busiest minute |\n|---|---:|---:|---:|---:|\n")
	sum := 0.0
	for _, fn := range modelRoutes {
		total, peak := 0.0, 0.0
		for _, v := range res.requests[fn] {
			total, peak = total+v, max(peak, v/60)
		}
		sum += peak
		key := keyOf[fn]
		th, ok := tmpl.Throttle(key)
		if key == "" || !ok {
			b.Errorf("%s: no route or no throttle in the template", fn)
			continue
		}
		ratio := th.Rate / max(peak, 1e-9)
		fmt.Fprintf(out, "| `%s` | %s | %s | %s | %.1f |\n", key, commas(int64(total/86400)), commas(int64(math.Ceil(peak))), commas(int64(th.Rate)), ratio)
		b.ReportMetric(peak, fn+"-peak-req/s")
		if th.Rate < 2*peak {
			b.Errorf("%s is throttled at %.0f requests a second, under twice its busiest minute (%.0f)", key, th.Rate, peak)
		}
	}
	fmt.Fprintf(out, "\nevery route's busiest minute together: %s requests/s (the account's API Gateway default is 10,000; the runbook asks for twice the sum)\n", commas(int64(math.Ceil(sum))))
	b.ReportMetric(sum, "routes-peak-sum-req/s")
}

// archive compares the sign-ins expiring at the busiest minute with what
// the stream's consumers archive: every shard at once (a shard per
// partition), ParallelizationFactor batches each, each batch at the rate
// the writes benchmark measured for the archive function's handler
// against the local DynamoDB (a lower bound: moto answers one request at
// a time, DynamoDB in about 5 ms each).
func (c capModel) archive(b *testing.B, out *strings.Builder, res capacityResult, partitions int) {
	need, w := 0.0, 0.0
	for m := range res.archived {
		need, w = max(need, res.archived[m]/60), max(w, res.archiveW[m]/60)
	}
	results.Lock()
	rate := results.archiveRate
	results.Unlock()
	const parallel = 2 // ArchiveSignInsFunction's ParallelizationFactor
	fmt.Fprintf(out, "\narchive: %s sign-ins expire a day, %s a second at the busiest minute (%s write units/s into the archive table)\n",
		commas(int64(res.nightly)), commas(int64(math.Ceil(need))), commas(int64(math.Ceil(w))))
	if rate == 0 {
		fmt.Fprintf(out, "archive throughput: run with BenchmarkWrites (it measures the handler's rate)\n")
		return
	}
	capacity := float64(partitions) * parallel * rate
	fmt.Fprintf(out, "archive throughput: %d shards × %d batches × %.0f sign-ins/s a batch (measured) = %s/s, %.0f times the need\n",
		partitions, parallel, rate, commas(int64(capacity)), capacity/max(need, 1))
	b.ReportMetric(capacity/max(need, 1), "archive-x-need")
	if capacity < 2*need {
		b.Errorf("the archive keeps %.0f sign-ins a second, under twice the need (%.0f)", capacity, need)
	}
}

// meetingsBurst replays a tenth of the world with half the calls ending on
// the hour or the half hour (meetings), scales the table's rates by ten,
// and reads the busiest second as that minute's calls landing within ten
// seconds of it.
func (c capModel) meetingsBurst(b *testing.B, out *strings.Builder, fp map[string]footprint) {
	m := c
	m.meetings = 0.5
	m.teams, m.members = max(c.teams/10, 1), max(c.members/10, 100)
	res := m.replay(fp)
	peak := 0.0
	for _, w := range res.tableW {
		peak = max(peak, w)
	}
	scale := float64(c.members) / float64(m.members)
	minute, second := peak*scale/60, peak*scale/10
	busiest := 0.0
	for _, r := range []string{"team", "domain", "facet:ByEmail", "facet:ByLastActive", "facet:ByInvitedAt", "audit", "member"} {
		if h := res.roles[r]; h != nil {
			busiest = max(busiest, h.peakW)
		}
	}
	fmt.Fprintf(out, "\ncalls ending together on the hour and the half hour (half of them, a tenth of the teams replayed, rates ×%.0f): "+
		"the table and its indexes %s write units/s at the busiest minute, %s in its busiest 10 s; the busiest single key %.0f/s (calls after the day's first activity write their member's own usage only)\n",
		scale, commas(int64(minute)), commas(int64(second)), busiest)
	b.ReportMetric(minute, "meetings-table-peak-wru/s")
	b.ReportMetric(busiest, "meetings-busiest-key-wru/s")
}

// bursts: an all-hands in the largest team, every member's call ending in
// the same minute (and, harsher, in the same ten seconds), once when the
// members have already been active that day (the calls write their usage
// alone) and once when it is everyone's first activity of the day (each
// writes its member and the member's index entries): every partition key
// such a burst writes, in write units a second.
func (c capModel) bursts(b *testing.B, out *strings.Builder, fp map[string]footprint, res capacityResult) {
	n := float64(slices.Max(res.sizes))
	fmt.Fprintf(out, "\nall-hands: %s members' calls ending together (write units/s on each key)\n\n| key | calls after the day's first activity, in a minute | in 10 s | as everyone's first activity, in a minute | in 10 s |\n|---|---:|---:|---:|---:|\n",
		commas(int64(n)))
	roles := roleNames(map[string]footprint{"a": fp["call"], "b": fp["first-call"]})
	for _, r := range roles {
		perKey := func(op string) float64 {
			a := fp[op][r]
			if r == "member" || strings.HasPrefix(r, "usage") || strings.HasPrefix(r, "user") || strings.HasPrefix(r, "due") {
				return a.Write // a key of the member's own: one member's share
			}
			return a.Write * n
		}
		later, first := perKey("call"), perKey("first-call")
		mark := func(x float64) string {
			s := commas(int64(math.Ceil(x)))
			if x > 1000 {
				s += " (over)"
			}
			return s
		}
		fmt.Fprintf(out, "| %s | %s | %s | %s | %s |\n", r, mark(later/60), mark(later/10), mark(first/60), mark(first/10))
		b.ReportMetric(first/60, "allhands-first-"+r+"-wru/s")
	}
}

func overOf(peak float64, _ int) string {
	switch {
	case peak > 1000:
		return "every shard"
	case peak > 500:
		return "none (over half)"
	}
	return "none"
}
