package dynamo

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/internal/users"
)

// A page of the member list when the team's facet counts are known: the
// reads are planned from the counts instead of grown partition by
// partition. The page needs the first L = limit+1 members (one more than
// it shows, to know whether there is a next page) of the merge of the
// selected partitions, and every partition must be read to just past the
// page, or be known to hold nothing before its end.
//
// The pilot. When a facet says nothing of the member's place in the sort
// order (email, invitation date; for last activity, within one bucket:
// users.ActivityRank orders the buckets), a partition holding a fraction p
// of the members holds about the same fraction of any stretch of the
// order. So the largest partition reads its share of the page, L·p
// members, and the key it stops at is where the page is expected to end.
// Every other partition then reads exactly its members up to that key, a
// query bounded by it, nothing beyond. If together they fall short of L,
// the pilot reads its share of the shortfall and the others follow up to
// its new last key; a round or two more at most. Each round is one set of
// parallel queries.
//
// When the first bucket of the order cannot fill the page, or the pilot
// runs out, the page is planned as a whole (planRounds): every partition
// reads its expected share at once, the L-th key read bounds the page,
// and the partitions short of it read up to it.
//
// Either way, the merge that follows has every member up to the page's
// end in hand, whatever the counts said: they decide what is read first,
// never what the page is.
const (
	planSlack    = 0.5 // standard deviations of a share read ahead (planRounds)
	planMinShare = 0.5 // a smaller expected share is not read before a bound (planRounds)
	pilotRounds  = 4   // extensions of the pilot before planning as a whole
)

// mergeCounted merges whole facet partitions (streams[i] reads facets[i])
// whose member counts are known.
func (s *Store) mergeCounted(ctx context.Context, streams []*stream, facets []users.Facet, counts map[users.Facet]int, q users.ListQuery, limit int) ([]users.Member, string, error) {
	L := limit + 1
	weights := make([]float64, len(streams))
	for i, f := range facets {
		weights[i] = float64(max(counts[f], 0))
		if streams[i].lo > streams[i].hi {
			streams[i].done = true
		}
	}
	tier := tiers(facets, q)
	if err := s.pilot(ctx, streams, weights, tier, q, L); err != nil {
		return nil, "", err
	}
	if decided(streams, q) < L {
		if err := s.planRounds(ctx, streams, weights, tier, q, L); err != nil {
			return nil, "", err
		}
	}
	for _, st := range streams {
		st.chunk = max(st.chunk, 2) // whatever is left, the merge reads as merge would
	}
	return s.mergeLoop(ctx, streams, q, limit)
}

// pilot plans by the largest partition of the page's first tier (see the
// comment above); it does nothing when that tier holds fewer than L.
func (s *Store) pilot(ctx context.Context, streams []*stream, weights []float64, tier []int, q users.ListQuery, L int) error {
	first, size := math.MaxInt, 0.0
	for i, st := range streams {
		if !st.done && weights[i] > 0 {
			first = min(first, tier[i])
		}
	}
	var p *stream
	pw := 0.0
	for i, st := range streams {
		if st.done || tier[i] != first {
			continue
		}
		size += weights[i]
		if weights[i] > pw {
			p, pw = st, weights[i]
		}
	}
	if p == nil || size < float64(L) {
		return nil
	}
	share := pw / size
	p.chunk = int32(min(pilotRead(float64(L), share), pw+1))
	if err := s.fetch(ctx, []*stream{p}); err != nil {
		return err
	}
	for round := 0; round < pilotRounds && !p.done && p.read; round++ {
		bound := p.lastKey
		var others []*stream
		for _, st := range streams {
			if st == p || st.done {
				continue
			}
			if reach, ok := st.reach(); !ok || st.before(reach, bound) {
				st.chunk = int32(L)
				others = append(others, st)
			}
		}
		if err := s.fetchUpTo(ctx, others, bound); err != nil {
			return err
		}
		known := decided(streams, q)
		if known >= L {
			return nil
		}
		p.chunk = int32(pilotRead(float64(L-known), share))
		if err := s.fetch(ctx, []*stream{p}); err != nil {
			return err
		}
	}
	return nil
}

