package projections_test

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/projections"
)

func (l *ledger) split(ratio, exDate string) uuid.UUID {
	l.tb.Helper()
	r, err := domain.ParseRatio(ratio)
	require.NoError(l.tb, err)
	at, err := domain.ParseSplitAt("at", exDate, later)
	require.NoError(l.tb, err)
	return l.add(domain.SplitRecorded{Instrument: l.sym, Ratio: r, EffectiveAt: at})
}

// The worked example of docs/methodology.md: a target of 480 published at a
// close of 400, then a 4-for-1 split and a close of 100.
func TestSplitWorkedExample(t *testing.T) {
	l := newLedger(t, "SPLT", "USD")
	l.rate("a@firm", "buy", "480", "2025-03-03")
	l.close("400", "2025-03-03")
	split := l.split("4:1", "2025-03-10")
	l.close("100", "2025-03-10")

	q := projections.Query{AsOf: when(t, "2025-03-10"), KnownAt: later, Window: projections.DefaultWindow, Explain: true}
	c := projections.Show(l.sym, l.events, q)
	assert.Equal(t, "120", str(c.MeanTarget))
	assert.Equal(t, "120", str(c.HighTarget))
	assert.Equal(t, "100", str(c.Close))
	assert.Equal(t, "20", str(c.UpsidePct))
	assert.True(t, c.Adjusted)
	require.Len(t, c.Splits, 1)
	assert.Equal(t, projections.AppliedSplit{EventID: split, Ratio: "4:1", EffectiveAt: time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)}, c.Splits[0])
	require.Len(t, c.Explain, 1)
	assert.Equal(t, "480", str(c.Explain[0].Target))
	assert.Equal(t, "1/4", *c.Explain[0].TargetFactor)
	assert.Equal(t, "120", str(c.Explain[0].AdjustedTarget))

	q.Unadjusted = true
	u := projections.Show(l.sym, l.events, q)
	assert.Equal(t, "480", str(u.MeanTarget))
	assert.Equal(t, "100", str(u.Close))
	assert.Equal(t, "380", str(u.UpsidePct))
	assert.False(t, u.Adjusted)
	assert.Empty(t, u.Splits)

	// The day before the ex-date, nothing is adjusted yet.
	q.Unadjusted, q.AsOf = false, when(t, "2025-03-09")
	before := projections.Show(l.sym, l.events, q)
	assert.Equal(t, "480", str(before.MeanTarget))
	assert.Equal(t, "400", str(before.Close))
	assert.Equal(t, "20", str(before.UpsidePct))
	assert.Empty(t, before.Splits)

	// A history is continuous on the basis of its last row; --basis each
	// gives each row its own.
	q.Explain = false
	rows := projections.History(l.sym, l.events, when(t, "2025-03-08"), when(t, "2025-03-10"), projections.Day, q)
	require.Len(t, rows, 3)
	for _, r := range rows {
		assert.Equal(t, "120", str(r.MeanTarget), "row %s", r.AsOf)
		assert.Equal(t, "20", str(r.UpsidePct), "row %s", r.AsOf)
	}
	assert.Equal(t, "100", str(rows[0].Close))
	q.EachBasis = true
	rows = projections.History(l.sym, l.events, when(t, "2025-03-08"), when(t, "2025-03-10"), projections.Day, q)
	assert.Equal(t, []string{"480", "480", "120"}, []string{str(rows[0].MeanTarget), str(rows[1].MeanTarget), str(rows[2].MeanTarget)})
	assert.Equal(t, []string{"400", "400", "100"}, []string{str(rows[0].Close), str(rows[1].Close), str(rows[2].Close)})
}

