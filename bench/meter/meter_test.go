package meter

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/samtemplate"
)

// The meter is checked against the real local DynamoDB and the table the
// template defines (four indexes projecting everything, one sparse index
// projecting a few attributes): every expected figure below is worked out
// by hand from the items' sizes and the rules in the package comment.

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func start(t *testing.T) (*dynamodb.Client, *Meter) {
	t.Helper()
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	svcs, err := local.StartServices(context.Background(), local.ServiceOptions{Root: root, StateDir: filepath.Join(t.TempDir(), "stack")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svcs.Stop)
	tmpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	raw := local.NewDynamoDB(svcs.DynamoDBEndpoint)
	if err := local.EnsureTable(context.Background(), raw, tmpl, "Table", "t"); err != nil {
		t.Fatal(err)
	}
	m := New(raw)
	db := dynamodb.NewFromConfig(local.AWSConfig(), dynamo.ClientOptions, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(svcs.DynamoDBEndpoint)
	}, m.Instrument)
	return db, m
}

// member is an item in every list index (facetPK and their sort keys, PK
// and domainSK) and, with a due key, in ByDue.
func member(id, status, extra string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": s("TEAM#t1"), "SK": s("MEMBER#" + id), "type": s("member"), "memberId": s(id), "teamId": s("t1"),
		"facetPK": s("t1#" + status + "#recently#user"), "emailSK": s(id + "@acme.example"),
		"activeSK": s("2026-01-01#" + id), "invitedSK": s("2026-01-01#" + id), "domainSK": s("acme.example#" + id),
		"duePK": s("DUE#03"), "dueSK": s("2026-01-04#TEAM#t1#MEMBER#" + id),
		"note": s(extra),
	}
}

func approx(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestWritesAreChargedWithTheirIndexEntries(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the local DynamoDB")
	}
	ctx := context.Background()
	db, m := start(t)
	put := func(item map[string]types.AttributeValue) Units {
		u, err := m.Measure(func() error {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: item})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	big := strings.Repeat("x", 1500) // the item is over 1 KB, its index entries are not

	// A new item: 2 table units; one entry in each of the five indexes,
	// 1 unit each: the four list indexes project what a row shows (not
	// the note), ByDue its keys and type, teamId, memberId.
	u := put(member("m1", "active", big))
	approx(t, "new item: table units", u.WriteUnits, 2)
	approx(t, "new item: index units", u.IndexUnits, 5)
	if u.IndexWrites != 5 || u.ByIndex["ByDue"] != 1 || u.ByIndex["ByEmail"] != 1 {
		t.Errorf("new item: %+v", u)
	}

	// The same item again: the table write is charged, no index changes.
	u = put(member("m1", "active", big))
	approx(t, "same item: table units", u.WriteUnits, 2)
	if u.IndexWrites != 0 || u.IndexUnits != 0 {
		t.Errorf("same item rewrote indexes: %+v", u)
	}

	// An attribute no index projects changes: no entry is written.
	u = put(member("m1", "active", "short"))
	approx(t, "smaller item: table units (the larger of before and after)", u.WriteUnits, 2)
	if u.IndexWrites != 0 || u.IndexUnits != 0 {
		t.Errorf("a change no index projects rewrote entries: %+v", u)
	}

	// A projected attribute changes: the four list entries are rewritten
	// in place; ByDue does not project it.
	flagged := member("m1", "active", "short")
	flagged["emailProblem"] = s("bounced")
	u = put(flagged)
	approx(t, "projected change: index units", u.IndexUnits, 4)
	if u.IndexWrites != 4 || u.ByIndex["ByDue"] != 0 {
		t.Errorf("projected change: %+v", u)
	}

	// The facet changes: the three indexes keyed on it delete and put (2
	// writes each); ByDomain's key is the same, its entry changes (1).
	u = put(member("m1", "invitation_sent", "short"))
	if u.IndexWrites != 3*2+1 || u.ByIndex["ByEmail"] != 2 || u.ByIndex["ByDomain"] != 1 {
		t.Errorf("key change: %+v", u)
	}

	// In a transaction the table write counts twice, the index writes once.
	u, err := m.Measure(func() error {
		_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String("t"), Item: member("m2", "active", "short")}},
		}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	approx(t, "transaction: table units", u.WriteUnits, 2)
	if u.IndexWrites != 5 || u.Transactions != 1 {
		t.Errorf("transaction: %+v", u)
	}

	// A failed condition on an existing 1 KB-or-less item costs one unit.
	u, _ = m.Measure(func() error {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: member("m2", "active", "short"), ConditionExpression: aws.String("attribute_not_exists(PK)")})
		return err
	})
	approx(t, "failed condition", u.WriteUnits, 1)
	if u.FailedChecks != 1 || u.IndexWrites != 0 {
		t.Errorf("failed condition: %+v", u)
	}

	// A delete takes every entry out.
	u, err = m.Measure(func() error {
		_, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"PK": s("TEAM#t1"), "SK": s("MEMBER#m2")}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	approx(t, "delete: table units", u.WriteUnits, 1)
	if u.IndexWrites != 5 {
		t.Errorf("delete: %+v", u)
	}
}

func TestReadsAreChargedForWhatTheyEvaluate(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the local DynamoDB")
	}
	ctx := context.Background()
	db, m := start(t)
	raw := m.raw
	sizes := 0
	for _, id := range []string{"a", "b", "c", "d"} {
		it := member(id, "active", strings.Repeat("y", 1000))
		sizes += ItemSize(it)
		if _, err := raw.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	// A query whose filter keeps one item is charged for the four it read.
	var out *dynamodb.QueryOutput
	u, err := m.Measure(func() error {
		var err error
		out, err = db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("t"), KeyConditionExpression: aws.String("PK = :pk"),
			FilterExpression: aws.String("memberId = :id"), ProjectionExpression: aws.String("memberId"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s("TEAM#t1"), ":id": s("b")}})
		return err
	})
	if err != nil || len(out.Items) != 1 {
		t.Fatalf("%v %v", out, err)
	}
	if u.ItemsRead != 4 || u.Mismatches != 0 {
		t.Errorf("filtered query: %+v", u)
	}
	approx(t, "filtered query: read units (eventually consistent, the 4 items rounded up together)", u.ReadUnits, float64((sizes+4095)/4096)/2)

	// A get of a missing item costs the minimum; a projected batch get is
	// charged per key, on the whole item.
	u, _ = m.Measure(func() error {
		_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"PK": s("TEAM#t1"), "SK": s("MEMBER#zz")}, ConsistentRead: aws.Bool(true)})
		return err
	})
	approx(t, "missing item", u.ReadUnits, 1)
	u, _ = m.Measure(func() error {
		_, err := db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"t": {
			Keys: []map[string]types.AttributeValue{
				{"PK": s("TEAM#t1"), "SK": s("MEMBER#a")}, {"PK": s("TEAM#t1"), "SK": s("MEMBER#b")}, {"PK": s("TEAM#t1"), "SK": s("MEMBER#zz")},
			},
			ProjectionExpression: aws.String("memberId"),
		}}})
		return err
	})
	if u.ItemsRead != 2 {
		t.Errorf("batch get: %+v", u)
	}
	approx(t, "batch get: three keys at half a unit each", u.ReadUnits, 1.5)
}
