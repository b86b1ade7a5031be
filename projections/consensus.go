package projections

import (
	"math/big"
	"math/bits"
	"slices"
	"sync"
	"time"

	"github.com/consensus-ledger/consensus/domain"
)

// DefaultWindow is the contract's default consensus window (--window 90d): an
// analyst whose latest rating or target is older no longer counts, because an
// opinion nobody has refreshed for a quarter says little about today.
const DefaultWindow = 90 * 24 * time.Hour

// The labels a consensus can carry (contract section 3, rule 9). They are
// exported so that renderers (text, CSV, charts) can match on them without
// repeating the strings.
const (
	LabelStrongBuy    = "Strong Buy"
	LabelModerateBuy  = "Moderate Buy"
	LabelHold         = "Hold"
	LabelModerateSell = "Moderate Sell"
	LabelStrongSell   = "Strong Sell"
	LabelNoConsensus  = "No Consensus"
)

// Query says which consensus to compute: the valid time (AsOf), the
// transaction time (KnownAt), the window and whether to explain. Callers set
// every field explicitly (both times default to now on the command line, the
// window to DefaultWindow), so a projection never reads a clock itself.
type Query struct {
	// AsOf is the valid time V: events effective after it are not yet seen.
	AsOf time.Time
	// KnownAt is the transaction time T: events recorded after it are unknown.
	KnownAt time.Time
	// Window is how recent an analyst's latest rating or target event must be
	// to count; zero (or negative) means no expiry. Callers normally pass
	// DefaultWindow; it is reported in whole days as window_days.
	Window time.Duration
	// Explain asks for one AnalystExplain per analyst in Consensus.Explain.
	Explain bool
	// Unadjusted asks for prices and targets as published, not adjusted for
	// splits (CONTRACT section 7, --unadjusted).
	Unadjusted bool
	// Basis is the time on whose share basis prices and targets are given:
	// every split effective after a value and by Basis adjusts it. Zero
	// means the answer's own as_of (show). History sets it to its last
	// row's as_of unless EachBasis is set.
	Basis time.Time
	// EachBasis makes History give every row the basis of its own as_of
	// (--basis each), so that each row equals show at that as_of.
	EachBasis bool
	// Top, when set, counts only the analysts that made its cut (show --top
	// N, CONTRACT section 10): everyone else is left out of the figures,
	// and --explain says so. It is reported in Consensus.Top.
	Top *Top
	// Tops, when set, gives History's row i the cut Tops[i] (history --top
	// N: each row's cut as of its own date); one per RowTimes entry.
	Tops []*Top
}

// Consensus is the analyst consensus of one instrument at one point in time.
// Its JSON encoding is the product's public contract (CONTRACT section 4):
// the field names and their order are fixed, figures are bare JSON numbers
// and absent figures are null, so scripts can rely on every key being there.
type Consensus struct {
	// Instrument is the symbol asked about, such as BABA.
	Instrument string `json:"instrument"`
	// Currency is the instrument's currency, which every price and target
	// below is in; empty for an instrument without events.
	Currency string `json:"currency"`
	// AsOf is the valid time of the answer, in UTC (RFC 3339 with as many
	// fractional digits as needed, such as 2025-09-11T23:59:59.999999999Z).
	AsOf time.Time `json:"as_of"`
	// KnownAt is the transaction time of the answer, in UTC: asking again
	// with the same AsOf and KnownAt always gives the same answer.
	KnownAt time.Time `json:"known_at"`
	// WindowDays is the window in whole days; 0 means no expiry.
	WindowDays int `json:"window_days"`

	// Analysts counts the active analysts (rule 4); Buy, Hold and Sell
	// split them by bucket (strong ratings count in their side's bucket).
	Analysts int `json:"analysts"`
	Buy      int `json:"buy"`
	Hold     int `json:"hold"`
	Sell     int `json:"sell"`
	// MeanRating is the mean I/B/E/S score (1 strong buy to 5 strong sell)
	// to 2 dp, null without active analysts.
	MeanRating *Decimal `json:"mean_rating"`
	// Label summarises the buckets (rule 9): one of the Label constants.
	Label string `json:"label"`

	// Targets counts the active analysts with a price target; the target
	// figures are computed over them exactly and rounded to 2 dp half away
	// from zero, and are null when Targets is 0. MedianTarget is the mean of
	// the two middle targets for an even count; StddevTarget is the
	// population standard deviation.
	Targets      int      `json:"targets"`
	MeanTarget   *Decimal `json:"mean_target"`
	MedianTarget *Decimal `json:"median_target"`
	HighTarget   *Decimal `json:"high_target"`
	LowTarget    *Decimal `json:"low_target"`
	StddevTarget *Decimal `json:"stddev_target"`

	// Close is the latest visible close (rule 7), printed exactly as
	// recorded rather than rounded, and CloseAt its effective time in UTC;
	// both null before the first close.
	Close   *Decimal   `json:"close"`
	CloseAt *time.Time `json:"close_at"`
	// UpsidePct is (exact mean target / close - 1) x 100 to 2 dp (rule 8),
	// negative when the targets are below the close; null without a target
	// or a close. It uses the unrounded mean, so it can differ in the last
	// digit from what the printed mean would give.
	UpsidePct *Decimal `json:"upside_pct"`

	// Adjusted says whether prices and targets are adjusted for splits
	// (CONTRACT section 7); Splits lists the splits that adjusted at least
	// one figure above (never null: [] when none did).
	Adjusted bool           `json:"adjusted"`
	Splits   []AppliedSplit `json:"splits"`

	// Top is the cut of `show --top N` the figures were computed over,
	// left out of the JSON when the question did not ask for one.
	Top *Top `json:"top,omitempty"`

	// Explain is set only when the query asks for it (one entry per
	// analyst, sorted by analyst id), and is left out of the JSON when
	// empty, so the contract's plain shape stays exactly as documented.
	Explain []AnalystExplain `json:"explain,omitempty"`
}

