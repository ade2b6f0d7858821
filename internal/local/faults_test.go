package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"github.com/teamusers/usersapi/internal/samtemplate"
)

// These tests run against the real stand-ins (moto through
// scripts/moto_server.py, aws-ses-v2-local behind the SES fault proxy),
// started once for the package and shared; each test sets the faults it
// needs and puts them back.

var (
	servicesOnce sync.Once
	services     *Services
	servicesErr  error
	faultTable   = "faults-local"
)

func startServices(t *testing.T) *Services {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the local stand-ins")
	}
	servicesOnce.Do(func() {
		root, err := samtemplate.FindRoot()
		if err != nil {
			servicesErr = err
			return
		}
		state, err := os.MkdirTemp("", "usersapi-local-")
		if err != nil {
			servicesErr = err
			return
		}
		ctx := context.Background()
		services, servicesErr = StartServices(ctx, ServiceOptions{Root: root, StateDir: filepath.Join(state, "services")})
		if servicesErr != nil {
			return
		}
		tmpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
		if err != nil {
			servicesErr = err
			return
		}
		servicesErr = EnsureTable(ctx, NewDynamoDB(services.DynamoDBEndpoint), tmpl, "Table", faultTable)
	})
	if servicesErr != nil {
		t.Fatal(servicesErr)
	}
	return services
}

func TestMain(m *testing.M) {
	code := m.Run()
	if services != nil {
		services.Stop()
	}
	os.Exit(code)
}

// rawDynamoDB is a client that sees every answer the server gives: it
// retries only a dropped connection (werkzeug closes each one after its
// answer, and about one call in a few thousand meets a reset the SDK
// reports as "use of closed network connection"), never an API error.
func rawDynamoDB(s *Services) *dynamodb.Client {
	return dynamodb.NewFromConfig(AWSConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(s.DynamoDBEndpoint)
		o.Retryer = retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
			o.Retryables = []retry.IsErrorRetryable{retry.RetryableConnectionError{}}
			o.RateLimiter = ratelimit.None
		})
	})
}

// withFaults sets the DynamoDB stand-in's faults for one test.
func withFaults(t *testing.T, s *Services, settings map[string]any) {
	t.Helper()
	if _, err := s.DynamoDBFaults().Set(context.Background(), settings); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = s.DynamoDBFaults().Set(context.Background(), map[string]any{"rate": 0, "indexLagMs": 0, "kinds": nil, "tokenTtlSeconds": 600})
	})
}

func dynamoCounts(t *testing.T, s *Services) map[string]int {
	t.Helper()
	st, err := s.DynamoDBFaults().State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.Counts
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func num(v int) types.AttributeValue { return &types.AttributeValueMemberN{Value: fmt.Sprint(v)} }

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": str(pk), "SK": str(sk)}
}

// unique names a partition for one test, so tests never see each other.
func unique(t *testing.T) string {
	return fmt.Sprintf("T#%s#%d", t.Name(), time.Now().UnixNano())
}

func putItem(t *testing.T, db *dynamodb.Client, item map[string]types.AttributeValue) {
	t.Helper()
	if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(faultTable), Item: item}); err != nil {
		t.Fatal(err)
	}
}

