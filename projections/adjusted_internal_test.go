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
// targets, closes and chains of splits; for every third set all targets
// are of one span, which setTargets applies as one multiplier.
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
		span := spans[0]
		if seed%3 == 0 {
			spans = nil
		}

		var viaBig, viaInt Consensus
		viaBig.setAdjustedTargets(new(figureBlock), adj.targets(targets, spans, span), close, adj.factors[closeSpan])
		mult, scale, closeScaled, ok := adj.scale(targets, spans, span, close.Price.Micros(), closeSpan)
		require.True(t, ok, "seed %d: small ratios fit", seed)
		viaInt.setTargets(new(figureBlock), targets, mult, scale, closeScaled, true)
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
	_, _, _, ok := adj.scale(targets, []uint8{0, 0}, 0, 2_000_000, 0)
	require.False(t, ok)
	require.Equal(t, []int64{1_000_000, 3_000_000}, targets, "a failed scale changes nothing")
	_, _, _, ok = adj.scale(targets, nil, 0, 2_000_000, 1)
	require.False(t, ok, "nor when every target is of the same span")
	adjusted := adj.targets(targets, []uint8{0, 0}, 0)
	var c Consensus
	c.setAdjustedTargets(new(figureBlock), adjusted, &domain.Close{Price: 2_000_000}, f)
	require.Equal(t, "1999998000000", c.MeanTarget.String())
	require.Equal(t, "999999000000", c.StddevTarget.String())
	require.Equal(t, "0", c.UpsidePct.String())
}

// Targets all of one span whose multiplier is beyond maxMult (two 1:100
// reverse splits multiply by 10,000) keep the integer path while they fit
// and fall back to the big.Int one, as exact, once they do not.
func TestLargeUniformMultiplier(t *testing.T) {
	ex := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	splits := domain.Splits{{Ratio: domain.Ratio{New: 1, Old: 100}, At: ex}, {Ratio: domain.Ratio{New: 1, Old: 100}, At: ex.AddDate(0, 1, 0)}}
	adj := adjustmentFor(&domain.State{AsOf: ex.AddDate(1, 0, 0), Splits: splits}, Query{})
	require.Greater(t, adj.mult[0], int64(maxMult))
	for _, c := range []struct {
		targets []int64
		fits    bool
	}{
		{[]int64{1_000_000, 2_500_000, 4_000_001}, true},          // at most 40,000.01 adjusted
		{[]int64{1_000_000, 2_500_000, 1_000_000_000_000}, false}, // 10^10 adjusted: beyond 2^50 millionths
	} {
		var viaBig, viaInt Consensus
		close := &domain.Close{Price: 3_000_000}
		viaBig.setAdjustedTargets(new(figureBlock), adj.targets(c.targets, nil, 0), close, adj.factors[0])
		mult, scale, closeScaled, ok := adj.scale(c.targets, nil, 0, close.Price.Micros(), 0)
		require.Equal(t, c.fits, ok, "targets %v", c.targets)
		if ok {
			viaInt.setTargets(new(figureBlock), c.targets, mult, scale, closeScaled, true)
			require.Equal(t, figuresOf(viaBig), figuresOf(viaInt))
		}
	}
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