// Show computes the consensus of one instrument from its history (its stream,
// in stream order): it selects what was known at q.KnownAt, folds it up to
// q.AsOf and computes the figures.
func Show(symbol domain.Symbol, history []domain.Recorded, q Query) Consensus {
	return Compute(symbol, domain.NewTimeline(history, q.KnownAt).Replay(q.AsOf), q)
}

// Compute turns an already replayed state into the consensus (contract
// section 3, rules 4 to 9). The point in time is the state's own (state.AsOf
// and state.KnownAt), so a Cursor's state can be passed as it advances; of q
// only Window and Explain are used. Compute copies what it reports, so the
// result stays valid when the state is folded further. A nil state gives an
// empty consensus.
func Compute(symbol domain.Symbol, state *domain.State, q Query) Consensus {
	c := empty(symbol, q)
	if state == nil {
		return c
	}
	return c.compute(state, q, adjustmentFor(state, q))
}

// empty is the answer for symbol before any figure: what a nil state gives.
func empty(symbol domain.Symbol, q Query) Consensus {
	return Consensus{Instrument: string(symbol), WindowDays: windowDays(q.Window), Label: LabelNoConsensus,
		Adjusted: !q.Unadjusted, Splits: noSplits, Top: q.Top}
}

// compute is Compute with the adjustment given: a history on one basis
// works its adjustment out once for all its rows.
func (c Consensus) compute(state *domain.State, q Query, adj adjustment) Consensus {
	c.Currency = string(state.Currency)
	c.AsOf, c.KnownAt = state.AsOf.UTC(), state.KnownAt.UTC()

	var buf [256]int64 // enough for most instruments without allocating
	targets := buf[:0]
	scores := int64(0)
	needsFactors := len(adj.splits) > 0
	// firstSpan is the span of the earliest value used: the splits from it
	// on adjusted at least one figure (spans grow with time).
	firstSpan := adj.unadjusted()
	cutoff := windowStart(state.AsOf, q.Window)
	// Every target counted was set within the window, (cutoff, as_of] (see
	// active), so its span is from windowSpan to targetSpan: when they are
	// the same (no split within the window), it is found once for the row.
	// Otherwise spans[i] says which splits adjust targets[i].
	var windowSpan, targetSpan uint8
	perTarget := false
	if needsFactors && len(state.Analysts) > 0 {
		targetSpan = adj.span(state.AsOf)
		if q.Window > 0 {
			windowSpan = adj.span(cutoff)
		}
		perTarget = windowSpan != targetSpan
	}
	var spanBuf [256]uint8
	spans := spanBuf[:0]
	only := q.Top.Only() // nil without --top: the map lookup below is then skipped
	for _, p := range state.Analysts {
		if !active(p, cutoff, q.Window) || only != nil && !only[p.Analyst] {
			continue
		}
		c.Analysts++
		scores += int64(p.Rating.Score())
		switch p.Rating.Bucket() {
		case domain.BucketBuy:
			c.Buy++
		case domain.BucketHold:
			c.Hold++
		default:
			c.Sell++
		}
		if p.Target != nil {
			targets = append(targets, p.Target.Micros())
			if perTarget {
				// The target was set by the analyst's latest applied rating
				// or target event, effective at LastActive.
				span := adj.spanBetween(p.LastActive, windowSpan, targetSpan)
				spans, firstSpan = append(spans, span), min(firstSpan, span)
			}
		}
	}
	if !perTarget {
		spans = nil
		if len(targets) > 0 {
			firstSpan = targetSpan
		}
	}
	c.Label = label(c.Buy, c.Sell, c.Analysts)
	if c.Analysts == 0 && state.Close == nil {
		return c.explained(state, q, adj)
	}

	// One block holds every figure, rather than one allocation each.
	f := new(figureBlock)
	if c.Analysts > 0 {
		c.MeanRating = f.set(meanRating, hundredths(roundDiv64(scores*100, int64(c.Analysts))))
	}
	closeSpan := adj.unadjusted()
	closeMicros, hasClose := int64(0), state.Close != nil
	if hasClose {
		f.closeAt = state.Close.At.UTC()
		closeMicros = state.Close.Price.Micros()
		if needsFactors {
			closeSpan = adj.span(state.Close.At)
			firstSpan = min(firstSpan, closeSpan)
		}
		c.Close, c.CloseAt = f.set(closePrice, adjustedMoney(state.Close.Price, adj.factors[closeSpan])), &f.closeAt
	}
	switch {
	case len(targets) == 0:
	case firstSpan != adj.unadjusted():
		// Over a common denominator the adjusted values are integers: the
		// same arithmetic then applies, unless they outgrow it.
		if mult, scale, closeScaled, ok := adj.scale(targets, spans, targetSpan, closeMicros, closeSpan); ok {
			c.setTargets(f, targets, mult, scale, closeScaled, hasClose)
		} else {
			c.setAdjustedTargets(f, adj.targets(targets, spans, targetSpan), state.Close, adj.factors[closeSpan])
		}
	default:
		c.setTargets(f, targets, 1, 1, closeMicros, hasClose)
	}
	if needsFactors {
		c.Splits = adj.listed[firstSpan:]
	}
	return c.explained(state, q, adj)
}

