package projections

import (
	"cmp"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/consensus-ledger/consensus/domain"
)

// MinScoredForTop is how many scored rating calls an analyst needs as of V
// to be ranked for `show --top N` (CONTRACT section 10): a success rate
// over fewer calls says more about luck than skill.
const MinScoredForTop = 5

// TrackRecord is one analyst's summary as of V, known at T (CONTRACT
// section 10). Figures are exact until rounded to 2 dp, half away from zero,
// and null when nothing was scored. Its JSON shape is stable.
type TrackRecord struct {
	Analyst string `json:"analyst"`
	// Firm is the firm of the analyst's latest RatingAdded that names one
	// (latest by effective time, ties by instrument), "" if none did.
	Firm   string `json:"firm"`
	Calls  int    `json:"calls"`
	Closed int    `json:"closed"`
	// ScoredRatingCalls counts the closed buy and sell rating calls with p0
	// and p1; SuccessRate is the share of them with return_pct > 0 in %,
	// AvgReturnPct the mean of their exact returns.
	ScoredRatingCalls int      `json:"scored_rating_calls"`
	SuccessRate       *Decimal `json:"success_rate"`
	AvgReturnPct      *Decimal `json:"avg_return_pct"`
	// ScoredTargetCalls counts the closed target calls with p0 and p1;
	// Accuracy is the share of them met within their year in %,
	// AvgErrorPct the mean of their exact errors.
	ScoredTargetCalls int      `json:"scored_target_calls"`
	Accuracy          *Decimal `json:"accuracy"`
	AvgErrorPct       *Decimal `json:"avg_error_pct"`
}

// tally is one analyst's exact totals, merged over instruments.
type tally struct {
	firm                string
	firmAt              time.Time
	firmOn              string // the instrument of the firm's event, for ties
	calls, closed       int
	rated, successes    int
	sumReturn           ratSum
	targeted, metWithin int
	sumError            ratSum
}

// ratSum is an exact sum of fractions, kept as one fraction that is not
// reduced: adding a fraction multiplies and adds, where big.Rat's Add also
// divides by the greatest common divisor every time, which costs more the
// longer the sum (an analyst's returns have a denominator per price a call
// started from). The zero value is 0.
type ratSum struct {
	n, d big.Int // n/d; d is 0 while nothing was added
}

// add adds num/den, den > 0.
func (s *ratSum) add(num, den *big.Int) {
	switch {
	case s.d.Sign() == 0:
		s.n.Set(num)
		s.d.Set(den)
	case s.d.Cmp(den) == 0:
		s.n.Add(&s.n, num)
	default:
		// n/d + num/den = (n*den + num*d) / (d*den)
		var t big.Int
		t.Mul(num, &s.d)
		s.n.Mul(&s.n, den)
		s.n.Add(&s.n, &t)
		s.d.Mul(&s.d, den)
	}
}

// addSum adds o.
func (s *ratSum) addSum(o *ratSum) {
	if o.d.Sign() != 0 {
		s.add(&o.n, &o.d)
	}
}

// num and denom are the sum's numerator and its positive denominator, not
// reduced; callers must not modify them.
func (s *ratSum) num() *big.Int { return &s.n }

func (s *ratSum) denom() *big.Int {
	if s.d.Sign() == 0 {
		return big.NewInt(1)
	}
	return &s.d
}

// rat is the sum as a big.Rat of its own.
func (s *ratSum) rat() *big.Rat { return new(big.Rat).SetFrac(s.num(), s.denom()) }

// Records are the track records of every analyst as of one V, known at one
// T, built one instrument at a time (Add) and merged (Merge), so that a
// ledger folds each stream once, in stream order, on as many goroutines as
// it likes. A Records is not safe for concurrent Add; merge instead.
type Records struct {
	AsOf, KnownAt time.Time
	tallies       map[domain.Analyst]*tally

	// topOnce sorts topOrder, the analysts that can be ranked for show
	// --top, on the first Top; Records are not changed after that.
	topOnce  sync.Once
	topOrder []rankEntry
}

// NewRecords starts empty track records as of asOf, known at knownAt.
func NewRecords(asOf, knownAt time.Time) *Records {
	return &Records{AsOf: asOf, KnownAt: knownAt, tallies: map[domain.Analyst]*tally{}}
}

// Add scores every call of one instrument's timeline (known at r.KnownAt).
func (r *Records) Add(symbol domain.Symbol, tl *domain.Timeline) {
	scoreCalls(tl, r.AsOf, "", func(_ *priceSeries, s *score) { r.tally(s.analyst).add(symbol, s) })
}

