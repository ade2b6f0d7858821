// Package meter is a DynamoDB client middleware that works out, request by
// request, what DynamoDB would bill: read request units from the sizes of
// the items each read evaluates, write request units from the sizes of the
// items each write replaces and leaves, index entries included, and
// transactions doubled. The benchmarks put it on the client of the code
// they measure and on the client of the baselines they compare with, so
// both are counted by the same rules.
//
// Why not ReturnConsumedCapacity: the local stand-in (moto 5.2.5) answers
// it with a constant per operation (`include_consumed_capacity(val)` in
// moto/dynamodb/responses.py: 0.5 or 1.0 whatever was read or written),
// so the meter computes the units itself, by the rules of the DynamoDB
// developer guide:
//
//   - reads ("Capacity Unit Consumption for Reads", ProvisionedThroughput.md):
//     GetItem and each key of a BatchGetItem round their item up to 4 KB,
//     a missing item costs the minimum; Query and Scan add up the items they
//     evaluate (before any filter, whatever the projection) and round the
//     request up to 4 KB; eventually consistent reads cost half. An index
//     query is sized on the index entries ("Read Capacity Units", GSI.md).
//   - writes ("Capacity Unit Consumption for Writes"): the larger of the
//     item before and after, in 1 KB units; a failed condition costs the
//     new item (1 unit for an item that did not exist).
//   - transactions ("Capacity Management for Transactions",
//     transaction-apis.md): two underlying writes of every item.
//   - indexes ("Write Capacity Units", GSI.md): an entry appears (1 write),
//     disappears (1), changes key (2: a delete and a put) or changes a
//     projected attribute (1); nothing when the index does not change. An
//     entry is the projected attributes with the table's and the index's
//     keys. Index propagation is not part of the transaction, so it is not
//     doubled.
//
// To know what a write replaced, the meter reads the items a write names
// before and after it, and to size what a filtered or projected read
// evaluated, it repeats the read without filter and projection; those
// reads go through a client of their own and are not counted.
package meter

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// Units is what a set of requests cost.
type Units struct {
	Requests      int
	ItemsRead     int                // items DynamoDB read: found by gets, evaluated by queries and scans
	ReadUnits     float64            // read request units
	ItemsWritten  int                // table items put, updated or deleted (a transaction's item once)
	WriteUnits    float64            // table write request units, transactions doubled
	IndexWrites   int                // index entries put or deleted
	IndexUnits    float64            // index write request units
	ByIndex       map[string]float64 // index write units, by index
	ByTable       map[string]float64 // table write units, by table
	Transactions  int
	Cancelled     int // transactions cancelled (not charged here)
	FailedChecks  int // single-item writes whose condition failed (charged)
	Mismatches    int // filtered reads whose unfiltered repeat evaluated another count
	ReturnedBytes int // size of what reads returned (projections applied)
}

// AllWriteUnits is the table's and the indexes' write units together.
func (u Units) AllWriteUnits() float64 { return u.WriteUnits + u.IndexUnits }

// Sub is u − v.
func (u Units) Sub(v Units) Units {
	d := Units{
		Requests: u.Requests - v.Requests, ItemsRead: u.ItemsRead - v.ItemsRead, ReadUnits: u.ReadUnits - v.ReadUnits,
		ItemsWritten: u.ItemsWritten - v.ItemsWritten, WriteUnits: u.WriteUnits - v.WriteUnits,
		IndexWrites: u.IndexWrites - v.IndexWrites, IndexUnits: u.IndexUnits - v.IndexUnits,
		Transactions: u.Transactions - v.Transactions, Cancelled: u.Cancelled - v.Cancelled,
		FailedChecks: u.FailedChecks - v.FailedChecks, Mismatches: u.Mismatches - v.Mismatches,
		ReturnedBytes: u.ReturnedBytes - v.ReturnedBytes, ByIndex: map[string]float64{}, ByTable: map[string]float64{},
	}
	for k, x := range u.ByIndex {
		if y := x - v.ByIndex[k]; y != 0 {
			d.ByIndex[k] = y
		}
	}
	for k, x := range u.ByTable {
		if y := x - v.ByTable[k]; y != 0 {
			d.ByTable[k] = y
		}
	}
	return d
}