// noSplits is the empty list of applied splits, shared: answers never
// modify it.
var noSplits = []AppliedSplit{}

// explained adds the explanation when the query asks for it.
func (c Consensus) explained(state *domain.State, q Query, adj adjustment) Consensus {
	if q.Explain {
		c.Explain = explain(state, q.Window, adj, q.Top)
	}
	return c
}

// figureBlock holds the figures of one Consensus, which points into it.
type figureBlock struct {
	figures [figureCount]Decimal
	closeAt time.Time
}

// The figures of a figureBlock.
const (
	meanRating = iota
	closePrice
	meanTarget
	medianTarget
	highTarget
	lowTarget
	stddevTarget
	upsidePct
	figureCount
)

func (f *figureBlock) set(i int, d Decimal) *Decimal {
	f.figures[i] = d
	return &f.figures[i]
}

// windowDays reports a window in whole days, 0 meaning no expiry.
func windowDays(w time.Duration) int {
	if w <= 0 {
		return 0
	}
	return int(w / (24 * time.Hour))
}

// windowStart is the exclusive start of the window (asOf - window, asOf].
func windowStart(asOf time.Time, window time.Duration) time.Time {
	return asOf.Add(-window)
}

// active reports whether a position counts (rule 4): a rating is held and the
// latest rating or target event is effective after the window's start, or
// the window is 0 (no expiry). The fold never applies an event after as_of,
// so only the start needs checking.
func active(p *domain.Position, start time.Time, window time.Duration) bool {
	return p.Held && (window <= 0 || p.LastActive.After(start))
}

