package dynamo

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"

	"github.com/teamusers/usersapi/internal/users"
)

// A page of the member list when the team's facet counts are known: the
// reads are planned from the counts instead of grown partition by
// partition. The page needs the first L = limit+1 members (one more than
// it shows, to know whether there is a next page) of the merge of the
// selected partitions.
//
//  1. First round: each partition reads its expected share of those L
//     members and planSlack standard deviations more (a partition holding
//     a fraction p of the members gives L·p of them on average,
//     ±√(L·p·(1−p)), when its facet says nothing of the sort order, as
//     for email), never more than it holds; a partition expected to give
//     fewer than planMinShare members reads nothing yet. Sorted by last
//     activity the facets do say something: a bucket's members are more
//     recent than the next bucket's (users.ActivityRank), so the shares go
//     to the buckets in the page's order, the first filling the page.
//  2. The L-th key read so far bounds the page: no member after it can be
//     on it. The members before every partition's unread rest are
//     decided; the page is short of L by some number. Every partition not
//     yet read up to the bound reads on, up to the bound only, its share
//     of that shortfall (by size, with planSlack standard deviations and
//     one more).
//  3. If that was not enough to cover the bound, the partitions still
//     short of it read everything up to it (a tighter bound, now).
//
// Then every member up to the bound is in hand and the merge is exact,
// whatever the counts said: they only decide what is read first. Queries
// of one round run in parallel, so a page costs two round trips, rarely
// three.
const (
	planSlack    = 0.5
	planMinShare = 0.5
)

// mergeCounted merges whole facet partitions (streams[i] reads facets[i])
// whose member counts are known.
func (s *Store) mergeCounted(ctx context.Context, streams []*stream, facets []users.Facet, counts map[users.Facet]int, q users.ListQuery, limit int) ([]users.Member, string, error) {
	L := limit + 1
	weights := make([]float64, len(streams))
	for i, f := range facets {
		weights[i] = float64(max(counts[f], 0))
	}
	first := firstReads(weights, tiers(facets, q), float64(L))
	var round []*stream
	for i, st := range streams {
		if st.lo > st.hi {
			st.done = true
			continue
		}
		if first[i] > 0 {
			st.chunk = int32(min(first[i], counts[facets[i]]+1))
			round = append(round, st)
		}
	}
	if err := s.fetch(ctx, round); err != nil {
		return nil, "", err
	}
	for pass := 0; pass < 2; pass++ {
		known := decided(streams, q)
		if known >= L {
			break
		}
		bound, ok := pageBound(streams, q, L)
		if !ok {
			break // fewer than L read: the merge goes on as merge does
		}
		round = round[:0]
		behind := 0.0
		for _, st := range streams {
			st.narrow(bound)
			if st.done || (len(st.buf) > 0 && !st.before(st.last(), bound)) {
				continue
			}
			round = append(round, st)
		}
		for i, st := range streams {
			if slices.Contains(round, st) {
				behind += weights[i]
			}
		}
		short := float64(L - known)
		for i, st := range streams {
			if !slices.Contains(round, st) {
				continue
			}
			st.chunk = int32(L)
			if pass == 0 && behind > 0 {
				n := short * weights[i] / behind
				st.chunk = int32(min(float64(L), math.Ceil(n+planSlack*math.Sqrt(n))+1))
			}
		}
		if err := s.fetch(ctx, round); err != nil {
			return nil, "", err
		}
	}
	for _, st := range streams {
		st.chunk = max(st.chunk, 2) // what is left, the merge reads as merge would
	}
	return s.mergeLoop(ctx, streams, q, limit)
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

// firstReads plans the first round: how many members each partition
// reads (0: none yet). The page's L members are expected to come from the
// tiers in order, each tier's share spread over its partitions by size.
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

// decided counts the members read so far that the page may show and that
// lie before every partition's unread rest: their places are final.
func decided(streams []*stream, q users.ListQuery) int {
	var edge *string
	for _, st := range streams {
		if st.done {
			continue
		}
		if len(st.buf) == 0 {
			return 0
		}
		k := st.last()
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

// last is the key of the last member the stream has read (its buffer must
// not be empty).
func (st *stream) last() string { return st.sortKey(st.buf[len(st.buf)-1]) }

// narrow ends the stream's range at bound (in the stream's order).
func (st *stream) narrow(bound string) {
	if st.desc {
		st.lo = max(st.lo, bound)
	} else {
		st.hi = min(st.hi, bound)
	}
	if st.lo > st.hi {
		st.done = true
	}
}

// before reports whether key a comes before key b in the stream's order.
func (st *stream) before(a, b string) bool {
	if st.desc {
		return a > b
	}
	return a < b
}

// fetch reads the next chunk of each stream, in parallel, after what its
// buffer already holds.
func (s *Store) fetch(ctx context.Context, streams []*stream) error {
	var wg sync.WaitGroup
	errs := make([]error, len(streams))
	for i, st := range streams {
		if st.done {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs, next, err := s.query(ctx, st.index, st.pkAttr, st.pk, st.skAttr, st.skPrefix+st.lo, st.skPrefix+st.hi, st.desc, st.chunk, st.start)
			if err != nil {
				errs[i] = err
				return
			}
			st.buf = append(st.buf, recs...)
			st.start, st.done = next, next == nil
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
