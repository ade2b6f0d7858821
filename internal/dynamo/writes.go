package dynamo

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/internal/users"
)

// Every change to a member is a read, a change in Go, and one transaction
// that puts the whole member conditional on the version it read, together
// with its membership, the team counters, its invitation token and the
// email the change causes. So index keys are always derived from the item,
// counters always move with statuses, and no change happens without its
// email or the other way round.

type inviteRecord struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	TeamID    string `dynamodbav:"teamId"`
	MemberID  string `dynamodbav:"memberId"`
	ExpiresAt string `dynamodbav:"expiresAt"`
	TTL       int64  `dynamodbav:"ttl"`
}

type outboxRecord struct {
	PK         string            `dynamodbav:"PK"`
	SK         string            `dynamodbav:"SK"`
	Type       string            `dynamodbav:"type"`
	ID         string            `dynamodbav:"emailId"`
	Kind       string            `dynamodbav:"kind"`
	To         string            `dynamodbav:"to"`
	TeamID     string            `dynamodbav:"teamId"`
	MemberID   string            `dynamodbav:"memberId,omitempty"`
	Data       map[string]string `dynamodbav:"data,omitempty"`
	State      string            `dynamodbav:"state"`
	CreatedAt  string            `dynamodbav:"createdAt"`
	Attempts   int               `dynamodbav:"attempts"`
	LeaseUntil string            `dynamodbav:"leaseUntil,omitempty"`
	MessageID  string            `dynamodbav:"messageId,omitempty"`
	Reason     string            `dynamodbav:"reason,omitempty"`
	TTL        int64             `dynamodbav:"ttl"`
}

// outboxRetention is how long delivered emails stay in the table.
const outboxRetention = 30 * 24 * time.Hour

// HashToken is the only form in which an invitation token is stored.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

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

// change is one member write and what goes with it.
type change struct {
	before *memberRecord // nil: a new member
	after  *memberRecord // nil: the member is removed
	extra  []types.TransactWriteItem
}

func (s *Store) apply(ctx context.Context, c change) error {
	var items []types.TransactWriteItem
	var from, to users.Status
	var teamID string
	if c.before != nil {
		from, teamID = users.Status(c.before.Status), c.before.TeamID
	}
	if c.after != nil {
		to, teamID = users.Status(c.after.Status), c.after.TeamID
		after := *c.after
		after.Version++
		after.setIndexKeys(s.retention)
		ms := newMembershipRecord(after.domain())
		recs, err := marshalAll(after, ms)
		if err != nil {
			return err
		}
		put := &types.Put{TableName: &s.table, Item: recs[0], ConditionExpression: aws.String("attribute_not_exists(PK)")}
		if c.before != nil {
			put.ConditionExpression = aws.String("version = :v")
			put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(c.before.Version)}
		}
		items = append(items, types.TransactWriteItem{Put: put})
		msPut := &types.Put{TableName: &s.table, Item: recs[1]}
		if c.before == nil {
			msPut.ConditionExpression = aws.String("attribute_not_exists(PK)")
		}
		items = append(items, types.TransactWriteItem{Put: msPut})
	} else {
		b := c.before
		items = append(items,
			types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(b.PK, b.SK),
				ConditionExpression: aws.String("version = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(b.Version)}}},
			types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(userPK(b.Email), membershipSK(b.TeamID))}},
		)
	}
	if d := users.CounterDelta(from, to); d != (users.Counters{}) {
		items = append(items, s.counterUpdate(teamID, d))
	}
	extraStart := len(items)
	items = append(items, c.extra...)
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if codes := cancellationCodes(err); codes != nil {
		switch {
		case codeAt(codes, 0) == "ConditionalCheckFailed" && c.before != nil:
			return errVersion
		case codeAt(codes, 0) == "ConditionalCheckFailed":
			return users.Errorf(users.KindConflict, "already_member", "%s is already a member of this team.", c.after.Email)
		case codeAt(codes, 1) == "ConditionalCheckFailed":
			return users.Errorf(users.KindConflict, "already_member", "%s is already a member of this team.", c.after.Email)
		case codeAt(codes, 2) == "ConditionalCheckFailed" && users.CounterDelta(from, to).Assigned > 0:
			return users.Errorf(users.KindConflict, "seat_limit_reached", "Every purchased seat is assigned.")
		case slicesContains(codes, "TransactionConflict"):
			return errVersion
		}
		for i := extraStart; i < len(codes); i++ {
			if codes[i] == "ConditionalCheckFailed" {
				return errExtra
			}
		}
	}
	if err != nil {
		return fmt.Errorf("write member: %w", err)
	}
	return nil
}

