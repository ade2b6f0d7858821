package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/internal/users"
)

// Every change to a member is one transaction: the whole member put
// conditional on the version it was read at, its membership item, the team
// counters when its status moves, its invitation token items when its
// token changes, and the email the change causes. So index keys are always
// derived from the item, counters always move with statuses, and no change
// happens without its email or the other way round. What changes is the
// caller's rule (users.Rule); this file only stores it.

type inviteRecord struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	Type       string `dynamodbav:"type"`
	TeamID     string `dynamodbav:"teamId"`
	MemberID   string `dynamodbav:"memberId"`
	ExpiresAt  string `dynamodbav:"expiresAt"`
	TTL        int64  `dynamodbav:"ttl"`
	AcceptedAt string `dynamodbav:"acceptedAt,omitempty"` // spent: kept to say so
}

// tokenRetention keeps a token item this long past its expiry, so that an
// expired link is told "expired" rather than "not valid".
const tokenRetention = 90 * 24 * time.Hour

func (s *Store) memberRecord(ctx context.Context, teamID, memberID string) (memberRecord, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key(teamPK(teamID), memberSK(memberID)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return memberRecord{}, fmt.Errorf("get member %s: %w", memberID, err)
	}
	if out.Item == nil {
		return memberRecord{}, users.ErrMemberNotFound
	}
	s.itemsRead.Add(1)
	var r memberRecord
	if err := attributevalue.UnmarshalMap(out.Item, &r); err != nil {
		return memberRecord{}, fmt.Errorf("decode member %s: %w", memberID, err)
	}
	return r, nil
}

// maxVersionRetries bounds how often a change is re-read and re-decided
// because another writer changed the member first.
const maxVersionRetries = 8

// UpdateMember reads a member, lets rule change it, and writes the result
// with everything that goes with it. It reports whether anything was
// written; a rule returning users.ErrUnchanged writes nothing. When another
// writer changed the member in between, it reads again and asks the rule
// again. A removed member is returned as it was before removal.
func (s *Store) UpdateMember(ctx context.Context, teamID, memberID string, rule users.Rule) (users.Member, bool, error) {
	for attempt := 0; ; attempt++ {
		before, err := s.memberRecord(ctx, teamID, memberID)
		if err != nil {
			return users.Member{}, false, err
		}
		m := before.domain()
		ch, err := rule(&m)
		if errors.Is(err, users.ErrUnchanged) {
			return before.domain(), false, s.requeue(ctx, before)
		}
		if err != nil {
			return before.domain(), false, err
		}
		tx, after, err := s.memberTxn(ctx, before, m, ch)
		if err != nil {
			return users.Member{}, false, err
		}
		f, err := s.commit(ctx, tx)
		switch {
		case err != nil:
			return users.Member{}, false, fmt.Errorf("write member %s: %w", memberID, err)
		case f["member"] && attempt < maxVersionRetries:
			d, _ := Backoff(attempt+1, nil)
			if err := sleep(ctx, d); err != nil {
				return users.Member{}, false, err
			}
			continue
		case f["member"]:
			return users.Member{}, false, users.ErrConflict
		case f["counters"]:
			return users.Member{}, false, users.ErrSeatLimit
		case f["membership"]:
			return users.Member{}, false, users.AlreadyMember(after.Email)
		case f["external-id"]:
			return users.Member{}, false, users.ErrExternalIDTaken
		case f["user-name"]:
			return users.Member{}, false, users.ErrUserNameTaken
		case len(f) > 0:
			return users.Member{}, false, fmt.Errorf("write member %s: conditions failed on %v", memberID, f)
		}
		if ch.Remove {
			return before.domain(), true, nil
		}
		return after.domain(), true, nil
	}
}

