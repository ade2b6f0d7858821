package dynamo

import (
	"context"
	"errors"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/internal/users"
)

// fakeDB is a hand-written DynamoDB for the store's retry and mapping
// paths: each test sets the methods it needs; an unset one fails the call.
type fakeDB struct {
	getItem    func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error)
	putItem    func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error)
	updateItem func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error)
	transact   func(*dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error)
	batchGet   func(*dynamodb.BatchGetItemInput) (*dynamodb.BatchGetItemOutput, error)
}

var errUnset = errors.New("fakeDB: method not set")

func (f *fakeDB) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if f.getItem == nil {
		return nil, errUnset
	}
	return f.getItem(in)
}
func (f *fakeDB) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if f.putItem == nil {
		return nil, errUnset
	}
	return f.putItem(in)
}
func (f *fakeDB) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if f.updateItem == nil {
		return nil, errUnset
	}
	return f.updateItem(in)
}
func (f *fakeDB) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return nil, errUnset
}
func (f *fakeDB) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return nil, errUnset
}
func (f *fakeDB) BatchGetItem(_ context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	if f.batchGet == nil {
		return nil, errUnset
	}
	return f.batchGet(in)
}
func (f *fakeDB) BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return nil, errUnset
}
func (f *fakeDB) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if f.transact == nil {
		return nil, errUnset
	}
	return f.transact(in)
}

func item(t *testing.T, v any) map[string]types.AttributeValue {
	t.Helper()
	m, err := attributevalue.MarshalMap(v)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// cancelled is DynamoDB's answer to a transaction cancelled for the reasons
// given per item, in item order.
func cancelled(codes ...string) error {
	e := &types.TransactionCanceledException{Message: aws.String("cancelled")}
	for _, c := range codes {
		e.CancellationReasons = append(e.CancellationReasons, types.CancellationReason{Code: aws.String(c)})
	}
	return e
}

func codesFor(in *dynamodb.TransactWriteItemsInput, failing func(types.TransactWriteItem) bool) []string {
	codes := make([]string, len(in.TransactItems))
	for i, it := range in.TransactItems {
		codes[i] = "None"
		if failing(it) {
			codes[i] = "ConditionalCheckFailed"
		}
	}
	return codes
}

func memberItem(t *testing.T, version int) map[string]types.AttributeValue {
	m := users.Member{ID: "m_a", TeamID: "t_a", Email: "a@example.com", Role: users.RoleUser, Status: users.StatusActive, LastCall: users.LastCallRecently}
	r := newMemberRecord(m)
	r.Version = version
	r.setIndexKeys(users.DefaultRetention, time.UTC, DefaultDueShards)
	return item(t, r)
}

func TestUpdateMemberRereadsAndRedecidesWhenTheVersionMoved(t *testing.T) {
	var reads, rules, writes int
	db := &fakeDB{
		getItem: func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
			reads++
			return &dynamodb.GetItemOutput{Item: memberItem(t, reads)}, nil
		},
		transact: func(in *dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
			writes++
			if aws.ToString(in.ClientRequestToken) == "" {
				t.Error("a transaction without a ClientRequestToken")
			}
			if writes < 3 { // another writer got there first, twice
				return nil, cancelled(codesFor(in, func(it types.TransactWriteItem) bool {
					return it.Put != nil && strings.HasPrefix(it.Put.Item["SK"].(*types.AttributeValueMemberS).Value, "MEMBER#")
				})...)
			}
			return &dynamodb.TransactWriteItemsOutput{}, nil
		},
	}
	s := New(db, "t")
	m, changed, err := s.UpdateMember(context.Background(), "t_a", "m_a", func(m *users.Member) (users.Change, error) {
		rules++
		m.Role = users.RoleAdmin
		return users.Change{}, nil
	})
	if err != nil || !changed || m.Role != users.RoleAdmin {
		t.Fatalf("%+v %v %v", m, changed, err)
	}
	if reads != 3 || rules != 3 || writes != 3 {
		t.Fatalf("reads %d, rule runs %d, writes %d; want 3 each", reads, rules, writes)
	}
}

func TestUpdateMemberGivesUpOnEndlessContention(t *testing.T) {
	db := &fakeDB{
		getItem: func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
			return &dynamodb.GetItemOutput{Item: memberItem(t, 1)}, nil
		},
		transact: func(in *dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
			return nil, cancelled(codesFor(in, func(it types.TransactWriteItem) bool { return it.Put != nil && it.Put.ConditionExpression != nil })...)
		},
	}
	_, _, err := New(db, "t").UpdateMember(context.Background(), "t_a", "m_a", func(m *users.Member) (users.Change, error) {
		m.Role = users.RoleAdmin
		return users.Change{}, nil
	})
	if err != users.ErrConflict {
		t.Fatalf("got %v, want concurrent_change", err)
	}
}

