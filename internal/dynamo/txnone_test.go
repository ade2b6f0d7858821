package dynamo

import (
	"context"
	"strings"
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

// A change the audit log records is never a single write: its entry goes
// in the same transaction, even where the member is the only other item
// (an invitation flagged expired, a sign-in that joins the team; before
// the audit log, the first was one conditional write).
func TestAnAuditedChangeIsATransactionWithItsEntry(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	invited := users.Member{ID: "m_1", TeamID: "t_1", Email: "a@example.com", Role: users.RoleUser, Status: users.StatusInvitationSent,
		LastCall: users.LastCallPending, InvitedAt: now.Add(-8 * 24 * time.Hour), InvitationExpiresAt: now.Add(-time.Hour)}
	var got *dynamodb.TransactWriteItemsInput
	db := &fakeDB{
		getItem: func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
			it, err := marshalAll(New(&fakeDB{}, "t").memberRecordOf(invited))
			return &dynamodb.GetItemOutput{Item: it[0]}, err
		},
		putItem: func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
			t.Fatal("an audited change was written as a single put")
			return nil, nil
		},
		transact: func(in *dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
			got = in
			return &dynamodb.TransactWriteItemsOutput{}, nil
		},
	}
	s := New(db, "t").WithClock(func() time.Time { return now })
	m, changed, err := s.UpdateMember(context.Background(), "t_1", "m_1", users.AgeRule(now, users.DefaultRetention, time.UTC))
	if err != nil || !changed || !m.InvitationExpired {
		t.Fatalf("expire: %+v %v %v", m, changed, err)
	}
	if got == nil || len(got.TransactItems) != 2 {
		t.Fatalf("wrote %+v", got)
	}
	audit := got.TransactItems[1].Put
	if audit == nil || !strings.HasPrefix(audit.Item["PK"].(*types.AttributeValueMemberS).Value, "AUDIT#t_1") {
		t.Fatalf("the second item is not the audit entry: %+v", got.TransactItems[1])
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
