package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/teamusers/usersapi/bench/benchkit"
	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/provisioning"
	"github.com/teamusers/usersapi/internal/users"
)

// The load test's team: found again by its billing account, so a second
// `make load` reuses it (and its members) instead of making another.
const (
	loadBilling = "load-test"
	loadOwner   = "owner@loadco.example"
)

// A request kind of the mix: what an admin's page or the app sends.
type kind struct {
	name   string
	weight int
	build  func(l *loader, rng *rand.Rand) *http.Request
}

type loader struct {
	api, team string
	admin     string   // the admin's bearer token
	members   []string // member ids
	app       []string // bearer tokens of members who use the app
	csv       []byte   // a selection file of 20 addresses

	mu      sync.Mutex
	cursors []string // next-page cursors seen, for "the next page"
}

type result struct {
	kind    string
	status  int
	latency time.Duration
	retry   bool // a Retry-After header came with it
	err     error
}

// load runs an open-loop load test against the running stack: requests
// start at the rate whatever the answers' latency, for the duration, in
// the mix below, and it prints the requests, errors by status and the
// latency percentiles, per kind and in all. It fails when any answer is a
// 5xx other than 503 with Retry-After (the throttle's answer).
func load(args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	state := fs.String("state", ".state/run", "the running stack's state folder")
	duration := fs.Duration("duration", 60*time.Second, "how long to send requests")
	rate := fs.Float64("rate", 50, "requests a second")
	size := fs.Int("members", 10_000, "the load team's members")
	keyFile := fs.String("key", ".state/jwt/key.pem", "the local signing key")
	seed := fs.Uint64("seed", 1, "the mix's random seed")
	_ = fs.Parse(args)
	if *rate <= 0 || *duration <= 0 || *size < 100 {
		return fmt.Errorf("LOAD_RATE and LOAD_DURATION must be positive, LOAD_MEMBERS at least 100")
	}
	inf, err := readInfo(*state)
	if err != nil {
		return err
	}
	var running struct {
		APIURL string `json:"apiUrl"`
	}
	b, _ := os.ReadFile(*state + "/info.json")
	_ = json.Unmarshal(b, &running)
	keys, err := local.LoadOrCreateKeys(*keyFile)
	if err != nil {
		return err
	}
	store := dynamo.New(local.NewDynamoDB(inf.DynamoDBEndpoint), inf.TableName)
	l, err := prepare(context.Background(), store, keys, running.APIURL, *size)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "load: %g requests/s for %s against team %s (%d members) at %s\n", *rate, *duration, l.team, *size, l.api)
	results := l.run(*duration, *rate, *seed)
	return report(os.Stdout, results, *duration)
}

// prepare finds or makes the load team and its members.
func prepare(ctx context.Context, store *dynamo.Store, keys *local.Keys, api string, size int) (*loader, error) {
	seats := size + 1
	t, err := provisioning.Service{Store: store, Now: time.Now}.Handle(ctx, provisioning.Request{
		Plan: "pro", Seats: &seats, OwnerEmail: loadOwner, BillingAccountID: loadBilling, Name: "Loadco"})
	if err != nil {
		return nil, err
	}
	team, err := store.GetTeam(ctx, t.TeamID)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	ms := benchkit.Members(t.TeamID, size, now)
	for i := range ms {
		ms[i].Email = strings.Replace(ms[i].Email, "@acme", "@loadco", 1)
	}
	if team.Seats < seats {
		if _, err := (provisioning.Service{Store: store, Now: time.Now}).Handle(ctx, provisioning.Request{TeamID: t.TeamID, Seats: &seats}); err != nil {
			return nil, err
		}
	}
	if team.Counters.Assigned <= 1 { // the owner alone: a new team
		start := time.Now()
		if err := store.ImportMembers(ctx, t.TeamID, ms); err != nil {
			return nil, err
		}
		fmt.Fprintf(os.Stderr, "load: %d members imported in %s\n", size, time.Since(start).Round(time.Second))
	} else {
		// The team of an earlier run: its members have these addresses
		// (the generator's are the same for the same size) and their own ids.
		emails := make([]string, len(ms))
		for i, m := range ms {
			emails[i] = m.Email
		}
		ids, err := store.MemberIDsByEmail(ctx, t.TeamID, emails)
		if err != nil {
			return nil, err
		}
		kept := ms[:0]
		for _, m := range ms {
			if id, ok := ids[m.Email]; ok {
				m.ID = id
				kept = append(kept, m)
			}
		}
		if len(kept) < size/2 {
			return nil, fmt.Errorf("the load team %s has other members than a team of %d; make stop && make run, then make load", t.TeamID, size)
		}
		ms = kept
	}
	l := &loader{api: api, team: t.TeamID}
	if l.admin, err = keys.Mint(loadOwner, local.TokenOptions{TTL: time.Hour}); err != nil {
		return nil, err
	}
	var csv bytes.Buffer
	csv.WriteString("email\r\n")
	for i, m := range ms {
		l.members = append(l.members, m.ID)
		if m.Status == users.StatusActive || m.Status == users.StatusPendingAppLogin || m.Status == users.StatusSignedInWithApp {
			if len(l.app) < 500 {
				tok, err := keys.Mint(m.Email, local.TokenOptions{TTL: time.Hour})
				if err != nil {
					return nil, err
				}
				l.app = append(l.app, tok)
			}
		}
		if i%(size/20) == 0 {
			csv.WriteString(m.Email + "\r\n")
		}
	}
	l.csv = csv.Bytes()
	return l, nil
}