func getItem(t *testing.T, db *dynamodb.Client, k map[string]types.AttributeValue) map[string]types.AttributeValue {
	t.Helper()
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(faultTable), Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

// Each injected fault reaches the Go SDK as the typed error DynamoDB's own
// answer decodes to, with the retry class the SDK's standard retryer gives
// it, and is counted once.
func TestDynamoDBFaultsAreTypedAsAWSErrors(t *testing.T) {
	s := startServices(t)
	db := rawDynamoDB(s)
	ctx := context.Background()
	pk := unique(t)
	get := func() error {
		_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(faultTable), Key: key(pk, "A")})
		return err
	}
	transact := func() error {
		_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String(faultTable), Item: key(pk, "A")}},
			{Put: &types.Put{TableName: aws.String(faultTable), Item: key(pk, "B")}},
			{Put: &types.Put{TableName: aws.String(faultTable), Item: key(pk, "C")}},
		}})
		return err
	}
	standard := retry.NewStandard()
	throttles := retry.IsErrorThrottles(retry.DefaultThrottles)
	for _, c := range []struct {
		kind      string
		call      func() error
		as        func(error) bool
		retryable bool
		throttle  bool
	}{
		{FaultThrottling, get, func(err error) bool { var e *types.ThrottlingException; return errors.As(err, &e) }, true, true},
		{FaultProvisionedThroughput, get, func(err error) bool { var e *types.ProvisionedThroughputExceededException; return errors.As(err, &e) }, true, true},
		{FaultInternalError, get, func(err error) bool { var e *types.InternalServerError; return errors.As(err, &e) }, true, false},
		{FaultTransactionConflict, transact, func(err error) bool {
			var e *types.TransactionCanceledException
			if !errors.As(err, &e) || len(e.CancellationReasons) != 3 {
				return false
			}
			conflicts := 0
			for _, r := range e.CancellationReasons {
				switch aws.ToString(r.Code) {
				case "TransactionConflict":
					conflicts++
				case "None":
				default:
					return false
				}
			}
			return conflicts >= 1
		}, false, false},
	} {
		t.Run(c.kind, func(t *testing.T) {
			withFaults(t, s, map[string]any{"rate": 1, "kinds": []string{c.kind}})
			before := dynamoCounts(t, s)[c.kind]
			err := c.call()
			if err == nil || !c.as(err) {
				t.Fatalf("%s: got %T %v", c.kind, err, err)
			}
			if got := standard.IsErrorRetryable(err); got != c.retryable {
				t.Errorf("%s: the standard retryer says retryable=%v", c.kind, got)
			}
			if got := throttles.IsErrorThrottle(err) == aws.TrueTernary; got != c.throttle {
				t.Errorf("%s: the standard retryer says throttle=%v", c.kind, got)
			}
			if after := dynamoCounts(t, s)[c.kind]; after != before+1 {
				t.Errorf("%s counted %d times", c.kind, after-before)
			}
		})
	}
	// None of them wrote anything.
	if item := getItem(t, db, key(pk, "A")); item != nil {
		t.Fatalf("a refused call wrote: %v", item)
	}
}

// With the rate at zero nothing is injected, whatever is called.
func TestNoFaultsAtRateZero(t *testing.T) {
	s := startServices(t)
	db := rawDynamoDB(s)
	before := dynamoCounts(t, s)
	pk := unique(t)
	for i := range 30 {
		putItem(t, db, key(pk, fmt.Sprint(i)))
		_ = getItem(t, db, key(pk, fmt.Sprint(i)))
	}
	after := dynamoCounts(t, s)
	for k, v := range after {
		if v != before[k] {
			t.Errorf("%s went from %d to %d with faults off", k, before[k], v)
		}
	}
}

// A 500 after the write: the caller is told it failed, and it happened.
// With a ClientRequestToken, retrying the transaction is safe: DynamoDB
// answers success and does not apply it twice.
func TestInternalErrorAfterWrite(t *testing.T) {
	s := startServices(t)
	db := rawDynamoDB(s)
	ctx := context.Background()
	pk := unique(t)
	withFaults(t, s, map[string]any{"rate": 1, "kinds": []string{FaultInternalErrorAfterWrite}})
	before := dynamoCounts(t, s)[FaultInternalErrorAfterWrite]

	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(faultTable), Item: key(pk, "put")})
	var ise *types.InternalServerError
	if !errors.As(err, &ise) {
		t.Fatalf("PutItem: %T %v", err, err)
	}
	add := &dynamodb.TransactWriteItemsInput{ClientRequestToken: aws.String("after-write-" + fmt.Sprint(time.Now().UnixNano())),
		TransactItems: []types.TransactWriteItem{{Update: &types.Update{TableName: aws.String(faultTable), Key: key(pk, "counter"),
			UpdateExpression: aws.String("ADD n :one"), ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)}}}}}
	if _, err := db.TransactWriteItems(ctx, add); !errors.As(err, &ise) {
		t.Fatalf("TransactWriteItems: %T %v", err, err)
	}
	if n := dynamoCounts(t, s)[FaultInternalErrorAfterWrite] - before; n != 2 {
		t.Fatalf("counted %d", n)
	}

	withFaults(t, s, map[string]any{"rate": 0})
	if getItem(t, db, key(pk, "put")) == nil {
		t.Fatal("the put did not happen")
	}
	if _, err := db.TransactWriteItems(ctx, add); err != nil { // the retry an SDK would make
		t.Fatalf("retry with the token: %v", err)
	}
	if n := getItem(t, db, key(pk, "counter"))["n"].(*types.AttributeValueMemberN).Value; n != "1" {
		t.Fatalf("the transaction applied %s times", n)
	}
}