// A split recorded late changes answers only from its recording on; a
// retracted split stops applying from its retraction on.
func TestSplitBothTimes(t *testing.T) {
	l := newLedger(t, "LATE", "USD")
	l.rate("a@firm", "buy", "480", "2025-03-03")
	l.close("100", "2025-03-10")
	recordedSplit := t0.Add(time.Hour)
	split := l.recordAt(recordedSplit).split("4:1", "2025-03-10")
	retractedAt := t0.Add(2 * time.Hour)
	l.recordAt(retractedAt).retract(split, "no such split")

	at := func(knownAt time.Time) string {
		c := projections.Show(l.sym, l.events, projections.Query{AsOf: when(t, "2025-03-10"), KnownAt: knownAt, Window: projections.DefaultWindow})
		return str(c.MeanTarget) + " " + str(c.UpsidePct)
	}
	assert.Equal(t, "480 380", at(recordedSplit.Add(-time.Nanosecond)))
	assert.Equal(t, "120 20", at(recordedSplit))
	assert.Equal(t, "120 20", at(retractedAt.Add(-time.Nanosecond)))
	assert.Equal(t, "480 380", at(retractedAt))
}

// A target compared across a split is compared on the new basis (CONTRACT
// section 8): 130 after a 4:1 split raises a target of 480 (120 now).
func TestSplitActions(t *testing.T) {
	l := newLedger(t, "ACT", "USD")
	l.rate("a@firm", "buy", "480", "2025-03-03")
	l.split("4:1", "2025-03-10")
	raised := l.revise("a@firm", "130", "2025-03-11")
	maintained := l.revise("a@firm", "130", "2025-03-12")
	l.split("1:2", "2025-03-13")
	cut := l.revise("a@firm", "250", "2025-03-14")
	acts := domain.ActionsKnownAt(l.events, later)
	assert.Equal(t, domain.TargetRaised, acts[raised].Target)
	assert.Equal(t, domain.TargetMaintained, acts[maintained].Target)
	assert.Equal(t, domain.TargetCut, acts[cut].Target) // 130 is 260 after 1:2
}

// Random histories with splits, retractions and late recordings agree with
// an independent reference computed here, with rationals, from the raw
// events: at random (as_of, known_at) pairs, through a fresh fold and
// through the point-in-time index, on the answer's own basis and on a later
// one, adjusted and not. And row D of `history --basis each` equals show
// as of D.
func TestSplitsAgreeWithReference(t *testing.T) {
	runs := 300
	if testing.Short() {
		runs = 60
	}
	for seed := range runs {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		l := randomSplitHistory(t, rng)
		ix := domain.NewIndex(l.events)
		for range 8 {
			asOf := randomDay(rng).Add(time.Duration(rng.IntN(3)-1) * time.Hour * 12)
			knownAt := t0.Add(time.Duration(rng.IntN(len(l.events)+2)) * time.Second)
			if rng.IntN(4) == 0 {
				knownAt = later
			}
			window := []time.Duration{0, projections.DefaultWindow, 30 * 24 * time.Hour}[rng.IntN(3)]
			q := projections.Query{AsOf: asOf, KnownAt: knownAt, Window: window, Unadjusted: rng.IntN(5) == 0}
			if rng.IntN(3) == 0 {
				q.Basis = asOf.AddDate(0, 0, rng.IntN(400))
			}
			want := splitReference(l.events, q)
			got := projections.Show(l.sym, l.events, q)
			require.Equal(t, want, splitFigures(got), "seed %d, query %+v", seed, q)
			state := ix.State(q.AsOf, q.KnownAt)
			require.Equal(t, want, splitFigures(projections.Compute(l.sym, state, q)), "seed %d via the index", seed)
		}
		from := randomDay(rng)
		to := from.AddDate(0, 0, rng.IntN(60))
		q := projections.Query{KnownAt: later, Window: projections.DefaultWindow, EachBasis: true}
		for _, row := range projections.History(l.sym, l.events, from, to, projections.Day, q) {
			show := projections.Show(l.sym, l.events, projections.Query{AsOf: row.AsOf, KnownAt: later, Window: projections.DefaultWindow})
			require.Equal(t, splitFigures(show), splitFigures(row), "seed %d, row %s", seed, row.AsOf)
		}
	}
}

var splitRatios = []string{"2:1", "3:2", "4:1", "1:10", "10:1", "7:3", "1:3"}

func randomDay(rng *rand.Rand) time.Time {
	return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(500)).Add(24*time.Hour - time.Nanosecond)
}

