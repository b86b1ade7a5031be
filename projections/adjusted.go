package projections

import (
	"math"
	"math/big"
	"math/bits"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
)

// AppliedSplit is a split an answer's figures were adjusted for (CONTRACT
// section 7), as `show --json` lists it.
type AppliedSplit struct {
	EventID     uuid.UUID `json:"event_id"`
	Ratio       string    `json:"ratio"`
	EffectiveAt time.Time `json:"effective_at"`
}

// adjustment is how one answer adjusts money values for splits: every value
// effective at t is multiplied by M/N for each visible split effective in
// (t, basis]. Which splits those are depends only on where t falls among
// the splits, its span, so the answer computes one factor per span, not one
// per value. The zero value adjusts nothing.
type adjustment struct {
	splits domain.Splits // visible splits effective by the basis; nil when unadjusted
	basis  time.Time
	// factors[k] is the product of splits[k:]: the factor of a value of
	// span k. factors[len(splits)] is 1.
	factors []domain.Factor
	// listed[k:] is what answers list as the splits applied when the
	// earliest value they use is of span k, shared by the answers (which never modify it).
	listed []AppliedSplit
	// denominator is the least common denominator of the factors and
	// mult[k] what a value of span k is multiplied by over it; mult is nil
	// when they outgrow setTargets' integer bounds (see common).
	denominator int64
	mult        []int64
}

// maxSpans bounds the splits one answer adjusts for, so that a span fits in
// a byte; an instrument never has more splits than that in the time of one
// answer (a split a year for 250 years).
const maxSpans = 255

// adjustmentFor is the adjustment of a consensus computed from state: on
// the basis q.Basis, or the state's own as_of when q.Basis is zero, with
// the splits visible at the state's knowledge time; none when q asks for
// values as published.
func adjustmentFor(state *domain.State, q Query) adjustment {
	basis := q.Basis
	if basis.IsZero() {
		basis = state.AsOf
	}
	a := adjustment{basis: basis, factors: one}
	if q.Unadjusted || len(state.Splits) == 0 {
		return a
	}
	n := len(state.Splits)
	for i, s := range state.Splits {
		if s.At.After(basis) {
			n = i
			break
		}
	}
	a.splits = state.Splits[max(0, n-maxSpans):n] // the latest ones, should there be more
	if len(a.splits) == 0 {
		return a
	}
	a.factors = make([]domain.Factor, len(a.splits)+1)
	a.listed = make([]AppliedSplit, len(a.splits))
	for k, s := range a.splits {
		a.factors[k] = a.splits[k:].Factor(s.At.Add(-1), basis)
		a.listed[k] = appliedSplit(s)
	}
	a.common()
	return a
}

// one is the factors of an adjustment without splits.
var one = []domain.Factor{{}}

// span is where t falls among the splits: the index of the first split
// after t, whose factor (factors[span]) adjusts a value effective at t.
func (a adjustment) span(t time.Time) uint8 { return a.spanBetween(t, 0, a.unadjusted()) }

// spanBetween is the span of a t known to be of a span from lo to hi: it
// compares t with those splits only.
func (a *adjustment) spanBetween(t time.Time, lo, hi uint8) uint8 {
	k := hi
	for k > lo && a.splits[k-1].At.After(t) {
		k--
	}
	return k
}

// unadjusted is the span of a value no split adjusts.
func (a adjustment) unadjusted() uint8 { return uint8(len(a.splits)) }

// factor is the adjustment of a value effective at t.
func (a adjustment) factor(t time.Time) domain.Factor { return a.factors[a.span(t)] }

// The bounds of setTargets' integer arithmetic: values below 2^50 keep its
// 128-bit sums exact, and a common denominator up to 2^20 keeps every
// divisor it forms within int64. Targets as recorded are at most
// domain.MaxMoney, below 2^50: with a multiplier up to maxMult, the sum of
// two of them times it (a median) stays within int64 too.
const (
	maxScaled = 1 << 50
	maxScale  = 1 << 20
	maxMult   = math.MaxInt64 / (2 * int64(domain.MaxMoney))
)

