package dynamo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/internal/users"
)

// A team's SCIM tokens (keys in keys.go): one partition per team, so the
// admins' list is one query and checking a token is one read of its item
// beside the team's. The team item counts them (scimTokens), so a team
// never holds more than users.MaxSCIMTokens.

type scimTokenRecord struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	TeamID    string `dynamodbav:"teamId"`
	TokenID   string `dynamodbav:"tokenId"`
	Name      string `dynamodbav:"name"`
	Hash      string `dynamodbav:"hash"`
	CreatedAt string `dynamodbav:"createdAt"`
	CreatedBy string `dynamodbav:"createdBy,omitempty"`
}

func (r scimTokenRecord) domain() users.SCIMToken {
	return users.SCIMToken{ID: r.TokenID, TeamID: r.TeamID, Name: r.Name, Hash: r.Hash, CreatedAt: parseTime(r.CreatedAt), CreatedBy: r.CreatedBy}
}

var errSCIMTokenNotFound = users.Errorf(users.KindNotFound, "scim_token_not_found", "No such SCIM token in this team.")

// CreateSCIMToken stores a new token (its hash), counts it on the team item
// (at most users.MaxSCIMTokens) and writes its audit entry, in one
// transaction.
func (s *Store) CreateSCIMToken(ctx context.Context, t users.SCIMToken) error {
	item, err := attributevalue.MarshalMap(scimTokenRecord{PK: scimTokenPK(t.TeamID), SK: t.ID, Type: "scimtoken", TeamID: t.TeamID, TokenID: t.ID,
		Name: t.Name, Hash: t.Hash, CreatedAt: fmtTime(t.CreatedAt), CreatedBy: t.CreatedBy})
	if err != nil {
		return err
	}
	tx := &txn{}
	tx.put("token", s.table, item, notExists, nil)
	tx.add("team", types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: key(teamPK(t.TeamID), skTeam),
		UpdateExpression:          aws.String("ADD scimTokens :one"),
		ConditionExpression:       aws.String("attribute_exists(PK) AND (attribute_not_exists(scimTokens) OR scimTokens < :max)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1), ":max": num(users.MaxSCIMTokens)},
	}})
	e := users.NewAuditEntry(ctx, t.TeamID, users.AuditCreateSCIMToken, t.CreatedAt)
	e.Detail = map[string]string{"tokenId": t.ID, "name": t.Name}
	if err := s.addAudit(tx, "audit", e); err != nil {
		return err
	}
	f, err := s.commit(ctx, tx)
	switch {
	case err != nil:
		return fmt.Errorf("create SCIM token: %w", err)
	case f["team"]:
		return users.Errorf(users.KindConflict, "scim_token_limit", "A team has at most %d SCIM tokens; revoke one first.", users.MaxSCIMTokens)
	case len(f) > 0:
		return fmt.Errorf("create SCIM token: conditions failed on %v", f)
	}
	return nil
}

// SCIMTokens lists a team's tokens, oldest first.
func (s *Store) SCIMTokens(ctx context.Context, teamID string) ([]users.SCIMToken, error) {
	var out []users.SCIMToken
	var start map[string]types.AttributeValue
	for {
		page, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName: &s.table, KeyConditionExpression: aws.String("PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(scimTokenPK(teamID))},
			ConsistentRead:            aws.Bool(true), ExclusiveStartKey: start,
		})
		if err != nil {
			return nil, fmt.Errorf("SCIM tokens of %s: %w", teamID, err)
		}
		s.itemsRead.Add(int64(page.ScannedCount))
		var recs []scimTokenRecord
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &recs); err != nil {
			return nil, err
		}
		for _, r := range recs {
			out = append(out, r.domain())
		}
		if start = page.LastEvaluatedKey; start == nil {
			break
		}
	}
	// Token ids are random: order by creation for the admins.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].CreatedAt.Before(out[j-1].CreatedAt); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

