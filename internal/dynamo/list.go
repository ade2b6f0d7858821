package dynamo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/internal/users"
)

// MaxSearchRead bounds what one search page sorted by something other than
// email may read: such a page must sort every match in memory.
const MaxSearchRead = 5000

// MaxSearchDomains bounds how many distinct domains one search prefix may
// match before the caller is asked to type more.
const MaxSearchDomains = 50

// ListMembers returns one page of members of team matching q, after the
// position `after` (the sort key of the last member of the previous page,
// "" for the first page), and the position to continue from ("" on the
// last page).
//
// How it stays proportional to the page, not the team:
//   - without a search, each (status, bucket, role) combination the filters
//     select is its own index partition, already sorted by the requested
//     column; the page is a k-way merge of at most 16 sorted streams;
//   - with a search sorted by email, the streams are the email-prefix ranges
//     of those partitions plus, for a domain prefix, one range per matching
//     domain of the ByDomain index (sorted by email within a domain);
//   - a search sorted by another column reads every match (at most
//     MaxSearchRead) and sorts in memory.
//
// team is the team as the caller's authorization read it: its facet
// counts (users.Team.Facets) say which partitions hold members, so a
// partition known to be empty is not read at all, and how many, so the
// first read of each partition is sized by its share of the page (see
// mergeCounted). A team without counts (Facets nil: a caller that has
// only the id) is read as if every partition held members. Counts only
// steer what is read first: the page itself is always exact.
func (s *Store) ListMembers(ctx context.Context, team users.Team, q users.ListQuery, after string) ([]users.Member, string, error) {
	teamID := team.ID
	facets := knownFacets(team, q)
	if q.Q != "" && q.Sort != users.SortEmail {
		return s.searchSorted(ctx, teamID, facets, q, after)
	}
	if q.Q != "" {
		streams, err := s.searchStreams(ctx, teamID, facets, q, after, q.Desc)
		if err != nil {
			return nil, "", err
		}
		return s.merge(ctx, streams, q, q.Limit)
	}
	streams := make([]*stream, 0, len(facets))
	for _, f := range facets {
		streams = append(streams, s.facetStream(teamID, f, q.Sort, "", after, q.Desc))
	}
	if len(team.Facets) == 0 {
		return s.merge(ctx, streams, q, q.Limit)
	}
	return s.mergeCounted(ctx, streams, facets, team.Facets, q, q.Limit)
}

// knownFacets are the combinations q selects, less those the team's
// counters say are empty. A team whose item has no counters at all (nil
// or empty: every team has at least its owner) keeps them all.
func knownFacets(team users.Team, q users.ListQuery) []users.Facet {
	all := q.Facets()
	if len(team.Facets) == 0 {
		return all
	}
	out := all[:0:0]
	for _, f := range all {
		if team.Facets[f] > 0 {
			out = append(out, f)
		}
	}
	return out
}

// stream is one sorted key range of one index partition, read lazily.
type stream struct {
	index, pkAttr, pk, skAttr string
	skPrefix                  string // what every sort key of the stream starts with before the merge key
	lo, hi                    string // merge-key range, inclusive
	desc                      bool
	exclude                   string // a merge key to drop (the cursor position, for descending ranges)
	filter                    bool   // items may not match the query's filters
	sortKey                   func(memberRecord) string

	buf   []memberRecord
	start map[string]types.AttributeValue
	done  bool
	chunk int32

	// What is known of the rest of the range (mergeCounted): the last key
	// read, and a key up to which the stream is known to hold nothing more.
	lastKey string
	read    bool
	cover   string
	covered bool
}

func sortKeyFunc(f users.SortField) (index, attr string, key func(memberRecord) string) {
	switch f {
	case users.SortLastActive:
		return indexByLastActive, attrActiveSK, func(r memberRecord) string { return r.ActiveSK }
	case users.SortInvitedAt:
		return indexByInvitedAt, attrInvitedSK, func(r memberRecord) string { return r.InvitedSK }
	default:
		return indexByEmail, attrEmailSK, func(r memberRecord) string { return r.EmailSK }
	}
}

// bounds narrows a merge-key range to the keys after the cursor position.
func bounds(prefix, after string, desc bool) (lo, hi, exclude string) {
	lo, hi = minKey, maxKey
	if prefix != "" {
		lo, hi = prefix, prefix+maxKey
	}
	if after == "" {
		return lo, hi, ""
	}
	if desc {
		return lo, min(hi, after), after
	}
	return max(lo, after+minKey), hi, ""
}