// ClientRequestToken as DynamoDB honours it: a committed token replays
// success without applying again; the same token with other items is
// IdempotentParameterMismatchException; a cancelled call leaves its token
// unused; after the window the token is new.
func TestClientRequestToken(t *testing.T) {
	s := startServices(t)
	db := rawDynamoDB(s)
	ctx := context.Background()
	pk := unique(t)
	counter := func() string {
		item := getItem(t, db, key(pk, "counter"))
		if item == nil {
			return "absent"
		}
		return item["n"].(*types.AttributeValueMemberN).Value
	}
	add := func(token string, by int, cond string) error {
		u := &types.Update{TableName: aws.String(faultTable), Key: key(pk, "counter"),
			UpdateExpression: aws.String("ADD n :by"), ExpressionAttributeValues: map[string]types.AttributeValue{":by": num(by)}}
		if cond != "" {
			u.ConditionExpression = aws.String(cond)
		}
		_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{ClientRequestToken: aws.String(token),
			TransactItems: []types.TransactWriteItem{{Update: u}}})
		return err
	}
	tok := fmt.Sprintf("tok-%d", time.Now().UnixNano())
	before, _ := s.DynamoDBFaults().State(ctx)

	if err := add(tok, 1, ""); err != nil {
		t.Fatal(err)
	}
	if err := add(tok, 1, ""); err != nil {
		t.Fatalf("replay: %v", err)
	}
	if got := counter(); got != "1" {
		t.Fatalf("after a replay the counter is %s", got)
	}
	// At least the one replay: the client may have replayed the first call
	// too (it retries a connection error with the same token, which a
	// loaded machine now and then gives it), and that replay counts.
	if st, _ := s.DynamoDBFaults().State(ctx); st.TokenReplays < before.TokenReplays+1 {
		t.Errorf("replays %d → %d", before.TokenReplays, st.TokenReplays)
	}
	var mismatch *types.IdempotentParameterMismatchException
	if err := add(tok, 2, ""); !errors.As(err, &mismatch) {
		t.Fatalf("same token, other items: %T %v", err, err)
	}

	// A first call that is cancelled commits nothing, and its token stays
	// free: the retry runs.
	tok2 := tok + "-c"
	var cancelled *types.TransactionCanceledException
	if err := add(tok2, 10, "n > :by"); !errors.As(err, &cancelled) {
		t.Fatalf("condition: %T %v", err, err)
	}
	if err := add(tok2, 10, ""); err != nil {
		t.Fatalf("retry after a cancellation: %v", err)
	}
	if got := counter(); got != "11" {
		t.Fatalf("counter %s", got)
	}

	// After the window (10 minutes in DynamoDB; shortened here) the token
	// is a new request.
	withFaults(t, s, map[string]any{"tokenTtlSeconds": 0.2})
	time.Sleep(300 * time.Millisecond)
	if err := add(tok, 1, ""); err != nil {
		t.Fatal(err)
	}
	if got := counter(); got != "12" {
		t.Fatalf("after the window the counter is %s", got)
	}

	var api smithy.APIError
	if err := add(strings.Repeat("x", 37), 1, ""); !errors.As(err, &api) || api.ErrorCode() != "ValidationException" {
		t.Fatalf("a 37-character token: %v", err)
	}
}