// scale puts the targets (in millionths, targets[i] of span spans[i], or
// all of span span when spans is nil) over the least common denominator of
// their factors: targets[i] x mult becomes its adjusted value times the
// denominator, an integer. With spans, each target is multiplied in place
// and mult is 1; without, the targets are left as they are and mult is
// their one multiplier, for setTargets to apply to its few figures rather
// than to every target. It returns the denominator and the close on the
// same scale; when a value would outgrow setTargets' bounds (a chain of
// extreme ratios) it changes nothing and reports false, for
// setAdjustedTargets to compute instead.
func (a *adjustment) scale(targets []int64, spans []uint8, span uint8, close int64, closeSpan uint8) (mult, scale, closeScaled int64, ok bool) {
	if a.mult == nil {
		return 0, 0, 0, false
	}
	fits := func(micros int64, k uint8) bool {
		hi, lo := bits.Mul64(uint64(micros), uint64(a.mult[k]))
		return hi == 0 && lo < maxScaled
	}
	if !fits(close, closeSpan) {
		return 0, 0, 0, false
	}
	if spans == nil {
		m := a.mult[span]
		if m > maxMult && !fits(slices.Max(targets), span) { // targets are positive
			return 0, 0, 0, false
		}
		return m, a.denominator, close * a.mult[closeSpan], true
	}
	for i, t := range targets {
		if !fits(t, spans[i]) {
			return 0, 0, 0, false
		}
	}
	for i := range targets {
		targets[i] *= a.mult[spans[i]]
	}
	return 1, a.denominator, close * a.mult[closeSpan], true
}

// common finds the least common denominator of the factors and each
// span's multiplier num * (denominator / den), once per adjustment; it
// leaves mult nil when they outgrow setTargets' bounds.
func (a *adjustment) common() {
	scale := int64(1)
	for _, f := range a.factors {
		_, den, ok := f.Int64()
		if !ok {
			return
		}
		scale = scale / gcd64(scale, den) * den
		if scale > maxScale {
			return
		}
	}
	mult := make([]int64, len(a.factors))
	for k, f := range a.factors {
		num, den, _ := f.Int64()
		if num > maxScale {
			return
		}
		mult[k] = num * (scale / den) // at most 2^40
	}
	a.denominator, a.mult = scale, mult
}

