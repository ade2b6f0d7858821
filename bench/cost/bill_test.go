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
	days               float64
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

var theProfile = profile{days: 30, signInsPerDay: 1, callsPerDay: 5, opensPerAdminDay: 10, membersPerAdmin: 100,
	invitedPerMonth: 0.02, retentionDays: 90, auditRetentionDays: 365, monthsOfHistory: 12, requestsPerOpen: 3, indexOverheadByte: 100}

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
	p := theProfile
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
		opens := admins * p.opensPerAdminDay * p.days
		invites := p.invitedPerMonth * N
		r := results.reads[n]
		return []count{
			{results.ops["sign_in_daily"], func(N float64) float64 { return N * p.signInsPerDay * p.days }},
			{results.ops["call_later_that_day"], func(N float64) float64 { return N * p.callsPerDay * p.days }},
			{r["me"], func(float64) float64 { return opens }},
			{r["summary"], func(float64) float64 { return opens }},
			{r["list/unfiltered"], func(float64) float64 { return opens }},
			{results.ops["invite_1_address"], func(float64) float64 { return invites }},
			{results.ops["deliver_email"], func(float64) float64 { return invites }},
			{results.ops["accept"], func(float64) float64 { return invites }},
			{results.ops["first_sign_in"], func(float64) float64 { return invites }},
			{results.ops["archive_signin"], func(N float64) float64 { return N * p.signInsPerDay * p.days }},
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
			N*p.signInsPerDay*p.retentionDays*stored("sign_in") + N*p.days*p.monthsOfHistory*stored("usage_day") +
			audit*stored("audit_entry")
	}
	archiveBytes := func(n int) float64 {
		return float64(n) * p.signInsPerDay * (p.days*p.monthsOfHistory - p.retentionDays) * stored("archived_sign_in")
	}
	add("DynamoDB storage, main table and indexes", "GB-month", func(_, n int) (float64, float64) {
		q := mainBytes(n) / gb
		return q, q * prices["dynamodbStorageGBMonth"]
	})
	add("DynamoDB storage, sign-in archive (Standard-IA)", "GB-month", func(_, n int) (float64, float64) {
		q := archiveBytes(n) / gb
		return q, q * prices["dynamodbIAStorageGBMonth"]
	})
	add("DynamoDB point-in-time recovery, both tables", "GB-month", func(_, n int) (float64, float64) {
		q := (mainBytes(n) + archiveBytes(n)) / gb
		return q, q * prices["dynamodbPITRGBMonth"]
	})

	// Lambda, API Gateway, SES, logs.
	invocations := func(n int) map[string]float64 {
		N := float64(n)
		admins := math.Max(1, N/p.membersPerAdmin)
		opens := admins * p.opensPerAdminDay * p.days
		invites := p.invitedPerMonth * N
		return map[string]float64{
			"recordsignin": N * p.signInsPerDay * p.days, "recordcall": N * p.callsPerDay * p.days,
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
			if fn == "nightly" { // the run's duration follows the items it handles
				ms = s.BilledMs / s.Items * float64(n) * p.signInsPerDay * p.days
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
	add("SES", "emails", func(_, n int) (float64, float64) {
		q := p.invitedPerMonth * float64(n)
		return q, q * prices["sesEmail"]
	})
	add("CloudWatch Logs ingestion", "GB", func(_, n int) (float64, float64) {
		q := 0.0
		for fn, times := range invocations(n) {
			q += results.lambdas[fn].LogBytes * times
		}
		q /= gb
		return q, q * prices["cloudwatchLogsIngestGB"]
	})

	var total [2]float64
	for _, l := range lines {
		for i := range sizes {
			total[i] += l.usd[i]
		}
	}
	var out strings.Builder
	fmt.Fprintf(&out, "\nA month of the Users page for one team (AWS, %s)\n", priceNote)
	fmt.Fprintf(&out, "profile: each member signs in daily and reports 5 calls a day; 1 admin per 100 members opens the page 10 times a day; 2%% of the team invited a month; month 12\n\n")
	fmt.Fprintf(&out, "| line | quantity, 1,000 members | USD, 1,000 | quantity, 100,000 members | USD, 100,000 |\n|---|---:|---:|---:|---:|\n")
	for _, l := range lines {
		fmt.Fprintf(&out, "| %s (%s) | %s | %s | %s | %s |\n", l.what, l.unit, num(l.quantity[0]), usd(l.usd[0]), num(l.quantity[1]), usd(l.usd[1]))
	}
	fmt.Fprintf(&out, "| **total** | | **%s** | | **%s** |\n", usd(total[0]), usd(total[1]))
	fmt.Fprintf(&out, "| per member | | %s | | %s |\n", usd(total[0]/1000), usd(total[1]/100000))
	fmt.Print(out.String())
	b.ReportMetric(total[0], "usd/month-1000")
	b.ReportMetric(total[1], "usd/month-100000")

	// The inputs, for the docs: units per operation and per function.
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
