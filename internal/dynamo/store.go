// Package dynamo is the single-table DynamoDB store of teams and members. It
// owns every key format (keys.go), the records that map items to the domain
// types of package users, and the transactions that keep the invariants:
// one member per email per team, never more members than seats, and team
// counters that always equal a recount of the members.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/internal/users"
)

// Store reads and writes the table.
type Store struct {
	db        DB
	table     string
	archive   string // the archive table of old sign-ins
	now       func() time.Time
	retention time.Duration
	zone      *time.Location // where days are counted (WithZone): NightlyTimeZone
	dueShards int            // the nightly work queue's shards (WithDueShards)

	auditRetention time.Duration

	itemsRead atomic.Int64
}

// New returns a store on the named table. Build the client with
// ClientOptions, so that it retries the way the store expects.
func New(db DB, table string) *Store {
	return &Store{db: classified{db}, table: table, now: time.Now, retention: users.DefaultRetention, zone: time.UTC, dueShards: DefaultDueShards}
}

// WithZone returns a store that counts days (the day of last activity the
// list sorts by, the buckets) in zone: the stack's NightlyTimeZone.
func (s *Store) WithZone(zone *time.Location) *Store {
	c := s.clone()
	if zone != nil {
		c.zone = zone
	}
	return c
}

// Zone is where the store counts days.
func (s *Store) Zone() *time.Location { return s.zone }

// WithClock returns a store that takes "now" from clock: the nightly job
// runs "as of" an instant, and tests travel in time with it.
func (s *Store) WithClock(clock func() time.Time) *Store {
	c := s.clone()
	c.now = clock
	return c
}

// WithRetention returns a store that archives after d instead of 90 days.
func (s *Store) WithRetention(d time.Duration) *Store {
	c := s.clone()
	c.retention = d
	return c
}

// WithDueShards returns a store that writes the nightly work queue over n
// shards (1 … MaxDueShards; other values keep the current count).
//
// Changing the count on a table that has a queue: every entry is written
// to the shard of the count in force at its write, so a member's entry
// moves to its new shard the next time the member is written (any change,
// an app's activity included), and a sign-in's stays where it is until it
// is archived. Raising the count is therefore safe as it is (a run reads
// every shard below the new count, the old ones among them). Lowering it
// leaves entries in shards the run no longer reads: the run must read the
// old count's shards too until every entry written before has come due
// (the nightly job's DueShardsBefore, DUE_SHARDS_BEFORE), that is for the
// sign-in retention period.
func (s *Store) WithDueShards(n int) *Store {
	c := s.clone()
	if n >= 1 && n <= MaxDueShards {
		c.dueShards = n
	}
	return c
}

// DueShards is the number of shards the store writes the work queue over.
func (s *Store) DueShards() int { return s.dueShards }

// clone is a store with the same settings (and a counter of its own).
func (s *Store) clone() *Store {
	return &Store{db: s.db, table: s.table, archive: s.archive, now: s.now, retention: s.retention, zone: s.zone, auditRetention: s.auditRetention, dueShards: s.dueShards}
}

// ItemsRead is how many items the store has read (DynamoDB's ScannedCount
// for queries, the items returned for gets) since it was made. Benchmarks and
// tests use it to prove that costs track the page, not the team.
func (s *Store) ItemsRead() int64 { return s.itemsRead.Load() }

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: pk},
		attrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

// GetTeam reads a team with its counters.
func (s *Store) GetTeam(ctx context.Context, teamID string) (users.Team, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key(teamPK(teamID), skTeam), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return users.Team{}, fmt.Errorf("get team %s: %w", teamID, err)
	}
	if out.Item == nil {
		return users.Team{}, users.ErrTeamNotFound
	}
	s.itemsRead.Add(1)
	return teamFromItem(out.Item)
}