// randomSplitHistory writes a random stream: ratings, revisions,
// withdrawals and closes effective out of order over 500 days, a few splits
// (some at the very instant of another event), and retractions of any of
// them, recorded one second apart from t0.
func randomSplitHistory(t *testing.T, rng *rand.Rand) *ledger {
	l := newLedger(t, "RND", "USD")
	analysts := []string{"a@x", "b@x", "c@y", "d@z"}
	words := []string{"strong_buy", "buy", "hold", "sell", "strong_sell"}
	price := func() string { return fmt.Sprintf("%d.%02d", 1+rng.IntN(500), rng.IntN(100)) }
	day := func() string { return randomDay(rng).Format(time.DateOnly) }
	n := 20 + rng.IntN(60)
	for range n {
		switch k := rng.IntN(20); {
		case k < 6:
			target := ""
			if rng.IntN(4) != 0 {
				target = price()
			}
			l.rate(analysts[rng.IntN(len(analysts))], words[rng.IntN(len(words))], target, day())
		case k < 9:
			l.revise(analysts[rng.IntN(len(analysts))], price(), day())
		case k < 10:
			l.withdraw(analysts[rng.IntN(len(analysts))], day())
		case k < 16:
			l.close(price(), day())
		case k < 18:
			at := randomDay(rng).Truncate(24 * time.Hour)
			if rng.IntN(3) == 0 && len(l.events) > 0 { // at another event's instant
				at = l.events[rng.IntN(len(l.events))].Event.Effective()
			}
			r, _ := domain.ParseRatio(splitRatios[rng.IntN(len(splitRatios))])
			l.add(domain.SplitRecorded{Instrument: l.sym, Ratio: r, EffectiveAt: at})
		default:
			if len(l.events) == 0 {
				continue
			}
			victim := l.events[rng.IntN(len(l.events))]
			if _, ok := victim.Event.(domain.EventRetracted); !ok {
				l.retract(victim.ID, "random")
			}
		}
	}
	return l
}

// splitFigures is what the reference computes, as text.
func splitFigures(c projections.Consensus) string {
	splits := []string{}
	for _, s := range c.Splits {
		splits = append(splits, s.Ratio+"@"+domain.FormatTime(s.EffectiveAt))
	}
	return fmt.Sprintf("analysts=%d buy=%d hold=%d sell=%d label=%s targets=%d mean=%s median=%s high=%s low=%s stddev=%s close=%s upside=%s adjusted=%t splits=%v",
		c.Analysts, c.Buy, c.Hold, c.Sell, c.Label, c.Targets, str(c.MeanTarget), str(c.MedianTarget), str(c.HighTarget),
		str(c.LowTarget), str(c.StddevTarget), str(c.Close), str(c.UpsidePct), c.Adjusted, splits)
}

