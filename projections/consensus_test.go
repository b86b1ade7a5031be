package projections_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/projections"
)

const window90 = 90 * 24 * time.Hour

// showAt computes the consensus as of asOf, as known after every test event.
func showAt(tb testing.TB, l *ledger, asOf string) projections.Consensus {
	tb.Helper()
	return projections.Show(l.sym, l.events, projections.Query{AsOf: when(tb, asOf), KnownAt: later, Window: window90, Explain: true})
}

func TestLabelThresholds(t *testing.T) {
	tests := []struct {
		name            string
		buy, hold, sell int
		want            string
	}{
		{"no analysts", 0, 0, 0, projections.LabelNoConsensus},
		{"all buy, s=1", 5, 0, 0, projections.LabelStrongBuy},
		{"s exactly 0.6 (3 buy, 2 hold)", 3, 2, 0, projections.LabelStrongBuy},
		{"s just below 0.6 (8 of 14)", 8, 6, 0, projections.LabelModerateBuy},
		{"s exactly 0.2 (3 buy, 2 sell of 5)", 3, 0, 2, projections.LabelModerateBuy},
		{"s exactly 0.2 (1 buy, 4 hold)", 1, 4, 0, projections.LabelModerateBuy},
		{"s just below 0.2 (2 of 11)", 2, 9, 0, projections.LabelHold},
		{"s = 0", 1, 3, 1, projections.LabelHold},
		{"s just above -0.2 (-2 of 11)", 0, 9, 2, projections.LabelHold},
		{"s exactly -0.2 (2 buy, 3 sell)", 2, 0, 3, projections.LabelModerateSell},
		{"s just above -0.6 (-8 of 14)", 0, 6, 8, projections.LabelModerateSell},
		{"s exactly -0.6 (2 hold, 3 sell)", 0, 2, 3, projections.LabelStrongSell},
		{"all sell, s=-1", 0, 0, 4, projections.LabelStrongSell},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLedger(t, "LBL", "USD")
			n := 0
			for word, count := range map[string]int{"buy": tt.buy, "hold": tt.hold, "sell": tt.sell} {
				for range count {
					n++
					l.rate(fmt.Sprintf("%s-%d", word, n), word, "", "2025-09-01")
				}
			}
			c := showAt(t, l, "2025-09-11")
			assert.Equal(t, tt.want, c.Label)
			assert.Equal(t, []int{tt.buy + tt.hold + tt.sell, tt.buy, tt.hold, tt.sell}, []int{c.Analysts, c.Buy, c.Hold, c.Sell})
		})
	}
}

func TestBucketsAndMeanRating(t *testing.T) {
	tests := []struct {
		name            string
		words           []string
		buy, hold, sell int
		mean            string
	}{
		{"none", nil, 0, 0, 0, "null"},
		{"strong buy, buy, hold", []string{"strong_buy", "buy", "hold"}, 2, 1, 0, "2"},
		{"a third", []string{"buy", "buy", "hold"}, 2, 1, 0, "2.33"},
		{"one decimal", []string{"strong_buy", "buy"}, 2, 0, 0, "1.5"},
		{"half rounds away from zero (17/8 = 2.125)", []string{"buy", "buy", "buy", "buy", "buy", "buy", "buy", "hold"}, 7, 1, 0, "2.13"},
		{"strong sell", []string{"strong_sell"}, 0, 0, 1, "5"},
		{"broker words", []string{"outperform", "overweight", "accumulate", "neutral", "equal_weight", "market_perform", "sector_perform", "underperform", "underweight", "reduce"}, 3, 4, 3, "3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLedger(t, "MR", "USD")
			for i, w := range tt.words {
				l.rate(fmt.Sprintf("a%d", i), w, "", "2025-09-01")
			}
			c := showAt(t, l, "2025-09-11")
			assert.Equal(t, []int{tt.buy, tt.hold, tt.sell}, []int{c.Buy, c.Hold, c.Sell})
			assert.Equal(t, tt.mean, str(c.MeanRating))
		})
	}
}