func gcd64(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// targets pairs each target (of span spans[i], or span when spans is nil)
// with its factor, for setAdjustedTargets.
func (a adjustment) targets(micros []int64, spans []uint8, span uint8) []adjustedTarget {
	out := make([]adjustedTarget, len(micros))
	for i, m := range micros {
		k := span
		if spans != nil {
			k = spans[i]
		}
		out[i] = adjustedTarget{micros: m, factor: a.factors[k]}
	}
	return out
}

// appliedSplit is a split as answers list it.
func appliedSplit(s domain.Split) AppliedSplit {
	return AppliedSplit{EventID: s.EventID, Ratio: s.Ratio.String(), EffectiveAt: s.At.UTC()}
}

// adjustedTarget is an active target with the factor that moves it to the
// answer's basis.
type adjustedTarget struct {
	micros int64
	factor domain.Factor
}

// setAdjustedTargets computes the figures of rule 6 and 8 as setTargets
// does, for targets (and a close) that splits move to another basis. The
// adjusted values are fractions; over the least common denominator D of
// their factors, each is an integer number of millionths divided by D, so
// the same integer formulas as setTargets apply with every divisor
// multiplied by D, and the figures are exact, rounded only at the end.
// TestAdjustedFiguresMatchUnadjustedWithoutSplits holds the two paths to
// the same answers when no factor applies.
func (c *Consensus) setAdjustedTargets(f *figureBlock, targets []adjustedTarget, close *domain.Close, closeFactor domain.Factor) {
	d := big.NewInt(1)
	lcm := func(den *big.Int) {
		g := new(big.Int).GCD(nil, nil, d, den)
		d.Mul(d, new(big.Int).Quo(den, g))
	}
	for _, t := range targets {
		lcm(t.factor.Den())
	}
	if close != nil {
		lcm(closeFactor.Den())
	}
	scaled := func(micros int64, f domain.Factor) *big.Int {
		v := new(big.Int).Mul(big.NewInt(micros), f.Num())
		v.Mul(v, d)
		return v.Quo(v, f.Den()) // exact: f.Den() divides d
	}
	v := make([]*big.Int, len(targets))
	for i, t := range targets {
		v[i] = scaled(t.micros, t.factor)
	}
	slices.SortFunc(v, func(a, b *big.Int) int { return a.Cmp(b) })
	n := int64(len(v))
	c.Targets = len(v)
	hundredthDen := new(big.Int).Mul(d, big.NewInt(microsPerHundredth))
	c.LowTarget = f.set(lowTarget, bigHundredths(domain.RoundDiv(v[0], hundredthDen)))
	c.HighTarget = f.set(highTarget, bigHundredths(domain.RoundDiv(v[n-1], hundredthDen)))
	if n%2 == 1 {
		c.MedianTarget = f.set(medianTarget, bigHundredths(domain.RoundDiv(v[n/2], hundredthDen)))
	} else {
		sum := new(big.Int).Add(v[n/2-1], v[n/2])
		c.MedianTarget = f.set(medianTarget, bigHundredths(domain.RoundDiv(sum, new(big.Int).Lsh(hundredthDen, 1))))
	}

	s1, s2 := new(big.Int), new(big.Int)
	for _, x := range v {
		s1.Add(s1, x)
		s2.Add(s2, new(big.Int).Mul(x, x))
	}
	bn := big.NewInt(n)
	den := new(big.Int).Mul(bn, hundredthDen)
	c.MeanTarget = f.set(meanTarget, bigHundredths(domain.RoundDiv(s1, den)))

	// The standard deviation as in setTargets: k = floor(sqrt(A) / den) with
	// A = n*S2 - S1^2, and k + 1 when (2k + 1)^2 * den^2 <= 4A.
	a := new(big.Int).Mul(bn, s2)
	a.Sub(a, new(big.Int).Mul(s1, s1))
	k := new(big.Int).Quo(new(big.Int).Sqrt(a), den)
	odd := new(big.Int).Lsh(k, 1)
	odd.Add(odd, big.NewInt(1))
	lhs := odd.Mul(odd, den)
	if new(big.Int).Mul(lhs, lhs).Cmp(new(big.Int).Lsh(a, 2)) <= 0 {
		k.Add(k, big.NewInt(1))
	}
	c.StddevTarget = f.set(stddevTarget, bigHundredths(k))

	if close != nil {
		nc := new(big.Int).Mul(bn, scaled(close.Price.Micros(), closeFactor))
		num := new(big.Int).Sub(s1, nc)
		num.Mul(num, big.NewInt(10_000))
		c.UpsidePct = f.set(upsidePct, bigHundredths(domain.RoundDiv(num, nc)))
	}
}

// adjustedMoney is a money value adjusted by f, as reported on its own:
// rounded to 6 dp, half away from zero (CONTRACT section 7).
func adjustedMoney(m domain.Money, f domain.Factor) Decimal {
	if f.IsOne() {
		return moneyDecimal(m)
	}
	if v, ok := f.AdjustedMicros64(m); ok && v > 0 && v <= int64(domain.MaxMoney) {
		return moneyDecimal(domain.Money(v))
	}
	return Decimal{text: domain.FormatMicros(f.AdjustedMicros(m))}
}

// ParseBasis reads the basis of a history or chart as `--basis` and the
// API's basis parameter give it: "last" (every row on the basis of the last
// row's as_of, a continuous series) or "each" (every row on its own as_of,
// each equal to show at that time), CONTRACT section 7. It returns whether
// each row takes its own basis (Query.EachBasis); anything else is a
// *domain.ValidationError for the field "basis".
func ParseBasis(text string) (each bool, err error) {
	switch strings.ToLower(text) {
	case "last":
		return false, nil
	case "each":
		return true, nil
	}
	return false, &domain.ValidationError{Field: "basis", Value: text, Reason: "must be last or each"}
}

// SplitsBetween lists the splits of state (those visible at its knowledge
// time, whatever their effective time) effective in (from, to]: where a
// series drawn from from to to changes share basis, which a chart marks
// whether or not its figures are adjusted.
func SplitsBetween(state *domain.State, from, to time.Time) []AppliedSplit {
	out := []AppliedSplit{}
	if state == nil {
		return out
	}
	for _, s := range state.Splits {
		if from.Before(s.At) && !s.At.After(to) {
			out = append(out, appliedSplit(s))
		}
	}
	return out
}