// label applies rule 9 to s = (buy - sell) / n with integer comparisons only,
// so the thresholds are met exactly (3 buys and 2 sells of 5 is 0.2, not
// 0.19999...).
func label(buy, sell, n int) string {
	if n == 0 {
		return LabelNoConsensus
	}
	d5 := 5 * (buy - sell) // s >= k/5  <=>  5(buy - sell) >= k n
	switch {
	case d5 >= 3*n:
		return LabelStrongBuy
	case d5 >= n:
		return LabelModerateBuy
	case d5 > -n:
		return LabelHold
	case d5 > -3*n:
		return LabelModerateSell
	default:
		return LabelStrongSell
	}
}

// microsPerHundredth converts millionths (domain.Money) to hundredths.
const microsPerHundredth = domain.MoneyScale / 100

// setTargets computes the target figures (rule 6) and the upside (rule 8)
// from the active targets into f: each target is t[i] x mult / scale
// millionths, and the close (when hasClose) close / scale millionths.
// Without splits mult and scale are 1; with them, adjustment.scale sets the
// common denominator of the adjusted values, and mult when every target
// has the same factor (else it multiplies each target and mult is 1).
// Every t[i] is below maxScaled, the sum of any two times mult fits in
// int64 (see maxMult), and scale is at most maxScale. It reorders t.
func (c *Consensus) setTargets(f *figureBlock, t []int64, mult, scale, close int64, hasClose bool) {
	low, high, lower, upper := orderStats(t)
	n := int64(len(t))
	c.Targets = len(t)
	perHundredth := microsPerHundredth * scale
	c.LowTarget = f.set(lowTarget, hundredths(roundDiv64(low*mult, perHundredth)))
	c.HighTarget = f.set(highTarget, hundredths(roundDiv64(high*mult, perHundredth)))
	if n%2 == 1 {
		c.MedianTarget = f.set(medianTarget, hundredths(roundDiv64(upper*mult, perHundredth)))
	} else {
		c.MedianTarget = f.set(medianTarget, hundredths(roundDiv64((lower+upper)*mult, 2*perHundredth)))
	}

	// S1 and S2 (sums of targets and of their squares) in 128-bit integers:
	// a target is below 2^50 (maxScaled), so neither sum can overflow for
	// any realistic number of analysts (up to 2^28), and no big.Int is
	// needed per target. The few big.Int operations below reuse pooled
	// storage. The sums of t[i] x mult are mult and mult^2 times those of
	// t[i]: one multiplication each, none per target.
	var s1hi, s1lo, s2hi, s2lo, carry uint64
	for _, v := range t {
		s1lo, carry = bits.Add64(s1lo, uint64(v), 0)
		s1hi += carry
		hi, lo := bits.Mul64(uint64(v), uint64(v))
		s2lo, carry = bits.Add64(s2lo, lo, 0)
		s2hi += hi + carry
	}
	z := scratchPool.Get().(*scratch)
	defer scratchPool.Put(z)
	s1, s2 := z.setUint128(&z.s1, s1hi, s1lo), z.setUint128(&z.s2, s2hi, s2lo)
	if mult != 1 {
		m := z.n.SetInt64(mult)
		s1 = z.s1.Mul(z.q.Set(s1), m)
		s2 = z.s2.Mul(z.q.Set(s2), z.r.Mul(m, m))
	}
	bn := z.n.SetInt64(n)

	// mean = S1 / n units = S1 / (n * 10^4 * scale) hundredths.
	den := z.den.Mul(bn, z.tmp.SetInt64(perHundredth))
	c.MeanTarget = f.set(meanTarget, bigHundredths(z.roundDiv(s1, den)))

	// Population variance is (n*S2 - S1^2) / n^2 (millionths squared), so the
	// standard deviation in hundredths is sqrt(A) / D with A = n*S2 - S1^2
	// and D = n * 10^4. With k = floor(sqrt(A) / D), rounding half up gives
	// k + 1 exactly when sqrt(A) / D >= k + 1/2, that is when
	// (2k + 1)^2 * D^2 <= 4A: a comparison of integers, no float anywhere.
	// (No result aliases an operand of Mul, Quo or Sqrt: big.Int would then
	// allocate a fresh result.)
	a := z.a.Mul(bn, s2)
	a.Sub(a, z.tmp.Mul(s1, s1))
	k := z.k.Quo(z.tmp.Sqrt(a), den)
	odd := z.r.Lsh(k, 1) // 2k + 1
	odd.Add(odd, bigOne)
	lhs := z.q.Mul(odd, den)
	if z.tmp.Mul(lhs, lhs).Cmp(a.Lsh(a, 2)) <= 0 {
		k.Add(k, bigOne)
	}
	c.StddevTarget = f.set(stddevTarget, bigHundredths(k))

	// upside in hundredths of a percent = (S1/n / close - 1) * 100 * 100
	// = (S1 - n*close) * 10^4 / (n*close), from the exact mean (the scale
	// cancels out).
	if hasClose {
		nc := z.a.Mul(bn, z.tmp.SetInt64(close))
		diff := z.k.Sub(s1, nc)
		num := z.s2.Mul(diff, z.tmp.SetInt64(10_000))
		c.UpsidePct = f.set(upsidePct, bigHundredths(z.roundDiv(num, nc)))
	}
}