// requeue moves a member whose place in the work queue has come due but
// whom nothing changed (the queue is lazy: see keepDue) to its next
// change, or out of the queue. It writes only the queue's key attributes,
// conditional on the version read; a writer that got there first has
// placed the member already.
func (s *Store) requeue(ctx context.Context, before memberRecord) error {
	if before.DueSK == "" || dueInstant(before.DueSK).After(s.now()) {
		return nil
	}
	next := s.memberRecordOf(before.domain())
	if next.DueSK == before.DueSK {
		return nil
	}
	in := &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(before.PK, before.SK), ConditionExpression: aws.String("version = :v"),
		ExpressionAttributeNames:  map[string]string{"#p": attrDuePK, "#s": attrDueSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(before.Version)},
	}
	if next.DueSK == "" {
		in.UpdateExpression = aws.String("REMOVE #p, #s")
	} else {
		in.UpdateExpression = aws.String("SET #p = :p, #s = :s")
		in.ExpressionAttributeValues[":p"], in.ExpressionAttributeValues[":s"] = str(next.DuePK), str(next.DueSK)
	}
	_, err := s.db.UpdateItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("requeue member %s: %w", before.MemberID, err)
	}
	return nil
}

// guard is an identity provider's key for a member that must be unique in
// the team: a guard item per value, written and deleted in the member's
// transactions (keys in keys.go).
type guard struct {
	name string // the transaction item's name
	pk   func(teamID, value string) string
	sk   string
	key  func(users.Member) string // the value a member holds ("" for none)
	err  error
}

var guards = []guard{
	{name: "external-id", pk: externalIDPK, sk: skExternalID, key: func(m users.Member) string { return m.ExternalID }, err: users.ErrExternalIDTaken},
	// userName is compared without regard to case (RFC 7643: caseExact false).
	{name: "user-name", pk: userNamePK, sk: skUserName, key: func(m users.Member) string { return strings.ToLower(m.UserName) }, err: users.ErrUserNameTaken},
}

func guardItem(g guard, m users.Member) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(g.pk(m.TeamID, g.key(m))), attrSK: str(g.sk),
		"type": str(g.name), "teamId": str(m.TeamID), "memberId": str(m.ID)}
}

func failedGuard(f failed, suffix string) (guard, bool) {
	for _, g := range guards {
		if f[g.name+suffix] {
			return g, true
		}
	}
	return guard{}, false
}