// RevokeSCIMToken deletes a token, with its audit entry: the next request
// that presents it finds no item and is refused.
func (s *Store) RevokeSCIMToken(ctx context.Context, teamID, tokenID string) error {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(scimTokenPK(teamID), tokenID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return fmt.Errorf("get SCIM token: %w", err)
	}
	if out.Item == nil {
		return errSCIMTokenNotFound
	}
	s.itemsRead.Add(1)
	var r scimTokenRecord
	if err := attributevalue.UnmarshalMap(out.Item, &r); err != nil {
		return err
	}
	tx := &txn{}
	tx.delete("token", s.table, key(scimTokenPK(teamID), tokenID), "attribute_exists(PK)", nil)
	tx.add("team", types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: key(teamPK(teamID), skTeam),
		UpdateExpression:          aws.String("ADD scimTokens :minus"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":minus": num(-1)},
	}})
	e := users.NewAuditEntry(ctx, teamID, users.AuditRevokeSCIMToken, s.now())
	e.Detail = map[string]string{"tokenId": tokenID, "name": r.Name}
	if err := s.addAudit(tx, "audit", e); err != nil {
		return err
	}
	f, err := s.commit(ctx, tx)
	switch {
	case err != nil:
		return fmt.Errorf("revoke SCIM token: %w", err)
	case f["token"]:
		return errSCIMTokenNotFound // revoked a moment ago
	case len(f) > 0:
		return fmt.Errorf("revoke SCIM token: conditions failed on %v", f)
	}
	return nil
}

// SCIMAccess reads, in one round trip, a team and one of its SCIM tokens:
// everything a SCIM request's authentication needs. The read is strongly
// consistent, so a token revoked a moment ago is gone.
func (s *Store) SCIMAccess(ctx context.Context, teamID, tokenID string) (users.Team, users.SCIMToken, error) {
	keys := []map[string]types.AttributeValue{key(teamPK(teamID), skTeam), key(scimTokenPK(teamID), tokenID)}
	var team *users.Team
	var tok *users.SCIMToken
	req := map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	for attempt := 0; len(req) > 0; attempt++ {
		if err := s.unprocessedPause(ctx, attempt); err != nil {
			return users.Team{}, users.SCIMToken{}, err
		}
		out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return users.Team{}, users.SCIMToken{}, fmt.Errorf("SCIM access %s: %w", teamID, err)
		}
		for _, item := range out.Responses[s.table] {
			s.itemsRead.Add(1)
			switch itemType(item) {
			case "team":
				t, err := teamFromItem(item)
				if err != nil {
					return users.Team{}, users.SCIMToken{}, err
				}
				team = &t
			case "scimtoken":
				var r scimTokenRecord
				if err := attributevalue.UnmarshalMap(item, &r); err != nil {
					return users.Team{}, users.SCIMToken{}, err
				}
				d := r.domain()
				tok = &d
			}
		}
		req = out.UnprocessedKeys
	}
	if team == nil || tok == nil {
		return users.Team{}, users.SCIMToken{}, errSCIMTokenNotFound
	}
	return *team, *tok, nil
}

func itemType(item map[string]types.AttributeValue) string {
	if v, ok := item["type"].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// MemberByEmail finds a team's member by address: its membership item,
// then the member (two strongly consistent reads).
func (s *Store) MemberByEmail(ctx context.Context, teamID, email string) (users.Member, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(userPK(email), membershipSK(teamID)),
		ConsistentRead: aws.Bool(true), ProjectionExpression: aws.String("memberId")})
	if err != nil {
		return users.Member{}, fmt.Errorf("membership of %s: %w", teamID, err)
	}
	if out.Item == nil {
		return users.Member{}, users.ErrMemberNotFound
	}
	s.itemsRead.Add(1)
	var r struct {
		MemberID string `dynamodbav:"memberId"`
	}
	if err := attributevalue.UnmarshalMap(out.Item, &r); err != nil {
		return users.Member{}, err
	}
	return s.GetMember(ctx, teamID, r.MemberID)
}

