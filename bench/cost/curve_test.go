package cost

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/bench/benchkit"
	"github.com/teamusers/usersapi/bench/meter"
	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/nightly"
	"github.com/teamusers/usersapi/internal/users"
)

// The team sizes of the curve; the list and summary baselines run up to
// 50,000 members, the nightly job's up to 100,000.
var (
	curveSizes    = []int{1_000, 10_000, 50_000, 100_000}
	baselineLimit = 50_000
	listShapes    = []struct{ name, query string }{
		{"unfiltered", "limit=25"},
		{"status_invited", "status=invitation_sent"},
		{"role_admin", "role=admin"},
		{"signed_in_with_app_by_invitedAt", "status=signed_in_with_app&sort=invitedAt"},
		{"recently_admins_by_lastActive_desc", "lastCall=recently&role=admin&sort=lastActive&order=desc"},
		{"search_email_prefix", "q=user12"},
		{"search_domain_prefix_active", "q=acme-l&status=active"},
		{"page100_two_statuses", "status=active&status=pending_app_login&limit=100"},
		{"status_deactivated", "status=deactivated"},
	}
)

// curve seeds a team of n members on a table of its own (benchkit.Members:
// every status, bucket and role, 1% changing tonight), then measures, for
// each request, ours and the baselines through the same metered client.
func curve(b *testing.B, n int) {
	if only := os.Getenv("COST_SIZES"); only != "" && !slices.Contains(strings.Split(only, ","), fmt.Sprint(n)) {
		b.Skipf("COST_SIZES=%s", only) // a quicker look: COST_SIZES=1000
	}
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Second)
	t := newTable(b, fmt.Sprintf("cost-%d", n))
	defer t.drop()
	team, err := benchkit.NewTeam(dynamo.New(env.raw, t.name), n, benchkit.Owner)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	seeder := dynamo.New(env.raw, t.name).WithDueShards(env.stack.Config.DueShards).WithClock(func() time.Time { return at })
	if err := seeder.ImportMembers(ctx, team, benchkit.Members(team, n-1, at)); err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "members=%d: seeded in %s\n", n, time.Since(start).Round(time.Second))
	base := "/v1/teams/" + team

	// The summary is the authorization read itself.
	var access, teamQuery meter.Units
	b.Run("summary", func(b *testing.B) {
		for b.Loop() {
			access = measure(b, func() { t.get(b, base+"/summary") })
		}
		report(b, "", access)
		recordRead(n, "summary", access)
		b.ReportMetric(float64(access.ItemsRead), "floor-items/op")
		if n <= baselineLimit {
			// A counter design without counters counts the statuses of
			// every member: by a scan of the table, or a query of the team.
			report(b, "scan-", scanAll(b, t.name, memberFilter(users.ListQuery{}, team)))
			teamQuery = queryTeam(b, t.name, team, memberFilter(users.ListQuery{}, ""))
			report(b, "query-", teamQuery)
		}
	})
	b.Run("me", func(b *testing.B) {
		var u meter.Units
		for b.Loop() {
			u = measure(b, func() { t.get(b, "/v1/me") })
		}
		report(b, "", u)
		recordRead(n, "me", u)
	})

	for _, shape := range listShapes {
		b.Run("list/"+shape.name, func(b *testing.B) {
			var u meter.Units
			var rows []string
			for b.Loop() {
				u = measure(b, func() { rows = t.page(b, base+"/members?"+shape.query) })
			}
			report(b, "", u)
			recordRead(n, "list/"+shape.name, u)
			// The floor: the rows shown, read as one query, and the two
			// items of authorization.
			shown := 0
			for _, id := range rows {
				shown += env.meter.Returned("TEAM#"+team, "MEMBER#"+id)
			}
			b.ReportMetric(float64(len(rows)+2), "floor-items/op")
			b.ReportMetric(access.ReadUnits+meter.ReadUnits(shown, false), "floor-rru/op")
			b.ReportMetric(float64(u.ItemsRead)/float64(len(rows)+2), "x-floor-items")
			if n <= baselineLimit {
				q, _ := url.ParseQuery(shape.query)
				lq, err := users.ParseListQuery(q)
				if err != nil {
					b.Fatal(err)
				}
				report(b, "scan-", scanPage(b, t.name, team, lq))
				// A query of the team's partition evaluates every item of
				// it whatever its filter: the one run beside the summary
				// stands for every shape (a run per shape would repeat the
				// same reads, for many minutes a size under moto).
				report(b, "query-", teamQuery)
			}
		})
	}

	// One page is one draw: where the planned reads stop depends on where
	// the members of the largest partition happen to fall. The pages after
	// the first (ten, following nextCursor, up to 50,000 members: a page
	// takes seconds under moto beyond that) show the spread: the mean and
	// the largest multiple of the floor.
	if n <= baselineLimit {
		b.Run("list/unfiltered_pages_2_to_11", func(b *testing.B) {
			var sum, worst, rru, maxRRU float64
			pages := 0
			for b.Loop() {
				sum, worst, rru, maxRRU, pages = 0, 0, 0, 0, 0
				cursor := t.cursorOf(b, base+"/members?limit=25")
				for pages < 10 && cursor != "" {
					var rows []string
					u := measure(b, func() { rows, cursor = t.pageAndCursor(b, base+"/members?limit=25&cursor="+url.QueryEscape(cursor)) })
					x := float64(u.ItemsRead) / float64(len(rows)+2)
					sum, worst = sum+x, max(worst, x)
					rru, maxRRU = rru+u.ReadUnits, max(maxRRU, u.ReadUnits)
					pages++
				}
			}
			if pages == 0 {
				b.Fatal("no second page")
			}
			b.ReportMetric(float64(pages), "pages")
			b.ReportMetric(sum/float64(pages), "x-floor-items-mean")
			b.ReportMetric(worst, "x-floor-items-max")
			b.ReportMetric(rru/float64(pages), "rru-mean")
			b.ReportMetric(maxRRU, "rru-max")
		})
	}

	// An identity provider's reads (SCIM), with a token as an admin makes
	// one: a lookup by userName (what Entra ID and Okta do before every
	// change); a provider jumping to the middle of the team before any
	// page was read (no mark near: it reads the team up to there, or is
	// refused past 10,000 members); pages of 100 of the whole team by
	// startIndex (Okta's import): the first, the next (it starts at the
	// mark the first left), and, up to 10,000 members, every page of an
	// import in turn (the average and the last). The floor is the users
	// shown and the two items of authorization (the team and the token).
	status, out := t.call(b, "POST", base+"/scim-tokens", benchkit.Owner, map[string]string{"name": "bench"}, nil)
	var tok struct{ Token string }
	if err := json.Unmarshal(out, &tok); err != nil || status != 201 {
		b.Fatalf("SCIM token: %d %s", status, out)
	}
	probe := benchkit.Members(team, n-1, at)[n/2]
	scimRead := func(name string, f func(b *testing.B) (meter.Units, int)) {
		b.Run("scim/"+name, func(b *testing.B) {
			var u meter.Units
			var shown int
			for b.Loop() {
				u, shown = f(b)
			}
			report(b, "", u)
			recordRead(n, "scim/"+name, u)
			b.ReportMetric(float64(shown+2), "floor-items/op")
			b.ReportMetric(float64(u.ItemsRead)/float64(shown+2), "x-floor-items")
		})
	}
	one := func(query string) func(b *testing.B) (meter.Units, int) {
		return func(b *testing.B) (meter.Units, int) {
			var shown int
			u := measure(b, func() { _, shown = t.scimList(b, tok.Token, query) })
			return u, shown
		}
	}
	scimRead("filter_userName", one("filter="+url.QueryEscape(`userName eq "`+probe.Email+`"`)))
	// Before any page of the team was read: no mark anywhere.
	b.Run("scim/jump_to_middle", func(b *testing.B) {
		var u meter.Units
		var status int
		for b.Loop() {
			u = measure(b, func() { status, _ = t.scimList(b, tok.Token, fmt.Sprintf("startIndex=%d&count=100", n/2+17)) })
		}
		report(b, "", u)
		recordRead(n, "scim/jump_to_middle", u)
		b.ReportMetric(float64(status), "status")
	})
	scimRead("page_first", one("startIndex=1&count=100"))
	scimRead("page_next", one("startIndex=101&count=100"))
	if n <= 10_000 {
		var last meter.Units
		scimRead("import_page_average", func(b *testing.B) (meter.Units, int) {
			pages := 0
			all := measure(b, func() {
				for start := 1; start <= n; start += 100 {
					last = measure(b, func() { t.scimList(b, tok.Token, fmt.Sprintf("startIndex=%d&count=100", start)) })
					pages++
				}
			})
			return scaled(all, pages), 100
		})
		scimRead("import_page_last", func(*testing.B) (meter.Units, int) { return last, 100 })
	}

	// The nightly job as of a day later: 1% of the members cross a bucket
	// boundary. Its baseline is the scan that reads every member to
	// recompute their buckets. How long each size took is printed: it is
	// what makes make bench long (docs/benchmarks.md).
	nightlyStart := time.Now()
	defer func() {
		fmt.Fprintf(os.Stderr, "members=%d: nightly job and its scan baseline in %s; the size in all %s\n",
			n, time.Since(nightlyStart).Round(time.Second), time.Since(start).Round(time.Second))
	}()
	b.Run("nightly", func(b *testing.B) {
		var u meter.Units
		var res struct{ changed int64 }
		for b.Loop() {
			job := nightly.New(t.store, env.stack.Config.Retention, at.Add(24*time.Hour))
			u = measure(b, func() {
				r, err := job.Run(ctx)
				if err != nil || !r.Done || r.Failed > 0 {
					b.Fatalf("%+v %v", r, err)
				}
				res.changed = r.MembersChanged
			})
		}
		report(b, "", u)
		b.ReportMetric(float64(res.changed), "members-changed")
		b.ReportMetric(float64(u.ItemsRead)/float64(max(res.changed, 1)), "items/changed")
		b.ReportMetric((u.WriteUnits+u.IndexUnits)/float64(max(res.changed, 1)), "wru/changed")
		report(b, "scan-", scanAll(b, t.name, memberFilter(users.ListQuery{}, "")))
	})
}

