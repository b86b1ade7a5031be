package projections

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
)

// The two computations of adjusted figures agree: the integer one over a
// common denominator (setTargets with a scale), used whenever the values
// fit, and the big.Int one (setAdjustedTargets) it falls back to, on random
// targets, closes and chains of splits.
func TestAdjustedFiguresAgreeOnBothPaths(t *testing.T) {
	var ratios []domain.Ratio
	for _, nm := range [][2]int64{{2, 1}, {3, 2}, {4, 1}, {1, 10}, {10, 1}, {7, 3}, {1, 3}, {5, 4}} {
		ratios = append(ratios, domain.Ratio{New: nm[0], Old: nm[1]})
	}
	ex := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for seed := range 2000 {
		rng := rand.New(rand.NewPCG(uint64(seed), 11))
		var splits domain.Splits
		for i := range 1 + rng.IntN(3) {
			splits = append(splits, domain.Split{Ratio: ratios[rng.IntN(len(ratios))], At: ex.AddDate(0, i+1, 0)})
		}
		basis := ex.AddDate(1, 0, 0)
		adj := adjustmentFor(&domain.State{AsOf: basis, Splits: splits}, Query{})
		n := 1 + rng.IntN(12)
		targets := make([]int64, n)
		spans := make([]uint8, n)
		for i := range targets {
			targets[i] = 1 + rng.Int64N(2_000_000_000)
			spans[i] = adj.span(ex.AddDate(0, rng.IntN(5), 0).Add(-time.Hour))
		}
		close := &domain.Close{Price: domain.Money(1 + rng.Int64N(2_000_000_000))}
		closeSpan := adj.span(ex.AddDate(0, rng.IntN(5), 0).Add(-time.Hour))

		var viaBig, viaInt Consensus
		viaBig.setAdjustedTargets(new(figureBlock), adj.targets(targets, spans, 0), close, adj.factors[closeSpan])
		scale, closeScaled, ok := adj.scale(targets, spans, 0, close.Price.Micros(), closeSpan)
		require.True(t, ok, "seed %d: small ratios fit", seed)
		viaInt.setTargets(new(figureBlock), targets, scale, closeScaled, true)
		require.Equal(t, figuresOf(viaBig), figuresOf(viaInt), "seed %d", seed)
	}
}

// A chain of extreme ratios outgrows the integer path and is still exact.
func TestExtremeSplitChainFallsBackExactly(t *testing.T) {
	ex := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	splits := domain.Splits{{Ratio: domain.Ratio{New: 1, Old: 1_000_000}, At: ex}, {Ratio: domain.Ratio{New: 1, Old: 999_999}, At: ex.AddDate(0, 1, 0)}}
	f := splits.Factor(ex.Add(-time.Hour), ex.AddDate(1, 0, 0))
	require.Equal(t, "999999000000", f.String())
	adj := adjustmentFor(&domain.State{AsOf: ex.AddDate(1, 0, 0), Splits: splits}, Query{})
	targets := []int64{1_000_000, 3_000_000}
	_, _, ok := adj.scale(targets, []uint8{0, 0}, 0, 2_000_000, 0)
	require.False(t, ok)
	require.Equal(t, []int64{1_000_000, 3_000_000}, targets, "a failed scale changes nothing")
	adjusted := adj.targets(targets, []uint8{0, 0}, 0)
	var c Consensus
	c.setAdjustedTargets(new(figureBlock), adjusted, &domain.Close{Price: 2_000_000}, f)
	require.Equal(t, "1999998000000", c.MeanTarget.String())
	require.Equal(t, "999999000000", c.StddevTarget.String())
	require.Equal(t, "0", c.UpsidePct.String())
}

func figuresOf(c Consensus) [7]string {
	s := func(d *Decimal) string {
		if d == nil {
			return "null"
		}
		return d.String()
	}
	return [7]string{s(c.MeanTarget), s(c.MedianTarget), s(c.HighTarget), s(c.LowTarget), s(c.StddevTarget), s(c.UpsidePct), string(rune('0' + c.Targets%10))}
}