// memberTxn is the transaction that takes a member from before to m, with
// its audit entry when the rule named the change.
func (s *Store) memberTxn(ctx context.Context, before memberRecord, m users.Member, ch users.Change) (*txn, memberRecord, error) {
	tx := &txn{}
	version := map[string]types.AttributeValue{":v": num(before.Version)}
	from, to := users.Status(before.Status), m.Status
	var after memberRecord
	m.UpdatedAt = s.now()
	if ch.Remove {
		to = ""
		tx.delete("member", s.table, key(before.PK, before.SK), "version = :v", version)
		tx.delete("membership", s.table, key(userPK(before.Email), membershipSK(before.TeamID)), "", nil)
	} else {
		after = s.memberRecordOf(m)
		after.keepDue(before, s.now())
		after.Version = before.Version + 1
		items, err := marshalAll(after, newMembershipRecord(m))
		if err != nil {
			return nil, after, err
		}
		tx.put("member", s.table, items[0], "version = :v", version)
		switch {
		case m.Email != before.Email:
			// A new address (an identity provider's rename): the new
			// membership is the one-email-one-member guard, the old goes.
			tx.put("membership", s.table, items[1], notExists, nil)
			tx.delete("membership-old", s.table, key(userPK(before.Email), membershipSK(before.TeamID)), "", nil)
		case newMembershipRecord(m) != newMembershipRecord(before.domain()):
			// The membership holds the role and status: most changes
			// (activity, a bucket step) leave it as it is, and rewriting
			// it costs writes.
			tx.put("membership", s.table, items[1], "", nil)
		}
	}
	facets := map[users.Facet]int{}
	facets[users.FacetOf(before.domain())]--
	if !ch.Remove {
		facets[users.FacetOf(after.domain())]++
	}
	if it, ok := s.counterUpdate(before.TeamID, users.CounterDelta(from, to), facets, 0); ok {
		tx.add("counters", it)
	}
	// The old token, as users.OldToken decides.
	switch users.OldToken(before.domain(), m, ch.Remove) {
	case users.TokenSpent:
		b := before.domain()
		it, err := attributevalue.MarshalMap(inviteRecord{PK: invitePK(b.TokenHash), SK: skInvite, Type: "invite", TeamID: b.TeamID,
			MemberID: b.ID, ExpiresAt: fmtTime(b.InvitationExpiresAt), TTL: b.InvitationExpiresAt.Add(tokenRetention).Unix(), AcceptedAt: fmtTime(s.now())})
		if err != nil {
			return nil, after, err
		}
		tx.put("token-old", s.table, it, "", nil)
	case users.TokenVoided:
		tx.delete("token-old", s.table, key(invitePK(before.TokenHash), skInvite), "", nil)
	}
	if !ch.Remove && m.TokenHash != "" && m.TokenHash != before.TokenHash {
		it, err := s.inviteItem(m)
		if err != nil {
			return nil, after, err
		}
		tx.put("token-new", s.table, it, notExists, nil)
	}
	// The identity provider's id and user name for the member: a guard
	// item each per team, in the same transaction, so two members never
	// share one.
	b := before.domain()
	for _, g := range guards {
		old, now := g.key(b), g.key(m)
		if old != "" && (ch.Remove || old != now) {
			tx.delete(g.name+"-old", s.table, key(g.pk(b.TeamID, old), g.sk), "", nil)
		}
		if !ch.Remove && now != "" && now != old {
			tx.put(g.name, s.table, guardItem(g, m), notExists, nil)
		}
	}
	if ch.Email != nil {
		it, err := s.outboxItem(*ch.Email, s.now())
		if err != nil {
			return nil, after, err
		}
		tx.put("email", s.table, it, notExists, nil)
	}
	if ch.Action != "" {
		e := users.NewAuditEntry(ctx, before.TeamID, ch.Action, s.now())
		e.TargetID, e.TargetEmail, e.Detail = before.MemberID, before.Email, ch.Detail
		if err := s.addAudit(tx, "audit", e); err != nil {
			return nil, after, err
		}
	}
	return tx, after, nil
}

// invitesPerTxn is how many new members share one transaction: five items
// each (member, membership, token, email, audit entry) and the team's
// counters make 96, within DynamoDB's 100. A member with an identity
// provider's id brings a sixth (its guard item); batches count items.
const invitesPerTxn = 19

// itemsOf is how many items adding nm writes.
func itemsOf(nm users.NewMember) int {
	n := 2 // member, membership
	if nm.Member.TokenHash != "" {
		n++
	}
	if nm.Email != nil {
		n++
	}
	if nm.Action != "" || nm.Member.Status == users.StatusInvitationSent {
		n++
	}
	for _, g := range guards {
		if g.key(nm.Member) != "" {
			n++
		}
	}
	return n
}