var (
	errVersion = errors.New("member changed since it was read")
	errExtra   = errors.New("a condition of the change no longer holds")
)

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// mutate reads a member, lets fn change it, and writes it, retrying when
// another writer got there first. fn returns nil after to remove the member.
func (s *Store) mutate(ctx context.Context, teamID, memberID string, fn func(m *memberRecord) (after *memberRecord, extra []types.TransactWriteItem, err error)) (users.Member, error) {
	for attempt := 0; ; attempt++ {
		before, err := s.memberRecord(ctx, teamID, memberID)
		if err != nil {
			return users.Member{}, err
		}
		cp := before
		after, extra, err := fn(&cp)
		if err != nil {
			return before.domain(), err
		}
		err = s.apply(ctx, change{before: &before, after: after, extra: extra})
		if errors.Is(err, errVersion) && attempt < 8 {
			if err := sleep(ctx, backoff(attempt)/2); err != nil {
				return users.Member{}, err
			}
			continue
		}
		if errors.Is(err, errVersion) {
			return users.Member{}, users.ErrConflict
		}
		if err != nil {
			return users.Member{}, err
		}
		if after == nil {
			return before.domain(), nil
		}
		return after.domain(), nil
	}
}

func num(n int) types.AttributeValue { return &types.AttributeValueMemberN{Value: strconv.Itoa(n)} }

// outboxPut is the email item written with the change that causes it.
func (s *Store) outboxPut(e users.Email, now time.Time) (types.TransactWriteItem, error) {
	rec := outboxRecord{PK: emailPK(e.ID), SK: skEmail, Type: "email", ID: e.ID, Kind: e.Kind, To: e.To, TeamID: e.TeamID,
		MemberID: e.MemberID, Data: e.Data, State: users.EmailQueued, CreatedAt: fmtTime(now), TTL: now.Add(outboxRetention).Unix()}
	item, err := attributevalue.MarshalMap(rec)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}}, nil
}

// invitePut stores a token's hash with what it opens.
func (s *Store) invitePut(hash, teamID, memberID string, expires time.Time) (types.TransactWriteItem, error) {
	item, err := attributevalue.MarshalMap(inviteRecord{PK: invitePK(hash), SK: skInvite, Type: "invite", TeamID: teamID,
		MemberID: memberID, ExpiresAt: fmtTime(expires), TTL: expires.Add(90 * 24 * time.Hour).Unix()})
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}}, nil
}

func (s *Store) inviteDelete(hash string) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(invitePK(hash), skInvite)}}
}

func queued(e users.Email, now time.Time) *emailRecord {
	return &emailRecord{ID: e.ID, Kind: e.Kind, State: users.EmailQueued, At: fmtTime(now)}
}

// Invite adds an invited member with a fresh token and the invitation
// email, taking a seat, in one transaction.
func (s *Store) Invite(ctx context.Context, m users.Member, tokenHash string, mail users.Email) error {
	now := s.now()
	m.Status = users.StatusInvitationSent
	m.LastCall = users.LastCallPending
	rec := s.memberRecordOf(m)
	rec.TokenHash = tokenHash
	rec.LastEmail = queued(mail, now)
	inv, err := s.invitePut(tokenHash, m.TeamID, m.ID, m.InvitationExpiresAt)
	if err != nil {
		return err
	}
	ob, err := s.outboxPut(mail, now)
	if err != nil {
		return err
	}
	return s.apply(ctx, change{after: &rec, extra: []types.TransactWriteItem{inv, ob}})
}

