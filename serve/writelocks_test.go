package serve

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWriteLocksExcludeAndDrain(t *testing.T) {
	var w writeLocks
	var mu sync.Mutex
	inside := map[string]int{}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			names := [][]string{{"BABA"}, {"9988.HK", "BABA"}, {"BABA", "9988.HK", "BABA"}, {"X"}}[i%4]
			unlock := w.lock(names)
			mu.Lock()
			for _, n := range names {
				inside[n]++
				assert.LessOrEqual(t, inside[n], countOf(names, n), "two requests write %s at once", n)
			}
			mu.Unlock()
			mu.Lock()
			for _, n := range names {
				inside[n]--
			}
			mu.Unlock()
			unlock()
		}()
	}
	wg.Wait()
	assert.Empty(t, w.locks, "no lock is kept once nobody holds or waits for it")
}

func countOf(names []string, n string) int {
	c := 0
	for _, m := range names {
		if m == n {
			c++
		}
	}
	return c
}