// A batch may come back half done: the rest is in UnprocessedItems or
// UnprocessedKeys, as DynamoDB reports it, and only the processed part
// happened.
func TestBatchesComeBackUnprocessed(t *testing.T) {
	s := startServices(t)
	db := rawDynamoDB(s)
	ctx := context.Background()
	pk := unique(t)
	withFaults(t, s, map[string]any{"rate": 1, "kinds": []string{FaultUnprocessed}})
	before := dynamoCounts(t, s)[FaultUnprocessed]

	var writes []types.WriteRequest
	for i := range 6 {
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: key(pk, fmt.Sprint(i))}})
	}
	out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{faultTable: writes}})
	if err != nil {
		t.Fatal(err)
	}
	left := out.UnprocessedItems[faultTable]
	if len(left) == 0 || len(left) == len(writes) {
		t.Fatalf("%d of %d unprocessed", len(left), len(writes))
	}
	unprocessed := map[string]bool{}
	for _, w := range left {
		unprocessed[w.PutRequest.Item["SK"].(*types.AttributeValueMemberS).Value] = true
	}

	var keys []map[string]types.AttributeValue
	for i := range 6 {
		keys = append(keys, key(pk, fmt.Sprint(i)))
	}
	got, err := db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{faultTable: {Keys: keys, ConsistentRead: aws.Bool(true)}}})
	if err != nil {
		t.Fatal(err)
	}
	heldKeys := got.UnprocessedKeys[faultTable]
	if len(heldKeys.Keys) == 0 || len(heldKeys.Keys) == len(keys) || !aws.ToBool(heldKeys.ConsistentRead) {
		t.Fatalf("BatchGetItem: %d of %d keys unprocessed (consistent %v)", len(heldKeys.Keys), len(keys), aws.ToBool(heldKeys.ConsistentRead))
	}
	sk := func(item map[string]types.AttributeValue) string {
		return item["SK"].(*types.AttributeValueMemberS).Value
	}
	held, read := map[string]bool{}, map[string]bool{}
	for _, k := range heldKeys.Keys {
		held[sk(k)] = true
	}
	for _, item := range got.Responses[faultTable] {
		read[sk(item)] = true
	}
	for _, k := range keys {
		// Every key is either held back or answered (when it exists).
		if k := sk(k); held[k] == read[k] && !(held[k] == false && unprocessed[k]) {
			t.Errorf("key %s: held back %v, read %v (written %v)", k, held[k], read[k], !unprocessed[k])
		}
	}
	if n := dynamoCounts(t, s)[FaultUnprocessed] - before; n != 2 {
		t.Fatalf("counted %d", n)
	}

	withFaults(t, s, map[string]any{"rate": 0})
	for i := range 6 {
		sk := fmt.Sprint(i)
		if stored := getItem(t, db, key(pk, sk)) != nil; stored == unprocessed[sk] {
			t.Errorf("item %s: stored %v, reported unprocessed %v", sk, stored, unprocessed[sk])
		}
	}
}

// sized is an item of exactly n bytes as DynamoDB sizes items.
func sized(pk, sk string, n int) map[string]types.AttributeValue {
	fixed := len("PK") + len(pk) + len("SK") + len(sk) + len("p")
	return map[string]types.AttributeValue{"PK": str(pk), "SK": str(sk), "p": str(strings.Repeat("x", n-fixed))}
}

func apiError(t *testing.T, err error, code, message string) {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != code || !strings.Contains(api.ErrorMessage(), message) {
		t.Fatalf("want %s %q, got %T %v", code, message, err, err)
	}
}