func (s *Store) facetStream(teamID string, f users.Facet, sort users.SortField, prefix, after string, desc bool) *stream {
	index, attr, keyf := sortKeyFunc(sort)
	lo, hi, excl := bounds(prefix, after, desc)
	return &stream{index: index, pkAttr: attrFacetPK, pk: facetPK(teamID, f), skAttr: attr,
		lo: lo, hi: hi, desc: desc, exclude: excl, sortKey: keyf}
}

// searchStreams builds the streams of a search sorted by email.
func (s *Store) searchStreams(ctx context.Context, teamID string, facets []users.Facet, q users.ListQuery, after string, desc bool) ([]*stream, error) {
	var streams []*stream
	if !strings.HasPrefix(q.Q, "@") {
		for _, f := range facets {
			streams = append(streams, s.facetStream(teamID, f, users.SortEmail, q.Q, after, desc))
		}
	}
	domainPrefix := strings.TrimPrefix(q.Q, "@")
	if strings.Contains(domainPrefix, "@") {
		return streams, nil
	}
	domains, err := s.domainsWithPrefix(ctx, teamID, domainPrefix)
	if err != nil {
		return nil, err
	}
	for _, d := range domains {
		lo, hi, excl := bounds("", after, desc)
		streams = append(streams, &stream{index: indexByDomain, pkAttr: attrPK, pk: teamPK(teamID), skAttr: attrDomainSK,
			skPrefix: d + "#", lo: lo, hi: hi, desc: desc, exclude: excl, filter: true,
			sortKey: func(r memberRecord) string { return r.EmailSK }})
	}
	return streams, nil
}

// domainsWithPrefix lists the distinct domains of a team's members that
// start with prefix, by skipping from one domain to the next in the ByDomain
// index: one single-item read per domain, whatever the domain's size.
func (s *Store) domainsWithPrefix(ctx context.Context, teamID, prefix string) ([]string, error) {
	var out []string
	lo, hi := prefix, prefix+maxKey
	if prefix == "" {
		lo = minKey
	}
	for lo <= hi {
		recs, _, err := s.query(ctx, indexByDomain, attrPK, teamPK(teamID), attrDomainSK, lo, hi, false, 1, nil)
		if err != nil {
			return nil, err
		}
		if len(recs) == 0 {
			break
		}
		d := users.DomainOf(recs[0].Email)
		out = append(out, d)
		if len(out) > MaxSearchDomains {
			return nil, users.Errorf(users.KindInvalid, "search_too_broad", "More than %d email domains start with %q; type more of the address.", MaxSearchDomains, prefix)
		}
		lo = d + "$" // '$' follows '#': past every key of domain d
	}
	return out, nil
}

// merge reads the streams lazily and returns the first limit members in
// order, plus the position to continue from when there are more.
func (s *Store) merge(ctx context.Context, streams []*stream, q users.ListQuery, limit int) ([]users.Member, string, error) {
	first := int32(max(2, (limit+1)/max(1, len(streams))+1))
	for _, st := range streams {
		st.chunk = first
		if st.filter {
			st.chunk = int32(limit + 1)
		}
		if st.lo > st.hi {
			st.done = true
		}
	}
	return s.mergeLoop(ctx, streams, q, limit)
}

// mergeLoop takes members from the streams in order until it has limit+1
// or the streams end, refilling a stream's buffer when it runs dry.
func (s *Store) mergeLoop(ctx context.Context, streams []*stream, q users.ListQuery, limit int) ([]users.Member, string, error) {
	var out []memberRecord
	last := ""
	for len(out) <= limit {
		if err := s.refill(ctx, streams); err != nil {
			return nil, "", err
		}
		var best *stream
		for _, st := range streams {
			if len(st.buf) == 0 {
				continue
			}
			if best == nil {
				best = st
				continue
			}
			a, b := st.sortKey(st.buf[0]), best.sortKey(best.buf[0])
			if (!q.Desc && a < b) || (q.Desc && a > b) {
				best = st
			}
		}
		if best == nil {
			break
		}
		r := best.buf[0]
		best.buf = best.buf[1:]
		k := best.sortKey(r)
		if k == last || k == best.exclude { // the same member from two streams, or the cursor's own row
			continue
		}
		if best.filter && !q.Matches(r.domain()) {
			continue
		}
		last = k
		out = append(out, r)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = streams[0].sortKey(out[limit-1])
	}
	members := make([]users.Member, len(out))
	for i, r := range out {
		members[i] = r.domain()
	}
	return members, next, nil
}