// splitReference computes CONTRACT sections 3 and 7 from the raw events with
// rationals, independently of the product's fold and arithmetic.
func splitReference(events []domain.Recorded, q projections.Query) string {
	retracted := map[uuid.UUID]bool{}
	for _, r := range events {
		if x, ok := r.Event.(domain.EventRetracted); ok && !r.RecordedAt.After(q.KnownAt) {
			retracted[x.Retracted] = true
		}
	}
	var visible []domain.Recorded
	for _, r := range events {
		if _, ok := r.Event.(domain.EventRetracted); ok || r.RecordedAt.After(q.KnownAt) || retracted[r.ID] {
			continue
		}
		visible = append(visible, r)
	}
	slices.SortStableFunc(visible, func(a, b domain.Recorded) int {
		if c := a.Event.Effective().Compare(b.Event.Effective()); c != 0 {
			return c
		}
		return int(a.Version - b.Version)
	})
	basis := q.Basis
	if basis.IsZero() {
		basis = q.AsOf
	}
	factor := func(at time.Time) *big.Rat {
		f := big.NewRat(1, 1)
		if q.Unadjusted {
			return f
		}
		for _, r := range visible {
			if s, ok := r.Event.(domain.SplitRecorded); ok && at.Before(s.EffectiveAt) && !s.EffectiveAt.After(basis) {
				f.Mul(f, big.NewRat(s.Ratio.Old, s.Ratio.New))
			}
		}
		return f
	}
	type position struct {
		held     bool
		score    int
		target   *big.Rat
		targetAt time.Time
		active   time.Time
	}
	positions := map[domain.Analyst]*position{}
	get := func(a domain.Analyst) *position {
		if positions[a] == nil {
			positions[a] = &position{}
		}
		return positions[a]
	}
	var close *big.Rat
	var closeAt time.Time
	for _, r := range visible {
		if r.Event.Effective().After(q.AsOf) {
			break
		}
		switch e := r.Event.(type) {
		case domain.RatingAdded:
			p := get(e.Analyst)
			p.held, p.score, p.active, p.target = true, e.Rating.Score(), e.EffectiveAt, nil
			if e.Target != nil {
				p.target, p.targetAt = new(big.Rat).SetFrac64(e.Target.Micros(), 1_000_000), e.EffectiveAt
			}
		case domain.TargetRevised:
			if p := get(e.Analyst); p.held {
				p.target, p.targetAt, p.active = new(big.Rat).SetFrac64(e.Target.Micros(), 1_000_000), e.EffectiveAt, e.EffectiveAt
			}
		case domain.RatingWithdrawn:
			if p := get(e.Analyst); p.held {
				p.held = false
			}
		case domain.CloseRecorded:
			close, closeAt = new(big.Rat).SetFrac64(e.Price.Micros(), 1_000_000), e.EffectiveAt
		}
	}
	var n, buy, hold, sell int
	var targets []*big.Rat
	earliest := q.AsOf
	for _, p := range positions {
		if !p.held || (q.Window > 0 && !p.active.After(q.AsOf.Add(-q.Window))) {
			continue
		}
		n++
		switch {
		case p.score <= 2:
			buy++
		case p.score == 3:
			hold++
		default:
			sell++
		}
		if p.target != nil {
			targets = append(targets, new(big.Rat).Mul(p.target, factor(p.targetAt)))
			if p.targetAt.Before(earliest) {
				earliest = p.targetAt
			}
		}
	}
	label := "No Consensus"
	if n > 0 {
		s := new(big.Rat).SetFrac64(int64(buy-sell), int64(n))
		switch {
		case s.Cmp(big.NewRat(3, 5)) >= 0:
			label = "Strong Buy"
		case s.Cmp(big.NewRat(1, 5)) >= 0:
			label = "Moderate Buy"
		case s.Cmp(big.NewRat(-1, 5)) > 0:
			label = "Hold"
		case s.Cmp(big.NewRat(-3, 5)) > 0:
			label = "Moderate Sell"
		default:
			label = "Strong Sell"
		}
	}
	mean, median, high, low, stddev, closeText, upside := "null", "null", "null", "null", "null", "null", "null"
	var meanRat *big.Rat
	if len(targets) > 0 {
		slices.SortFunc(targets, func(a, b *big.Rat) int { return a.Cmp(b) })
		sum := new(big.Rat)
		for _, v := range targets {
			sum.Add(sum, v)
		}
		k := int64(len(targets))
		meanRat = new(big.Rat).Quo(sum, big.NewRat(k, 1))
		mean, high, low = round(meanRat, 2), round(targets[k-1], 2), round(targets[0], 2)
		if k%2 == 1 {
			median = round(targets[k/2], 2)
		} else {
			median = round(new(big.Rat).Quo(new(big.Rat).Add(targets[k/2-1], targets[k/2]), big.NewRat(2, 1)), 2)
		}
		variance := new(big.Rat)
		for _, v := range targets {
			d := new(big.Rat).Sub(v, meanRat)
			variance.Add(variance, d.Mul(d, d))
		}
		variance.Quo(variance, big.NewRat(k, 1))
		stddev = roundSqrt(variance)
	}
	if close != nil {
		f := factor(closeAt)
		if closeAt.Before(earliest) {
			earliest = closeAt
		}
		adjusted := new(big.Rat).Mul(close, f)
		closeText = round(adjusted, 6)
		if meanRat != nil {
			u := new(big.Rat).Quo(meanRat, adjusted)
			u.Sub(u, big.NewRat(1, 1))
			upside = round(u.Mul(u, big.NewRat(100, 1)), 2)
		}
	}
	splits := []string{}
	if !q.Unadjusted {
		for _, r := range visible {
			if s, ok := r.Event.(domain.SplitRecorded); ok && earliest.Before(s.EffectiveAt) && !s.EffectiveAt.After(basis) &&
				(len(targets) > 0 || close != nil) {
				splits = append(splits, s.Ratio.String()+"@"+domain.FormatTime(s.EffectiveAt))
			}
		}
	}
	return fmt.Sprintf("analysts=%d buy=%d hold=%d sell=%d label=%s targets=%d mean=%s median=%s high=%s low=%s stddev=%s close=%s upside=%s adjusted=%t splits=%v",
		n, buy, hold, sell, label, len(targets), mean, median, high, low, stddev, closeText, upside, !q.Unadjusted, splits)
}