func (u Units) clone() Units {
	c := u
	c.ByIndex = make(map[string]float64, len(u.ByIndex))
	for k, v := range u.ByIndex {
		c.ByIndex[k] = v
	}
	c.ByTable = make(map[string]float64, len(u.ByTable))
	for k, v := range u.ByTable {
		c.ByTable[k] = v
	}
	return c
}

// Meter counts the requests of the clients it instruments.
type Meter struct {
	raw *dynamodb.Client // uncounted: schemas, items before and after, repeats

	mu       sync.Mutex
	total    Units
	schemas  map[string]*schema
	returned map[string]int // "PK|SK" → size of the last item a read returned
}

// New meters requests to the DynamoDB at endpoint; raw must be a client of
// the same endpoint without the meter.
func New(raw *dynamodb.Client) *Meter {
	return &Meter{raw: raw, schemas: map[string]*schema{}, returned: map[string]int{}, total: Units{ByIndex: map[string]float64{}, ByTable: map[string]float64{}}}
}

// Instrument adds the meter to a client's options:
// dynamodb.NewFromConfig(cfg, …, m.Instrument).
func (m *Meter) Instrument(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("meter", m.handle), middleware.After)
	})
}

// Total is everything counted so far.
func (m *Meter) Total() Units {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.total.clone()
}

// Returned is the size of the item a read last returned under pk, sk (as
// returned: an index entry for index queries), or 0.
func (m *Meter) Returned(pk, sk string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.returned[pk+"|"+sk]
}

// Measure runs f and returns what its requests cost. Requests of other
// goroutines on the metered clients in the meantime count too.
func (m *Meter) Measure(f func() error) (Units, error) {
	before := m.Total()
	err := f()
	return m.Total().Sub(before), err
}

func (m *Meter) add(u Units) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := &m.total
	t.Requests += u.Requests
	t.ItemsRead += u.ItemsRead
	t.ReadUnits += u.ReadUnits
	t.ItemsWritten += u.ItemsWritten
	t.WriteUnits += u.WriteUnits
	t.IndexWrites += u.IndexWrites
	t.IndexUnits += u.IndexUnits
	t.Transactions += u.Transactions
	t.Cancelled += u.Cancelled
	t.FailedChecks += u.FailedChecks
	t.Mismatches += u.Mismatches
	t.ReturnedBytes += u.ReturnedBytes
	for k, v := range u.ByIndex {
		t.ByIndex[k] += v
	}
	for k, v := range u.ByTable {
		t.ByTable[k] += v
	}
}

func (m *Meter) noteReturned(table string, items []map[string]types.AttributeValue) int {
	sc := m.schemaOf(context.Background(), table)
	n := 0
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, it := range items {
		sz := ItemSize(it)
		n += sz
		if sc != nil {
			m.returned[keyString(it[sc.pk])+"|"+keyString(it[sc.sk])] = sz
		}
	}
	return n
}

// Entries sizes the index entries item has in table's indexes, by index
// (an index it is not in is absent): what storing it costs beside the item.
func (m *Meter) Entries(table string, item map[string]types.AttributeValue) map[string]int {
	sc := m.schemaOf(context.Background(), table)
	out := map[string]int{}
	if sc == nil {
		return out
	}
	for _, ix := range sc.indexes {
		if e := sc.entry(ix, item); e != nil {
			out[ix.name] = ItemSize(e)
		}
	}
	return out
}

// schema is what the meter needs of a table: its keys and its indexes.
type schema struct {
	pk, sk  string
	indexes []index
}

type index struct {
	name       string
	pk, sk     string
	projection types.ProjectionType
	include    map[string]bool
}

func (m *Meter) schemaOf(ctx context.Context, table string) *schema {
	m.mu.Lock()
	sc, ok := m.schemas[table]
	m.mu.Unlock()
	if ok {
		return sc
	}
	out, err := m.raw.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return nil
	}
	sc = &schema{}
	sc.pk, sc.sk = keyNames(out.Table.KeySchema)
	for _, g := range out.Table.GlobalSecondaryIndexes {
		sc.indexes = append(sc.indexes, newIndex(g.IndexName, g.KeySchema, g.Projection))
	}
	m.mu.Lock()
	m.schemas[table] = sc
	m.mu.Unlock()
	return sc
}