// refill fetches the next chunk of every stream whose buffer is empty, in
// parallel: the first round costs one round trip, not one per partition.
//
// A stream known to hold nothing before the next member of the others
// (mergeCounted read it up to a bound) is not read yet: it cannot be next.
func (s *Store) refill(ctx context.Context, streams []*stream) error {
	var head *string
	for _, st := range streams {
		if len(st.buf) > 0 {
			k := st.sortKey(st.buf[0])
			if head == nil || st.before(k, *head) {
				head = &k
			}
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(streams))
	for i, st := range streams {
		if len(st.buf) > 0 || st.done {
			continue
		}
		if reach, ok := st.reach(); ok && head != nil && !st.before(reach, *head) {
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
			st.buf, st.start, st.done = recs, next, next == nil
			st.chunk = min(st.chunk*2, 101)
			st.noteRead(recs)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// query reads one page of an index range, sk BETWEEN lo AND hi.
func (s *Store) query(ctx context.Context, index, pkAttr, pk, skAttr, lo, hi string, desc bool, limit int32, start map[string]types.AttributeValue) ([]memberRecord, map[string]types.AttributeValue, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(index),
		KeyConditionExpression:    aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi"),
		ExpressionAttributeNames:  map[string]string{"#pk": pkAttr, "#sk": skAttr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":lo": str(lo), ":hi": str(hi)},
		ScanIndexForward:          aws.Bool(!desc),
		Limit:                     aws.Int32(limit),
		ExclusiveStartKey:         start,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("query %s: %w", index, err)
	}
	s.itemsRead.Add(int64(out.ScannedCount))
	recs := make([]memberRecord, len(out.Items))
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &recs); err != nil {
		return nil, nil, fmt.Errorf("decode members: %w", err)
	}
	return recs, out.LastEvaluatedKey, nil
}

// searchSorted serves a search sorted by a column other than email: it
// gathers every match, sorts it and cuts the page after the position.
func (s *Store) searchSorted(ctx context.Context, teamID string, facets []users.Facet, q users.ListQuery, after string) ([]users.Member, string, error) {
	streams, err := s.searchStreams(ctx, teamID, facets, q, "", false)
	if err != nil {
		return nil, "", err
	}
	_, _, keyf := sortKeyFunc(q.Sort)
	for _, st := range streams {
		st.filter = true
		st.sortKey = keyf
	}
	seen := map[string]bool{}
	var matches []memberRecord
	read := 0
	for _, st := range streams {
		start := map[string]types.AttributeValue(nil)
		for {
			recs, next, err := s.query(ctx, st.index, st.pkAttr, st.pk, st.skAttr, st.skPrefix+st.lo, st.skPrefix+st.hi, false, 200, start)
			if err != nil {
				return nil, "", err
			}
			read += len(recs)
			if read > MaxSearchRead {
				return nil, "", users.Errorf(users.KindInvalid, "search_too_broad", "More than %d members match %q; type more of the address, or sort by email.", MaxSearchRead, q.Q)
			}
			for _, r := range recs {
				if !seen[r.MemberID] && q.Matches(r.domain()) {
					seen[r.MemberID] = true
					matches = append(matches, r)
				}
			}
			if start = next; start == nil {
				break
			}
		}
	}
	slices.SortFunc(matches, func(a, b memberRecord) int {
		if q.Desc {
			return strings.Compare(keyf(b), keyf(a))
		}
		return strings.Compare(keyf(a), keyf(b))
	})
	if after != "" {
		i, _ := slices.BinarySearchFunc(matches, after, func(r memberRecord, k string) int {
			if q.Desc {
				return strings.Compare(k, keyf(r))
			}
			return strings.Compare(keyf(r), k)
		})
		for i < len(matches) && keyf(matches[i]) == after {
			i++
		}
		matches = matches[i:]
	}
	next := ""
	if len(matches) > q.Limit {
		matches = matches[:q.Limit]
		next = keyf(matches[q.Limit-1])
	}
	members := make([]users.Member, len(matches))
	for i, r := range matches {
		members[i] = r.domain()
	}
	return members, next, nil
}