func TestWindowEdges(t *testing.T) {
	asOf := when(t, "2025-09-11")
	at := func(d time.Duration) string { return domain.FormatTime(asOf.Add(d)) }
	tests := []struct {
		name   string
		window time.Duration
		build  func(l *ledger)
		want   int
	}{
		{"exactly at as_of - window is excluded", window90, func(l *ledger) { l.rate("a", "buy", "100", at(-window90)) }, 0},
		{"one nanosecond later is included", window90, func(l *ledger) { l.rate("a", "buy", "100", at(-window90+1)) }, 1},
		{"exactly at as_of is included", window90, func(l *ledger) { l.rate("a", "buy", "100", at(0)) }, 1},
		{"one nanosecond after as_of is not yet seen", window90, func(l *ledger) { l.rate("a", "buy", "100", at(1)) }, 0},
		{"window 0 includes a very old rating", 0, func(l *ledger) { l.rate("a", "buy", "100", "1990-01-01") }, 1},
		{"a recent revision refreshes an old rating", window90, func(l *ledger) {
			l.rate("a", "buy", "100", "2025-01-01")
			l.revise("a", "110", "2025-09-01")
		}, 1},
		{"a skipped revision refreshes nothing", window90, func(l *ledger) {
			l.rate("a", "buy", "100", "2025-01-01")
			l.withdraw("a", "2025-02-01")
			l.revise("a", "110", "2025-09-01")
		}, 0},
		{"a one-day window", 24 * time.Hour, func(l *ledger) {
			l.rate("a", "buy", "100", "2025-09-10T23:59:59.999999999Z")
			l.rate("b", "buy", "100", "2025-09-11T00:00:00Z")
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLedger(t, "WIN", "USD")
			tt.build(l)
			c := projections.Show(l.sym, l.events, projections.Query{AsOf: asOf, KnownAt: later, Window: tt.window})
			assert.Equal(t, tt.want, c.Analysts)
			assert.Equal(t, int(tt.window/(24*time.Hour)), c.WindowDays)
		})
	}
}

// figures are the target figures of a consensus, as printed.
type figures struct{ Targets, Mean, Median, High, Low, Stddev, Close, Upside string }

func figuresOf(c projections.Consensus) figures {
	return figures{fmt.Sprint(c.Targets), str(c.MeanTarget), str(c.MedianTarget), str(c.HighTarget),
		str(c.LowTarget), str(c.StddevTarget), str(c.Close), str(c.UpsidePct)}
}

func TestTargetFigures(t *testing.T) {
	babaTargets := strings.Fields("200 195 175 172 170 170 168 166 165 165 163 160 160 158 155 152.42 148 140")
	var hundreds []string
	for i := 1; i <= 300; i++ {
		hundreds = append(hundreds, fmt.Sprint(i))
	}
	tests := []struct {
		name    string
		targets []string
		close   string
		want    figures
	}{
		{"none", nil, "", figures{"0", "null", "null", "null", "null", "null", "null", "null"}},
		{"1 2 3 4: even median, stddev 1.118", []string{"1", "2", "3", "4"}, "", figures{"4", "2.5", "2.5", "4", "1", "1.12", "null", "null"}},
		{"order of input does not matter", []string{"4", "1", "3", "2"}, "", figures{"4", "2.5", "2.5", "4", "1", "1.12", "null", "null"}},
		{"1 2 3: odd median, stddev 0.8165", []string{"1", "2", "3"}, "", figures{"3", "2", "2", "3", "1", "0.82", "null", "null"}},
		{"one target", []string{"5"}, "4", figures{"1", "5", "5", "5", "5", "0", "4", "25"}},
		{"mean 0.005 rounds away from zero", []string{"0.005"}, "", figures{"1", "0.01", "0.01", "0.01", "0.01", "0", "null", "null"}},
		{"just below the half", []string{"0.004999"}, "", figures{"1", "0", "0", "0", "0", "0", "null", "null"}},
		{"high and low are rounded too", []string{"100.004", "100.006"}, "", figures{"2", "100.01", "100.01", "100.01", "100", "0", "null", "null"}},
		// The exact standard deviation is 0.465: the half rounds up, where a
		// float64 computation gives 0.46499999... and rounds down.
		{"stddev exactly at the half", []string{"272.41", "273.34"}, "", figures{"2", "272.88", "272.88", "273.34", "272.41", "0.47", "null", "null"}},
		{"stddev 9.295 at the half, four targets", []string{"257.6", "245.71", "244.16", "266.95"}, "", figures{"4", "253.61", "251.66", "266.95", "244.16", "9.3", "null", "null"}},
		{"largest amounts: no overflow", []string{"1000000000", "1000000000", "0.000001"}, "0.000001",
			figures{"3", "666666666.67", "1000000000", "1000000000", "0", "471404520.79", "0.000001", "66666666666666600"}},
		{"an upside beyond int64 hundredths", []string{"1000000000"}, "0.000001",
			figures{"1", "1000000000", "1000000000", "1000000000", "1000000000", "0", "0.000001", "99999999999999900"}},
		{"more targets than the stack buffer", hundreds, "", figures{"300", "150.5", "150.5", "300", "1", "86.6", "null", "null"}},
		{"upside negative", []string{"100"}, "103.2", figures{"1", "100", "100", "100", "100", "0", "103.2", "-3.1"}},
		{"upside from the exact mean, not the rounded one", []string{"100", "100.01", "100.01"}, "100", figures{"3", "100.01", "100.01", "100.01", "100", "0", "100", "0.01"}},
		{"upside rounds half away from zero when negative", []string{"199.99"}, "200", figures{"1", "199.99", "199.99", "199.99", "199.99", "0", "200", "-0.01"}},
		{"reference targets", babaTargets, "155.44", figures{"18", "165.69", "165", "200", "140", "14.14", "155.44", "6.59"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLedger(t, "TGT", "USD")
			for i, target := range tt.targets {
				l.rate(fmt.Sprintf("a%03d", i), "buy", target, "2025-09-01")
			}
			if tt.close != "" {
				l.close(tt.close, "2025-09-10")
			}
			assert.Equal(t, tt.want, figuresOf(showAt(t, l, "2025-09-11")))
		})
	}
}