// pilotRead is how many members the pilot, a fraction share of the
// members, reads when n more are wanted: its expected share. Every member
// up to the pilot's last key is then read, so the page overshoots when
// that key lands late, and needs another round when it lands early. Each
// round queries every partition short of the new bound again, at least
// half a read unit each however little it returns, so reading short of
// the share trades items for rounds that cost more read units, and
// reading beyond it the other way. bench/cost's
// list/unfiltered_pages_2_to_11 measures both (items against the floor,
// read units) over ten pages.
func pilotRead(n, share float64) float64 {
	return math.Ceil(n * share)
}

// planRounds plans the page as a whole: a first round of every
// partition's expected share, then up to two rounds bounded by the L-th
// key read so far, the first of them sharing out the shortfall by size.
func (s *Store) planRounds(ctx context.Context, streams []*stream, weights []float64, tier []int, q users.ListQuery, L int) error {
	first := firstReads(weights, tier, float64(L))
	var round []*stream
	for i, st := range streams {
		if st.done || first[i] == 0 {
			continue
		}
		if _, ok := st.reach(); ok {
			continue // read already
		}
		st.chunk = int32(min(first[i], int(weights[i])+1))
		round = append(round, st)
	}
	if err := s.fetch(ctx, round); err != nil {
		return err
	}
	for pass := 0; pass < 2; pass++ {
		known := decided(streams, q)
		if known >= L {
			return nil
		}
		bound, ok := pageBound(streams, q, L)
		if !ok {
			return nil // fewer than L read: the merge goes on as merge does
		}
		round = round[:0]
		behind := 0.0
		var idx []int
		for i, st := range streams {
			if st.done {
				continue
			}
			if reach, ok := st.reach(); ok && !st.before(reach, bound) {
				continue // read past the bound, or known empty up to it
			}
			round = append(round, st)
			idx = append(idx, i)
			behind += weights[i]
		}
		short := float64(L - known)
		for j, st := range round {
			st.chunk = int32(L)
			if pass == 0 && behind > 0 {
				n := short * weights[idx[j]] / behind
				st.chunk = int32(min(float64(L), math.Ceil(n+planSlack*math.Sqrt(n))+1))
			}
		}
		if err := s.fetchUpTo(ctx, round, bound); err != nil {
			return err
		}
	}
	return nil
}

// tiers gives each facet its place in the page's order of facets: all 0
// unless sorted by last activity, where buckets come in order of recency
// (most recent first when descending).
func tiers(facets []users.Facet, q users.ListQuery) []int {
	t := make([]int, len(facets))
	if q.Sort != users.SortLastActive {
		return t
	}
	for i, f := range facets {
		r := users.ActivityRank(f.LastCall)
		if !q.Desc {
			r = -r
		}
		t[i] = r
	}
	return t
}

// firstReads plans a first round: how many members each partition reads
// (0: none yet). The page's L members are expected to come from the tiers
// in order, each tier's share spread over its partitions by size.
func firstReads(weights []float64, tier []int, L float64) []int {
	order := make([]int, 0, len(weights))
	for i := range weights {
		order = append(order, i)
	}
	slices.SortStableFunc(order, func(a, b int) int { return tier[a] - tier[b] })
	out := make([]int, len(weights))
	left := L
	for start := 0; start < len(order); {
		end := start
		size := 0.0
		for end < len(order) && tier[order[end]] == tier[order[start]] {
			size += weights[order[end]]
			end++
		}
		take := min(left, size)
		for _, i := range order[start:end] {
			if size == 0 || take <= 0 {
				continue
			}
			p := weights[i] / size
			share := take * p
			if share < planMinShare {
				continue
			}
			out[i] = int(math.Ceil(share + planSlack*math.Sqrt(share*(1-p))))
		}
		left -= take
		start = end
	}
	return out
}

