// Package cost measures what the Users page costs in DynamoDB request
// units, side by side with what naive designs read, at team sizes from
// 1,000 to 100,000 members; the units of every write the profile makes;
// the functions' billed durations under the Lambda runtime interface
// emulator; and, from those alone, a month's AWS bill for a team of 1,000
// and of 100,000 members at the list prices of bench/prices.json. Every
// unit comes from bench/meter, on the requests actually made.
//
//	go test -run '^$' -bench . -benchtime 1x -timeout 240m ./bench/cost
//
// The benchmarks run in the order below and share what they measure: the
// bill is priced from the other three, so it runs last (alone, it skips).
package cost

import (
	"fmt"
	"testing"
)

func BenchmarkCurve(b *testing.B) {
	for _, n := range curveSizes {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) { curve(b, n) })
	}
}

func BenchmarkWrites(b *testing.B) { writes(b) }

func BenchmarkLambda(b *testing.B) { lambdas(b) }

// BenchmarkCapacity needs no local stack: a day of a million teams,
// replayed through the store's code and key functions. With
// BenchmarkLambda before it, it adds the functions' concurrency.
func BenchmarkCapacity(b *testing.B) {
	for b.Loop() {
		capacity(b)
	}
}

func BenchmarkMonthlyBill(b *testing.B) {
	for b.Loop() {
		bill(b)
	}
}
