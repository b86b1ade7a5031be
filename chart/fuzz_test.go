package chart

import (
	"math"
	"testing"

	"github.com/consensus-ledger/consensus/projections"
)

// FuzzNumberTicks: for any range a figure can hold, the value axis has a
// bounded number of ticks, in order, each labelled with an exact decimal.
func FuzzNumberTicks(f *testing.F) {
	f.Add(95.0, 200.0, 5, 0.0)
	f.Fuzz(func(t *testing.T, lo, hi float64, n int, minStep float64) {
		if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) ||
			math.Abs(lo) > 1e12 || math.Abs(hi) > 1e12 || n < 0 || n > 1000 || !(minStep == 0 || minStep == 1) {
			t.Skip("outside what a figure holds: money up to 1e9, counts, and at most a few hundred pixels of ticks")
		}
		ticks, axisLo, axisHi := numberTicks(lo, hi, n, minStep)
		if len(ticks) == 0 || len(ticks) > maxTicks+1 {
			t.Fatalf("%d ticks", len(ticks))
		}
		if !(axisLo < axisHi) {
			t.Fatalf("empty axis %v..%v", axisLo, axisHi)
		}
		for i, tk := range ticks {
			if _, err := projections.ParseDecimal(tk.label); err != nil {
				t.Fatalf("label %q: %v", tk.label, err)
			}
			if i > 0 && !(tk.value > ticks[i-1].value) {
				t.Fatalf("ticks out of order: %v", ticks)
			}
		}
	})
}
