package serve

import (
	"slices"
	"sync"
)

// writeLocks serialises the server's own writes to each instrument. Two
// requests judging batches against the same history would otherwise race
// to append; the loser judges again, and under many concurrent clients
// some lost every retry and were answered 409 (25 % of the writes of 100
// loopback clients). Writers in other processes still race, and are still
// retried.
type writeLocks struct {
	mu    sync.Mutex
	locks map[string]*instrumentLock
}

type instrumentLock struct {
	sync.Mutex
	users int // requests holding or waiting for it; at 0 it is dropped
}

// lock takes the locks of the given instruments, in a fixed order so that
// two requests naming the same instruments never wait for each other in a
// cycle, and returns the function that releases them.
func (w *writeLocks) lock(instruments []string) (unlock func()) {
	keys := slices.Clone(instruments)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	held := make([]*instrumentLock, len(keys))
	w.mu.Lock()
	if w.locks == nil {
		w.locks = map[string]*instrumentLock{}
	}
	for i, k := range keys {
		l, ok := w.locks[k]
		if !ok {
			l = &instrumentLock{}
			w.locks[k] = l
		}
		l.users++
		held[i] = l
	}
	w.mu.Unlock()
	for _, l := range held {
		l.Lock()
	}
	return func() {
		for _, l := range held {
			l.Unlock()
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		for i, k := range keys {
			if held[i].users--; held[i].users == 0 {
				delete(w.locks, k)
			}
		}
	}
}