// MemberByExternalID finds a team's member by the id its identity
// provider gave it: the guard item, then the member.
func (s *Store) MemberByExternalID(ctx context.Context, teamID, externalID string) (users.Member, error) {
	return s.memberByGuard(ctx, teamID, guards[0], externalID)
}

// MemberByUserName finds a team's member by the user name its identity
// provider gave it (any case).
func (s *Store) MemberByUserName(ctx context.Context, teamID, userName string) (users.Member, error) {
	return s.memberByGuard(ctx, teamID, guards[1], strings.ToLower(userName))
}

func (s *Store) memberByGuard(ctx context.Context, teamID string, g guard, value string) (users.Member, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(g.pk(teamID, value), g.sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return users.Member{}, fmt.Errorf("%s of %s: %w", g.name, teamID, err)
	}
	if out.Item == nil {
		return users.Member{}, users.ErrMemberNotFound
	}
	s.itemsRead.Add(1)
	var r struct {
		MemberID string `dynamodbav:"memberId"`
	}
	if err := attributevalue.UnmarshalMap(out.Item, &r); err != nil {
		return users.Member{}, err
	}
	return s.GetMember(ctx, teamID, r.MemberID)
}

// MembersByDomain reads count members of team in the order of the ByDomain
// index (domain, then address), after skipping offset of them: the pages
// an identity provider asks for by startIndex (offset = startIndex − 1).
//
// DynamoDB has no offsets: reaching member 50,000 means reading the
// 49,999 before it, so a provider importing a large team page by page
// would read the team over and over (its size squared over the pages).
// So a page leaves a mark where the next begins (SCIMPAGE#<team> / the
// next startIndex: the ByDomain key of its last member, for
// scimPageMarkLife), and a page starts from the nearest mark at or before
// its startIndex: an import's pages each read their own members, one
// mark, and write the next. A mark is a cursor: members added or removed
// since it was written shift what comes after by as many places, which is
// what index-based paging allows (RFC 7644 §3.4.2.4) and no worse than
// offsets, which repeat or skip a member for each such change. Marks are
// an optimisation: failing to write one makes a later page read more,
// never answer wrong; failing to read one fails the page (a 503 the
// provider retries), since reading it as no mark could refuse a page that
// is near one.
//
// A page that would skip more than maxSkip members to begin (no mark
// near it) is refused with users.ErrPageTooFar, read nothing: reading
// the team to that depth would outlast the function.
func (s *Store) MembersByDomain(ctx context.Context, teamID string, offset, count, maxSkip int) ([]users.Member, error) {
	var start map[string]types.AttributeValue
	skip := offset
	if offset > 0 {
		at, key, err := s.scimPageMark(ctx, teamID, offset)
		if err != nil {
			return nil, err
		}
		if key != nil {
			start, skip = key, offset-at
		}
	}
	if skip > maxSkip {
		return nil, users.ErrPageTooFar
	}
	var out []users.Member
	var last *memberRecord
	more := false
	for count > 0 {
		limit := int32(min(skip+count, 1000))
		page, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName: &s.table, IndexName: aws.String(indexByDomain),
			KeyConditionExpression:    aws.String("PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(teamPK(teamID))},
			Limit:                     aws.Int32(limit), ExclusiveStartKey: start,
		})
		if err != nil {
			return nil, fmt.Errorf("members of %s: %w", teamID, err)
		}
		s.itemsRead.Add(int64(page.ScannedCount))
		n := min(skip, len(page.Items))
		skip -= n
		for _, it := range page.Items[n:] {
			if count == 0 {
				more = true
				break
			}
			var r memberRecord
			if err := attributevalue.UnmarshalMap(it, &r); err != nil {
				return nil, err
			}
			out = append(out, r.domain())
			last = &r
			count--
		}
		if start = page.LastEvaluatedKey; start == nil {
			break
		}
		more = true
	}
	if last != nil && more {
		s.markSCIMPage(ctx, teamID, offset+len(out), last)
	}
	return s.whole(ctx, teamID, out)
}