// The seat condition is found by the item it names, wherever it sits.
func TestCancellationsAreReadByTheItemTheyName(t *testing.T) {
	db := &fakeDB{
		getItem: func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
			m := users.Member{ID: "m_a", TeamID: "t_a", Email: "a@example.com", Role: users.RoleUser, Status: users.StatusInvitationSent, TokenHash: "h"}
			return &dynamodb.GetItemOutput{Item: item(t, newMemberRecord(m))}, nil
		},
		transact: func(in *dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
			return nil, cancelled(codesFor(in, func(it types.TransactWriteItem) bool { return it.Update != nil })...)
		},
	}
	// Accepting an invitation deletes the token and moves the counters
	// (pending → not): the failed item is the team's counter update.
	_, _, err := New(db, "t").UpdateMember(context.Background(), "t_a", "m_a", users.AcceptInvitation("h", time.Now()))
	if e, ok := users.AsError(err); !ok || e.Code != "seat_limit_reached" {
		t.Fatalf("got %v", err)
	}
}

func TestAddMembersNamesWhoIsAlreadyInAndRetriesTheRest(t *testing.T) {
	var batches [][]string
	db := &fakeDB{
		getItem: func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
			return &dynamodb.GetItemOutput{Item: item(t, newTeamRecord(users.Team{ID: "t_a", Seats: 10, Counters: users.Counters{Assigned: 1}}))}, nil
		},
		transact: func(in *dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
			var emails []string
			for _, it := range in.TransactItems {
				if it.Put != nil && it.Put.Item["type"].(*types.AttributeValueMemberS).Value == "membership" {
					emails = append(emails, strings.TrimPrefix(it.Put.Item["PK"].(*types.AttributeValueMemberS).Value, "USER#"))
				}
			}
			batches = append(batches, emails)
			return nil, nil
		},
	}
	// b@ is in the team already: its membership put fails.
	db2 := *db
	db2.transact = func(in *dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
		out, _ := db.transact(in)
		return out, func() error {
			if len(batches) > 1 {
				return nil
			}
			return cancelled(codesFor(in, func(it types.TransactWriteItem) bool {
				return it.Put != nil && it.Put.Item["PK"].(*types.AttributeValueMemberS).Value == "USER#b@example.com"
			})...)
		}()
	}
	var adds []users.NewMember
	for _, e := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		adds = append(adds, users.Admit(users.Member{ID: "m_" + e[:1], Email: e, Role: users.RoleUser, Status: users.StatusInvitationSent, TokenHash: "h" + e[:1]}, nil))
	}
	res, err := New(&db2, "t").AddMembers(context.Background(), "t_a", adds)
	if err != nil {
		t.Fatal(err)
	}
	if res[0] != nil || res[2] != nil {
		t.Fatalf("a and c: %v %v", res[0], res[2])
	}
	if e, ok := users.AsError(res[1]); !ok || e.Code != "already_member" {
		t.Fatalf("b: %v", res[1])
	}
	if len(batches) != 2 || strings.Join(batches[1], ",") != "a@example.com,c@example.com" {
		t.Fatalf("batches %v", batches)
	}
}

// wireServer stands in for DynamoDB on the wire, answering each request
// with answer(n, body) where n counts requests from 1; the real SDK client
// with the store's retry policy talks to it.
func wireServer(t *testing.T, answer func(n int, body string) (int, string)) *Store {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		n++
		status, out := answer(n, string(b))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, out)
	}))
	t.Cleanup(srv.Close)
	client := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", "")}, ClientOptions)
	return New(client, "t")
}

// field pulls a string value out of a request body: `"<name>":{"S":"<value>"}`.
func field(body, name string) string {
	i := strings.Index(body, `"`+name+`":{"S":"`)
	if i < 0 {
		return ""
	}
	rest := body[i+len(name)+9:]
	return rest[:strings.IndexByte(rest, '"')]
}

const internalError = `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}`

// DynamoDB applied the claim, then answered 500; the SDK sent it again and
// the condition failed on our own claim. The store knows it as its own.
func TestAClaimAppliedWhoseAnswerWasLostIsStillOurs(t *testing.T) {
	s := wireServer(t, func(n int, body string) (int, string) {
		if n == 1 {
			return 500, internalError
		}
		claim := field(body, ":claim")
		return 400, `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed",
			"Item":{"PK":{"S":"EMAIL#e_1"},"SK":{"S":"EMAIL"},"emailId":{"S":"e_1"},"kind":{"S":"invitation"},"to":{"S":"a@example.com"},
			"state":{"S":"sending"},"claim":{"S":"` + claim + `"},"leaseUntil":{"S":"2999-01-01T00:00:00.000Z"},"attempts":{"N":"1"}}}`
	})
	e, claimed, err := s.ClaimEmail(context.Background(), "e_1", time.Minute)
	if err != nil || !claimed || e.To != "a@example.com" {
		t.Fatalf("claimed %v, %v, %+v", claimed, err, e)
	}
	// Another worker's claim within the lease is not ours.
	other := wireServer(t, func(int, string) (int, string) {
		return 400, `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"failed",
			"Item":{"emailId":{"S":"e_1"},"state":{"S":"sending"},"claim":{"S":"someone-else"},"leaseUntil":{"S":"2999-01-01T00:00:00.000Z"}}}`
	})
	if _, claimed, err := other.ClaimEmail(context.Background(), "e_1", time.Minute); claimed || !errors.Is(err, users.ErrLeased) {
		t.Fatalf("another worker's lease: claimed %v, %v", claimed, err)
	}
}

