package parallel

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestEachRunsEveryIndexWithinTheLimit(t *testing.T) {
	var running, peak atomic.Int32
	seen := make([]atomic.Int32, 50)
	Each(50, 4, func(i int) {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(time.Millisecond)
		seen[i].Add(1)
		running.Add(-1)
	})
	for i := range seen {
		if seen[i].Load() != 1 {
			t.Fatalf("index %d ran %d times", i, seen[i].Load())
		}
	}
	if peak.Load() > 4 || peak.Load() < 2 {
		t.Fatalf("peak concurrency %d with a limit of 4", peak.Load())
	}
	Each(0, 4, func(int) { t.Fatal("ran with n = 0") })
}