// What DynamoDB refuses, refused here too, faults or not: items over
// 409,600 bytes on every write path, transactions over 100 actions or 4 MB.
func TestDynamoDBLimits(t *testing.T) {
	s := startServices(t)
	db := rawDynamoDB(s)
	ctx := context.Background()
	pk := unique(t)
	tbl := aws.String(faultTable)
	const limit = 400 * 1024

	putItem(t, db, sized(pk, "at", limit))
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: sized(pk, "over", limit+1)})
	apiError(t, err, "ValidationException", "Item size has exceeded the maximum allowed size")
	_, err = db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{faultTable: {
		{PutRequest: &types.PutRequest{Item: key(pk, "small")}}, {PutRequest: &types.PutRequest{Item: sized(pk, "over", limit+1)}}}}})
	apiError(t, err, "ValidationException", "Item size has exceeded the maximum allowed size")
	if getItem(t, db, key(pk, "small")) != nil {
		t.Fatal("a refused batch wrote part of itself")
	}

	// An update that grows the item past the limit changes nothing.
	putItem(t, db, sized(pk, "grow", limit-10))
	_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: key(pk, "grow"),
		UpdateExpression: aws.String("SET q = :q"), ExpressionAttributeValues: map[string]types.AttributeValue{":q": str(strings.Repeat("y", 20))}})
	apiError(t, err, "ValidationException", "Item size to update has exceeded the maximum allowed size")
	if _, ok := getItem(t, db, key(pk, "grow"))["q"]; ok {
		t.Fatal("the refused update was applied")
	}

	// In a transaction a Put is refused up front, an Update cancels it.
	_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: tbl, Item: sized(pk, "tx-over", limit+1)}}}})
	apiError(t, err, "ValidationException", "Item size has exceeded the maximum allowed size")
	_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: tbl, Item: key(pk, "tx-small")}},
		{Update: &types.Update{TableName: tbl, Key: key(pk, "grow"), UpdateExpression: aws.String("SET q = :q"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":q": str(strings.Repeat("y", 20))}}}}})
	var cancelled *types.TransactionCanceledException
	if !errors.As(err, &cancelled) || aws.ToString(cancelled.CancellationReasons[0].Code) != "None" ||
		aws.ToString(cancelled.CancellationReasons[1].Code) != "ValidationError" {
		t.Fatalf("transacted update over the limit: %T %v", err, err)
	}
	if getItem(t, db, key(pk, "tx-small")) != nil {
		t.Fatal("a cancelled transaction wrote part of itself")
	}

	var many []types.TransactWriteItem
	for i := range 101 {
		many = append(many, types.TransactWriteItem{Put: &types.Put{TableName: tbl, Item: key(pk, fmt.Sprint("n", i))}})
	}
	_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: many})
	apiError(t, err, "ValidationException", "less than or equal to 100")
	if _, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: many[:100]}); err != nil {
		t.Fatalf("100 actions: %v", err)
	}
	var gets []types.TransactGetItem
	for i := range 100 {
		gets = append(gets, types.TransactGetItem{Get: &types.Get{TableName: tbl, Key: key(pk, fmt.Sprint("n", i))}})
	}
	if out, err := db.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: gets}); err != nil || len(out.Responses) != 100 {
		t.Fatalf("TransactGetItems of 100: %v", err)
	}

	var big []types.TransactWriteItem
	for i := range 11 { // 11 × 400 KB > 4 MB
		big = append(big, types.TransactWriteItem{Put: &types.Put{TableName: tbl, Item: sized(pk, fmt.Sprint("big", i), limit)}})
	}
	_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: big})
	apiError(t, err, "ValidationException", "4MB")
}

// With a lag, index reads see the table as it was: an item written within
// the lag is missing from the index and one deleted is still there, while
// the table itself is fresh; after the lag the index catches up.
func TestIndexReadsLag(t *testing.T) {
	s := startServices(t)
	db := rawDynamoDB(s)
	ctx := context.Background()
	pk := unique(t)
	member := func(sk, email string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"PK": str(pk), "SK": str(sk), "domainSK": str("lag.example#" + email)}
	}
	putItem(t, db, member("old", "old@lag.example"))
	const lag = time.Second
	withFaults(t, s, map[string]any{"indexLagMs": lag.Milliseconds()})
	before := dynamoCounts(t, s)[FaultIndexLagReads]

	written := time.Now()
	putItem(t, db, member("new", "new@lag.example"))
	if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(faultTable), Key: key(pk, "old")}); err != nil {
		t.Fatal(err)
	}
	index := func() string {
		out, err := db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(faultTable), IndexName: aws.String("ByDomain"),
			KeyConditionExpression: aws.String("PK = :pk"), ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)}})
		if err != nil {
			t.Fatal(err)
		}
		var sks []string
		for _, it := range out.Items {
			sks = append(sks, it["SK"].(*types.AttributeValueMemberS).Value)
		}
		return strings.Join(sks, ",")
	}
	wrote := time.Now() // the server applied both writes before this
	got := index()
	if time.Since(written) >= lag {
		t.Skip("the machine was too slow to read within the lag")
	}
	if got != "old" {
		t.Fatalf("the index right after the writes: %q, want the past (old)", got)
	}
	if getItem(t, db, key(pk, "new")) == nil || getItem(t, db, key(pk, "old")) != nil {
		t.Fatal("the table itself is not fresh")
	}
	if n := dynamoCounts(t, s)[FaultIndexLagReads] - before; n != 1 {
		t.Fatalf("indexLagReads counted %d", n)
	}
	time.Sleep(time.Until(wrote.Add(lag + 10*time.Millisecond)))
	if got := index(); got != "new" {
		t.Fatalf("the index after the lag: %q, want new", got)
	}
}