// round writes r rounded to dp decimals, half away from zero, as plain
// text without superfluous zeros.
func round(r *big.Rat, dp int) string {
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(dp)), nil)
	x := new(big.Rat).Mul(r, new(big.Rat).SetInt(scale))
	neg := x.Sign() < 0
	x.Abs(x)
	q, rem := new(big.Int).QuoRem(x.Num(), x.Denom(), new(big.Int))
	if new(big.Int).Lsh(rem, 1).Cmp(x.Denom()) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	s := q.String()
	for len(s) <= dp {
		s = "0" + s
	}
	text := strings.TrimRight(strings.TrimRight(s[:len(s)-dp]+"."+s[len(s)-dp:], "0"), ".")
	if neg && text != "0" {
		text = "-" + text
	}
	return text
}

// roundSqrt writes the square root of v (v >= 0) rounded to 2 dp, half
// away from zero: the k with (k - 1/2)^2 <= 10^4 v < (k + 1/2)^2, found
// from a float estimate and settled with exact comparisons.
func roundSqrt(v *big.Rat) string {
	x := new(big.Rat).Mul(v, big.NewRat(10_000, 1))
	f, _ := x.Float64()
	k := int64(0)
	if f > 0 {
		k = int64(sqrtFloat(f) + 0.5)
	}
	fits := func(k int64) (low, high bool) {
		lo := new(big.Rat).SetFrac64(2*k-1, 2)
		hi := new(big.Rat).SetFrac64(2*k+1, 2)
		return k == 0 || new(big.Rat).Mul(lo, lo).Cmp(x) <= 0, new(big.Rat).Mul(hi, hi).Cmp(x) > 0
	}
	for range 4 {
		low, high := fits(k)
		switch {
		case !low:
			k--
		case !high:
			k++
		}
	}
	return round(new(big.Rat).SetFrac64(k, 100), 2)
}

func sqrtFloat(f float64) float64 {
	z := new(big.Float).SetPrec(200).SetFloat64(f)
	r, _ := z.Sqrt(z).Float64()
	return r
}