func (r *Records) tally(a domain.Analyst) *tally {
	t, ok := r.tallies[a]
	if !ok {
		t = &tally{}
		r.tallies[a] = t
	}
	return t
}

func (t *tally) add(symbol domain.Symbol, s *score) {
	t.calls++
	if s.firm != "" {
		t.setFirm(s.firm, s.effective, string(symbol))
	}
	if s.closed {
		t.closed++
	}
	if s.rated {
		t.rated++
		if s.ret.Sign() > 0 {
			t.successes++
		}
		t.sumReturn.add(s.ret.Num(), s.ret.Denom())
	}
	if s.targeted {
		t.targeted++
		if s.metWithin {
			t.metWithin++
		}
		t.sumError.add(s.err.Num(), s.err.Denom())
	}
}

// setFirm keeps the latest firm by effective time, ties by instrument, so
// that the answer does not depend on the order instruments are merged in.
func (t *tally) setFirm(firm string, at time.Time, on string) {
	if t.firm == "" || at.After(t.firmAt) || at.Equal(t.firmAt) && on >= t.firmOn {
		t.firm, t.firmAt, t.firmOn = firm, at, on
	}
}

// Merge adds o's tallies, built from other instruments, into r.
func (r *Records) Merge(o *Records) {
	for a, ot := range o.tallies {
		t := r.tally(a)
		if ot.firm != "" {
			t.setFirm(ot.firm, ot.firmAt, ot.firmOn)
		}
		t.calls += ot.calls
		t.closed += ot.closed
		t.rated += ot.rated
		t.successes += ot.successes
		t.sumReturn.addSum(&ot.sumReturn)
		t.targeted += ot.targeted
		t.metWithin += ot.metWithin
		t.sumError.addSum(&ot.sumError)
	}
}

// Len is the number of analysts with at least one call.
func (r *Records) Len() int { return len(r.tallies) }