// ResendInvitation replaces a pending member's token (the old one stops
// working), sets a new expiry and queues the email, unless an email went to
// the member less than cooldown ago.
func (s *Store) ResendInvitation(ctx context.Context, teamID, memberID, tokenHash string, expires time.Time, cooldown time.Duration, mailFor func(users.Member) users.Email) (users.Member, error) {
	now := s.now()
	return s.mutate(ctx, teamID, memberID, func(m *memberRecord) (*memberRecord, []types.TransactWriteItem, error) {
		if m.Status != string(users.StatusInvitationSent) {
			return nil, nil, users.ErrNotPending
		}
		if err := checkCooldown(parseTime(m.InvitationSentAt), now, cooldown); err != nil {
			return nil, nil, err
		}
		var extra []types.TransactWriteItem
		if m.TokenHash != "" {
			extra = append(extra, s.inviteDelete(m.TokenHash))
		}
		inv, err := s.invitePut(tokenHash, teamID, memberID, expires)
		if err != nil {
			return nil, nil, err
		}
		mail := mailFor(m.domain())
		ob, err := s.outboxPut(mail, now)
		if err != nil {
			return nil, nil, err
		}
		m.TokenHash, m.InvitationSentAt, m.InvitationExpiresAt, m.InvitationExpired = tokenHash, fmtTime(now), fmtTime(expires), false
		m.LastEmail = queued(mail, now)
		return m, append(extra, inv, ob), nil
	})
}

// SendInstructions queues the app set-up email for a member.
func (s *Store) SendInstructions(ctx context.Context, teamID, memberID string, cooldown time.Duration, mail func(users.Member) users.Email) (users.Member, error) {
	now := s.now()
	return s.mutate(ctx, teamID, memberID, func(m *memberRecord) (*memberRecord, []types.TransactWriteItem, error) {
		if err := checkCooldown(parseTime(m.InstructionsSentAt), now, cooldown); err != nil {
			return nil, nil, err
		}
		e := mail(m.domain())
		ob, err := s.outboxPut(e, now)
		if err != nil {
			return nil, nil, err
		}
		m.InstructionsSentAt = fmtTime(now)
		m.LastEmail = queued(e, now)
		return m, []types.TransactWriteItem{ob}, nil
	})
}

func checkCooldown(last, now time.Time, cooldown time.Duration) error {
	if !last.IsZero() && now.Sub(last) < cooldown {
		return users.Cooldown(cooldown - now.Sub(last))
	}
	return nil
}

// Accept spends an invitation token: the member joins (pending app login),
// the token is deleted, the counters move, all in one transaction.
func (s *Store) Accept(ctx context.Context, tokenHash string) (users.Member, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(invitePK(tokenHash), skInvite), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return users.Member{}, fmt.Errorf("get invitation: %w", err)
	}
	if out.Item == nil {
		return users.Member{}, users.ErrInvalidToken
	}
	var inv inviteRecord
	if err := attributevalue.UnmarshalMap(out.Item, &inv); err != nil {
		return users.Member{}, fmt.Errorf("decode invitation: %w", err)
	}
	now := s.now()
	m, err := s.mutate(ctx, inv.TeamID, inv.MemberID, func(m *memberRecord) (*memberRecord, []types.TransactWriteItem, error) {
		if m.Status != string(users.StatusInvitationSent) || subtle.ConstantTimeCompare([]byte(m.TokenHash), []byte(tokenHash)) != 1 {
			return nil, nil, users.ErrInvalidToken
		}
		if !now.Before(parseTime(inv.ExpiresAt)) {
			return nil, nil, users.ErrTokenExpired
		}
		m.Status, m.LastCall, m.AcceptedAt, m.TokenHash, m.InvitationExpired = string(users.StatusPendingAppLogin), string(users.LastCallNotActive), fmtTime(now), "", false
		del := s.inviteDelete(tokenHash)
		del.Delete.ConditionExpression = aws.String("attribute_exists(PK)")
		return m, []types.TransactWriteItem{del}, nil
	})
	if errors.Is(err, users.ErrMemberNotFound) || errors.Is(err, errExtra) {
		return users.Member{}, users.ErrInvalidToken
	}
	return m, err
}