// AddMembers adds members to a team in the order given, as many to a
// transaction as fit, each with its membership (the one-email-one-member
// guard), its invitation token and its email, and the team counters moved
// once per transaction, conditional on the seats being free. The first
// members get the free seats. It returns one result per member: nil when
// added, or a users.Error coded already_member or seat_limit_reached.
func (s *Store) AddMembers(ctx context.Context, teamID string, adds []users.NewMember) ([]error, error) {
	results := make([]error, len(adds))
	pending := make([]int, len(adds))
	for i := range adds {
		pending[i] = i
	}
	now := s.now()
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt > 2*len(adds)+maxVersionRetries {
			return nil, users.ErrConflict
		}
		team, err := s.GetTeam(ctx, teamID)
		if err != nil {
			return nil, err
		}
		// As many as fit: the seats they take (a member added deactivated
		// takes none), DynamoDB's 100 items, invitesPerTxn members.
		free := team.Seats - team.Counters.Assigned
		size, items, seats := 0, 1, 0 // 1: the team's counters
		for size < min(len(pending), invitesPerTxn) {
			nm := adds[pending[size]]
			need := users.CounterDelta("", nm.Member.Status).Assigned
			if seats+need > free || items+itemsOf(nm) > MaxTransactItems {
				break
			}
			size, items, seats = size+1, items+itemsOf(nm), seats+need
		}
		if size == 0 {
			// No seat for the next one, nor for anyone after it who needs
			// one; say which of them are members already.
			var needy, rest []int
			for _, i := range pending {
				if users.CounterDelta("", adds[i].Member.Status).Assigned > 0 {
					needy = append(needy, i)
				} else {
					rest = append(rest, i)
				}
			}
			emails := make([]string, len(needy))
			for j, i := range needy {
				emails[j] = adds[i].Member.Email
			}
			known, err := s.MemberIDsByEmail(ctx, teamID, emails)
			if err != nil {
				return nil, err
			}
			for _, i := range needy {
				results[i] = users.ErrSeatLimit
				if _, ok := known[adds[i].Member.Email]; ok {
					results[i] = users.AlreadyMember(adds[i].Member.Email)
				}
			}
			pending = rest
			continue
		}
		batch := pending[:size]
		tx := &txn{}
		var total users.Counters
		facets := map[users.Facet]int{}
		for _, i := range batch {
			m := adds[i].Member
			m.TeamID = teamID
			m.LastCall = users.BucketFor(m.Status, m.LastActiveAt, now, s.zone)
			m.UpdatedAt = now
			if m.TokenHash != "" {
				it, err := s.inviteItem(m)
				if err != nil {
					return nil, err
				}
				tx.put("token:"+strconv.Itoa(i), s.table, it, notExists, nil)
			}
			items, err := marshalAll(s.memberRecordOf(m), newMembershipRecord(m))
			if err != nil {
				return nil, err
			}
			tx.put("member:"+strconv.Itoa(i), s.table, items[0], notExists, nil)
			tx.put("membership:"+strconv.Itoa(i), s.table, items[1], notExists, nil)
			if e := adds[i].Email; e != nil {
				it, err := s.outboxItem(*e, now)
				if err != nil {
					return nil, err
				}
				tx.put("email:"+strconv.Itoa(i), s.table, it, notExists, nil)
			}
			if action, detail := adds[i].Action, adds[i].Detail; action != "" {
				e := users.NewAuditEntry(ctx, teamID, action, now)
				e.TargetID, e.TargetEmail, e.Detail = m.ID, m.Email, detail
				if err := s.addAudit(tx, "audit:"+strconv.Itoa(i), e); err != nil {
					return nil, err
				}
			}
			for _, g := range guards {
				if g.key(m) != "" {
					tx.put(g.name+":"+strconv.Itoa(i), s.table, guardItem(g, m), notExists, nil)
				}
			}
			d := users.CounterDelta("", m.Status)
			total = users.Counters{Assigned: total.Assigned + d.Assigned, PendingInvitations: total.PendingInvitations + d.PendingInvitations, NeverUsedApp: total.NeverUsedApp + d.NeverUsedApp}
			facets[users.FacetOf(m)]++
		}
		counters, _ := s.counterUpdate(teamID, total, facets, team.Seats)
		tx.add("counters", counters)
		f, err := s.commit(ctx, tx)
		if err != nil {
			return nil, fmt.Errorf("add members to %s: %w", teamID, err)
		}
		if len(f) == 0 {
			pending = pending[len(batch):]
			continue
		}
		// Members already in the team drop out; the rest try again with a
		// fresh look at the seats (another writer may have taken some).
		var still []int
		for _, i := range pending {
			n := strconv.Itoa(i)
			if f["membership:"+n] || f["member:"+n] {
				results[i] = users.AlreadyMember(adds[i].Member.Email)
				continue
			}
			if g, ok := failedGuard(f, ":"+n); ok {
				results[i] = g.err
				continue
			}
			still = append(still, i)
		}
		if len(still) == len(pending) && !f["counters"] {
			return nil, fmt.Errorf("add members to %s: conditions failed on %v", teamID, f)
		}
		pending = still
	}
	return results, nil
}

// AddMember adds one member (see AddMembers): provisioning, the demo seed
// and tests use it.
func (s *Store) AddMember(ctx context.Context, m users.Member) error {
	res, err := s.AddMembers(ctx, m.TeamID, []users.NewMember{users.Admit(m, nil)})
	if err != nil {
		return err
	}
	return res[0]
}