// reach is how far the stream is known: to the last key it read, or to a
// bound it was read up to and found nothing more before.
func (st *stream) reach() (string, bool) {
	k, ok := st.lastKey, st.read
	if st.covered && (!ok || st.before(k, st.cover)) {
		k, ok = st.cover, true
	}
	return k, ok
}

// decided counts the members read so far that the page may show and that
// lie before every partition's unknown rest: their places are final.
func decided(streams []*stream, q users.ListQuery) int {
	var edge *string
	for _, st := range streams {
		if st.done {
			continue
		}
		k, ok := st.reach()
		if !ok {
			return 0
		}
		if edge == nil || st.before(k, *edge) {
			edge = &k
		}
	}
	n := 0
	seen := map[string]bool{}
	for _, st := range streams {
		for _, r := range st.buf {
			k := st.sortKey(r)
			if seen[k] || k == st.exclude || (st.filter && !q.Matches(r.domain())) {
				continue
			}
			if edge == nil || !st.before(*edge, k) {
				seen[k] = true
				n++
			}
		}
	}
	return n
}

// pageBound is the L-th distinct key, in the page's order, of the members
// read so far that the page may show: no page of L reaches beyond it.
func pageBound(streams []*stream, q users.ListQuery, L int) (string, bool) {
	seen := map[string]bool{}
	var keys []string
	for _, st := range streams {
		for _, r := range st.buf {
			k := st.sortKey(r)
			if seen[k] || k == st.exclude || (st.filter && !q.Matches(r.domain())) {
				continue
			}
			seen[k] = true
			keys = append(keys, k)
		}
	}
	if len(keys) < L {
		return "", false
	}
	slices.Sort(keys)
	if q.Desc {
		return keys[len(keys)-L], true
	}
	return keys[L-1], true
}

// before reports whether key a comes before key b in the stream's order.
func (st *stream) before(a, b string) bool {
	if st.desc {
		return a > b
	}
	return a < b
}

// noteRead remembers the last key of what a query returned.
func (st *stream) noteRead(recs []memberRecord) {
	if len(recs) > 0 {
		st.lastKey, st.read = st.sortKey(recs[len(recs)-1]), true
	}
}

// after is the ExclusiveStartKey that resumes the stream after r.
func (st *stream) after(r memberRecord) map[string]types.AttributeValue {
	sk := map[string]string{attrEmailSK: r.EmailSK, attrActiveSK: r.ActiveSK, attrInvitedSK: r.InvitedSK, attrDomainSK: r.DomainSK}[st.skAttr]
	return map[string]types.AttributeValue{st.pkAttr: str(st.pk), st.skAttr: str(sk), attrPK: str(r.PK), attrSK: str(r.SK)}
}

// fetch reads the next chunk of each stream, in parallel, after what it
// has read.
func (s *Store) fetch(ctx context.Context, streams []*stream) error {
	return s.fetchUpTo(ctx, streams, "")
}

// fetchUpTo reads the next chunk of each stream, in parallel, after what
// it has read and, when bound is set, up to bound only: a stream that
// finds nothing more before bound is known empty up to it.
func (s *Store) fetchUpTo(ctx context.Context, streams []*stream, bound string) error {
	var wg sync.WaitGroup
	errs := make([]error, len(streams))
	for i, st := range streams {
		if st.done {
			continue
		}
		lo, hi, whole := st.lo, st.hi, true
		if bound != "" {
			if st.desc && bound > lo {
				lo, whole = bound, false
			} else if !st.desc && bound < hi {
				hi, whole = bound, false
			}
		}
		if lo > hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs, next, err := s.query(ctx, st.index, st.pkAttr, st.pk, st.skAttr, st.skPrefix+lo, st.skPrefix+hi, st.desc, st.chunk, st.start)
			if err != nil {
				errs[i] = err
				return
			}
			st.buf = append(st.buf, recs...)
			st.noteRead(recs)
			switch {
			case next != nil:
				st.start = next
			case whole:
				st.done = true
			default: // nothing more up to the bound; the rest begins after it
				st.cover, st.covered = bound, true
				if len(recs) > 0 {
					st.start = st.after(recs[len(recs)-1])
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