func keyNames(ks []types.KeySchemaElement) (pk, sk string) {
	for _, k := range ks {
		if k.KeyType == types.KeyTypeHash {
			pk = aws.ToString(k.AttributeName)
		} else {
			sk = aws.ToString(k.AttributeName)
		}
	}
	return pk, sk
}

func (sc *schema) key(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	k := map[string]types.AttributeValue{sc.pk: item[sc.pk]}
	if sc.sk != "" {
		k[sc.sk] = item[sc.sk]
	}
	return k
}

// entry is item's entry in the index, or nil when the item is not in it.
func (sc *schema) entry(ix index, item map[string]types.AttributeValue) map[string]types.AttributeValue {
	if item == nil || item[ix.pk] == nil || (ix.sk != "" && item[ix.sk] == nil) {
		return nil
	}
	if ix.projection == types.ProjectionTypeAll {
		return item
	}
	e := map[string]types.AttributeValue{}
	for name, v := range item {
		if name == sc.pk || name == sc.sk || name == ix.pk || name == ix.sk || ix.include[name] {
			e[name] = v
		}
	}
	return e
}

// writeCost is what replacing before by after costs on the table and its
// indexes (nil: no item).
func (sc *schema) writeCost(table string, before, after map[string]types.AttributeValue, transactional bool) Units {
	u := Units{ItemsWritten: 1, ByIndex: map[string]float64{}, ByTable: map[string]float64{}}
	for _, c := range sc.changes(before, after, transactional) {
		if c.Index == "" {
			u.WriteUnits += c.Units
			u.ByTable[table] += c.Units
			continue
		}
		u.IndexWrites++
		u.IndexUnits += c.Units
		u.ByIndex[c.Index] += c.Units
	}
	return u
}

// Change is what one write does to one partition of the table (Index "")
// or of an index: its partition key and the write units it takes there.
type Change struct {
	Index string
	Key   string
	Units float64
}

// changes lists a write's changes: the table item (the larger of before
// and after, doubled in a transaction), then each index entry put,
// deleted, moved (a delete and a put) or rewritten.
func (sc *schema) changes(before, after map[string]types.AttributeValue, transactional bool) []Change {
	item := before
	if item == nil {
		item = after
	}
	t := WriteUnits(max(size(before), size(after)))
	if transactional {
		t *= 2
	}
	out := []Change{{Key: keyString(item[sc.pk]), Units: t}}
	for _, ix := range sc.indexes {
		b, a := sc.entry(ix, before), sc.entry(ix, after)
		put := func(e map[string]types.AttributeValue) {
			out = append(out, Change{Index: ix.name, Key: keyString(e[ix.pk]), Units: WriteUnits(ItemSize(e))})
		}
		switch {
		case b == nil && a == nil:
		case b == nil:
			put(a)
		case a == nil:
			put(b)
		case !sameValue(b[ix.pk], a[ix.pk]) || (ix.sk != "" && !sameValue(b[ix.sk], a[ix.sk])):
			put(b)
			put(a)
		case !sameItem(b, a):
			put(a)
		}
	}
	return out
}

// Schema is a table's keys and indexes, to account for writes without a
// server (the capacity model replays writes through it).
type Schema struct{ sc *schema }

// SchemaOf reads the keys and indexes of a CreateTable request (the
// template's table: samtemplate.CreateTableInput).
func SchemaOf(in *dynamodb.CreateTableInput) Schema {
	sc := &schema{}
	sc.pk, sc.sk = keyNames(in.KeySchema)
	for _, g := range in.GlobalSecondaryIndexes {
		sc.indexes = append(sc.indexes, newIndex(g.IndexName, g.KeySchema, g.Projection))
	}
	return Schema{sc}
}