// RemoveMember deletes a member, frees the seat and kills any open invitation.
func (s *Store) RemoveMember(ctx context.Context, teamID, memberID string, check func(users.Member) error) (users.Member, error) {
	return s.mutate(ctx, teamID, memberID, func(m *memberRecord) (*memberRecord, []types.TransactWriteItem, error) {
		if err := check(m.domain()); err != nil {
			return nil, nil, err
		}
		var extra []types.TransactWriteItem
		if m.TokenHash != "" {
			extra = append(extra, s.inviteDelete(m.TokenHash))
		}
		return nil, extra, nil
	})
}

// ChangeRole gives a member a role.
func (s *Store) ChangeRole(ctx context.Context, teamID, memberID string, role users.Role, check func(users.Member) error) (users.Member, bool, error) {
	changed := false
	m, err := s.mutate(ctx, teamID, memberID, func(m *memberRecord) (*memberRecord, []types.TransactWriteItem, error) {
		if err := check(m.domain()); err != nil {
			return nil, nil, err
		}
		if m.Role == string(role) {
			return nil, nil, errUnchanged
		}
		changed = true
		m.Role = string(role)
		return m, nil, nil
	})
	if errors.Is(err, errUnchanged) {
		return m, false, nil
	}
	return m, changed, err
}

var errUnchanged = errors.New("unchanged")

// Memberships lists the teams an email belongs to.
func (s *Store) Memberships(ctx context.Context, email string) ([]users.Membership, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, KeyConditionExpression: aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: userPK(email)}},
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

// SignIn is one recorded app sign-in, in the main table until it is older
// than the retention period, then in the archive table.
type SignIn struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	Type       string `dynamodbav:"type"`
	TeamID     string `dynamodbav:"teamId"`
	MemberID   string `dynamodbav:"memberId"`
	At         string `dynamodbav:"at"`
	AppVersion string `dynamodbav:"appVersion,omitempty"`
	Device     string `dynamodbav:"device,omitempty"`
	DuePK      string `dynamodbav:"duePK,omitempty"`
	DueSK      string `dynamodbav:"dueSK,omitempty"`
}

// Activity is one report from the desktop app.
type Activity struct {
	At         time.Time
	SignIn     bool
	AppVersion string
	Device     string
	Seconds    int // a call's duration
}

// RecordActivity records a sign-in or a finished call for a member: the
// sign-in record or the day's usage counters always, the member itself only
// when the report changes what the Users page shows (coalesced).
func (s *Store) RecordActivity(ctx context.Context, teamID, memberID string, a Activity, coalesce time.Duration) (users.Member, error) {
	now := s.now()
	if a.SignIn {
		rec := SignIn{PK: signInPK(teamID, memberID), SK: fmtTime(a.At), Type: "signin", TeamID: teamID, MemberID: memberID,
			At: fmtTime(a.At), AppVersion: a.AppVersion, Device: a.Device}
		rec.DuePK, rec.DueSK = dueKeys(a.At.Add(s.retention), rec.PK, rec.SK)
		item, err := attributevalue.MarshalMap(rec)
		if err != nil {
			return users.Member{}, err
		}
		if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
			return users.Member{}, fmt.Errorf("record sign-in: %w", err)
		}
	} else {
		day := a.At.UTC().Format("2006-01-02")
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &s.table, Key: key(usagePK(teamID, memberID), day),
			UpdateExpression:          aws.String("SET #t = :t, teamId = :team, memberId = :m, #d = :d ADD calls :one, seconds :s"),
			ExpressionAttributeNames:  map[string]string{"#t": "type", "#d": "day"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberS{Value: "usage"}, ":team": &types.AttributeValueMemberS{Value: teamID}, ":m": &types.AttributeValueMemberS{Value: memberID}, ":d": &types.AttributeValueMemberS{Value: day}, ":one": num(1), ":s": num(a.Seconds)},
		})
		if err != nil {
			return users.Member{}, fmt.Errorf("record call: %w", err)
		}
	}
	m, err := s.mutate(ctx, teamID, memberID, func(m *memberRecord) (*memberRecord, []types.TransactWriteItem, error) {
		dm := m.domain()
		if !users.ApplyActivity(&dm, a.At, a.SignIn, now, coalesce) {
			return nil, nil, errUnchanged
		}
		return s.rebuilt(m, dm), nil, nil
	})
	if errors.Is(err, errUnchanged) {
		return m, nil
	}
	return m, err
}