// The mix: an admin on the Users page (the counters, the list in the
// shapes the page asks for, a member's information, a CSV selection) and
// the desktop app (sign-ins, calls), in weights out of 100.
var mix = []kind{
	{"summary", 12, func(l *loader, _ *rand.Rand) *http.Request { return l.get("/summary") }},
	{"list", 14, func(l *loader, _ *rand.Rand) *http.Request { return l.get("/members") }},
	{"list-next-page", 6, func(l *loader, rng *rand.Rand) *http.Request {
		l.mu.Lock()
		var c string
		if len(l.cursors) > 0 {
			c = l.cursors[rng.IntN(len(l.cursors))]
		}
		l.mu.Unlock()
		if c == "" {
			return l.get("/members")
		}
		return l.get("/members?cursor=" + url.QueryEscape(c))
	}},
	{"list-filtered", 10, func(l *loader, rng *rand.Rand) *http.Request {
		q := []string{"status=active", "lastCall=recently&lastCall=last_7_days", "status=invitation_sent", "role=admin", "lastCall=not_active&status=pending_app_login"}
		return l.get("/members?" + q[rng.IntN(len(q))])
	}},
	{"list-sorted", 6, func(l *loader, rng *rand.Rand) *http.Request {
		q := []string{"sort=lastActive&order=desc", "sort=invitedAt&order=desc", "sort=email&order=desc"}
		return l.get("/members?" + q[rng.IntN(len(q))])
	}},
	{"list-search", 6, func(l *loader, rng *rand.Rand) *http.Request {
		q := []string{"q=user1", "q=user42", "q=%40loadco-labs", "q=user9&status=active"}
		return l.get("/members?" + q[rng.IntN(len(q))])
	}},
	{"member", 10, func(l *loader, rng *rand.Rand) *http.Request {
		return l.get("/members/" + l.members[rng.IntN(len(l.members))])
	}},
	{"csv-selection", 4, func(l *loader, rng *rand.Rand) *http.Request {
		r := l.request("POST", "/v1/teams/"+l.team+"/members/csv-selection", l.admin, l.csv)
		r.Header.Set("Content-Type", "text/csv")
		r.Header.Set("Idempotency-Key", fmt.Sprintf("load-%d", rng.Uint64()))
		return r
	}},
	{"app-sign-in", 10, func(l *loader, rng *rand.Rand) *http.Request {
		b, _ := json.Marshal(map[string]string{"appVersion": "9.9.0", "device": "load"})
		return l.request("POST", "/v1/me/sign-ins", l.app[rng.IntN(len(l.app))], b)
	}},
	{"app-call", 22, func(l *loader, rng *rand.Rand) *http.Request {
		b, _ := json.Marshal(map[string]any{"callId": fmt.Sprintf("load-%d", rng.Uint64()),
			"startedAt": time.Now().Add(-10 * time.Minute).UTC().Format(time.RFC3339), "durationSeconds": 30 + rng.IntN(500)})
		return l.request("POST", "/v1/me/calls", l.app[rng.IntN(len(l.app))], b)
	}},
}

