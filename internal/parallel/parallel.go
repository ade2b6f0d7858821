// Package parallel runs a bounded number of calls at once: the bulk
// actions, team jobs, the nightly run and reports each work through a list
// this way, with a cap that keeps DynamoDB and the Lambda's sockets calm.
package parallel

import "sync"

// Each calls fn(i) for every i in [0, n), at most limit at a time, and
// returns when all have returned.
func Each(n, limit int, fn func(i int)) {
	sem := make(chan struct{}, max(1, limit))
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn(i)
		}()
	}
	wg.Wait()
}
