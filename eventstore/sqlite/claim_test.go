package sqlite

import (
	"crypto/rand"
	"errors"
	"testing"

	"github.com/bits-and-blooms/bloom/v3"
	"github.com/stretchr/testify/require"
)

// TestClaimOneRefusesAnIDClaimedBefore: an id the filter holds is looked
// up after the inserts, and one the tail holds sends the transaction to the
// careful path. A filter of one bit holds every id once anything is added
// to it.
func TestClaimOneRefusesAnIDClaimedBefore(t *testing.T) {
	b := &bulkIDs{seen: bloom.New(1, 1), tail: map[[16]byte]struct{}{}}
	first := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	var maybe [][16]byte
	require.NoError(t, b.claimOne(first, &maybe))
	require.Empty(t, maybe, "the filter held nothing yet")
	other := first
	other[15] ^= 1
	require.NoError(t, b.claimOne(other, &maybe))
	require.Equal(t, [][16]byte{other}, maybe, "held by the filter, not by the tail: looked up after the inserts")
	require.True(t, errors.Is(b.claimOne(first, &maybe), errNeedsLookup), "claimed twice")
	require.Equal(t, uint(2), b.seenIDs)
}

// BenchmarkClaimOne claims a tail of a million new ids, as the hashing
// goroutine of a million-event import does.
func BenchmarkClaimOne(b *testing.B) {
	ids := make([][16]byte, 1<<20)
	for i := range ids {
		rand.Read(ids[i][:])
	}
	b.ReportAllocs()
	for b.Loop() {
		claims := &bulkIDs{seen: bloom.NewWithEstimates(seenCapacity, seenFalsePositives)}
		claims.committed(nil, 0, true) // an empty tail
		var maybe [][16]byte
		for _, id := range ids {
			if err := claims.claimOne(id, &maybe); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ids)), "ns/id")
}