// The same for an idempotency key: our own claim, not "in progress".
func TestAnIdempotencyClaimAppliedWhoseAnswerWasLostIsStillOurs(t *testing.T) {
	s := wireServer(t, func(n int, body string) (int, string) {
		if n == 1 {
			return 500, internalError
		}
		return 400, `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"failed",
			"Item":{"fingerprint":{"S":"fp"},"state":{"S":"running"},"owner":{"S":"` + field(body, "owner") + `"},"expiresAt":{"N":"9999999999"}}}`
	})
	claim, stored, err := s.BeginIdempotent(context.Background(), "scope", "key", "fp", time.Minute)
	if err != nil || stored != nil || claim == "" {
		t.Fatalf("claim %q, stored %v, %v", claim, stored, err)
	}
}

func TestIdempotentAnswersTooLargeKeepADigest(t *testing.T) {
	var set string
	db := &fakeDB{updateItem: func(in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
		set = aws.ToString(in.UpdateExpression)
		return &dynamodb.UpdateItemOutput{}, nil
	}}
	big := make([]byte, 2<<20) // random bytes do not compress
	r := mrand.New(mrand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(r.Uint32())
	}
	if err := New(db, "t").FinishIdempotent(context.Background(), "s", "k", "c", users.StoredResponse{Status: 200, Body: big}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(set, "bodyDigest") || strings.Contains(set, "bodyGzip") {
		t.Fatalf("update %q", set)
	}
	small := []byte(strings.Repeat(`{"row":1,"email":"a@example.com"},`, 20000)) // 700 KB that compresses
	if err := New(db, "t").FinishIdempotent(context.Background(), "s", "k", "c", users.StoredResponse{Status: 200, Body: small}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(set, "bodyGzip") {
		t.Fatalf("update %q", set)
	}
}

func TestClassifyTurnsExhaustedRetriesIntoUnavailable(t *testing.T) {
	for _, err := range []error{
		&retry.MaxAttemptsError{Attempt: 6, Err: &types.ProvisionedThroughputExceededException{}},
		context.DeadlineExceeded,
		cancelled("None", "TransactionConflict"),
	} {
		if e, ok := users.AsError(classify(err)); !ok || e.Kind != users.KindUnavailable || e.RetryAfter == 0 {
			t.Errorf("%v: classified %v", err, classify(err))
		}
	}
	for _, err := range []error{&types.ConditionalCheckFailedException{}, cancelled("ConditionalCheckFailed", "TransactionConflict")} {
		if _, ok := users.AsError(classify(err)); ok {
			t.Errorf("%v became a domain error", err)
		}
	}
}

// The real SDK client with the store's retry policy, against a server that
// cancels the first attempt for a conflict: the retry carries the same
// ClientRequestToken, so a commit whose answer was lost is not applied twice.
func TestTheRetryPolicyResendsAConflictedTransactionWithItsToken(t *testing.T) {
	var tokens []string
	s := wireServer(t, func(n int, body string) (int, string) {
		i := strings.Index(body, `"ClientRequestToken":"`)
		if i < 0 {
			t.Error("no ClientRequestToken sent")
			return 500, internalError
		}
		tokens = append(tokens, body[i+22:i+22+32])
		if n == 1 {
			return 400, `{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","message":"Transaction cancelled","CancellationReasons":[{"Code":"None"},{"Code":"TransactionConflict"}]}`
		}
		return 200, `{}`
	})
	tx := &txn{}
	tx.put("a", "t", map[string]types.AttributeValue{"PK": str("a"), "SK": str("a")}, "", nil)
	tx.put("b", "t", map[string]types.AttributeValue{"PK": str("b"), "SK": str("b")}, "", nil)
	if f, err := s.commit(context.Background(), tx); err != nil || len(f) != 0 {
		t.Fatalf("commit: %v %v", f, err)
	}
	if len(tokens) != 2 || tokens[0] != tokens[1] {
		t.Fatalf("attempts sent tokens %v", tokens)
	}
}

// Throttled on every attempt: the caller is told to come back (503).
func TestThrottlingPastTheRetriesIsUnavailable(t *testing.T) {
	attempts := 0
	s := wireServer(t, func(int, string) (int, string) {
		attempts++
		return 400, `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}`
	})
	_, err := s.GetTeam(context.Background(), "t_a")
	if e, ok := users.AsError(err); !ok || e.Kind != users.KindUnavailable {
		t.Fatalf("got %v", err)
	}
	if attempts != MaxAttempts {
		t.Fatalf("%d attempts, want %d", attempts, MaxAttempts)
	}
}
