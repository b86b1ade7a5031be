package projections

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// The low, high and median targets found by selection are those sorting
// gives, on random targets: odd and even counts from 1 to 400, many equal
// values, adjusted values put over a common denominator (factors with
// different denominators), and orders that defeat a naive pivot (sorted,
// reversed, organ pipe, all equal). selectNth leaves t a permutation with
// the k-th value in place and no greater one before it, no smaller after.
func TestOrderStatsMatchSorting(t *testing.T) {
	factors := [][2]int64{{1, 1}, {1, 2}, {2, 3}, {1, 3}, {10, 1}, {3, 7}, {4, 5}}
	runs := 3000
	if testing.Short() {
		runs = 600
	}
	for seed := range runs {
		rng := rand.New(rand.NewPCG(uint64(seed), 12))
		n := 1 + rng.IntN(400)
		if seed%2 == 0 {
			n = 1 + rng.IntN(40)
		}
		values := make([]int64, n)
		switch seed % 5 {
		case 0: // a few distinct targets, each repeated
			for i := range values {
				values[i] = 1_000_000 * (1 + rng.Int64N(4))
			}
		case 1: // adjusted targets over the least common denominator (210) of the factors
			for i := range values {
				f := factors[rng.IntN(len(factors))]
				values[i] = (1 + rng.Int64N(500_000_000)) * f[0] * (210 / f[1])
			}
		default:
			for i := range values {
				values[i] = 1 + rng.Int64N(2_000_000_000)
			}
		}
		switch seed % 7 {
		case 0:
			slices.Sort(values)
		case 1:
			slices.Sort(values)
			slices.Reverse(values)
		case 2: // organ pipe: up then down
			slices.Sort(values)
			pipe := make([]int64, 0, n)
			for i := 0; i < n; i += 2 {
				pipe = append(pipe, values[i])
			}
			for i := n - 1 - n%2; i > 0; i -= 2 {
				pipe = append(pipe, values[i])
			}
			values = pipe
		case 3:
			for i := range values {
				values[i] = values[0]
			}
		}
		sorted := slices.Sorted(slices.Values(values))

		got := slices.Clone(values)
		low, high, lower, upper := orderStats(got)
		require.Equal(t, [4]int64{sorted[0], sorted[n-1], sorted[(n-1)/2], sorted[n/2]}, [4]int64{low, high, lower, upper}, "seed %d, n %d", seed, n)
		require.Equal(t, sorted, slices.Sorted(slices.Values(got)), "seed %d: a permutation", seed)

		k := rng.IntN(n)
		got = slices.Clone(values)
		selectNth(got, k)
		require.Equal(t, sorted[k], got[k], "seed %d, k %d", seed, k)
		for i, v := range got {
			require.True(t, i < k && v <= got[k] || i == k || i > k && v >= got[k], "seed %d, k %d: %d at %d", seed, k, v, i)
		}
		require.Equal(t, sorted, slices.Sorted(slices.Values(got)), "seed %d: a permutation", seed)
	}
}