// Analysts lists the analysts with at least one call, sorted by id.
func (r *Records) Analysts() []domain.Analyst {
	out := make([]domain.Analyst, 0, len(r.tallies))
	for a := range r.tallies {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// Record is one analyst's summary; false when the analyst has no call.
func (r *Records) Record(a domain.Analyst) (TrackRecord, bool) {
	t, ok := r.tallies[a]
	if !ok {
		return TrackRecord{}, false
	}
	return t.record(a), true
}

func (t *tally) record(a domain.Analyst) TrackRecord {
	tr := TrackRecord{Analyst: string(a), Firm: t.firm, Calls: t.calls, Closed: t.closed,
		ScoredRatingCalls: t.rated, ScoredTargetCalls: t.targeted}
	if t.rated > 0 {
		tr.SuccessRate = share(t.successes, t.rated)
		tr.AvgReturnPct = ratHundredths(new(big.Rat).Quo(t.sumReturn.rat(), new(big.Rat).SetInt64(int64(t.rated))))
	}
	if t.targeted > 0 {
		tr.Accuracy = share(t.metWithin, t.targeted)
		tr.AvgErrorPct = ratHundredths(new(big.Rat).Quo(t.sumError.rat(), new(big.Rat).SetInt64(int64(t.targeted))))
	}
	return tr
}

// share is k of n in %, 2 dp.
func share(k, n int) *Decimal {
	d := hundredths(roundDiv64(int64(k)*10_000, int64(n)))
	return &d
}

// Rank is what `consensus analysts --rank` orders by.
type Rank string

// The rankings: by success rate, by average return, by accuracy, each
// highest first.
const (
	RankSuccess  Rank = "success"
	RankReturn   Rank = "return"
	RankAccuracy Rank = "accuracy"
)

// ParseRank reads --rank.
func ParseRank(text string) (Rank, error) {
	switch r := Rank(strings.ToLower(text)); r {
	case RankSuccess, RankReturn, RankAccuracy:
		return r, nil
	}
	return "", &domain.ValidationError{Field: "rank", Value: text, Reason: "must be success, return or accuracy"}
}

// RankFilter says which analysts a ranking lists.
type RankFilter struct {
	// MinClosed leaves out analysts with fewer closed calls.
	MinClosed int
	// Firm, when set, keeps only analysts whose firm (TrackRecord.Firm) is
	// exactly it.
	Firm string
}

// CheckMinClosed refuses a negative --min-closed.
func CheckMinClosed(n int) error {
	if n < 0 {
		return &domain.ValidationError{Field: "min-closed", Value: fmt.Sprint(n), Reason: "must be 0 or more"}
	}
	return nil
}

// Rank orders the analysts by the figure named, highest first, exactly
// (before rounding), ties by analyst id. An analyst without that figure
// (no scored call of its kind) cannot be ranked by it and is left out.
func (r *Records) Rank(by Rank, f RankFilter) []TrackRecord {
	type entry struct {
		a domain.Analyst
		t *tally
	}
	var entries []entry
	for a, t := range r.tallies {
		if t.closed < f.MinClosed || f.Firm != "" && t.firm != f.Firm {
			continue
		}
		if (by == RankAccuracy && t.targeted == 0) || (by != RankAccuracy && t.rated == 0) {
			continue
		}
		entries = append(entries, entry{a, t})
	}
	slices.SortFunc(entries, func(x, y entry) int {
		if c := compareFigure(by, y.t, x.t); c != 0 {
			return c
		}
		return strings.Compare(string(x.a), string(y.a))
	})
	out := make([]TrackRecord, len(entries))
	for i, e := range entries {
		out[i] = e.t.record(e.a)
	}
	return out
}

// compareFigure compares the exact figure of x and y named by by.
func compareFigure(by Rank, x, y *tally) int {
	switch by {
	case RankReturn:
		// sumX/nX against sumY/nY, each sum a fraction num/den with den > 0:
		// numX*denY*nY against numY*denX*nX.
		l := new(big.Int).Mul(x.sumReturn.num(), y.sumReturn.denom())
		l.Mul(l, big.NewInt(int64(y.rated)))
		r := new(big.Int).Mul(y.sumReturn.num(), x.sumReturn.denom())
		r.Mul(r, big.NewInt(int64(x.rated)))
		return l.Cmp(r)
	case RankAccuracy:
		return cmp.Compare(int64(x.metWithin)*int64(y.targeted), int64(y.metWithin)*int64(x.targeted))
	}
	return cmp.Compare(int64(x.successes)*int64(y.rated), int64(y.successes)*int64(x.rated))
}

// TopAnalyst is an analyst who made the cut of `show --top N`, with the
// score at that date.
type TopAnalyst struct {
	Rank              int      `json:"rank"`
	Analyst           string   `json:"analyst"`
	SuccessRate       *Decimal `json:"success_rate"`
	ScoredRatingCalls int      `json:"scored_rating_calls"`
}

// Top is the cut of `show --top N` as of V: the analysts ranked by success
// rate among those with at least MinScoredForTop scored rating calls, ties
// by id, the first n of them. Ranked is how many could be ranked; when it
// is n or fewer every one of them is taken.
type Top struct {
	N        int          `json:"n"`
	Ranked   int          `json:"ranked"`
	AsOf     time.Time    `json:"as_of"`
	Analysts []TopAnalyst `json:"analysts"`
	only     map[domain.Analyst]bool
}

// CheckTop refuses --top below 1.
func CheckTop(n int) error {
	if n < 1 {
		return &domain.ValidationError{Field: "top", Value: fmt.Sprint(n), Reason: "must be 1 or more"}
	}
	return nil
}

// Top takes the n best analysts by success rate (see Top). The ranking
// is sorted once per Records and kept, so that a ledger answering many
// `show --top N` questions from one cached Records sorts its analysts once.
func (r *Records) Top(n int) *Top {
	r.topOnce.Do(func() {
		for a, t := range r.tallies {
			if t.rated >= MinScoredForTop {
				r.topOrder = append(r.topOrder, rankEntry{a, t})
			}
		}
		slices.SortFunc(r.topOrder, func(x, y rankEntry) int {
			if c := compareFigure(RankSuccess, y.t, x.t); c != 0 {
				return c
			}
			return strings.Compare(string(x.a), string(y.a))
		})
	})
	top := &Top{N: n, Ranked: len(r.topOrder), AsOf: r.AsOf.UTC(), Analysts: []TopAnalyst{}, only: map[domain.Analyst]bool{}}
	for i, e := range r.topOrder[:min(n, len(r.topOrder))] {
		top.Analysts = append(top.Analysts, TopAnalyst{Rank: i + 1, Analyst: string(e.a),
			SuccessRate: share(e.t.successes, e.t.rated), ScoredRatingCalls: e.t.rated})
		top.only[e.a] = true
	}
	return top
}

// rankEntry is one analyst in a ranking.
type rankEntry struct {
	a domain.Analyst
	t *tally
}

// Only is the set of analysts that made the cut; nil for a nil Top (no
// cut: everyone counts).
func (t *Top) Only() map[domain.Analyst]bool {
	if t == nil {
		return nil
	}
	return t.only
}

// AllTaken reports whether n reached past the analysts that could be
// ranked, so every ranked analyst was taken.
func (t *Top) AllTaken() bool { return t.N >= t.Ranked }