// An instrument with two splits and a retracted third, recorded at
// different times (the second backfilled late), gives the reference's
// answer at every (as_of, known_at) around them, and the hand-computed one
// at the points that matter.
func TestTwoSplitsAndARetractedThird(t *testing.T) {
	l := newLedger(t, "TWO", "USD")
	l.rate("a@x", "buy", "600", "2025-01-06")
	l.rate("b@x", "hold", "450", "2025-01-07")
	l.close("500", "2025-01-07")
	first := t0.Add(10 * time.Second)
	l.recordAt(first).split("2:1", "2025-02-03") // 600 -> 300, 450 -> 225, 500 -> 250
	l.close("260", "2025-02-03")
	l.revise("a@x", "320", "2025-02-10") // raised against 300
	third := l.recordAt(t0.Add(20*time.Second)).split("10:1", "2025-03-03")
	retracted := t0.Add(30 * time.Second)
	l.recordAt(retracted).retract(third, "no such split")
	l.close("265", "2025-03-03")
	second := t0.Add(40 * time.Second)
	l.recordAt(second).split("3:2", "2025-02-24") // recorded after the fact
	l.close("180", "2025-03-04")

	asOfs := []string{"2025-01-07", "2025-02-02", "2025-02-03", "2025-02-10", "2025-02-23", "2025-02-24",
		"2025-03-02", "2025-03-03", "2025-03-04"}
	knownAts := []time.Time{first.Add(-time.Nanosecond), first, t0.Add(20 * time.Second), retracted.Add(-time.Nanosecond),
		retracted, second.Add(-time.Nanosecond), second, later}
	for _, asOf := range asOfs {
		for _, knownAt := range knownAts {
			for _, unadjusted := range []bool{false, true} {
				q := projections.Query{AsOf: when(t, asOf), KnownAt: knownAt, Window: projections.DefaultWindow, Unadjusted: unadjusted}
				require.Equal(t, splitReference(l.events, q), splitFigures(projections.Show(l.sym, l.events, q)),
					"as of %s known at %s unadjusted %t", asOf, knownAt, unadjusted)
			}
		}
	}

	show := func(asOf string, knownAt time.Time) projections.Consensus {
		return projections.Show(l.sym, l.events, projections.Query{AsOf: when(t, asOf), KnownAt: knownAt, Window: projections.DefaultWindow})
	}
	// Known now, as of 2025-03-04: targets 320 (after the 2:1) and 450
	// (before it), both then through the 3:2: 320 x 2/3 and 450 x 1/2 x 2/3.
	c := show("2025-03-04", later)
	assert.Equal(t, "213.33", str(c.HighTarget)) // 213.333.. and 150: mean 181.666..
	assert.Equal(t, "150", str(c.LowTarget))
	assert.Equal(t, "181.67", str(c.MeanTarget))
	assert.Equal(t, "180", str(c.Close))
	assert.Equal(t, "0.93", str(c.UpsidePct))
	require.Len(t, c.Splits, 2)
	// While the 10:1 stood (known between its recording and retraction),
	// everything before 2025-03-03 was divided by ten more, and the 3:2 was
	// not known yet: the close of 260 (the 265 was recorded later) is 26,
	// the targets 320 / 10 and 450 / 2 / 10, mean 27.25.
	c = show("2025-03-03", t0.Add(25*time.Second))
	assert.Equal(t, "26", str(c.Close))
	assert.Equal(t, "27.25", str(c.MeanTarget))
	assert.Equal(t, "4.81", str(c.UpsidePct))
	assert.Equal(t, []string{"2:1", "10:1"}, []string{c.Splits[0].Ratio, c.Splits[1].Ratio})
}

// Each row of a daily history on the last row's basis gives the
// reference's answer while splits enter and leave the window: a split at
// the start of a day (a rating at that very instant is already on its
// basis), one at the end of a day (the instant of a rating and a close,
// and 30 and 90 days later exactly the window's start) and one half an
// hour into a day (after one revision that day, before another), with no
// expiry, a 30-day and the default window.
func TestHistoryRowsAsSplitsCrossTheWindow(t *testing.T) {
	l := newLedger(t, "EDGE", "USD")
	l.rate("a@x", "buy", "100", "2024-03-01")
	l.rate("b@x", "hold", "51", "2024-03-02T00:00:00Z")
	l.close("49.99", "2024-03-02")
	l.rate("c@y", "sell", "47.5", "2024-03-10")
	l.split("2:1", "2024-03-02")
	l.add(domain.SplitRecorded{Instrument: l.sym, Ratio: domain.Ratio{New: 3, Old: 2}, EffectiveAt: when(t, "2024-04-15")})
	l.revise("a@x", "33", "2024-04-15")
	l.close("16.01", "2024-04-15")
	l.rate("d@z", "buy", "20", "2024-05-20")
	l.revise("c@y", "15", "2024-06-10T00:10:00Z")
	l.add(domain.SplitRecorded{Instrument: l.sym, Ratio: domain.Ratio{New: 1, Old: 3}, EffectiveAt: when(t, "2024-06-10T00:30:00Z")})
	l.revise("d@z", "61", "2024-06-10T18:00:00Z")
	for _, window := range []time.Duration{0, 30 * 24 * time.Hour, projections.DefaultWindow} {
		q := projections.Query{KnownAt: later, Window: window}
		rows := projections.History(l.sym, l.events, when(t, "2024-02-28"), when(t, "2024-09-30"), projections.Day, q)
		basis := rows[len(rows)-1].AsOf
		for _, row := range rows {
			want := splitReference(l.events, projections.Query{AsOf: row.AsOf, KnownAt: later, Window: window, Basis: basis})
			require.Equal(t, want, splitFigures(row), "window %s, row %s", window, row.AsOf)
		}
	}
}