// The stack's one switch: options at Start reach both stand-ins, the
// functions send mail through the fault proxy, SetFaults changes both at run
// time and FaultCounts reads both, in the shape `make faults` prints.
func TestStackFaultSwitch(t *testing.T) {
	startServices(t) // skips with -short
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	stack, err := Start(ctx, StackOptions{Root: root, StateDir: filepath.Join(t.TempDir(), "stack"), Log: quiet,
		Faults: FaultOptions{Rate: 1, Kinds: []string{FaultThrottling}, Seed: 42}})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Stop()
	if stack.Config.SESEndpoint != stack.SESProxy.URL || stack.SESProxy.URL == stack.Services.SESEndpoint {
		t.Fatalf("the functions send to %s (proxy %s)", stack.Config.SESEndpoint, stack.SESProxy.URL)
	}
	db := rawDynamoDB(stack.Services)
	get := func() error {
		_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(TableName), Key: key("TEAM#x", "TEAM")})
		return err
	}
	var throttled *types.ThrottlingException
	if err := get(); !errors.As(err, &throttled) {
		t.Fatalf("DynamoDB: %T %v", err, err)
	}
	var tooMany *sestypes.TooManyRequestsException
	if err := send(ctx, stack.Config.SESEndpoint, address(t)); !errors.As(err, &tooMany) {
		t.Fatalf("SES: %T %v", err, err)
	}
	counts, err := stack.FaultCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts.DynamoDB[FaultThrottling] != 1 || counts.SES[FaultThrottling] != 1 {
		t.Fatalf("%+v", counts)
	}
	if b, _ := json.Marshal(counts); !strings.HasPrefix(string(b), `{"dynamodb":{`) || !strings.Contains(string(b), `"ses":{"acceptedThenTimeout":0,`) {
		t.Fatalf("make faults would print %s", b)
	}

	if err := stack.SetFaults(ctx, FaultOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := get(); err != nil {
		t.Fatalf("after SetFaults(off): %v", err)
	}
	if err := send(ctx, stack.Config.SESEndpoint, address(t)); err != nil {
		t.Fatalf("after SetFaults(off): %v", err)
	}
	// Kinds one stand-in does not know leave it with nothing to inject.
	if err := stack.SetFaults(ctx, FaultOptions{Rate: 1, Kinds: []string{FaultAcceptedThenTimeout}}); err != nil {
		t.Fatal(err)
	}
	if err := get(); err != nil {
		t.Fatalf("DynamoDB with only an SES kind: %v", err)
	}
}

// A table's scan pages (scripts/moto_server.py finds where a page begins
// by a binary search) return every item once, in moto's key order, also
// when the item the last page ended on is deleted before the next page.
func TestScanPagesReturnEveryItemOnce(t *testing.T) {
	s := startServices(t)
	db := rawDynamoDB(s)
	ctx := context.Background()
	tbl := aws.String("scan-pages-" + fmt.Sprint(time.Now().UnixNano()))
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: tbl, BillingMode: types.BillingModePayPerRequest,
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("PK"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("SK"), KeyType: types.KeyTypeRange}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("PK"), AttributeType: types.ScalarAttributeTypeS}, {AttributeName: aws.String("SK"), AttributeType: types.ScalarAttributeTypeS}}}); err != nil {
		t.Fatal(err)
	}
	defer db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: tbl})
	want := map[string]bool{}
	for i := range 300 {
		pk, sk := fmt.Sprintf("P%d", (i*7)%13), fmt.Sprintf("S%05d", (i*7919)%1000)
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: key(pk, sk)}); err != nil {
			t.Fatal(err)
		}
		want[pk+"/"+sk] = true
	}
	seen := map[string]bool{}
	var last string
	var start map[string]types.AttributeValue
	for page := 0; ; page++ {
		in := &dynamodb.ScanInput{TableName: tbl, Limit: aws.Int32(int32(1 + page%3*17)), ExclusiveStartKey: start}
		if page%2 == 1 {
			in.FilterExpression = aws.String("attribute_exists(PK)")
		}
		out, err := db.Scan(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			k := it["PK"].(*types.AttributeValueMemberS).Value + "/" + it["SK"].(*types.AttributeValueMemberS).Value
			if seen[k] || !want[k] || k <= last {
				t.Fatalf("page %d: %s after %s (seen before: %v)", page, k, last, seen[k])
			}
			seen[k], last = true, k
		}
		if start = out.LastEvaluatedKey; start == nil {
			break
		}
		if page%5 == 4 { // the item the page ended on goes
			if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: tbl, Key: start}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("%d items scanned of %d", len(seen), len(want))
	}
}