func TestUpsideHalfAwayFromZero(t *testing.T) {
	// 100.005 / 100 - 1 = 0.005% exactly: 0.01; and 99.995 / 100 - 1 = -0.005%: -0.01.
	for target, want := range map[string]string{"100.005": "0.01", "99.995": "-0.01", "100.004999": "0", "99.995001": "0"} {
		l := newLedger(t, "UP", "USD")
		l.rate("a", "buy", target, "2025-09-01")
		l.close("100", "2025-09-10")
		assert.Equal(t, want, str(showAt(t, l, "2025-09-11").UpsidePct), "target %s", target)
	}
}

func TestFoldRules(t *testing.T) {
	t.Run("a target is replaced by a later revision", func(t *testing.T) {
		l := newLedger(t, "F", "USD")
		l.rate("a", "buy", "100", "2025-08-01")
		l.revise("a", "120", "2025-08-15")
		assert.Equal(t, "100", str(showAt(t, l, "2025-08-10").MeanTarget))
		assert.Equal(t, "120", str(showAt(t, l, "2025-08-15").MeanTarget))
	})
	t.Run("a rating without a target carries none, even after one with a target", func(t *testing.T) {
		l := newLedger(t, "F", "USD")
		l.rate("a", "buy", "100", "2025-08-01")
		l.revise("a", "120", "2025-08-05")
		l.rate("a", "hold", "", "2025-08-20")
		c := showAt(t, l, "2025-09-11")
		assert.Equal(t, []int{1, 0, 1, 0, 0}, []int{c.Analysts, c.Buy, c.Hold, c.Sell, c.Targets})
		assert.Nil(t, c.MeanTarget)
	})
	t.Run("a revision while no rating is held is skipped and explained", func(t *testing.T) {
		l := newLedger(t, "F", "USD")
		rev := l.revise("b", "150", "2025-08-01")
		c := showAt(t, l, "2025-09-11")
		assert.Equal(t, 0, c.Analysts)
		assert.Equal(t, projections.LabelNoConsensus, c.Label)
		require.Len(t, c.Explain, 1)
		assert.Equal(t, projections.StatusNoRating, c.Explain[0].Status)
		assert.Equal(t, []string{"event " + rev.String() + " (TargetRevised, 2025-08-01): target revision skipped: no rating held at its effective time"}, c.Explain[0].Notes)
	})
	t.Run("withdrawal, then a new rating", func(t *testing.T) {
		l := newLedger(t, "F", "USD")
		l.rate("a", "buy", "100", "2025-06-01")
		l.withdraw("a", "2025-07-01")
		l.rate("a", "sell", "", "2025-08-01")
		assert.Equal(t, 1, showAt(t, l, "2025-06-30").Buy)
		assert.Equal(t, 0, showAt(t, l, "2025-07-15").Analysts)
		c := showAt(t, l, "2025-09-11")
		assert.Equal(t, []int{1, 0, 0, 1, 0}, []int{c.Analysts, c.Buy, c.Hold, c.Sell, c.Targets})
	})
	t.Run("retracting a rating orphans its later revision", func(t *testing.T) {
		l := newLedger(t, "F", "USD")
		rating := l.rate("a", "buy", "100", "2025-08-01")
		revision := l.revise("a", "110", "2025-08-10")
		retraction := l.retract(rating, "wrong analyst")
		before := projections.Show(l.sym, l.events, projections.Query{AsOf: when(t, "2025-09-11"), KnownAt: l.recorded(retraction).Add(-time.Nanosecond), Window: window90})
		assert.Equal(t, "110", str(before.MeanTarget))
		c := showAt(t, l, "2025-09-11")
		assert.Equal(t, 0, c.Analysts)
		require.Len(t, c.Explain, 1)
		assert.Equal(t, projections.StatusNoRating, c.Explain[0].Status)
		assert.Equal(t, []string{
			"event " + rating.String() + " (RatingAdded, 2025-08-01) retracted by " + retraction.String() + ": wrong analyst",
			"event " + revision.String() + " (TargetRevised, 2025-08-10): target revision skipped: no rating held at its effective time",
		}, c.Explain[0].Notes)
	})
	t.Run("a retraction recorded after known_at is not applied", func(t *testing.T) {
		l := newLedger(t, "F", "USD")
		l.close("100", "2025-09-01")
		wrong := l.close("1000", "2025-09-02")
		retraction := l.recordAt(t0.Add(time.Hour)).retract(wrong, "typo")
		q := projections.Query{AsOf: when(t, "2025-09-11"), KnownAt: l.recorded(retraction).Add(-time.Nanosecond)}
		assert.Equal(t, "1000", str(projections.Show(l.sym, l.events, q).Close))
		q.KnownAt = l.recorded(retraction)
		assert.Equal(t, "100", str(projections.Show(l.sym, l.events, q).Close))
	})
	t.Run("events recorded after known_at are invisible", func(t *testing.T) {
		l := newLedger(t, "F", "USD")
		l.rate("a", "buy", "100", "2025-09-01")
		late := l.recordAt(t0.Add(time.Hour)).rate("b", "buy", "200", "2025-08-01") // a backfill
		q := projections.Query{AsOf: when(t, "2025-09-11"), KnownAt: l.recorded(late).Add(-time.Nanosecond), Window: window90}
		c := projections.Show(l.sym, l.events, q)
		assert.Equal(t, []string{"1", "100"}, []string{fmt.Sprint(c.Analysts), str(c.MeanTarget)})
		q.KnownAt = l.recorded(late)
		c = projections.Show(l.sym, l.events, q)
		assert.Equal(t, []string{"2", "150"}, []string{fmt.Sprint(c.Analysts), str(c.MeanTarget)})
		assert.Equal(t, q.KnownAt, c.KnownAt)
	})
	t.Run("closes at equal effective times: the later recorded wins", func(t *testing.T) {
		l := newLedger(t, "F", "USD")
		l.close("100", "2025-09-11")
		l.close("101", "2025-09-11")
		l.close("90", "2025-09-10") // backfilled, but earlier in the market
		c := showAt(t, l, "2025-09-11")
		assert.Equal(t, "101", str(c.Close))
		require.NotNil(t, c.CloseAt)
		assert.Equal(t, when(t, "2025-09-11"), *c.CloseAt)
	})
	t.Run("a close is printed exactly as recorded", func(t *testing.T) {
		l := newLedger(t, "F", "USD")
		l.close("155.4432", "2025-09-11")
		assert.Equal(t, "155.4432", str(showAt(t, l, "2025-09-12").Close))
	})
	t.Run("no close, no upside; no target, no upside", func(t *testing.T) {
		l := newLedger(t, "F", "USD")
		l.rate("a", "buy", "100", "2025-09-01")
		c := showAt(t, l, "2025-09-11")
		assert.Nil(t, c.Close)
		assert.Nil(t, c.CloseAt)
		assert.Nil(t, c.UpsidePct)
		l = newLedger(t, "F", "USD")
		l.rate("a", "buy", "", "2025-09-01")
		l.close("100", "2025-09-01")
		c = showAt(t, l, "2025-09-11")
		assert.Equal(t, "100", str(c.Close))
		assert.Nil(t, c.UpsidePct)
	})
	t.Run("a nil state gives an empty consensus", func(t *testing.T) {
		c := projections.Compute("NIL", nil, projections.Query{Window: window90})
		assert.Equal(t, projections.LabelNoConsensus, c.Label)
		assert.Equal(t, 90, c.WindowDays)
	})
}

func TestComputeUsesTheStatesPointInTime(t *testing.T) {
	l := newLedger(t, "PIT", "USD")
	l.rate("a", "buy", "100", "2025-09-01")
	asOf := time.Date(2025, 9, 11, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	state := domain.NewTimeline(l.events, later).Replay(asOf)
	c := projections.Compute(l.sym, state, projections.Query{Window: window90})
	assert.Equal(t, time.UTC, c.AsOf.Location())
	assert.True(t, c.AsOf.Equal(asOf))
	assert.Equal(t, later, c.KnownAt)
	assert.Equal(t, 1, c.Analysts)
}