func (t *table) get(b *testing.B, path string) []byte {
	b.Helper()
	status, out := t.call(b, "GET", path, benchkit.Owner, nil, nil)
	if status != 200 {
		b.Fatalf("%s: %d %s", path, status, out)
	}
	return out
}

// page returns the ids of the rows of one page of the member list.
func (t *table) page(b *testing.B, path string) []string {
	var p struct {
		Members []struct {
			ID string `json:"id"`
		} `json:"members"`
	}
	if err := json.Unmarshal(t.get(b, path), &p); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, len(p.Members))
	for i, m := range p.Members {
		ids[i] = m.ID
	}
	return ids
}

// pageAndCursor returns the ids of one page's rows and its nextCursor.
func (t *table) pageAndCursor(b *testing.B, path string) ([]string, string) {
	var p struct {
		Members []struct {
			ID string `json:"id"`
		} `json:"members"`
		NextCursor string `json:"nextCursor"`
	}
	if err := json.Unmarshal(t.get(b, path), &p); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, len(p.Members))
	for i, m := range p.Members {
		ids[i] = m.ID
	}
	return ids, p.NextCursor
}

// cursorOf is the nextCursor of a page.
func (t *table) cursorOf(b *testing.B, path string) string {
	_, c := t.pageAndCursor(b, path)
	return c
}

