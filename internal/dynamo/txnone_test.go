package dynamo

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/internal/users"
)

// A change of one item is one conditional write, not a transaction; a
// change of more stays a transaction.
func TestOneItemIsAConditionalWriteNotATransaction(t *testing.T) {
	var puts []*dynamodb.PutItemInput
	transactions := 0
	db := &fakeDB{
		putItem: func(in *dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
			puts = append(puts, in)
			if len(puts) == 2 {
				return nil, &types.ConditionalCheckFailedException{Message: aws.String("failed")}
			}
			return &dynamodb.PutItemOutput{}, nil
		},
		transact: func(*dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
			transactions++
			return &dynamodb.TransactWriteItemsOutput{}, nil
		},
	}
	s := New(db, "t")
	one := &txn{}
	one.put("member", "t", map[string]types.AttributeValue{"PK": str("a"), "SK": str("b")}, "version = :v", map[string]types.AttributeValue{":v": num(3)})
	if f, err := s.commit(context.Background(), one); err != nil || len(f) != 0 {
		t.Fatalf("commit: %v %v", f, err)
	}
	if len(puts) != 1 || aws.ToString(puts[0].ConditionExpression) != "version = :v" || transactions != 0 {
		t.Fatalf("puts %v, transactions %d", puts, transactions)
	}
	// Its failed condition is reported by name, as a transaction's is.
	if f, err := s.commit(context.Background(), one); err != nil || !f["member"] {
		t.Fatalf("failed condition: %v %v", f, err)
	}
	two := &txn{}
	two.put("a", "t", map[string]types.AttributeValue{"PK": str("a"), "SK": str("a")}, "", nil)
	two.put("b", "t", map[string]types.AttributeValue{"PK": str("b"), "SK": str("b")}, "", nil)
	if _, err := s.commit(context.Background(), two); err != nil || transactions != 1 {
		t.Fatalf("two items: %v, %d transactions", err, transactions)
	}
}

// Activity that moves neither status nor bucket changes the member alone:
// its membership item (role, status) is not rewritten.
func TestAChangeThatLeavesTheMembershipDoesNotRewriteIt(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	m := users.Member{ID: "m_1", TeamID: "t_1", Email: "a@example.com", Role: users.RoleUser, Status: users.StatusActive,
		LastActiveAt: now.Add(-time.Hour), LastCall: users.LastCallRecently, AcceptedAt: now.Add(-48 * time.Hour)}
	s := New(&fakeDB{}, "t").WithClock(func() time.Time { return now })
	before := s.memberRecordOf(m)
	after := m
	after.LastActiveAt = now
	tx, _, err := s.memberTxn(context.Background(), before, after, users.Change{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tx.names) != 1 || tx.names[0] != "member" {
		t.Fatalf("activity wrote %v", tx.names)
	}
	after.Role = users.RoleAdmin
	tx, _, _ = s.memberTxn(context.Background(), before, after, users.Change{})
	if !contains(tx.names, "membership") || !contains(tx.names, "counters") {
		t.Fatalf("a role change wrote %v", tx.names)
	}
}

func contains(names []string, n string) bool {
	for _, x := range names {
		if x == n {
			return true
		}
	}
	return false
}

// A single write that meets a transaction holding its item is refused with
// TransactionConflictException; the retry policy sends it again.
func TestASingleWriteHeldByATransactionIsRetried(t *testing.T) {
	attempts := 0
	s := wireServer(t, func(n int, _ string) (int, string) {
		attempts = n
		if n == 1 {
			return 400, `{"__type":"com.amazonaws.dynamodb.v20120810#TransactionConflictException","message":"Transaction is ongoing for the item"}`
		}
		return 200, `{}`
	})
	one := &txn{}
	one.put("member", "t", map[string]types.AttributeValue{"PK": str("a"), "SK": str("b")}, "", nil)
	if f, err := s.commit(context.Background(), one); err != nil || len(f) != 0 || attempts != 2 {
		t.Fatalf("commit: %v %v after %d attempts", f, err, attempts)
	}
}