// whole reads the members of a page read from an index, which holds what
// a list row shows (the identity provider's data is not projected there),
// in the page's order; one removed since is left out.
func (s *Store) whole(ctx context.Context, teamID string, page []users.Member) ([]users.Member, error) {
	if len(page) == 0 {
		return page, nil
	}
	ids := make([]string, len(page))
	for i, m := range page {
		ids[i] = m.ID
	}
	full, err := s.GetMembers(ctx, teamID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]users.Member, 0, len(page))
	for _, id := range ids {
		if m, ok := full[id]; ok {
			out = append(out, m)
		}
	}
	return out, nil
}

// scimPageMarkLife is how long a page mark may be used: long enough for
// an import of the largest team, and for one that pauses.
const scimPageMarkLife = time.Hour

// scimPageMarkRecord is where the team's page at a startIndex begins.
type scimPageMarkRecord struct {
	PK       string `dynamodbav:"PK"`
	SK       string `dynamodbav:"SK"`
	Type     string `dynamodbav:"type"`
	Offset   int    `dynamodbav:"offset"`  // the members before the page
	AfterPK  string `dynamodbav:"afterPK"` // the ByDomain key of the member before the page
	AfterSK  string `dynamodbav:"afterSK"`
	AfterDom string `dynamodbav:"afterDomainSK"`
	TTL      int64  `dynamodbav:"ttl"` // the end of its life (DynamoDB's TTL deletes it up to days later: checked on read)
}

// scimPageMark is the nearest mark at or before offset, if it is live:
// how many members it is past, and the ExclusiveStartKey that resumes
// there (nil when there is none). One query of the team's marks, reading
// one. A failed read is an error, not "no mark": read as no mark, a
// throttled query would turn a page near a mark into a page too far.
func (s *Store) scimPageMark(ctx context.Context, teamID string, offset int) (int, map[string]types.AttributeValue, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, KeyConditionExpression: aws.String("PK = :pk AND SK <= :sk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(scimPagePK(teamID)), ":sk": str(scimPageSK(offset + 1))},
		ScanIndexForward:          aws.Bool(false), ConsistentRead: aws.Bool(true), Limit: aws.Int32(1),
	})
	if err != nil {
		return 0, nil, fmt.Errorf("SCIM page mark of %s: %w", teamID, err)
	}
	s.itemsRead.Add(int64(out.ScannedCount))
	if len(out.Items) == 0 {
		return 0, nil, nil
	}
	var r scimPageMarkRecord
	if err := attributevalue.UnmarshalMap(out.Items[0], &r); err != nil || s.now().Unix() >= r.TTL {
		return 0, nil, nil
	}
	return r.Offset, map[string]types.AttributeValue{attrPK: str(r.AfterPK), attrSK: str(r.AfterSK), attrDomainSK: str(r.AfterDom)}, nil
}

// markSCIMPage leaves the mark of the page after offset members (its
// startIndex offset + 1), which begins after last. A failed write is left
// be: a later page reads from an earlier mark, or the first member.
func (s *Store) markSCIMPage(ctx context.Context, teamID string, offset int, last *memberRecord) {
	now := s.now()
	item, err := attributevalue.MarshalMap(scimPageMarkRecord{PK: scimPagePK(teamID), SK: scimPageSK(offset + 1), Type: "scimpage", Offset: offset,
		AfterPK: last.PK, AfterSK: last.SK, AfterDom: last.DomainSK, TTL: now.Add(scimPageMarkLife).Unix()})
	if err != nil {
		return
	}
	_, _ = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item})
}