// Teams reads teams by id, 100 to a request; ids that are no team are
// absent from the answer.
func (s *Store) Teams(ctx context.Context, ids []string) (map[string]users.Team, error) {
	keys := make([]map[string]types.AttributeValue, len(ids))
	for i, id := range ids {
		keys[i] = key(teamPK(id), skTeam)
	}
	out := make(map[string]users.Team, len(ids))
	err := s.batchGet(ctx, keys, "", func(it map[string]types.AttributeValue) error {
		t, err := teamFromItem(it)
		out[t.ID] = t
		return err
	})
	return out, err
}

// Access reads, in one round trip, the team and the caller's membership in
// it: everything a team endpoint's authorization needs.
func (s *Store) Access(ctx context.Context, teamID, email string) (users.Team, users.Membership, error) {
	keys := []map[string]types.AttributeValue{key(teamPK(teamID), skTeam), key(userPK(email), membershipSK(teamID))}
	var team *users.Team
	var ms *membershipRecord
	req := map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	for attempt := 0; len(req) > 0; attempt++ {
		if err := s.unprocessedPause(ctx, attempt); err != nil {
			return users.Team{}, users.Membership{}, err
		}
		out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return users.Team{}, users.Membership{}, fmt.Errorf("access %s: %w", teamID, err)
		}
		for _, item := range out.Responses[s.table] {
			s.itemsRead.Add(1)
			var head struct {
				Type string `dynamodbav:"type"`
			}
			if err := attributevalue.UnmarshalMap(item, &head); err != nil {
				return users.Team{}, users.Membership{}, fmt.Errorf("decode access item: %w", err)
			}
			switch head.Type {
			case "team":
				var t users.Team
				t, err = teamFromItem(item)
				team = &t
			case "membership":
				ms = new(membershipRecord)
				err = attributevalue.UnmarshalMap(item, ms)
			}
			if err != nil {
				return users.Team{}, users.Membership{}, fmt.Errorf("decode access item: %w", err)
			}
		}
		req = out.UnprocessedKeys
	}
	if team == nil || ms == nil {
		return users.Team{}, users.Membership{}, users.ErrTeamNotFound
	}
	return *team, ms.domain(), nil
}

// CreateTeam writes a new team and its owner, who holds the first seat.
//
// With a billing account id the creation is idempotent: a guard item for
// the account is written in the same transaction, and a retry of the same
// creation is told the team the first one made (users.BillingAccountTaken).
func (s *Store) CreateTeam(ctx context.Context, t users.Team, owner users.Member, billingAccount string) error {
	t.Counters = users.CounterDelta("", owner.Status)
	owner.LastCall = users.BucketFor(owner.Status, owner.LastActiveAt, s.now(), s.zone)
	t.Facets = map[users.Facet]int{users.FacetOf(owner): 1}
	items, err := marshalAll(s.memberRecordOf(owner), newMembershipRecord(owner))
	if err != nil {
		return err
	}
	ti, err := teamItem(t)
	if err != nil {
		return err
	}
	tx := &txn{}
	tx.put("team", s.table, ti, notExists, nil)
	tx.put("member", s.table, items[0], notExists, nil)
	tx.put("membership", s.table, items[1], notExists, nil)
	e := users.NewAuditEntry(ctx, t.ID, users.AuditCreateTeam, s.now())
	e.TargetID, e.TargetEmail = owner.ID, owner.Email
	e.Detail = map[string]string{"name": t.Name, "plan": string(t.Plan), "seats": strconv.Itoa(t.Seats)}
	if err := s.addAudit(tx, "audit", e); err != nil {
		return err
	}
	if billingAccount != "" {
		tx.put("billing", s.table, map[string]types.AttributeValue{
			attrPK: str(billingPK(billingAccount)), attrSK: str(skBilling), "type": str("billing"), "teamId": str(t.ID),
		}, notExists, nil)
	}
	f, err := s.commit(ctx, tx)
	switch {
	case err != nil:
		return fmt.Errorf("create team %s: %w", t.ID, err)
	case f["billing"]:
		out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(billingPK(billingAccount), skBilling), ConsistentRead: aws.Bool(true)})
		if err != nil || out.Item == nil {
			return fmt.Errorf("read billing account %s: %w", billingAccount, err)
		}
		var r struct {
			TeamID string `dynamodbav:"teamId"`
		}
		if err := attributevalue.UnmarshalMap(out.Item, &r); err != nil {
			return err
		}
		return &users.BillingAccountTaken{TeamID: r.TeamID}
	case len(f) > 0:
		return users.Errorf(users.KindConflict, "team_exists", "A team with this id already exists.")
	}
	return nil
}