// inviteItem stores a token's hash with what it opens.
func (s *Store) inviteItem(m users.Member) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMap(inviteRecord{PK: invitePK(m.TokenHash), SK: skInvite, Type: "invite", TeamID: m.TeamID,
		MemberID: m.ID, ExpiresAt: fmtTime(m.InvitationExpiresAt), TTL: m.InvitationExpiresAt.Add(tokenRetention).Unix()})
}

// Invitation finds the member an invitation token (by its hash) opens, and
// whether it was spent already.
func (s *Store) Invitation(ctx context.Context, tokenHash string) (teamID, memberID string, accepted bool, err error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(invitePK(tokenHash), skInvite), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", "", false, fmt.Errorf("get invitation: %w", err)
	}
	if out.Item == nil {
		return "", "", false, users.ErrInvalidToken
	}
	var inv inviteRecord
	if err := attributevalue.UnmarshalMap(out.Item, &inv); err != nil {
		return "", "", false, fmt.Errorf("decode invitation: %w", err)
	}
	return inv.TeamID, inv.MemberID, inv.AcceptedAt != "", nil
}

// Memberships lists the teams an email belongs to.
func (s *Store) Memberships(ctx context.Context, email string) ([]users.Membership, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, KeyConditionExpression: aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(userPK(email))},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("memberships of %s: %w", email, err)
	}
	s.itemsRead.Add(int64(out.ScannedCount))
	var recs []membershipRecord
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &recs); err != nil {
		return nil, err
	}
	ms := make([]users.Membership, len(recs))
	for i, r := range recs {
		ms[i] = r.domain()
	}
	return ms, nil
}

// signInRecord is one recorded app sign-in, in the main table until it is
// older than the retention period, then in the archive table.
type signInRecord struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	Type       string `dynamodbav:"type"`
	TeamID     string `dynamodbav:"teamId"`
	MemberID   string `dynamodbav:"memberId"`
	At         string `dynamodbav:"at"`
	AppVersion string `dynamodbav:"appVersion,omitempty"`
	Device     string `dynamodbav:"device,omitempty"`
	// TTL is when DynamoDB deletes it (the end of its retention), and the
	// stream's record of that deletion archives it (ExpiredSignIn).
	TTL int64 `dynamodbav:"ttl,omitempty"`
}

func (r signInRecord) domain() users.SignIn {
	return users.SignIn{TeamID: r.TeamID, MemberID: r.MemberID, At: parseTime(r.At), AppVersion: r.AppVersion, Device: r.Device}
}

// RecordSignIn stores a sign-in, with the instant DynamoDB deletes it (its
// retention's end: TTL, free), whose stream record then archives it. A
// repeat of the same report is the same item.
func (s *Store) RecordSignIn(ctx context.Context, in users.SignIn) error {
	rec := signInRecord{PK: signInPK(in.TeamID, in.MemberID), SK: fmtTime(in.At), Type: "signin", TeamID: in.TeamID, MemberID: in.MemberID,
		At: fmtTime(in.At), AppVersion: in.AppVersion, Device: in.Device, TTL: signInExpiry(in.At, s.retention)}
	item, err := attributevalue.MarshalMap(rec)
	if err != nil {
		return err
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
		return fmt.Errorf("record sign-in: %w", err)
	}
	return nil
}

