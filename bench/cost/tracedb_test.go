package cost

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/bench/meter"
)

// traceDB is an in-memory DynamoDB for the capacity model: the store's
// own code runs against it, and it records, for every request, which
// partition of which table or index it read or wrote and how many units
// (sized by bench/meter's rules). It keeps items so that reads find what
// writes left; it checks no condition and evaluates no update expression
// (an update merges its values into the item, which sizes it closely
// enough: the items it updates are a few hundred bytes).
type traceDB struct {
	schema meter.Schema
	mu     sync.Mutex
	items  map[string]map[string]types.AttributeValue // table|PK|SK
	log    []access
}

// access is one partition's share of one request.
type access struct {
	Table, Index, Key string
	Read, Write       float64
}

func newTraceDB(s meter.Schema) *traceDB {
	return &traceDB{schema: s, items: map[string]map[string]types.AttributeValue{}}
}

func (db *traceDB) take() []access {
	db.mu.Lock()
	defer db.mu.Unlock()
	out := db.log
	db.log = nil
	return out
}

func itemKey(table string, k map[string]types.AttributeValue) string {
	return table + "|" + keyOf(k["PK"]) + "|" + keyOf(k["SK"])
}

func keyOf(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func (db *traceDB) write(table string, k map[string]types.AttributeValue, after map[string]types.AttributeValue, txn bool) {
	key := itemKey(table, k)
	before := db.items[key]
	for _, c := range db.schema.Changes(before, after, txn) {
		if c.Index == "" && c.Key == "" {
			c.Key = keyOf(k["PK"])
		}
		db.log = append(db.log, access{Table: table, Index: c.Index, Key: c.Key, Write: c.Units})
	}
	if after == nil {
		delete(db.items, key)
	} else {
		db.items[key] = after
	}
}

// merged is an update's item: what was there, with the update's values.
func merged(before, k map[string]types.AttributeValue, vals map[string]types.AttributeValue) map[string]types.AttributeValue {
	out := map[string]types.AttributeValue{}
	for n, v := range before {
		out[n] = v
	}
	for n, v := range k {
		out[n] = v
	}
	for n, v := range vals {
		out[strings.TrimPrefix(n, ":")] = v
	}
	return out
}

func (db *traceDB) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	it := db.items[itemKey(aws.ToString(in.TableName), in.Key)]
	db.log = append(db.log, access{Table: aws.ToString(in.TableName), Key: keyOf(in.Key["PK"]), Read: meter.ReadUnits(sizeOf(it), aws.ToBool(in.ConsistentRead))})
	return &dynamodb.GetItemOutput{Item: it}, nil
}

func sizeOf(it map[string]types.AttributeValue) int {
	if it == nil {
		return 0
	}
	return meter.ItemSize(it)
}

func (db *traceDB) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.write(aws.ToString(in.TableName), db.schema.Key(in.Item), in.Item, false)
	return &dynamodb.PutItemOutput{}, nil
}

func (db *traceDB) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	table := aws.ToString(in.TableName)
	after := merged(db.items[itemKey(table, in.Key)], in.Key, in.ExpressionAttributeValues)
	db.write(table, in.Key, after, false)
	return &dynamodb.UpdateItemOutput{Attributes: after}, nil
}

func (db *traceDB) DeleteItem(_ context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.write(aws.ToString(in.TableName), in.Key, nil, false)
	return &dynamodb.DeleteItemOutput{}, nil
}

func (db *traceDB) BatchGetItem(_ context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}}
	for table, ka := range in.RequestItems {
		for _, k := range ka.Keys {
			it := db.items[itemKey(table, k)]
			db.log = append(db.log, access{Table: table, Key: keyOf(k["PK"]), Read: meter.ReadUnits(sizeOf(it), aws.ToBool(ka.ConsistentRead))})
			if it != nil {
				out.Responses[table] = append(out.Responses[table], it)
			}
		}
	}
	return out, nil
}

func (db *traceDB) BatchWriteItem(_ context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	for table, reqs := range in.RequestItems {
		for _, r := range reqs {
			if r.PutRequest != nil {
				db.write(table, db.schema.Key(r.PutRequest.Item), r.PutRequest.Item, false)
			} else if r.DeleteRequest != nil {
				db.write(table, r.DeleteRequest.Key, nil, false)
			}
		}
	}
	return &dynamodb.BatchWriteItemOutput{}, nil
}

