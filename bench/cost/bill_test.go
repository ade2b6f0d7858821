package cost

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/teamusers/usersapi/bench/meter"
	"github.com/teamusers/usersapi/internal/samtemplate"
	"github.com/teamusers/usersapi/internal/users"
)

// itemSize is a stored item and its index entries, in bytes.
type itemSize struct {
	Bytes int
	Index map[string]int
}

// The activity profile of the bill (issue #13): every member signs in to
// the app once a day and reports five calls a day; the admins open the
// Users page ten times a day; 2% of the team size is invited each month.
// Where the issue is silent:
//   - a month is 30 days; the bill is the twelfth month's (usage items and
//     archived sign-ins build up for a year: nothing expires them);
//   - one admin per 100 members (at least one), and opening the page is
//     three requests (GET /v1/me, the summary, the first page of 25);
//   - the sign-in is the member's first activity of the day, so it writes
//     the member (once a day: its day of last activity moves); the five
//     calls come later that day and write only the day's usage;
//   - every invitee accepts and signs in; one address per invitation
//     request; nobody is removed and no bucket steps (everyone is active
//     daily), so the nightly job archives one sign-in per member and day;
//   - the app sends no Idempotency-Key (calls are deduplicated by callId),
//     the portal sends one with every POST;
//   - storage counts the team, members, memberships, 90 days of sign-ins,
//     a year of usage days and of audit entries; the items an invitation
//     leaves for a while (its idempotency record, a day; its outbox email,
//     30 days; its token, 90 days past its expiry: under 2 KB in all) are
//     left out.
type profile struct {
	name               string
	days               float64 // the month's days: storage, retention
	activeDays         float64 // the days members use the app and admins the page
	signInsPerDay      float64
	callsPerDay        float64
	opensPerAdminDay   float64
	membersPerAdmin    float64
	invitedPerMonth    float64 // share of the team
	retentionDays      float64
	auditRetentionDays float64
	monthsOfHistory    float64
	requestsPerOpen    float64
	indexOverheadByte  float64 // storage overhead of an item or index entry (GSI.md: 100 bytes)
}

var theProfile = profile{name: "every day", days: 30, activeDays: 30, signInsPerDay: 1, callsPerDay: 5, opensPerAdminDay: 10, membersPerAdmin: 100,
	invitedPerMonth: 0.02, retentionDays: 90, auditRetentionDays: 365, monthsOfHistory: 12, requestsPerOpen: 3, indexOverheadByte: 100}

// weekdays is the same profile on working days only: 22 active days a
// month, nothing at weekends.
var weekdays = func() profile {
	p := theProfile
	p.name, p.activeDays = "weekdays (22 active days a month)", 22
	return p
}()

type price struct {
	USD float64 `json:"usd"`
}

