package sqlite

import (
	"bytes"
	"runtime"
	"slices"
	"sync"
)

// sortPairs sorts pairs by id, as a merge into event_ids needs them. It
// first moves each pair in place to the bucket of its id's first byte (an
// American flag sort), then sorts the 256 buckets on every core: ids are
// random, so the buckets are about even and each fits the cache, where one
// sort of the whole tail does not. A million pairs sort in 0.14 s this way
// against 0.40 s with slices.SortFunc on this 2-core machine
// (BenchmarkSortPairs). Ids that share a first byte only make the buckets
// uneven; the order is the same.
func sortPairs(pairs []idSeq) {
	bounds := bucketByFirstByte(pairs)
	buckets := make(chan int, len(bounds)-1)
	for b := range len(bounds) - 1 {
		if bounds[b+1]-bounds[b] > 1 {
			buckets <- b
		}
	}
	close(buckets)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(buckets)) {
		wg.Go(func() {
			for b := range buckets {
				slices.SortFunc(pairs[bounds[b]:bounds[b+1]], compareIDs)
			}
		})
	}
	wg.Wait()
}

func compareIDs(a, b idSeq) int { return bytes.Compare(a.id[:], b.id[:]) }

// bucketByFirstByte moves the pairs whose id starts with byte b to
// pairs[bounds[b]:bounds[b+1]], in place, and returns bounds.
func bucketByFirstByte(pairs []idSeq) (bounds [257]int) {
	for i := range pairs {
		bounds[int(pairs[i].id[0])+1]++
	}
	for b := range 256 {
		bounds[b+1] += bounds[b]
	}
	next := bounds // the next free place in each bucket
	for b := range 256 {
		for next[b] < bounds[b+1] {
			// Carry the pair found here to its bucket, and the one it
			// displaces to its own, until one belongs here.
			p := pairs[next[b]]
			for d := int(p.id[0]); d != b; d = int(p.id[0]) {
				p, pairs[next[d]] = pairs[next[d]], p
				next[d]++
			}
			pairs[next[b]] = p
			next[b]++
		}
	}
	return bounds
}