// scimList reads GET /scim/v2/Users?query with a SCIM token and returns
// the status and how many users the page holds: 200 with users, or 400
// (a page too far from any mark), anything else fails.
func (t *table) scimList(b *testing.B, token, query string) (int, int) {
	b.Helper()
	status, out := t.call(b, "GET", "/scim/v2/Users?"+query, "", nil, map[string]string{"Authorization": "Bearer " + token})
	var l struct {
		Resources []json.RawMessage `json:"Resources"`
	}
	if status == 400 && strings.Contains(string(out), `"tooMany"`) {
		return status, 0
	}
	if err := json.Unmarshal(out, &l); err != nil || status != 200 || len(l.Resources) == 0 {
		b.Fatalf("SCIM %s: %d %s", query, status, out)
	}
	return status, len(l.Resources)
}

// filter is a FilterExpression with its values and names.
type filter struct {
	expr  string
	vals  map[string]types.AttributeValue
	names map[string]string
}

// memberFilter selects a query's members among items of every kind (the
// baselines read the table as it is), of the team when team is set.
func memberFilter(q users.ListQuery, team string) filter {
	f := filter{vals: map[string]types.AttributeValue{":member": str("member")}, names: map[string]string{"#type": "type"}}
	var and []string
	if team != "" {
		and = append(and, "teamId = :team")
		f.vals[":team"] = str(team)
	}
	and = append(and, "#type = :member")
	in := func(attr string, vals []string) {
		if len(vals) == 0 {
			return
		}
		var or []string
		for _, v := range vals {
			p := fmt.Sprintf(":%s_%s", attr, v)
			f.vals[p] = str(v)
			or = append(or, fmt.Sprintf("#%s = %s", attr, p))
		}
		f.names["#"+attr] = attr
		and = append(and, "("+strings.Join(or, " OR ")+")")
	}
	in("status", strs(q.Statuses))
	in("lastCall", strs(q.LastCalls))
	in("role", strs(q.Roles))
	if q.Q != "" {
		and = append(and, "(begins_with(email, :q) OR begins_with(domainSK, :qd))")
		f.vals[":q"], f.vals[":qd"] = str(q.Q), str(strings.TrimPrefix(q.Q, "@"))
	}
	f.expr = strings.Join(and, " AND ")
	return f
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// scanPage is what a naive design does for a page: scan the table with a
// filter, in DynamoDB's default pages (1 MB of items evaluated), until the
// page is full (in scan order: a scan cannot sort). With a Limit of the
// page size instead it would evaluate fewer items for a filter most
// members pass and make hundreds of requests for a selective one; moto
// answers each request by walking the table from its first item, so that
// baseline would take hours at 50,000 members.
func scanPage(b *testing.B, name, team string, q users.ListQuery) meter.Units {
	f := memberFilter(q, team)
	found := 0
	var start map[string]types.AttributeValue
	return measure(b, func() {
		for found < q.Limit {
			out, err := env.db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(name),
				FilterExpression: aws.String(f.expr), ExpressionAttributeValues: f.vals, ExpressionAttributeNames: f.names,
				ExclusiveStartKey: start})
			if err != nil {
				b.Fatal(err)
			}
			found += len(out.Items)
			if start = out.LastEvaluatedKey; start == nil {
				break
			}
		}
	})
}