func loadPrices(b *testing.B) (map[string]float64, string) {
	root, err := samtemplate.FindRoot()
	if err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "bench", "prices.json"))
	if err != nil {
		b.Fatal(err)
	}
	var f struct {
		Checked string           `json:"checked"`
		Region  string           `json:"region"`
		Prices  map[string]price `json:"prices"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		b.Fatal(err)
	}
	out := map[string]float64{}
	for k, v := range f.Prices {
		out[k] = v.USD
	}
	return out, f.Region + ", list prices of " + f.Checked
}

// line is one row of the bill: a quantity a month and what it costs.
type line struct {
	what     string
	unit     string
	quantity [2]float64
	usd      [2]float64
}

// bill prices a month of the profile for a team of 1,000 and of 100,000
// members from what the other benchmarks measured.
func bill(b *testing.B) {
	results.Lock()
	defer results.Unlock()
	need := []string{"sign_in_daily", "call_later_that_day", "invite_1_address", "deliver_email", "accept", "first_sign_in", "archive_signin"}
	for _, n := range need {
		if _, ok := results.ops[n]; !ok {
			b.Skipf("run with the other benchmarks of the package: %s was not measured", n)
		}
	}
	for _, n := range []int{1_000, 100_000} {
		if _, ok := results.reads[n]["list/unfiltered"]; !ok {
			b.Skipf("run with BenchmarkCurve: reads at %d members were not measured", n)
		}
	}
	if len(results.lambdas) == 0 || len(results.sizes) == 0 {
		b.Skip("run with BenchmarkWrites and BenchmarkLambda")
	}
	prices, priceNote := loadPrices(b)
	for _, p := range []profile{theProfile, weekdays} {
		billOf(b, p, prices, priceNote)
	}
	// The inputs, for the docs: units per operation and per function.
	printBillInputs()
}

// billOf prices a month of profile p.
func billOf(b *testing.B, p profile, prices map[string]float64, priceNote string) {
	sizes := []int{1_000, 100_000}
	var lines []*line
	add := func(what, unit string, q func(i, n int) (float64, float64)) {
		l := &line{what: what, unit: unit}
		for i, n := range sizes {
			l.quantity[i], l.usd[i] = q(i, n)
		}
		lines = append(lines, l)
	}

	// How often each operation runs in a month.
	type count struct {
		op    meter.Units
		times func(n float64) float64
	}
	perMonth := func(n int) []count {
		N := float64(n)
		admins := math.Max(1, N/p.membersPerAdmin)
		opens := admins * p.opensPerAdminDay * p.activeDays
		invites := p.invitedPerMonth * N
		r := results.reads[n]
		return []count{
			{results.ops["sign_in_daily"], func(N float64) float64 { return N * p.signInsPerDay * p.activeDays }},
			{results.ops["call_later_that_day"], func(N float64) float64 { return N * p.callsPerDay * p.activeDays }},
			{r["me"], func(float64) float64 { return opens }},
			{r["summary"], func(float64) float64 { return opens }},
			{r["list/unfiltered"], func(float64) float64 { return opens }},
			{results.ops["invite_1_address"], func(float64) float64 { return invites }},
			{results.ops["deliver_email"], func(float64) float64 { return invites }},
			{results.ops["accept"], func(float64) float64 { return invites }},
			{results.ops["first_sign_in"], func(float64) float64 { return invites }},
			{results.ops["archive_signin"], func(N float64) float64 { return N * p.signInsPerDay * p.activeDays }},
		}
	}
	units := func(n int, f func(meter.Units) float64) float64 {
		total := 0.0
		for _, c := range perMonth(n) {
			total += f(c.op) * c.times(float64(n))
		}
		return total
	}
	isArchive := func(table string) bool { return strings.HasSuffix(table, "-archive") }
	add("DynamoDB reads", "read request units", func(_, n int) (float64, float64) {
		q := units(n, func(u meter.Units) float64 { return u.ReadUnits })
		return q, q * prices["dynamodbReadRequestUnit"]
	})
	add("DynamoDB writes, table and indexes", "write request units", func(_, n int) (float64, float64) {
		q := units(n, func(u meter.Units) float64 {
			w := u.IndexUnits
			for t, x := range u.ByTable {
				if !isArchive(t) {
					w += x
				}
			}
			return w
		})
		return q, q * prices["dynamodbWriteRequestUnit"]
	})
	add("DynamoDB writes, sign-in archive (Standard-IA)", "write request units", func(_, n int) (float64, float64) {
		q := units(n, func(u meter.Units) float64 {
			w := 0.0
			for t, x := range u.ByTable {
				if isArchive(t) {
					w += x
				}
			}
			return w
		})
		return q, q * prices["dynamodbIAWriteRequestUnit"]
	})

	// Storage in the twelfth month: members and memberships, 90 days of
	// sign-ins, a year of usage days; the rest of the year's sign-ins in
	// the archive. Each item and index entry carries 100 bytes of overhead.
	stored := func(kind string) float64 {
		s := results.sizes[kind]
		total := float64(s.Bytes) + p.indexOverheadByte
		for _, e := range s.Index {
			total += float64(e) + p.indexOverheadByte
		}
		return total
	}
	const gb = 1 << 30
	mainBytes := func(n int) float64 {
		N := float64(n)
		// The audit log keeps a year (AuditRetentionDays): two entries an
		// invitation (the invitation, the accept), each with its entry in
		// ByAuditTarget.
		audit := p.invitedPerMonth * N * 2 * math.Min(p.monthsOfHistory, p.auditRetentionDays/p.days)
		return stored("team") + N*(stored("member")+stored("membership")) +
			N*p.signInsPerDay*p.retentionDays*(p.activeDays/p.days)*stored("sign_in") + N*p.activeDays*p.monthsOfHistory*stored("usage_day") +
			audit*stored("audit_entry")
	}
	archiveBytes := func(n int) float64 {
		return float64(n) * p.signInsPerDay * (p.days*p.monthsOfHistory - p.retentionDays) * (p.activeDays / p.days) * stored("archived_sign_in")
	}
	add("DynamoDB storage, main table and indexes", "GB-month", func(_, n int) (float64, float64) {
		q := mainBytes(n) / gb
		return q, q * prices["dynamodbStorageGBMonth"]
	})
	add("DynamoDB storage, sign-in archive (Standard-IA)", "GB-month", func(_, n int) (float64, float64) {
		q := archiveBytes(n) / gb
		return q, q * prices["dynamodbIAStorageGBMonth"]
	})
	// Point-in-time recovery is charged on a table's own size, not its
	// indexes' (they are rebuilt from it): the items, without entries.
	itemOnly := func(kind string) float64 { return float64(results.sizes[kind].Bytes) + p.indexOverheadByte }
	tableBytes := func(n int) float64 {
		N := float64(n)
		audit := p.invitedPerMonth * N * 2 * math.Min(p.monthsOfHistory, p.auditRetentionDays/p.days)
		return itemOnly("team") + N*(itemOnly("member")+itemOnly("membership")) +
			N*p.signInsPerDay*p.retentionDays*(p.activeDays/p.days)*itemOnly("sign_in") + N*p.activeDays*p.monthsOfHistory*itemOnly("usage_day") +
			audit*itemOnly("audit_entry")
	}
	add("DynamoDB point-in-time recovery, both tables (their items, not the indexes)", "GB-month", func(_, n int) (float64, float64) {
		q := (tableBytes(n) + archiveBytes(n)) / gb
		return q, q * prices["dynamodbPITRGBMonth"]
	})

	// Lambda, API Gateway, SES, logs.
	invocations := func(n int) map[string]float64 {
		N := float64(n)
		admins := math.Max(1, N/p.membersPerAdmin)
		opens := admins * p.opensPerAdminDay * p.activeDays
		invites := p.invitedPerMonth * N
		return map[string]float64{
			"recordsignin": N * p.signInsPerDay * p.activeDays, "recordcall": N * p.callsPerDay * p.activeDays,
			"getme": opens, "getsummary": opens, "listmembers": opens,
			"invite": invites, "acceptinvitation": invites, "deliveremail": invites,
			"nightly": p.days,
		}
	}
	gbSeconds := func(n int) float64 {
		total := 0.0
		for fn, times := range invocations(n) {
			s := results.lambdas[fn]
			ms := s.BilledMs * times
			if fn == "nightly" { // the run's duration follows the items it handles: a
				// member active every day comes due about every four days
				// (its Recently ends) and is read and queued again
				ms = s.BilledMs / s.Items * float64(n) / (users.RecentlyDays + 1) * p.days
			}
			total += ms / 1000 * float64(s.MemoryMB) / 1024
		}
		return total
	}
	add("Lambda requests", "invocations", func(_, n int) (float64, float64) {
		q := 0.0
		for _, t := range invocations(n) {
			q += t
		}
		return q, q * prices["lambdaRequest"]
	})
	add("Lambda duration (arm64, template memory)", "GB-seconds", func(_, n int) (float64, float64) {
		q := gbSeconds(n)
		return q, q * prices["lambdaArmGBSecond"]
	})
	add("API Gateway HTTP API", "requests", func(_, n int) (float64, float64) {
		in := invocations(n)
		q := in["recordsignin"] + in["recordcall"] + in["getme"] + in["getsummary"] + in["listmembers"] + in["invite"] + in["acceptinvitation"]
		return q, q * prices["httpApiRequest"]
	})
	// The archive function: a batch of up to 100 expired sign-ins an
	// invocation, at the handler's measured rate (an upper bound: moto).
	add("Lambda, the archive of sign-ins (batches of 100)", "GB-seconds", func(_, n int) (float64, float64) {
		batches := float64(n) * p.signInsPerDay * p.activeDays / 100
		secs := 0.0
		if results.archiveRate > 0 {
			secs = 100 / results.archiveRate
		}
		q := batches * secs * 128 / 1024
		return q, q*prices["lambdaArmGBSecond"] + batches*prices["lambdaRequest"]
	})
	add("SES", "emails", func(_, n int) (float64, float64) {
		q := p.invitedPerMonth * float64(n)
		return q, q * prices["sesEmail"]
	})
	add("CloudWatch Logs ingestion, the functions (their EMF metric lines included)", "GB", func(_, n int) (float64, float64) {
		q := 0.0
		for fn, times := range invocations(n) {
			q += results.lambdas[fn].LogBytes * times
		}
		q /= gb
		return q, q * prices["cloudwatchLogsIngestGB"]
	})
	requests := func(n int) float64 {
		in := invocations(n)
		return in["recordsignin"] + in["recordcall"] + in["getme"] + in["getsummary"] + in["listmembers"] + in["invite"] + in["acceptinvitation"]
	}
	add("CloudWatch Logs ingestion, API access logs (one JSON line a request)", "GB", func(_, n int) (float64, float64) {
		q := requests(n) * accessLogLineBytes / gb
		return q, q * prices["cloudwatchLogsIngestGB"]
	})
	add("X-Ray traces recorded (the default rule: 5% of requests once the account has more than one a second)", "traces", func(_, n int) (float64, float64) {
		q := (requests(n) + invocations(n)["deliveremail"]) * 0.05
		return q, q * prices["xrayTraceRecorded"]
	})
	// What the stack pays once, whatever its teams: a million teams share it.
	shared := func(total float64) float64 { return total / 1e6 }
	add("Secrets Manager: the secret and its reads at cold starts (the stack's, a millionth)", "secret-months", func(_, n int) (float64, float64) {
		return shared(1), shared(prices["secretsManagerSecretMonth"] + prices["secretsManagerCalls10k"]*stackColdStartsPerMonth/10000)
	})
	alarms := float64(templateAlarms(b))
	add("CloudWatch alarms (the stack's, a millionth)", "alarms", func(_, n int) (float64, float64) {
		return shared(alarms), shared(alarms * prices["cloudwatchAlarmMonth"])
	})
	add("CloudWatch custom metrics from EMF (the stack's, a millionth)", "metrics", func(_, n int) (float64, float64) {
		return shared(stackMetrics), shared(stackMetrics * prices["cloudwatchMetricMonth"])
	})

	var total [2]float64
	for _, l := range lines {
		for i := range sizes {
			total[i] += l.usd[i]
		}
	}
	var out strings.Builder
	fmt.Fprintf(&out, "\nA month of the Users page for one team (AWS, %s), %s\n", priceNote, p.name)
	fmt.Fprintf(&out, "profile: each member signs in on each active day and reports 5 calls that day; 1 admin per 100 members opens the page 10 times an active day; 2%% of the team invited a month; month 12\n\n")
	fmt.Fprintf(&out, "| line | quantity, 1,000 members | USD, 1,000 | quantity, 100,000 members | USD, 100,000 |\n|---|---:|---:|---:|---:|\n")
	for _, l := range lines {
		fmt.Fprintf(&out, "| %s (%s) | %s | %s | %s | %s |\n", l.what, l.unit, num(l.quantity[0]), usd(l.usd[0]), num(l.quantity[1]), usd(l.usd[1]))
	}
	fmt.Fprintf(&out, "| **total** | | **%s** | | **%s** |\n", usd(total[0]), usd(total[1]))
	fmt.Fprintf(&out, "| per member | | %s | | %s |\n", usd(total[0]/1000), usd(total[1]/100000))
	fmt.Print(out.String())
	suffix := ""
	if p.activeDays != p.days {
		suffix = "-weekdays"
	}
	b.ReportMetric(total[0], "usd/month-1000"+suffix)
	b.ReportMetric(total[1], "usd/month-100000"+suffix)
	// A member's day of the profile, in write units: the day's sign-in
	// (its first activity) and five calls after it.
	day := results.ops["sign_in_daily"]
	later := results.ops["call_later_that_day"]
	wru := day.WriteUnits + day.IndexUnits + p.callsPerDay*(later.WriteUnits+later.IndexUnits)
	if suffix == "" {
		fmt.Printf("write units per member-day (a sign-in, then five calls): %.1f\n", wru)
		b.ReportMetric(wru, "wru/member-day")
	}
}

// templateAlarms counts the template's CloudWatch alarms.
func templateAlarms(b *testing.B) int {
	root, err := samtemplate.FindRoot()
	if err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	return strings.Count(string(raw), "Type: AWS::CloudWatch::Alarm")
}

// The stack's fixed pieces, for the bill's shared lines: the EMF metrics'
// names with their dimension sets (internal/metrics: 12 names, some by
// kind), its cold starts a month (each reads the secret once: a guess,
// 100 a function a day), and an access-log line's size (the template's
// format, a typical request).
const (
	stackMetrics            = 30
	stackColdStartsPerMonth = 36 * 100 * 30
	accessLogLineBytes      = 420
)

// printBillInputs prints what the bill was priced from.
func printBillInputs() {
	fmt.Println("\nbill inputs: units per operation (rru, table wru, index wru)")
	for _, k := range slices.Sorted(maps.Keys(results.ops)) {
		u := results.ops[k]
		fmt.Printf("  %-28s %6.2f %6.2f %6.2f\n", k, u.ReadUnits, u.WriteUnits, u.IndexUnits)
	}
	fmt.Println("bill inputs: functions (billed ms, log bytes, MB)")
	for _, k := range slices.Sorted(maps.Keys(results.lambdas)) {
		s := results.lambdas[k]
		fmt.Printf("  %-18s %8.1f %8.0f %5d\n", k, s.BilledMs, s.LogBytes, s.MemoryMB)
	}
	fmt.Println("bill inputs: stored bytes (item, index entries)")
	for _, k := range slices.Sorted(maps.Keys(results.sizes)) {
		fmt.Printf("  %-18s %5d %v\n", k, results.sizes[k].Bytes, results.sizes[k].Index)
	}
}

func num(x float64) string {
	switch {
	case x >= 100:
		return commas(int64(math.Round(x)))
	case x >= 1:
		return fmt.Sprintf("%.1f", x)
	}
	return fmt.Sprintf("%.3f", x)
}

func usd(x float64) string {
	if x < 0.01 && x > 0 {
		return "$" + fmt.Sprintf("%.4f", x)
	}
	cents := int64(math.Round(x * 100))
	return fmt.Sprintf("$%s.%02d", commas(cents/100), cents%100)
}

func commas(n int64) string {
	s := fmt.Sprint(n)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