func (l *loader) get(path string) *http.Request {
	return l.request("GET", "/v1/teams/"+l.team+path, l.admin, nil)
}

func (l *loader) request(method, path, token string, body []byte) *http.Request {
	r, _ := http.NewRequest(method, l.api+path, bytes.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	return r
}

// run starts requests at rate for d (open loop: a slow answer does not
// slow the next start), and waits for the last answers.
func (l *loader) run(d time.Duration, rate float64, seed uint64) []result {
	rng := rand.New(rand.NewPCG(seed, 21))
	total := 0
	for _, k := range mix {
		total += k.weight
	}
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	var (
		mu  sync.Mutex
		out []result
		wg  sync.WaitGroup
	)
	n := int(d.Seconds() * rate)
	start := time.Now()
	for i := range n {
		time.Sleep(time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))))
		pick := rng.IntN(total)
		k := mix[0]
		for _, c := range mix {
			if pick < c.weight {
				k = c
				break
			}
			pick -= c.weight
		}
		req := k.build(l, rng)
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			resp, err := client.Do(req)
			r := result{kind: k.name, err: err}
			if err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				r.status, r.retry = resp.StatusCode, resp.Header.Get("Retry-After") != ""
				if k.name == "list" && resp.StatusCode == 200 { // the first page: its cursor is "the next page"
					var page struct {
						NextCursor string `json:"nextCursor"`
					}
					if json.Unmarshal(body, &page) == nil && page.NextCursor != "" {
						l.mu.Lock()
						if len(l.cursors) < 200 {
							l.cursors = append(l.cursors, page.NextCursor)
						}
						l.mu.Unlock()
					}
				}
			}
			r.latency = time.Since(t0)
			mu.Lock()
			out = append(out, r)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// report prints a table of the results and says whether the run failed.
func report(w io.Writer, rs []result, d time.Duration) error {
	by := map[string][]result{}
	for _, r := range rs {
		by[r.kind] = append(by[r.kind], r)
		by["all"] = append(by["all"], r)
	}
	names := make([]string, 0, len(by))
	for k := range by {
		if k != "all" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	names = append(names, "all")
	fmt.Fprintf(w, "%-16s %8s %8s %8s %8s  %s\n", "request", "count", "p50 ms", "p95 ms", "p99 ms", "answers")
	var bad []string
	for _, name := range names {
		group := by[name]
		lat := make([]time.Duration, len(group))
		statuses := map[string]int{}
		for i, r := range group {
			lat[i] = r.latency
			switch {
			case r.err != nil:
				statuses["no answer"]++
				if name != "all" {
					bad = append(bad, fmt.Sprintf("%s: %v", name, r.err))
				}
			case r.status >= 500 && !(r.status == 503 && r.retry):
				statuses[fmt.Sprint(r.status)]++
				if name != "all" {
					bad = append(bad, fmt.Sprintf("%s: %d", name, r.status))
				}
			default:
				statuses[fmt.Sprint(r.status)]++
			}
		}
		slices.Sort(lat)
		keys := make([]string, 0, len(statuses))
		for s := range statuses {
			keys = append(keys, s)
		}
		sort.Strings(keys)
		var parts []string
		for _, s := range keys {
			parts = append(parts, fmt.Sprintf("%s×%d", s, statuses[s]))
		}
		fmt.Fprintf(w, "%-16s %8d %8.1f %8.1f %8.1f  %s\n", name, len(group), ms(pct(lat, 50)), ms(pct(lat, 95)), ms(pct(lat, 99)), strings.Join(parts, " "))
	}
	fmt.Fprintf(w, "%d requests in %s (%.1f a second)\n", len(rs), d, float64(len(rs))/d.Seconds())
	if len(bad) > 0 {
		if len(bad) > 10 {
			bad = append(bad[:10], fmt.Sprintf("… %d more", len(bad)-10))
		}
		return fmt.Errorf("answers that must never happen (a 5xx other than 503 with Retry-After, or none):\n  %s", strings.Join(bad, "\n  "))
	}
	return nil
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
