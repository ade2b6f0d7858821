package meter

import (
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// What DynamoDB bills is a function of item sizes: reads in 4 KB units,
// writes in 1 KB units (AWS, "DynamoDB item sizes and formats",
// CapacityUnitCalculations.html). The benchmarks' metering client and the
// capacity model size items with these functions, the same rules the
// local stand-in enforces the 400 KB limit with (scripts/moto_server.py).
const (
	ReadUnitBytes  = 4096
	WriteUnitBytes = 1024
)

// ItemSize is the size DynamoDB gives an item: the UTF-8 length of every
// attribute name plus the size of its value.
func ItemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name) + ValueSize(v)
	}
	return n
}

// ValueSize is the size of one attribute value: strings and binaries by
// their bytes; a number 1 byte plus one per two significant digits on each
// side of the decimal point, plus 1 when negative; booleans and nulls 1;
// sets the sum of their elements; lists and maps 3 bytes, plus 1 per
// element, plus their elements (a map's keys included).
func ValueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return NumberSize(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += NumberSize(s)
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, b := range v.Value {
			n += len(b)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3 + len(v.Value)
		for _, e := range v.Value {
			n += ValueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += len(k) + 1 + ValueSize(e)
		}
		return n
	}
	return 0
}

// NumberSize sizes a number as DynamoDB does: leading and trailing zeros
// do not count; the whole and the fraction digits are paired apart.
func NumberSize(text string) int {
	s := strings.TrimSpace(text)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		for j, c := range s[i+1:] {
			if j == 0 && (c == '+' || c == '-') {
				continue
			}
			if c < '0' || c > '9' {
				return utf8.RuneCountInString(text)
			}
		}
		e := 0
		sign := 1
		for j, c := range s[i+1:] {
			switch {
			case j == 0 && c == '-':
				sign = -1
			case j == 0 && c == '+':
			default:
				e = e*10 + int(c-'0')
			}
		}
		exp = sign * e
		s = s[:i]
	}
	whole, frac, _ := strings.Cut(s, ".")
	digits := whole + frac
	exp += len(whole) // digits[0:exp] are left of the point
	// Drop leading zeros (they move the point) and trailing zeros.
	for len(digits) > 0 && digits[0] == '0' {
		digits = digits[1:]
		exp--
	}
	digits = strings.TrimRight(digits, "0")
	if digits == "" {
		return 1
	}
	w := min(max(exp, 0), len(digits))
	f := len(digits) - w
	n := (w+1)/2 + (f+1)/2 + 1
	if neg {
		n++
	}
	return n
}

// ReadUnits is what reading bytes costs in read request units: 4 KB
// units, halved for an eventually consistent read.
func ReadUnits(bytes int, consistent bool) float64 {
	u := float64((max(bytes, 1) + ReadUnitBytes - 1) / ReadUnitBytes)
	if !consistent {
		u /= 2
	}
	return u
}

// WriteUnits is what writing an item of bytes costs: 1 KB units, at least one.
func WriteUnits(bytes int) float64 {
	return float64((max(bytes, 1) + WriteUnitBytes - 1) / WriteUnitBytes)
}
