package projections

import (
	"cmp"
	"math"
	"math/big"
	"math/bits"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
)

// CallHorizon is how long a call runs (CONTRACT section 10): its end t1 is
// its start plus 365 days, and it is closed once t1 is at or before as_of.
const CallHorizon = 365 * 24 * time.Hour

// The types of call, as Call.Type reports them.
const (
	CallRating = "rating" // a RatingAdded (with a target it is a target call too)
	CallTarget = "target" // a TargetRevised
)

// Call is one analyst call of CONTRACT section 10 as of V, known at T, with
// its prices and targets adjusted to the basis V (section 7) and its scores.
// Where the contract is silent it is defined so:
//
//   - every RatingAdded and TargetRevised visible at (V, T) is a call, as
//     section 10 says, whether or not the fold of section 3 applies it: a
//     track record judges what the analyst published, and a revision the
//     fold skips was still published;
//   - a RatingAdded with a target is both a rating call (scored for return)
//     and a target call (scored for met and error); without a target it is
//     a rating call only; a TargetRevised is a target call only;
//   - p0 and p1 are the latest visible closes effective at or before t0 and
//     t1 (the later recorded for equal effective times, as in section 3);
//     an open call has no p1 and no scores, since its year is not over;
//   - a target equal to p0 counts as a target above it (met when p1 >= P).
//
// Its JSON shape is stable: every key is present, absent values are null.
type Call struct {
	Instrument string    `json:"instrument"`
	Currency   string    `json:"currency"`
	Analyst    string    `json:"analyst"`
	Firm       string    `json:"firm"` // as the event gave it, "" for a TargetRevised
	EventID    uuid.UUID `json:"event_id"`
	Type       string    `json:"type"` // CallRating or CallTarget
	// Rating is the normalised rating of a rating call, null for a TargetRevised.
	Rating *string   `json:"rating"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Closed bool      `json:"closed"`
	// P0 and P1 are the closes at start and end adjusted to basis V, to 6 dp;
	// null when there is none (P1 also for an open call).
	P0 *Decimal `json:"p0"`
	P1 *Decimal `json:"p1"`
	// Target is the target as published, TargetAdjusted on basis V (6 dp);
	// null for a rating without one.
	Target         *Decimal `json:"target"`
	TargetAdjusted *Decimal `json:"target_adjusted"`
	// MetAtEnd, MetWithin and ErrorPct score a closed target call with p0
	// and p1; ReturnPct a closed buy or sell rating call with p0 and p1.
	MetAtEnd  *bool    `json:"met_at_end"`
	MetWithin *bool    `json:"met_within"`
	ErrorPct  *Decimal `json:"error_pct"`
	ReturnPct *Decimal `json:"return_pct"`
}

// score is a call's outcome in exact terms, what the summaries add up.
type score struct {
	analyst     domain.Analyst
	firm        string
	effective   time.Time // for the analyst's latest firm
	closed      bool
	rated       bool     // a scored rating call: closed, buy or sell bucket, p0 and p1
	ret         *big.Rat // its exact return_pct when rated
	targeted    bool     // a scored target call: closed, with a target, p0 and p1
	metAtEnd    bool
	metWithin   bool
	err         *big.Rat // its exact error_pct when targeted
	isRating    bool
	hasTarget   bool
	event       domain.Recorded
	p0, p1      int // indices into the price series, -1 for none
	targetValue scaled
}

// scaled is an adjusted money value times the series' common denominator d
// (see priceSeries): small when no split applies, big otherwise.
type scaled struct {
	small int64
	big   *big.Int
}

func (v scaled) int() *big.Int {
	if v.big != nil {
		return v.big
	}
	return big.NewInt(v.small)
}

func (v scaled) cmp(w scaled) int {
	if v.big == nil && w.big == nil {
		return cmp.Compare(v.small, w.small)
	}
	return v.int().Cmp(w.int())
}

// priceSeries is an instrument's visible closes effective by V in fold
// order, adjusted to the basis V exactly. With D the product of N over the
// splits effective by V, a value effective at t adjusted to V, times D, is
// the integer micros x prod(M of the splits after t) x prod(N of the
// splits at or before t): values compare, subtract and divide as these
// integers, and an adjusted value on its own is the integer divided by D.
// Without a split by V, D is 1 and the values are the millionths recorded.
type priceSeries struct {
	at     []time.Time
	values []scaled
	splits domain.Splits // the visible splits effective by V
	asOf   time.Time     // V, the basis
	d      *big.Int      // nil when no split is effective by V
}

func newPriceSeries(tl *domain.Timeline, asOf time.Time) *priceSeries {
	ps := &priceSeries{asOf: asOf}
	for _, s := range tl.Splits {
		if !s.At.After(asOf) {
			ps.splits = append(ps.splits, s)
		}
	}
	if len(ps.splits) > 0 {
		ps.d = big.NewInt(1)
		for _, s := range ps.splits {
			ps.d.Mul(ps.d, big.NewInt(s.Ratio.New))
		}
	}
	for _, r := range tl.Events {
		if r.Event.Effective().After(asOf) {
			break // fold order: nothing later is effective by V
		}
		if c, ok := r.Event.(domain.CloseRecorded); ok {
			ps.at = append(ps.at, c.EffectiveAt)
			ps.values = append(ps.values, ps.scale(c.Price, c.EffectiveAt))
		}
	}
	return ps
}

// scale is the money value m effective at t, adjusted to V, times D: an
// int64 when it fits (splits are few and small, so it almost always does),
// a big.Int otherwise. The adjustment is the domain's Factor, so the rule
// of which splits apply is stated once; D is a multiple of its
// denominator.
func (ps *priceSeries) scale(m domain.Money, t time.Time) scaled {
	if ps.d == nil {
		return scaled{small: m.Micros()}
	}
	f := ps.splits.Factor(t, ps.asOf)
	if num, den, ok := f.Int64(); ok && ps.d.IsInt64() {
		hi, lo := bits.Mul64(uint64(m.Micros()), uint64(num))
		hi2, lo2 := bits.Mul64(lo, uint64(ps.d.Int64()/den))
		if hi == 0 && hi2 == 0 && lo2 <= math.MaxInt64 {
			return scaled{small: int64(lo2)}
		}
	}
	b := new(big.Int).Mul(big.NewInt(m.Micros()), f.Num())
	b.Mul(b, ps.d)
	return scaled{big: b.Quo(b, f.Den())}
}

// latest is the index of the latest close effective at or before t, -1
// when there is none. Among closes of equal effective time the last in fold
// order, the later recorded, is the one that counts.
func (ps *priceSeries) latest(t time.Time) int {
	return sort.Search(len(ps.at), func(i int) bool { return ps.at[i].After(t) }) - 1
}

// decimal is a scaled value as reported on its own: divided by D and
// rounded to 6 dp, half away from zero (CONTRACT section 7).
func (ps *priceSeries) decimal(v scaled) *Decimal {
	if ps.d == nil {
		return &Decimal{text: domain.Money(v.small).String()}
	}
	return &Decimal{text: domain.FormatMicros(domain.RoundDiv(v.int(), ps.d))}
}

// reaches reports whether the value v reaches the target p the way the
// call points: up to it when up, down to it otherwise.
func reaches(v, p scaled, up bool) bool {
	if up {
		return v.cmp(p) >= 0
	}
	return v.cmp(p) <= 0
}

// pctChange is (a / b - 1) x 100 exactly, for b > 0.
func pctChange(a, b scaled) *big.Rat {
	num := new(big.Int).Sub(a.int(), b.int())
	num.Mul(num, big.NewInt(100))
	return new(big.Rat).SetFrac(num, b.int())
}

// scoreCalls visits every call of one instrument's timeline as of asOf, on
// the basis asOf, in fold order. A non-empty analyst limits it to that
// analyst's calls. The score passed is reused: visit copies what it keeps.
func scoreCalls(tl *domain.Timeline, asOf time.Time, analyst domain.Analyst, visit func(ps *priceSeries, s *score)) {
	var ps *priceSeries // built on the first call: most instruments have calls, but not every question needs closes
	// One score for the whole loop: visit takes its address, so a score
	// declared in the loop would be allocated for every event, closes too.
	var s score
	for _, r := range tl.Events {
		if r.Event.Effective().After(asOf) {
			break
		}
		switch e := r.Event.(type) {
		case domain.RatingAdded:
			s = score{analyst: e.Analyst, firm: e.Firm, effective: e.EffectiveAt, isRating: true, hasTarget: e.Target != nil}
		case domain.TargetRevised:
			s = score{analyst: e.Analyst, effective: e.EffectiveAt, hasTarget: true}
		default:
			continue
		}
		if analyst != "" && s.analyst != analyst {
			continue
		}
		if ps == nil {
			ps = newPriceSeries(tl, asOf)
		}
		s.event = r
		t0 := s.effective
		t1 := t0.Add(CallHorizon)
		s.closed = !t1.After(asOf)
		s.p0, s.p1 = ps.latest(t0), -1
		if s.closed {
			s.p1 = ps.latest(t1)
		}
		if s.hasTarget {
			s.targetValue = ps.scale(targetOf(r.Event), t0)
		}
		if s.closed && s.p0 >= 0 && s.p1 >= 0 {
			p0, p1 := ps.values[s.p0], ps.values[s.p1]
			if s.isRating {
				switch rating := r.Event.(domain.RatingAdded).Rating; rating.Bucket() {
				case domain.BucketBuy:
					s.rated, s.ret = true, pctChange(p1, p0)
				case domain.BucketSell:
					s.rated, s.ret = true, pctChange(p1, p0)
					s.ret.Neg(s.ret)
				}
			}
			if s.hasTarget {
				p := s.targetValue
				up := p.cmp(p0) >= 0
				s.targeted = true
				s.metAtEnd = reaches(p1, p, up)
				// The closes effective in (t0, t1]: after p0's place, up to p1's.
				// Every index after p0's is effective after t0.
				for i := s.p0 + 1; i <= s.p1 && !s.metWithin; i++ {
					s.metWithin = reaches(ps.values[i], p, up)
				}
				s.err = pctChange(p1, p)
				s.err.Abs(s.err)
			}
		}
		visit(ps, &s)
	}
}

// targetOf is the target a rating or target event carries; a RatingAdded
// passed here has one.
func targetOf(e domain.Event) domain.Money {
	switch e := e.(type) {
	case domain.RatingAdded:
		return *e.Target
	case domain.TargetRevised:
		return e.Target
	}
	return 0
}

// Calls lists the calls of one analyst on one instrument as of asOf, from
// the instrument's timeline at the question's knowledge time, with prices
// and targets on the basis asOf.
func Calls(symbol domain.Symbol, tl *domain.Timeline, asOf time.Time, analyst domain.Analyst) []Call {
	var out []Call
	scoreCalls(tl, asOf, analyst, func(ps *priceSeries, s *score) {
		out = append(out, s.call(symbol, tl.Currency, ps))
	})
	return out
}

// call is the score as it is reported.
func (s *score) call(symbol domain.Symbol, currency domain.Currency, ps *priceSeries) Call {
	t0 := s.effective.UTC()
	c := Call{Instrument: string(symbol), Currency: string(currency), Analyst: string(s.analyst), Firm: s.firm,
		EventID: s.event.ID, Type: CallTarget, Start: t0, End: t0.Add(CallHorizon), Closed: s.closed}
	if s.isRating {
		c.Type = CallRating
		rating := s.event.Event.(domain.RatingAdded).Rating.String()
		c.Rating = &rating
	}
	if s.p0 >= 0 {
		c.P0 = ps.decimal(ps.values[s.p0])
	}
	if s.p1 >= 0 {
		c.P1 = ps.decimal(ps.values[s.p1])
	}
	if s.hasTarget {
		published := moneyDecimal(targetOf(s.event.Event))
		c.Target, c.TargetAdjusted = &published, ps.decimal(s.targetValue)
	}
	if s.targeted {
		atEnd, within := s.metAtEnd, s.metWithin
		c.MetAtEnd, c.MetWithin, c.ErrorPct = &atEnd, &within, ratHundredths(s.err)
	}
	if s.rated {
		c.ReturnPct = ratHundredths(s.ret)
	}
	return c
}

// ratHundredths is an exact rational figure rounded to 2 dp, half away from
// zero.
func ratHundredths(r *big.Rat) *Decimal {
	num := new(big.Int).Mul(r.Num(), big.NewInt(100))
	d := bigHundredths(domain.RoundDiv(num, r.Denom()))
	return &d
}