// notExists is the condition of every item a write creates.
const notExists = "attribute_not_exists(PK)"

// putNew writes an item whose key is new (a random id of ours). The item
// already being there can only be our own put, applied by an attempt whose
// answer was lost and sent again by the SDK: that is success.
func (s *Store) putNew(ctx context.Context, item map[string]types.AttributeValue) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item, ConditionExpression: aws.String(notExists)})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil
	}
	return err
}

// UpdateTeam changes a team's name, plan, seat count (billing) or settings
// (its admins). Seats may not drop below the seats already assigned:
// billing must free seats first.
func (s *Store) UpdateTeam(ctx context.Context, teamID string, c users.TeamChange) (users.Team, error) {
	plan, seats := c.Plan, c.Seats
	set := "SET #u = :now"
	cond := "attribute_exists(PK)"
	names := map[string]string{"#u": "updatedAt"}
	vals := map[string]types.AttributeValue{":now": &types.AttributeValueMemberS{Value: fmtTime(s.now())}}
	if c.Name != nil {
		set += ", #name = :name"
		names["#name"] = "name"
		vals[":name"] = str(*c.Name)
	}
	if plan != nil {
		set += ", #plan = :plan"
		names["#plan"] = "plan"
		vals[":plan"] = &types.AttributeValueMemberS{Value: string(*plan)}
	}
	if c.NotifyOnRevoke != nil {
		set += ", noRevokeNotice = :norevoke"
		vals[":norevoke"] = &types.AttributeValueMemberBOOL{Value: !*c.NotifyOnRevoke}
	}
	if seats != nil {
		set += ", #seats = :seats"
		cond += " AND #assigned <= :seats"
		names["#seats"] = "seats"
		names["#assigned"] = "assigned"
		vals[":seats"] = &types.AttributeValueMemberN{Value: strconv.Itoa(*seats)}
	}
	// The change and its audit entry, in one transaction.
	tx := &txn{}
	tx.add("team", types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: key(teamPK(teamID), skTeam),
		UpdateExpression: &set, ConditionExpression: &cond,
		ExpressionAttributeNames: names, ExpressionAttributeValues: vals,
	}})
	e := users.NewAuditEntry(ctx, teamID, users.AuditUpdateTeam, s.now())
	e.Detail = map[string]string{}
	if c.Name != nil {
		e.Detail["name"] = *c.Name
	}
	if plan != nil {
		e.Detail["plan"] = string(*plan)
	}
	if seats != nil {
		e.Detail["seats"] = strconv.Itoa(*seats)
	}
	if c.NotifyOnRevoke != nil {
		e.Detail["notifyOnRevoke"] = strconv.FormatBool(*c.NotifyOnRevoke)
	}
	if err := s.addAudit(tx, "audit", e); err != nil {
		return users.Team{}, err
	}
	f, err := s.commit(ctx, tx)
	if err != nil {
		return users.Team{}, fmt.Errorf("update team %s: %w", teamID, err)
	}
	t, err := s.GetTeam(ctx, teamID)
	if err != nil {
		return users.Team{}, err
	}
	if f["team"] && seats != nil {
		return users.Team{}, users.Errorf(users.KindConflict, "seats_below_assigned", "The team has more assigned seats than %d; remove members first.", *seats)
	}
	if f["team"] {
		return users.Team{}, users.ErrTeamNotFound
	}
	return t, nil
}