// newIndex reads an index's definition (as CreateTable takes it or
// DescribeTable gives it).
func newIndex(name *string, keys []types.KeySchemaElement, p *types.Projection) index {
	ix := index{name: aws.ToString(name), projection: types.ProjectionTypeAll, include: map[string]bool{}}
	ix.pk, ix.sk = keyNames(keys)
	if p != nil {
		ix.projection = p.ProjectionType
		for _, a := range p.NonKeyAttributes {
			ix.include[a] = true
		}
	}
	return ix
}

// Changes is what replacing before by after (nil: no item) writes, by
// partition of the table and its indexes.
func (s Schema) Changes(before, after map[string]types.AttributeValue, transactional bool) []Change {
	return s.sc.changes(before, after, transactional)
}

// Key is the item's key in the table.
func (s Schema) Key(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	return s.sc.key(item)
}

// PartitionOf is the value of the table's partition key in item.
func (s Schema) PartitionOf(item map[string]types.AttributeValue) string {
	return keyString(item[s.sc.pk])
}

// IndexKeys are the index partition keys an index query names.
func (s Schema) IndexPK(indexName string) string {
	for _, ix := range s.sc.indexes {
		if ix.name == indexName {
			return ix.pk
		}
	}
	return ""
}

// Entry is item's entry in the named index (nil: not in it).
func (s Schema) Entry(indexName string, item map[string]types.AttributeValue) map[string]types.AttributeValue {
	for _, ix := range s.sc.indexes {
		if ix.name == indexName {
			return s.sc.entry(ix, item)
		}
	}
	return nil
}

// IndexSK is the sort key attribute of the named index.
func (s Schema) IndexSK(indexName string) string {
	for _, ix := range s.sc.indexes {
		if ix.name == indexName {
			return ix.sk
		}
	}
	return ""
}

func size(item map[string]types.AttributeValue) int {
	if item == nil {
		return 0
	}
	return ItemSize(item)
}

func (u *Units) plus(v Units) {
	u.ItemsWritten += v.ItemsWritten
	u.WriteUnits += v.WriteUnits
	u.IndexWrites += v.IndexWrites
	u.IndexUnits += v.IndexUnits
	if u.ByIndex == nil {
		u.ByIndex = map[string]float64{}
	}
	for k, x := range v.ByIndex {
		u.ByIndex[k] += x
	}
	if u.ByTable == nil {
		u.ByTable = map[string]float64{}
	}
	for k, x := range v.ByTable {
		u.ByTable[k] += x
	}
}

// get reads an item as it is now (uncounted).
func (m *Meter) get(ctx context.Context, table string, key map[string]types.AttributeValue) map[string]types.AttributeValue {
	out, err := m.raw.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return nil
	}
	return out.Item
}

type target struct {
	table  string
	key    map[string]types.AttributeValue
	put    map[string]types.AttributeValue // the item a put leaves
	delete bool
	check  bool // a condition check: nothing written
}

