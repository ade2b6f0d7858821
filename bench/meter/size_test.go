package meter

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestNumberSizeFollowsDynamoDB(t *testing.T) {
	for _, c := range []struct {
		n    string
		want int
	}{
		{"0", 1}, {"7", 2}, {"10", 2}, {"100", 2}, {"12345", 4}, {"-12345", 5},
		{"1.5", 3}, {"0.001", 2}, {"123.456", 5}, {"1e3", 2}, {"1.23E+2", 3}, {"000120", 2},
	} {
		if got := NumberSize(c.n); got != c.want {
			t.Errorf("NumberSize(%q) = %d, want %d", c.n, got, c.want)
		}
	}
}

func TestItemSizeCountsNamesAndValues(t *testing.T) {
	item := map[string]types.AttributeValue{
		"PK":    &types.AttributeValueMemberS{Value: "TEAM#t1"},                                                                       // 2 + 7
		"n":     &types.AttributeValueMemberN{Value: "42"},                                                                            // 1 + 2
		"ok":    &types.AttributeValueMemberBOOL{Value: true},                                                                         // 2 + 1
		"tags":  &types.AttributeValueMemberSS{Value: []string{"ab", "cde"}},                                                          // 4 + 5
		"email": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": &types.AttributeValueMemberS{Value: "xy"}}}, // 5 + 3 + (1+1+2)
		"l":     &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberNULL{Value: true}}},            // 1 + 3 + 1 + 1
		"é":     &types.AttributeValueMemberS{Value: "é"},                                                                             // 2 + 2
	}
	if got, want := ItemSize(item), 9+3+3+9+12+6+4; got != want {
		t.Fatalf("ItemSize = %d, want %d", got, want)
	}
}

func TestUnitsRoundUpPerRequest(t *testing.T) {
	if u := ReadUnits(4096, true); u != 1 {
		t.Errorf("4 KB strongly consistent: %v", u)
	}
	if u := ReadUnits(4097, false); u != 1 {
		t.Errorf("4 KB + 1 eventually consistent: %v", u)
	}
	if u := ReadUnits(0, false); u != 0.5 {
		t.Errorf("nothing read still costs half a unit: %v", u)
	}
	if u := WriteUnits(1025); u != 2 {
		t.Errorf("1 KB + 1 written: %v", u)
	}
}