// queryTeam reads the team's whole partition with a filter, every page:
// what a design without the facet indexes must read to sort a page (the
// partition is in member-id order) or to count.
func queryTeam(b *testing.B, name, team string, f filter) meter.Units {
	vals := map[string]types.AttributeValue{":pk": str("TEAM#" + team)}
	for k, v := range f.vals {
		vals[k] = v
	}
	var start map[string]types.AttributeValue
	return measure(b, func() {
		for {
			out, err := env.db.Query(context.Background(), &dynamodb.QueryInput{TableName: aws.String(name),
				KeyConditionExpression: aws.String("PK = :pk"), FilterExpression: aws.String(f.expr),
				ExpressionAttributeValues: vals, ExpressionAttributeNames: f.names, ExclusiveStartKey: start})
			if err != nil {
				b.Fatal(err)
			}
			if start = out.LastEvaluatedKey; start == nil {
				return
			}
		}
	})
}

// scanAll reads the whole table with a filter, every page.
func scanAll(b *testing.B, name string, f filter) meter.Units {
	var start map[string]types.AttributeValue
	return measure(b, func() {
		for {
			out, err := env.db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(name),
				FilterExpression: aws.String(f.expr), ExpressionAttributeValues: f.vals,
				ExpressionAttributeNames: f.names, ExclusiveStartKey: start})
			if err != nil {
				b.Fatal(err)
			}
			if start = out.LastEvaluatedKey; start == nil {
				return
			}
		}
	})
}