func (m *Meter) handle(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	switch p := in.Parameters.(type) {
	case *dynamodb.PutItemInput:
		sc := m.schemaOf(ctx, aws.ToString(p.TableName))
		return m.writes(ctx, in, next, []target{{table: aws.ToString(p.TableName), key: sc.key(p.Item), put: p.Item}}, false)
	case *dynamodb.UpdateItemInput:
		return m.writes(ctx, in, next, []target{{table: aws.ToString(p.TableName), key: p.Key}}, false)
	case *dynamodb.DeleteItemInput:
		return m.writes(ctx, in, next, []target{{table: aws.ToString(p.TableName), key: p.Key, delete: true}}, false)
	case *dynamodb.BatchWriteItemInput:
		var ts []target
		for table, reqs := range p.RequestItems {
			sc := m.schemaOf(ctx, table)
			for _, r := range reqs {
				if r.PutRequest != nil {
					ts = append(ts, target{table: table, key: sc.key(r.PutRequest.Item), put: r.PutRequest.Item})
				} else if r.DeleteRequest != nil {
					ts = append(ts, target{table: table, key: r.DeleteRequest.Key, delete: true})
				}
			}
		}
		return m.writes(ctx, in, next, ts, false)
	case *dynamodb.TransactWriteItemsInput:
		var ts []target
		for _, it := range p.TransactItems {
			switch {
			case it.Put != nil:
				sc := m.schemaOf(ctx, aws.ToString(it.Put.TableName))
				ts = append(ts, target{table: aws.ToString(it.Put.TableName), key: sc.key(it.Put.Item), put: it.Put.Item})
			case it.Update != nil:
				ts = append(ts, target{table: aws.ToString(it.Update.TableName), key: it.Update.Key})
			case it.Delete != nil:
				ts = append(ts, target{table: aws.ToString(it.Delete.TableName), key: it.Delete.Key, delete: true})
			case it.ConditionCheck != nil:
				ts = append(ts, target{table: aws.ToString(it.ConditionCheck.TableName), key: it.ConditionCheck.Key, check: true})
			}
		}
		return m.writes(ctx, in, next, ts, true)
	case *dynamodb.GetItemInput:
		out, md, err := next.HandleInitialize(ctx, in)
		if err == nil {
			m.getItem(ctx, p, out.Result.(*dynamodb.GetItemOutput))
		}
		return out, md, err
	case *dynamodb.BatchGetItemInput:
		out, md, err := next.HandleInitialize(ctx, in)
		if err == nil {
			m.batchGet(ctx, p, out.Result.(*dynamodb.BatchGetItemOutput))
		}
		return out, md, err
	case *dynamodb.QueryInput:
		out, md, err := next.HandleInitialize(ctx, in)
		if err == nil {
			o := out.Result.(*dynamodb.QueryOutput)
			m.evaluated(ctx, aws.ToString(p.TableName), aws.ToBool(p.ConsistentRead), o.Items, int(o.ScannedCount), filtered(p.FilterExpression, p.ProjectionExpression, p.Select, p.AttributesToGet),
				func() ([]map[string]types.AttributeValue, error) { return m.repeatQuery(ctx, p) })
		}
		return out, md, err
	case *dynamodb.ScanInput:
		out, md, err := next.HandleInitialize(ctx, in)
		if err == nil {
			o := out.Result.(*dynamodb.ScanOutput)
			m.evaluated(ctx, aws.ToString(p.TableName), aws.ToBool(p.ConsistentRead), o.Items, int(o.ScannedCount), filtered(p.FilterExpression, p.ProjectionExpression, p.Select, p.AttributesToGet),
				func() ([]map[string]types.AttributeValue, error) { return m.repeatScan(ctx, p) })
		}
		return out, md, err
	}
	out, md, err := next.HandleInitialize(ctx, in)
	m.add(Units{Requests: 1})
	return out, md, err
}

func filtered(filter, projection *string, sel types.Select, attrs []string) bool {
	return aws.ToString(filter) != "" || aws.ToString(projection) != "" || (sel != "" && sel != types.SelectAllAttributes && sel != types.SelectAllProjectedAttributes) || len(attrs) > 0
}