// GetMember reads one member of a team.
func (s *Store) GetMember(ctx context.Context, teamID, memberID string) (users.Member, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key(teamPK(teamID), memberSK(memberID)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return users.Member{}, fmt.Errorf("get member %s/%s: %w", teamID, memberID, err)
	}
	if out.Item == nil {
		return users.Member{}, users.ErrMemberNotFound
	}
	s.itemsRead.Add(1)
	var r memberRecord
	if err := attributevalue.UnmarshalMap(out.Item, &r); err != nil {
		return users.Member{}, fmt.Errorf("decode member %s: %w", memberID, err)
	}
	return r.domain(), nil
}

// memberRecordOf is the record of a member with every index key set.
func (s *Store) memberRecordOf(m users.Member) memberRecord {
	r := newMemberRecord(m)
	r.setIndexKeys(s.retention, s.zone, s.dueShards)
	return r
}

// counterUpdate moves a team's counters by d and its facet counters by
// facets. When the change takes seats it is conditional on their being
// free, which is what makes overselling impossible under any concurrency:
// for one seat, assigned < seats; for n seats (conditions cannot add), on
// the seat count read and on assigned being at most seats − n. ok is false
// when nothing moves.
func (s *Store) counterUpdate(teamID string, d users.Counters, facets map[users.Facet]int, seats int) (it types.TransactWriteItem, ok bool) {
	cond := "attribute_exists(PK)"
	vals := map[string]types.AttributeValue{}
	names := map[string]string{}
	var adds []string
	for _, c := range []struct {
		attr string
		n    int
	}{{"assigned", d.Assigned}, {"pendingInvitations", d.PendingInvitations}, {"neverUsedApp", d.NeverUsedApp}} {
		if c.n != 0 {
			adds = append(adds, c.attr+" :"+c.attr)
			vals[":"+c.attr] = num(c.n)
		}
	}
	// In the attributes' order, so the same change is the same expression
	// (sorted as strings: no sort of its own linked into every function).
	byAttr := make(map[string]int, len(facets))
	attrs := make([]string, 0, len(facets))
	for f, n := range facets {
		if n != 0 {
			byAttr[facetAttr(f)] = n
			attrs = append(attrs, facetAttr(f))
		}
	}
	slices.Sort(attrs)
	for i, a := range attrs {
		n := fmt.Sprintf("#f%d", i)
		names[n] = a
		vals[":f"+n[2:]] = num(byAttr[a])
		adds = append(adds, n+" :f"+n[2:])
	}
	if len(adds) == 0 {
		return types.TransactWriteItem{}, false
	}
	switch {
	case d.Assigned == 1:
		cond += " AND assigned < seats"
	case d.Assigned > 1:
		cond += " AND seats = :seats AND assigned <= :max"
		vals[":seats"], vals[":max"] = num(seats), num(seats-d.Assigned)
	}
	u := &types.Update{
		TableName: &s.table, Key: key(teamPK(teamID), skTeam),
		UpdateExpression:          aws.String("ADD " + strings.Join(adds, ", ")),
		ConditionExpression:       &cond,
		ExpressionAttributeValues: vals,
	}
	if len(names) > 0 {
		u.ExpressionAttributeNames = names
	}
	return types.TransactWriteItem{Update: u}, true
}

func marshalAll(records ...any) ([]map[string]types.AttributeValue, error) {
	out := make([]map[string]types.AttributeValue, len(records))
	for i, r := range records {
		item, err := attributevalue.MarshalMap(r)
		if err != nil {
			return nil, fmt.Errorf("encode %T: %w", r, err)
		}
		out[i] = item
	}
	return out, nil
}

// unprocessedPause waits before asking again for what a batch request
// left unprocessed (DynamoDB's way of throttling part of a batch): full
// jitter, and an error once the retry policy's attempts are spent.
func (s *Store) unprocessedPause(ctx context.Context, attempt int) error {
	if attempt == 0 {
		return nil
	}
	if attempt >= MaxAttempts*2 {
		return users.Unavailable(errors.New("batch request still unprocessed after every retry"))
	}
	d, _ := Backoff(attempt, nil)
	return sleep(ctx, d)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return users.Unavailable(ctx.Err())
	case <-t.C:
		return nil
	}
}