func (db *traceDB) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, it := range in.TransactItems {
		switch {
		case it.Put != nil:
			db.write(aws.ToString(it.Put.TableName), db.schema.Key(it.Put.Item), it.Put.Item, true)
		case it.Update != nil:
			table := aws.ToString(it.Update.TableName)
			db.write(table, it.Update.Key, merged(db.items[itemKey(table, it.Update.Key)], it.Update.Key, it.Update.ExpressionAttributeValues), true)
		case it.Delete != nil:
			db.write(aws.ToString(it.Delete.TableName), it.Delete.Key, nil, true)
		}
	}
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

// The key conditions the store writes: "PK = :pk", with "AND SK BETWEEN
// :a AND :b" or "AND dueSK <= :now", and the expression builder's
// "#0 = :0 AND #1 BETWEEN :1 AND :2".
var keyCond = regexp.MustCompile(`^\(?(\S+?)\)? = (\S+?)\)?(?: AND \(?(\S+?) (?:BETWEEN (\S+) AND (\S+?)|<= (\S+?))\)?)?$`)

func (db *traceDB) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	m := keyCond.FindStringSubmatch(strings.TrimSpace(aws.ToString(in.KeyConditionExpression)))
	if m == nil {
		return &dynamodb.QueryOutput{}, nil
	}
	name := func(n string) string {
		if v, ok := in.ExpressionAttributeNames[n]; ok {
			return v
		}
		return n
	}
	val := func(n string) string { return keyOf(in.ExpressionAttributeValues[n]) }
	table, index := aws.ToString(in.TableName), aws.ToString(in.IndexName)
	pkAttr, pk, skAttr := name(m[1]), val(m[2]), name(m[3])
	lo, hi := "", "\U0010FFFF"
	switch {
	case m[4] != "":
		lo, hi = val(m[4]), val(m[5])
	case m[6] != "":
		hi = val(m[6])
	}
	var found []map[string]types.AttributeValue
	for key, it := range db.items {
		if !strings.HasPrefix(key, table+"|") || keyOf(it[pkAttr]) != pk {
			continue
		}
		if index != "" {
			if it = db.schema.Entry(index, it); it == nil {
				continue
			}
		}
		if skAttr != "" {
			if sk := keyOf(it[skAttr]); sk < lo || sk > hi {
				continue
			}
		}
		found = append(found, it)
	}
	sortKey := func(it map[string]types.AttributeValue) string {
		return keyOf(it[skAttr]) + "\x00" + keyOf(it["PK"]) + "\x00" + keyOf(it["SK"])
	}
	sort.Slice(found, func(i, j int) bool { return sortKey(found[i]) < sortKey(found[j]) })
	if in.ScanIndexForward != nil && !*in.ScanIndexForward {
		for i, j := 0, len(found)-1; i < j; i, j = i+1, j-1 {
			found[i], found[j] = found[j], found[i]
		}
	}
	if in.ExclusiveStartKey != nil {
		after := sortKey(in.ExclusiveStartKey)
		for i, it := range found {
			if sortKey(it) == after {
				found = found[i+1:]
				break
			}
		}
	}
	out := &dynamodb.QueryOutput{}
	if in.Limit != nil && int(*in.Limit) < len(found) {
		found = found[:*in.Limit]
		last := found[len(found)-1]
		out.LastEvaluatedKey = map[string]types.AttributeValue{"PK": last["PK"], "SK": last["SK"]}
		if skAttr != "" {
			out.LastEvaluatedKey[skAttr] = last[skAttr]
			out.LastEvaluatedKey[pkAttr] = last[pkAttr]
		}
	}
	n := 0
	for _, it := range found {
		n += meter.ItemSize(it)
	}
	out.Items, out.Count, out.ScannedCount = found, int32(len(found)), int32(len(found))
	db.log = append(db.log, access{Table: table, Index: index, Key: pk, Read: meter.ReadUnits(n, aws.ToBool(in.ConsistentRead))})
	return out, nil
}