// orderStats returns what sorting t would put first (low), last (high) and
// in the middle (lower and upper: t[(n-1)/2] and t[n/2], the same for an
// odd count), by selection rather than by sorting: a quickselect puts the
// upper middle in place with everything before it no greater, and one
// pass over each side finds the rest. It reorders t, which is not empty.
func orderStats(t []int64) (low, high, lower, upper int64) {
	k := len(t) / 2
	selectNth(t, k)
	upper = t[k]
	low, lower, high = upper, t[0], upper
	for _, v := range t[:k] {
		low, lower = min(low, v), max(lower, v)
	}
	if len(t)%2 == 1 {
		lower = upper
	}
	for _, v := range t[k+1:] {
		high = max(high, v)
	}
	return low, high, lower, upper
}

// selectNth reorders t so that t[k] is what sorting would put there, with
// no greater value before it and no smaller one after: a quickselect on a
// median-of-three pivot, whose ranges shrink to a sort of a few values.
// Should the pivots be unlucky often enough to make it quadratic, it sorts
// what remains instead, so it never costs more than a sort.
func selectNth(t []int64, k int) {
	lo, hi := 0, len(t)-1
	for budget := 2 * bits.Len(uint(len(t))); hi-lo > 12; budget-- {
		if budget == 0 {
			slices.Sort(t[lo : hi+1])
			return
		}
		mid := lo + (hi-lo)/2
		if t[mid] < t[lo] {
			t[mid], t[lo] = t[lo], t[mid]
		}
		if t[hi] < t[lo] {
			t[hi], t[lo] = t[lo], t[hi]
		}
		if t[hi] < t[mid] {
			t[hi], t[mid] = t[mid], t[hi]
		}
		// Hoare's partition around the median of the three: now
		// t[lo] <= pivot <= t[hi], which stops both scans within the
		// range; afterwards t[lo..j] <= pivot <= t[i..hi], and anything
		// between equals it.
		pivot := t[mid]
		i, j := lo, hi
		for i <= j {
			for t[i] < pivot {
				i++
			}
			for pivot < t[j] {
				j--
			}
			if i <= j {
				t[i], t[j] = t[j], t[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return
		}
	}
	slices.Sort(t[lo : hi+1])
}

// scratch is storage for the big.Int arithmetic of setTargets, pooled so
// that a history of thousands of rows does not allocate it for each row.
type scratch struct {
	n, s1, s2, den, a, k, tmp, q, r big.Int
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

var bigOne = big.NewInt(1)

// setUint128 sets v to hi*2^64 + lo, using z.tmp.
func (z *scratch) setUint128(v *big.Int, hi, lo uint64) *big.Int {
	v.SetUint64(hi)
	v.Lsh(v, 64)
	return v.Add(v, z.tmp.SetUint64(lo))
}

// roundDiv64 returns num/den rounded half away from zero; den > 0.
func roundDiv64(num, den int64) int64 {
	q, r := num/den, num%den // truncated toward zero
	if r < 0 {
		r = -r
	}
	if 2*r >= den {
		if num < 0 {
			q--
		} else {
			q++
		}
	}
	return q
}

// roundDiv returns num/den rounded half away from zero; den > 0. The result
// is z.q, valid until the next call.
func (z *scratch) roundDiv(num, den *big.Int) *big.Int {
	return domain.RoundDivInto(&z.q, &z.r, num, den)
}

// Active is rule 4 for one position at asOf: whether it counts in a
// consensus with this window. Reports that select ratings the way a
// consensus does (disclosures with --window) call it rather than restate it.
func Active(p *domain.Position, asOf time.Time, window time.Duration) bool {
	return active(p, windowStart(asOf, window), window)
}
