package dynamo

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/internal/samtemplate"
	"github.com/teamusers/usersapi/internal/users"
)

// listIndexes are the indexes the member list reads rows from.
var listIndexes = []string{indexByEmail, indexByLastActive, indexByInvitedAt, indexByDomain}

// project keeps what an index entry of the item holds: the table's keys,
// the index's keys and its projected attributes.
func project(item map[string]types.AttributeValue, gsi types.GlobalSecondaryIndex) map[string]types.AttributeValue {
	if gsi.Projection.ProjectionType == types.ProjectionTypeAll {
		return item
	}
	keep := map[string]bool{attrPK: true, attrSK: true}
	for _, k := range gsi.KeySchema {
		keep[*k.AttributeName] = true
	}
	for _, a := range gsi.Projection.NonKeyAttributes {
		keep[a] = true
	}
	out := map[string]types.AttributeValue{}
	for k, v := range item {
		if keep[k] {
			out[k] = v
		}
	}
	return out
}

// The list's indexes hold what a row shows and the sort keys a search
// sorts by, and nothing else: a member read back from any of them makes
// the same row as the whole item, and the changes no row shows (the exact
// instant of a later activity the same day, an email's delivery, the
// member's place in the nightly queue, an identity provider's data)
// leave every entry as it was, so DynamoDB writes none of them.
func TestListIndexesProjectWhatARowShows(t *testing.T) {
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	in, err := tmpl.CreateTableInput("Table", "t")
	if err != nil {
		t.Fatal(err)
	}
	gsis := map[string]types.GlobalSecondaryIndex{}
	for _, g := range in.GlobalSecondaryIndexes {
		gsis[*g.IndexName] = g
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)
	m := users.Member{ID: "m_a", TeamID: "t_a", Email: "ann@acme.example", Role: users.RoleAdmin, IsOwner: true, Status: users.StatusActive,
		LastActiveAt: now.Add(-2 * time.Hour), InvitedAt: now.Add(-40 * 24 * time.Hour), InvitationExpiresAt: now.Add(-33 * 24 * time.Hour),
		AcceptedAt: now.Add(-39 * 24 * time.Hour), FirstSignInAt: now.Add(-39 * 24 * time.Hour), LastSignInAt: now.Add(-2 * time.Hour),
		LastEmail:  &users.EmailState{ID: "e_1", Kind: "invitation", State: users.EmailBounced, At: now, Reason: "no such mailbox"},
		ExternalID: "00u1", UserName: "ann", IdPData: `{"name":{"givenName":"Ann"}}`, ProvisionedBy: "Okta", Version: 7}
	m.LastCall = users.BucketFor(m.Status, m.LastActiveAt, now, paris)
	record := func(m users.Member) map[string]types.AttributeValue {
		r := newMemberRecord(m)
		r.setIndexKeys(users.DefaultRetention, paris, DefaultDueShards)
		it, err := attributevalue.MarshalMap(r)
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	decode := func(it map[string]types.AttributeValue) memberRecord {
		var r memberRecord
		if err := attributevalue.UnmarshalMap(it, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	row := func(r memberRecord) []any {
		d := r.domain()
		return []any{d.ID, d.TeamID, d.Email, d.Status, d.LastCall, d.LastActiveOn, d.Role, d.IsOwner, d.InvitationExpiredAt(now), d.EmailProblem(),
			r.EmailSK, r.ActiveSK, r.InvitedSK, r.DomainSK, r.FacetPK}
	}
	full := record(m)
	whole := decode(full)
	if whole.LastActiveOn != "2026-12-07" || whole.ActiveSK != "2026-12-07#ann@acme.example" || whole.EmailProblem != users.EmailBounced {
		t.Fatalf("derived attributes: %+v", whole)
	}
	// Later the same day: another call, the email's state, the queue.
	same := m
	same.LastActiveAt = now.Add(-time.Hour)
	same.LastEmail = &users.EmailState{ID: "e_1", Kind: "invitation", State: users.EmailBounced, At: now.Add(time.Minute), Reason: "no such mailbox (5.1.1)"}
	same.IdPData, same.UpdatedAt, same.Version = `{"name":{"givenName":"Anne"}}`, now, 8
	changed := record(same)
	changed[attrDueSK] = &types.AttributeValueMemberS{Value: "2026-12-20T00:00:00.000Z#TEAM#t_a#MEMBER#m_a"}
	for _, name := range listIndexes {
		g, ok := gsis[name]
		if !ok {
			t.Fatalf("no index %s", name)
		}
		if g.Projection.ProjectionType != types.ProjectionTypeInclude {
			t.Errorf("%s projects %s, not what a row shows (INCLUDE)", name, g.Projection.ProjectionType)
		}
		if got, want := row(decode(project(full, g))), row(whole); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: a row read from it is %v, from the item %v", name, got, want)
		}
		if !reflect.DeepEqual(project(full, g), project(changed, g)) {
			t.Errorf("%s: a change no row shows rewrites its entry", name)
		}
	}
	// The day of last activity is in the store's zone: 23:30 UTC is the
	// next day in Paris.
	late := m
	late.LastActiveAt = time.Date(2026, 12, 6, 23, 30, 0, 0, time.UTC)
	if r := decode(record(late)); r.LastActiveOn != "2026-12-07" {
		t.Fatalf("23:30 UTC in Paris is %s", r.LastActiveOn)
	}
}

// The queue is lazy: a member's entry stays while it is still ahead and no
// later than the new one, moves when the new one is sooner, and goes when
// nothing is due.
func TestKeepDue(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	rec := func(at time.Time) memberRecord {
		r := memberRecord{PK: "TEAM#t", SK: "MEMBER#m"}
		r.DuePK, r.DueSK = dueKeys(at, r.PK, r.SK, DefaultDueShards)
		return r
	}
	soon, later, past := now.Add(24*time.Hour), now.Add(72*time.Hour), now.Add(-time.Hour)
	for _, c := range []struct {
		before, after, want time.Time
	}{
		{soon, later, soon},              // activity pushed the change later: the entry stays
		{later, soon, soon},              // a change comes sooner: the entry moves
		{past, later, later},             // the entry came due: it moves on
		{soon, time.Time{}, time.Time{}}, // nothing is due any more: it goes
		{time.Time{}, soon, soon},        // not queued before: queued now
	} {
		after := rec(c.after)
		after.keepDue(rec(c.before), now)
		if got := dueInstant(after.DueSK); !got.Equal(c.want) {
			t.Errorf("before %v, after %v: queued at %v, want %v", c.before, c.after, got, c.want)
		}
	}
}
