package sqlite

import (
	"bytes"
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSortPairsOrdersByID holds sortPairs to a plain sort by id on random
// tails of every size that matters (empty, one, fewer than the buckets,
// many), with ids spread evenly, all sharing a first byte, drawn from a few
// values (so that equal ids meet; a merge refuses those later) and
// time-ordered like UUIDv7's. Each pair keeps its seq.
func TestSortPairsOrdersByID(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 3))
	shapes := map[string]func(*[16]byte){
		"random":      func(id *[16]byte) { fillRandom(rng, id[:]) },
		"shared byte": func(id *[16]byte) { fillRandom(rng, id[:]); id[0] = 0x42 },
		"few values":  func(id *[16]byte) { *id = [16]byte{byte(rng.IntN(3)), 0, byte(rng.IntN(2))} },
		"time first": func(id *[16]byte) {
			fillRandom(rng, id[:])
			id[0], id[1] = 0x01, byte(rng.IntN(4))
		},
	}
	for name, fill := range shapes {
		for _, n := range []int{0, 1, 2, 255, 257, 5000, 70_000} {
			pairs := make([]idSeq, n)
			for i := range pairs {
				fill(&pairs[i].id)
				pairs[i].seq = int64(i + 1)
			}
			want := slices.Clone(pairs)
			slices.SortFunc(want, byIDThenSeq)
			sortPairs(pairs)
			require.True(t, slices.IsSortedFunc(pairs, func(a, b idSeq) int { return bytes.Compare(a.id[:], b.id[:]) }),
				"%s, %d pairs: sorted by id", name, n)
			got := slices.Clone(pairs) // equal ids may come in either order
			slices.SortFunc(got, byIDThenSeq)
			require.Equal(t, want, got, "%s, %d pairs: the same pairs", name, n)
		}
	}
}

func byIDThenSeq(a, b idSeq) int {
	if c := bytes.Compare(a.id[:], b.id[:]); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

func fillRandom(rng *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}

// BenchmarkSortPairs sorts a tail of a million random ids, as a bulk
// store's merge at close does, with sortPairs and with one
// slices.SortFunc.
func BenchmarkSortPairs(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]idSeq, 1<<20)
	for i := range src {
		fillRandom(rng, src[i].id[:])
		src[i].seq = int64(i + 1)
	}
	pairs := make([]idSeq, len(src))
	b.Run("buckets", func(b *testing.B) {
		for b.Loop() {
			copy(pairs, src)
			sortPairs(pairs)
		}
	})
	b.Run("one-sort", func(b *testing.B) {
		for b.Loop() {
			copy(pairs, src)
			slices.SortFunc(pairs, compareIDs)
		}
	})
}