// writes reads the targets before and after the write and adds its cost.
func (m *Meter) writes(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler, ts []target, transactional bool) (middleware.InitializeOutput, middleware.Metadata, error) {
	before := make([]map[string]types.AttributeValue, len(ts))
	for i, t := range ts {
		if !t.check {
			before[i] = m.get(ctx, t.table, t.key)
		}
	}
	out, md, err := next.HandleInitialize(ctx, in)
	u := Units{Requests: 1, ByIndex: map[string]float64{}}
	if transactional {
		u.Transactions = 1
	}
	var ccf *types.ConditionalCheckFailedException
	var tce *types.TransactionCanceledException
	switch {
	case errors.As(err, &tce):
		u.Cancelled = 1
		m.add(u)
		return out, md, err
	case errors.As(err, &ccf):
		// A failed condition costs the new item, or 1 unit for a new key.
		u.FailedChecks = 1
		sz := 0
		if before[0] != nil {
			sz = max(size(ts[0].put), size(before[0]))
		}
		u.WriteUnits = WriteUnits(sz)
		u.ByTable = map[string]float64{ts[0].table: u.WriteUnits}
		m.add(u)
		return out, md, err
	case err != nil:
		m.add(u)
		return out, md, err
	}
	unprocessed := map[string]bool{}
	if o, ok := out.Result.(*dynamodb.BatchWriteItemOutput); ok {
		for table, reqs := range o.UnprocessedItems {
			sc := m.schemaOf(ctx, table)
			for _, r := range reqs {
				var k map[string]types.AttributeValue
				if r.PutRequest != nil {
					k = sc.key(r.PutRequest.Item)
				} else if r.DeleteRequest != nil {
					k = r.DeleteRequest.Key
				}
				unprocessed[table+"|"+itemString(k)] = true
			}
		}
	}
	for i, t := range ts {
		if t.check {
			if transactional {
				// A condition check reads its item, twice in a transaction.
				u.ReadUnits += 2 * ReadUnits(size(m.get(ctx, t.table, t.key)), true)
			}
			continue
		}
		if unprocessed[t.table+"|"+itemString(t.key)] {
			continue
		}
		after := t.put
		switch {
		case t.delete:
			after = nil
		case after == nil:
			after = m.get(ctx, t.table, t.key)
		}
		sc := m.schemaOf(ctx, t.table)
		if sc == nil {
			continue
		}
		u.plus(sc.writeCost(t.table, before[i], after, transactional))
	}
	m.add(u)
	return out, md, err
}

func (m *Meter) getItem(ctx context.Context, p *dynamodb.GetItemInput, o *dynamodb.GetItemOutput) {
	u := Units{Requests: 1}
	item := o.Item
	if item != nil {
		u.ItemsRead = 1
		u.ReturnedBytes = m.noteReturned(aws.ToString(p.TableName), []map[string]types.AttributeValue{item})
		if aws.ToString(p.ProjectionExpression) != "" || len(p.AttributesToGet) > 0 {
			item = m.get(ctx, aws.ToString(p.TableName), p.Key)
		}
	}
	u.ReadUnits = ReadUnits(size(item), aws.ToBool(p.ConsistentRead))
	m.add(u)
}

func (m *Meter) batchGet(ctx context.Context, p *dynamodb.BatchGetItemInput, o *dynamodb.BatchGetItemOutput) {
	u := Units{Requests: 1}
	for table, ka := range p.RequestItems {
		sc := m.schemaOf(ctx, table)
		consistent := aws.ToBool(ka.ConsistentRead)
		projected := aws.ToString(ka.ProjectionExpression) != "" || len(ka.AttributesToGet) > 0
		left := map[string]bool{}
		for _, k := range o.UnprocessedKeys[table].Keys {
			left[itemString(k)] = true
		}
		found := map[string]map[string]types.AttributeValue{}
		for _, it := range o.Responses[table] {
			found[itemString(sc.key(it))] = it
		}
		u.ReturnedBytes += m.noteReturned(table, o.Responses[table])
		for _, k := range ka.Keys {
			ks := itemString(k)
			if left[ks] {
				continue
			}
			it, ok := found[ks]
			if projected {
				// The answer may not carry the key: ask the table.
				it = m.get(ctx, table, k)
				ok = it != nil
			}
			if ok {
				u.ItemsRead++
			}
			// Each key is its own GetItem: rounded up alone, a missing one at the minimum.
			u.ReadUnits += ReadUnits(size(it), consistent)
		}
	}
	m.add(u)
}

// evaluated charges a query or scan for the items it evaluated: those it
// returned, or, when a filter or projection hid some, those its repeat
// without them returns.
func (m *Meter) evaluated(_ context.Context, table string, consistent bool, items []map[string]types.AttributeValue, scanned int, hidden bool, repeat func() ([]map[string]types.AttributeValue, error)) {
	u := Units{Requests: 1, ItemsRead: scanned}
	u.ReturnedBytes = m.noteReturned(table, items)
	if hidden {
		all, err := repeat()
		if err == nil {
			if len(all) != scanned {
				u.Mismatches = 1
			}
			items = all
		} else {
			u.Mismatches = 1
		}
	}
	n := 0
	for _, it := range items {
		n += ItemSize(it)
	}
	u.ReadUnits = ReadUnits(n, consistent)
	m.add(u)
}