// LatestActivity reads the end of a member's last reported call (the
// latest usage day's lastAt: the last call reported that day) and their
// last sign-in (the latest sign-in record), newest first, one item each.
// The member's item holds its first activity and sign-in of its last
// active day only (ApplyActivity): member information takes the exact ones
// from here.
func (s *Store) LatestActivity(ctx context.Context, teamID, memberID string) (lastCall, lastSignIn time.Time, err error) {
	for _, p := range []struct {
		pk  string
		out *time.Time
		at  func(map[string]types.AttributeValue) string
	}{
		{usagePK(teamID, memberID), &lastCall, func(it map[string]types.AttributeValue) string { return stringAttr(it, "lastAt") }},
		{signInPK(teamID, memberID), &lastSignIn, func(it map[string]types.AttributeValue) string {
			if expired(it, s.now()) {
				return "" // past its retention, not deleted yet: archived, so not the main table's
			}
			return stringAttr(it, attrSK)
		}},
	} {
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName: &s.table, KeyConditionExpression: aws.String("PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(p.pk)},
			ScanIndexForward:          aws.Bool(false), Limit: aws.Int32(1),
		})
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("latest activity of %s: %w", memberID, err)
		}
		s.itemsRead.Add(int64(out.ScannedCount))
		if len(out.Items) == 1 {
			*p.out = parseTime(p.at(out.Items[0]))
		}
	}
	return lastCall, lastSignIn, nil
}

func stringAttr(it map[string]types.AttributeValue, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// AddCall adds a finished call to its member's usage of the day it ended,
// once per call: the day's item keeps a short digest of every call it
// counted, and the update is conditional on this call's not being among
// them, and on the day's holding fewer than limit calls (the member's
// daily cap, counted in the same write: free; it also keeps the item far
// under DynamoDB's 400 KB). A retried report, or the SDK's retry of an
// update whose answer was lost, adds nothing. It reports whether the call
// was new; a new call over the cap is users.ErrDayFull.
func (s *Store) AddCall(ctx context.Context, teamID, memberID string, end time.Time, seconds int, callKey string, limit int) (bool, error) {
	day := end.UTC().Format("2006-01-02")
	k := key(usagePK(teamID, memberID), day)
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: k,
		UpdateExpression:         aws.String("SET #t = :t, teamId = :team, memberId = :m, #d = :d, lastAt = :end ADD calls :one, seconds :s, callKeys :k"),
		ConditionExpression:      aws.String("NOT contains(callKeys, :key) AND (attribute_not_exists(calls) OR calls < :limit)"),
		ExpressionAttributeNames: map[string]string{"#t": "type", "#d": "day"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t": str("usage"), ":team": str(teamID), ":m": str(memberID), ":d": str(day), ":one": num(1), ":s": num(seconds), ":end": str(fmtTime(end)),
			":k": &types.AttributeValueMemberSS{Value: []string{callKey}}, ":key": str(callKey), ":limit": num(limit),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		item := ccf.Item
		if item == nil { // an older DynamoDB answer without the item: read it
			got, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: k, ConsistentRead: aws.Bool(true), ProjectionExpression: aws.String("callKeys")})
			if err != nil {
				return false, fmt.Errorf("record call: %w", err)
			}
			item = got.Item
		}
		var old struct {
			CallKeys []string `dynamodbav:"callKeys,stringset"`
		}
		if err := attributevalue.UnmarshalMap(item, &old); err != nil {
			return false, fmt.Errorf("record call: %w", err)
		}
		if slices.Contains(old.CallKeys, callKey) {
			return false, nil // counted before
		}
		return false, users.ErrDayFull
	}
	if err != nil {
		return false, fmt.Errorf("record call: %w", err)
	}
	return true, nil
}

// SignInsOn counts a member's sign-ins of a UTC day (YYYY-MM-DD), up to
// upTo: a key-only query of the day's range of their sign-ins, half a read
// unit while the day holds fewer than about ten (the cap's check before a
// sign-in is recorded).
func (s *Store) SignInsOn(ctx context.Context, teamID, memberID, day string, upTo int) (int, error) {
	n := 0
	var start map[string]types.AttributeValue
	for n < upTo {
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName: &s.table, KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :day)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(signInPK(teamID, memberID)), ":day": str(day)},
			Select:                    types.SelectCount, Limit: aws.Int32(int32(upTo - n)), ExclusiveStartKey: start,
		})
		if err != nil {
			return 0, fmt.Errorf("count sign-ins of %s: %w", memberID, err)
		}
		s.itemsRead.Add(int64(out.ScannedCount))
		n += int(out.Count)
		if start = out.LastEvaluatedKey; start == nil {
			break
		}
	}
	return n, nil
}