func (m *Meter) repeatQuery(ctx context.Context, p *dynamodb.QueryInput) ([]map[string]types.AttributeValue, error) {
	q := *p
	q.FilterExpression, q.ProjectionExpression, q.Select, q.AttributesToGet, q.QueryFilter = nil, nil, "", nil, nil
	q.ConditionalOperator = ""
	q.ExpressionAttributeNames, q.ExpressionAttributeValues = prune(p.ExpressionAttributeNames, p.ExpressionAttributeValues, aws.ToString(p.KeyConditionExpression))
	out, err := m.raw.Query(ctx, &q)
	if err != nil {
		return nil, err
	}
	return out.Items, nil
}

func (m *Meter) repeatScan(ctx context.Context, p *dynamodb.ScanInput) ([]map[string]types.AttributeValue, error) {
	q := *p
	q.FilterExpression, q.ProjectionExpression, q.Select, q.AttributesToGet, q.ScanFilter = nil, nil, "", nil, nil
	q.ConditionalOperator = ""
	q.ExpressionAttributeNames, q.ExpressionAttributeValues = nil, nil
	out, err := m.raw.Scan(ctx, &q)
	if err != nil {
		return nil, err
	}
	return out.Items, nil
}

var placeholder = regexp.MustCompile(`[#:][A-Za-z0-9_]+`)

// prune keeps the expression names and values expr uses: DynamoDB refuses
// unused ones.
func prune(names map[string]string, vals map[string]types.AttributeValue, expr string) (map[string]string, map[string]types.AttributeValue) {
	used := map[string]bool{}
	for _, p := range placeholder.FindAllString(expr, -1) {
		used[p] = true
	}
	var n map[string]string
	var v map[string]types.AttributeValue
	for k, x := range names {
		if used[k] {
			if n == nil {
				n = map[string]string{}
			}
			n[k] = x
		}
	}
	for k, x := range vals {
		if used[k] {
			if v == nil {
				v = map[string]types.AttributeValue{}
			}
			v[k] = x
		}
	}
	return n, v
}

// Canonical text of values, to compare index entries.

func sameValue(a, b types.AttributeValue) bool { return valueString(a) == valueString(b) }

func sameItem(a, b map[string]types.AttributeValue) bool { return itemString(a) == itemString(b) }

func keyString(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return valueString(v)
}

func itemString(item map[string]types.AttributeValue) string {
	names := make([]string, 0, len(item))
	for n := range item {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%q=%s;", n, valueString(item[n]))
	}
	return b.String()
}

func valueString(v types.AttributeValue) string {
	switch v := v.(type) {
	case nil:
		return "<nil>"
	case *types.AttributeValueMemberS:
		return "S" + fmt.Sprintf("%q", v.Value)
	case *types.AttributeValueMemberN:
		return "N" + v.Value
	case *types.AttributeValueMemberB:
		return "B" + fmt.Sprintf("%x", v.Value)
	case *types.AttributeValueMemberBOOL:
		return fmt.Sprintf("BOOL%v", v.Value)
	case *types.AttributeValueMemberNULL:
		return "NULL"
	case *types.AttributeValueMemberSS:
		s := append([]string(nil), v.Value...)
		sort.Strings(s)
		return fmt.Sprintf("SS%q", s)
	case *types.AttributeValueMemberNS:
		s := append([]string(nil), v.Value...)
		sort.Strings(s)
		return fmt.Sprintf("NS%v", s)
	case *types.AttributeValueMemberBS:
		s := make([]string, len(v.Value))
		for i, b := range v.Value {
			s[i] = fmt.Sprintf("%x", b)
		}
		sort.Strings(s)
		return fmt.Sprintf("BS%v", s)
	case *types.AttributeValueMemberL:
		var b strings.Builder
		b.WriteString("L[")
		for _, e := range v.Value {
			b.WriteString(valueString(e))
			b.WriteString(",")
		}
		return b.String() + "]"
	case *types.AttributeValueMemberM:
		return "M{" + itemString(v.Value) + "}"
	}
	return fmt.Sprintf("%T", v)
}
