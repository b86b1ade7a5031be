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

// records computes the track records of the given instruments' streams at
// (asOf, knownAt), one instrument at a time as a ledger does.
func records(asOf, knownAt time.Time, streams ...*ledger) *projections.Records {
	r := projections.NewRecords(asOf, knownAt)
	for _, l := range streams {
		one := projections.NewRecords(asOf, knownAt)
		one.Add(l.sym, domain.NewTimeline(l.events, knownAt))
		r.Merge(one)
	}
	return r
}

// callText is one call's reported fields, for comparing with figures
// worked out by hand.
func callText(c projections.Call) string {
	b := func(v *bool) string {
		if v == nil {
			return "null"
		}
		return fmt.Sprint(*v)
	}
	return fmt.Sprintf("%s %s %s..%s closed=%t p0=%s p1=%s target=%s adjusted=%s met_at_end=%s met_within=%s error=%s return=%s",
		c.Instrument, c.Type, c.Start.Format(time.DateOnly), c.End.Format(time.DateOnly), c.Closed, str(c.P0), str(c.P1),
		str(c.Target), str(c.TargetAdjusted), b(c.MetAtEnd), b(c.MetWithin), str(c.ErrorPct), str(c.ReturnPct))
}

// The four calls of CONTRACT section 10 worked out by hand: a buy whose
// price rose, a sell whose price rose, a target met within its year but not
// at its end, and an open call; with a 2-for-1 split in the middle, so every
// price before it is halved on the basis of V, and a close recorded late and
// then retracted.
func TestTrackRecordWorkedExample(t *testing.T) {
	abc := newLedger(t, "ABC", "USD")
	abc.rate("a@x", "buy", "", "2024-01-10")                    // call 1: p0 100/2 = 50, p1 60: +20 %
	abc.rateWithFirm("a@x", "Firm X", "sell", "", "2024-02-01") // call 2: p0 104/2 = 52, p1 65: -25 %
	abc.revise("a@x", "150", "2024-03-01")                      // call 3: target 150/2 = 75 from p0 110/2 = 55
	abc.close("100", "2024-01-10")
	abc.close("104", "2024-02-01")
	abc.close("110", "2024-03-01")
	abc.close("155", "2024-06-03") // 77.5 on V's basis: reaches 75 within the year
	abc.split("2:1", "2024-09-02")
	abc.close("60", "2025-01-09")             // call 1's p1 (t1 = 2025-01-09, 365 days after 2024-01-10)
	abc.close("65", "2025-01-31")             // call 2's p1
	abc.close("70", "2025-02-28")             // call 3's p1 (t1 = 2025-03-01): 70 < 75, not met at the end
	abc.rate("b@y", "hold", "", "2024-01-10") // another analyst: not a@x's
	wrong := abc.close("90", "2025-01-09")    // recorded later, so it supersedes 60 until retracted
	beforeRetraction := abc.events[len(abc.events)-1].RecordedAt
	abc.retract(wrong, "wrong close")

	def := newLedger(t, "DEF", "USD")
	def.close("40", "2025-06-02")
	def.rate("a@x", "strong_buy", "50", "2025-06-02") // call 4: open at V, both a rating and a target call

	asOf := when(t, "2025-09-30")
	var got []string
	for _, l := range []*ledger{abc, def} {
		for _, c := range projections.Calls(l.sym, domain.NewTimeline(l.events, later), asOf, "a@x") {
			got = append(got, callText(c))
		}
	}
	assert.Equal(t, []string{
		"ABC rating 2024-01-10..2025-01-09 closed=true p0=50 p1=60 target=null adjusted=null met_at_end=null met_within=null error=null return=20",
		"ABC rating 2024-02-01..2025-01-31 closed=true p0=52 p1=65 target=null adjusted=null met_at_end=null met_within=null error=null return=-25",
		"ABC target 2024-03-01..2025-03-01 closed=true p0=55 p1=70 target=150 adjusted=75 met_at_end=false met_within=true error=6.67 return=null",
		"DEF rating 2025-06-02..2026-06-02 closed=false p0=40 p1=null target=50 adjusted=50 met_at_end=null met_within=null error=null return=null",
	}, got)

	rec, ok := records(asOf, later, abc, def).Record("a@x")
	require.True(t, ok)
	assert.Equal(t, projections.TrackRecord{Analyst: "a@x", Firm: "Firm X", Calls: 4, Closed: 3,
		ScoredRatingCalls: 2, SuccessRate: dec(t, "50"), AvgReturnPct: dec(t, "-2.5"),
		ScoredTargetCalls: 1, Accuracy: dec(t, "100"), AvgErrorPct: dec(t, "6.67")}, rec)

	// Known before the retraction, the wrong close is call 1's p1: 90 on
	// the new basis against 50, +80 %.
	early := projections.Calls(abc.sym, domain.NewTimeline(abc.events, beforeRetraction), asOf, "a@x")
	assert.Equal(t, "80", str(early[0].ReturnPct))
	rec, _ = records(asOf, beforeRetraction, abc, def).Record("a@x")
	assert.Equal(t, "27.5", str(rec.AvgReturnPct)) // (80 - 25) / 2

	// As of a day before call 1 closes, only call 3's... none is closed yet
	// but calls 1 and 2 are open: nothing is scored.
	rec, _ = records(when(t, "2025-01-08"), later, abc, def).Record("a@x")
	assert.Equal(t, projections.TrackRecord{Analyst: "a@x", Firm: "Firm X", Calls: 3}, rec)
}

func dec(t *testing.T, text string) *projections.Decimal {
	t.Helper()
	d, err := projections.ParseDecimal(text)
	require.NoError(t, err)
	return &d
}

// Ranking: by the exact figure, highest first, ties by id; analysts without
// the figure are left out; --min-closed and --firm filter.
func TestRankAndTop(t *testing.T) {
	l := newLedger(t, "RNK", "USD")
	// Closes rise from 100 by 1 a day, so every buy gains and every sell loses.
	start := time.Date(2023, 1, 2, 0, 0, 0, 0, time.UTC)
	for d := range 800 {
		l.close(fmt.Sprint(100+d), start.AddDate(0, 0, d).Format(time.DateOnly))
	}
	day := func(d int) string { return start.AddDate(0, 0, d).Format(time.DateOnly) }
	// b@x: 5 buys (all succeed); a@x: 5 buys and 5 sells (half); c@x: 4 buys.
	for i := range 5 {
		l.rateWithFirm("b@x", "F", "buy", "", day(i))
		l.rateWithFirm("a@x", "F", "buy", "", day(i))
		l.rateWithFirm("a@x", "F", "sell", "", day(10+i))
	}
	for i := range 4 {
		l.rateWithFirm("c@x", "G", "buy", "", day(20+i))
	}
	l.rate("d@x", "hold", "", day(1)) // never scored for return
	asOf := when(t, day(799))
	r := records(asOf, later, l)
	names := func(rs []projections.TrackRecord) []string {
		var out []string
		for _, x := range rs {
			out = append(out, x.Analyst+"="+str(x.SuccessRate))
		}
		return out
	}
	assert.Equal(t, []string{"b@x=100", "c@x=100", "a@x=50"}, names(r.Rank(projections.RankSuccess, projections.RankFilter{})))
	assert.Equal(t, []string{"b@x=100", "a@x=50"}, names(r.Rank(projections.RankSuccess, projections.RankFilter{MinClosed: 5})))
	assert.Equal(t, []string{"c@x=100"}, names(r.Rank(projections.RankSuccess, projections.RankFilter{Firm: "G"})))
	assert.Empty(t, r.Rank(projections.RankAccuracy, projections.RankFilter{}), "no target calls")

	top := r.Top(1)
	assert.Equal(t, []projections.TopAnalyst{{Rank: 1, Analyst: "b@x", SuccessRate: dec(t, "100"), ScoredRatingCalls: 5}}, top.Analysts)
	assert.Equal(t, 2, top.Ranked, "c@x has 4 scored rating calls, fewer than 5")
	assert.False(t, top.AllTaken())
	assert.True(t, r.Top(3).AllTaken())
	assert.Len(t, r.Top(3).Analysts, 2)
	require.Error(t, projections.CheckTop(0))
	require.Error(t, projections.CheckMinClosed(-1))
	_, err := projections.ParseRank("best")
	require.EqualError(t, err, `rank "best" must be success, return or accuracy`)
}

// Track records of random histories (ratings, revisions, withdrawals,
// closes, splits and retractions of any of them, effective out of order)
// agree with a reference computed in the test from the raw events with
// rationals, at random points (V, T).
func TestTrackRecordsAgreeWithReference(t *testing.T) {
	runs := 200
	if testing.Short() {
		runs = 40
	}
	for seed := range runs {
		rng := rand.New(rand.NewPCG(uint64(seed), 15))
		streams := []*ledger{randomSplitHistory(t, rng), randomSplitHistory(t, rng)}
		streams[1].sym = "RND2"
		for range 6 {
			asOf := randomDay(rng).AddDate(0, 0, rng.IntN(400))
			knownAt := t0.Add(time.Duration(rng.IntN(100)) * time.Second)
			if rng.IntN(4) == 0 {
				knownAt = later
			}
			r := records(asOf, knownAt, streams...)
			want := referenceRecords(asOf, knownAt, streams...)
			got := map[string]string{}
			for _, a := range r.Analysts() {
				rec, _ := r.Record(a)
				got[string(a)] = recordText(rec)
			}
			require.Equal(t, want, got, "seed %d, as of %s known at %s", seed, asOf, knownAt)
		}
	}
}

func recordText(r projections.TrackRecord) string {
	return fmt.Sprintf("calls=%d closed=%d rated=%d success=%s return=%s targeted=%d accuracy=%s error=%s",
		r.Calls, r.Closed, r.ScoredRatingCalls, str(r.SuccessRate), str(r.AvgReturnPct), r.ScoredTargetCalls,
		str(r.Accuracy), str(r.AvgErrorPct))
}

// referenceRecords computes CONTRACT section 10 from the raw events:
// visibility by the section 3 rule, every money value adjusted by the
// section 7 rule with rationals, each call scored as section 10 states.
func referenceRecords(asOf, knownAt time.Time, streams ...*ledger) map[string]string {
	type totals struct {
		calls, closed, rated, success, targeted, met int
		ret, err                                     big.Rat
	}
	all := map[string]*totals{}
	for _, l := range streams {
		retracted := map[uuid.UUID]bool{}
		for _, r := range l.events {
			if x, ok := r.Event.(domain.EventRetracted); ok && !r.RecordedAt.After(knownAt) {
				retracted[x.Retracted] = true
			}
		}
		var visible []domain.Recorded
		for _, r := range l.events {
			if !r.RecordedAt.After(knownAt) && !retracted[r.ID] && !r.Event.Effective().After(asOf) &&
				r.Event.Type() != domain.TypeEventRetracted {
				visible = append(visible, r)
			}
		}
		adjust := func(m domain.Money, at time.Time) *big.Rat {
			v := new(big.Rat).SetFrac64(m.Micros(), domain.MoneyScale)
			for _, r := range visible {
				if s, ok := r.Event.(domain.SplitRecorded); ok && at.Before(s.EffectiveAt) {
					v.Mul(v, big.NewRat(s.Ratio.Old, s.Ratio.New))
				}
			}
			return v
		}
		// closeAt is the visible close latest in (effective, version) at or before t.
		closeAt := func(t time.Time) *big.Rat {
			var best *domain.Recorded
			for i, r := range visible {
				c, ok := r.Event.(domain.CloseRecorded)
				if !ok || c.EffectiveAt.After(t) {
					continue
				}
				if best == nil || c.EffectiveAt.After(best.Event.Effective()) ||
					c.EffectiveAt.Equal(best.Event.Effective()) && r.Version > best.Version {
					best = &visible[i]
				}
			}
			if best == nil {
				return nil
			}
			c := best.Event.(domain.CloseRecorded)
			return adjust(c.Price, c.EffectiveAt)
		}
		pct := func(a, b *big.Rat) *big.Rat {
			v := new(big.Rat).Quo(a, b)
			v.Sub(v, big.NewRat(1, 1))
			return v.Mul(v, big.NewRat(100, 1))
		}
		for _, r := range visible {
			var analyst domain.Analyst
			var target *domain.Money
			bucket := -1
			switch e := r.Event.(type) {
			case domain.RatingAdded:
				analyst, target, bucket = e.Analyst, e.Target, int(e.Rating.Bucket())
			case domain.TargetRevised:
				analyst, target = e.Analyst, &e.Target
			default:
				continue
			}
			tt := all[string(analyst)]
			if tt == nil {
				tt = &totals{}
				all[string(analyst)] = tt
			}
			tt.calls++
			start := r.Event.Effective()
			end := start.AddDate(0, 0, 365)
			if end.After(asOf) {
				continue
			}
			tt.closed++
			p0, p1 := closeAt(start), closeAt(end)
			if p0 == nil || p1 == nil {
				continue
			}
			switch domain.Bucket(bucket) {
			case domain.BucketBuy:
				ret := pct(p1, p0)
				tt.rated++
				if ret.Sign() > 0 {
					tt.success++
				}
				tt.ret.Add(&tt.ret, ret)
			case domain.BucketSell:
				if bucket < 0 {
					break
				}
				ret := pct(p1, p0)
				ret.Neg(ret)
				tt.rated++
				if ret.Sign() > 0 {
					tt.success++
				}
				tt.ret.Add(&tt.ret, ret)
			}
			if target != nil {
				p := adjust(*target, start)
				up := p.Cmp(p0) >= 0
				reached := func(v *big.Rat) bool { return up && v.Cmp(p) >= 0 || !up && v.Cmp(p) <= 0 }
				tt.targeted++
				for _, c := range visible {
					if cr, ok := c.Event.(domain.CloseRecorded); ok && cr.EffectiveAt.After(start) && !cr.EffectiveAt.After(end) &&
						reached(adjust(cr.Price, cr.EffectiveAt)) {
						tt.met++
						break
					}
				}
				e := pct(p1, p)
				tt.err.Add(&tt.err, e.Abs(e))
			}
		}
	}
	out := map[string]string{}
	for a, tt := range all {
		success, ret, acc, errPct := "null", "null", "null", "null"
		if tt.rated > 0 {
			success = round(big.NewRat(int64(100*tt.success), int64(tt.rated)), 2)
			ret = round(new(big.Rat).Quo(&tt.ret, big.NewRat(int64(tt.rated), 1)), 2)
		}
		if tt.targeted > 0 {
			acc = round(big.NewRat(int64(100*tt.met), int64(tt.targeted)), 2)
			errPct = round(new(big.Rat).Quo(&tt.err, big.NewRat(int64(tt.targeted), 1)), 2)
		}
		out[a] = fmt.Sprintf("calls=%d closed=%d rated=%d success=%s return=%s targeted=%d accuracy=%s error=%s",
			tt.calls, tt.closed, tt.rated, success, ret, tt.targeted, acc, errPct)
	}
	return out
}

// realisticHistory is a random stream recorded as a market would record it:
// each event a few days after it is effective, in recorded order, with
// retractions some days after what they retract.
func realisticHistory(t testing.TB, rng *rand.Rand, sym domain.Symbol, analysts []string, days int) *ledger {
	type pending struct {
		at time.Time // recorded time
		ev domain.Event
	}
	var ps []pending
	day0 := time.Date(2022, 1, 3, 0, 0, 0, 0, time.UTC)
	price := 10000 + rng.IntN(5000)
	for d := range days {
		eff := day0.AddDate(0, 0, d).Add(21 * time.Hour)
		price = max(100, price+rng.IntN(401)-200)
		ps = append(ps, pending{eff.Add(time.Hour), domain.CloseRecorded{Instrument: sym, Price: domain.Money(int64(price) * 10_000), Currency: "USD", EffectiveAt: eff}})
		if rng.IntN(6) == 0 {
			a := domain.Analyst(analysts[rng.IntN(len(analysts))])
			r := domain.Rating(1 + rng.IntN(5))
			target := domain.Money(int64(price+rng.IntN(4001)-2000) * 10_000)
			e := domain.RatingAdded{Instrument: sym, Analyst: a, Rating: r, BrokerRating: r.String(), Currency: "USD", EffectiveAt: eff.Add(-time.Hour)}
			if target > 0 && rng.IntN(3) > 0 {
				e.Target = &target
			}
			ps = append(ps, pending{eff.Add(time.Duration(rng.IntN(5*24)) * time.Hour), e})
		}
		if rng.IntN(300) == 0 {
			ps = append(ps, pending{eff.Add(-20 * time.Hour), domain.SplitRecorded{Instrument: sym, Ratio: domain.Ratio{New: 2, Old: 1}, EffectiveAt: eff.Add(-21 * time.Hour)}})
		}
	}
	slices.SortStableFunc(ps, func(a, b pending) int { return a.at.Compare(b.at) })
	// One event in forty is retracted one to ten days after it is
	// recorded: the retraction goes into the stream at that time.
	type retraction struct {
		at time.Time
		id uuid.UUID
	}
	var queue []retraction
	l := newLedger(t, sym, "USD")
	for _, p := range ps {
		for len(queue) > 0 && !queue[0].at.After(p.at) {
			l.recordAt(queue[0].at).retract(queue[0].id, "random")
			queue = queue[1:]
		}
		id := l.recordAt(p.at).add(p.ev)
		if rng.IntN(40) == 0 {
			queue = append(queue, retraction{p.at.Add(time.Duration(1+rng.IntN(10)) * 24 * time.Hour), id})
			slices.SortStableFunc(queue, func(a, b retraction) int { return a.at.Compare(b.at) })
		}
	}
	return l
}

// No look-ahead: for random D, the ranking and `show --top N` computed on
// the full ledger as of D, known at D, equal those computed on a copy of
// the ledger holding only the events effective and recorded up to D.
func TestTopHasNoLookAhead(t *testing.T) {
	if testing.Short() {
		t.Skip("folds 1,200-day histories many times")
	}
	analysts := []string{"a@x", "b@x", "c@y", "d@y", "e@z", "f@z", "g@z"}
	for seed := range 6 {
		rng := rand.New(rand.NewPCG(uint64(seed), 16))
		full := []*ledger{realisticHistory(t, rng, "AAA", analysts, 1200), realisticHistory(t, rng, "BBB", analysts, 1200)}
		for range 5 {
			d := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(int64(730 * 24 * time.Hour))))
			cut := make([]*ledger, len(full))
			for i, l := range full {
				c := newLedger(t, l.sym, l.ccy)
				for _, r := range l.events {
					if !r.RecordedAt.After(d) && !r.Event.Effective().After(d) {
						c.events = append(c.events, r)
					}
				}
				cut[i] = c
			}
			fullRec, cutRec := records(d, d, full...), records(d, later, cut...)
			for _, by := range []projections.Rank{projections.RankSuccess, projections.RankReturn, projections.RankAccuracy} {
				require.Equal(t, fullRec.Rank(by, projections.RankFilter{}), cutRec.Rank(by, projections.RankFilter{}), "seed %d, D %s, rank %s", seed, d, by)
			}
			n := 1 + rng.IntN(4)
			for i := range full {
				q := projections.Query{AsOf: d, KnownAt: d, Window: projections.DefaultWindow, Top: fullRec.Top(n), Explain: true}
				want := projections.Show(full[i].sym, full[i].events, q)
				q.KnownAt, q.Top = later, cutRec.Top(n)
				got := projections.Show(cut[i].sym, cut[i].events, q)
				want.KnownAt, got.KnownAt = time.Time{}, time.Time{}
				require.Equal(t, want, got, "seed %d, D %s", seed, d)
			}
		}
	}
}

// A consensus over the top analysts counts only them, and --explain says
// who made the cut.
func TestShowTopCountsOnlyTheCut(t *testing.T) {
	l := newLedger(t, "TOP", "USD")
	start := time.Date(2023, 1, 2, 0, 0, 0, 0, time.UTC)
	day := func(d int) string { return start.AddDate(0, 0, d).Format(time.DateOnly) }
	for d := range 800 {
		l.close(fmt.Sprint(100+d), day(d))
	}
	for i := range 5 {
		l.rate("good@x", "buy", "", day(i))
		l.rate("bad@x", "sell", "", day(i))
	}
	l.rate("good@x", "buy", "900", day(790))
	l.rate("bad@x", "sell", "500", day(790))
	asOf := when(t, day(799))
	r := records(asOf, later, l)
	q := projections.Query{AsOf: asOf, KnownAt: later, Window: projections.DefaultWindow, Top: r.Top(1), Explain: true}
	c := projections.Show(l.sym, l.events, q)
	assert.Equal(t, 1, c.Analysts)
	assert.Equal(t, 1, c.Buy)
	assert.Equal(t, "900", str(c.MeanTarget))
	require.Len(t, c.Explain, 2)
	assert.Equal(t, projections.StatusNotTop, c.Explain[0].Status) // bad@x
	assert.True(t, strings.HasPrefix(c.Explain[1].Reason, "counted: buy"), c.Explain[1].Reason)
	assert.Equal(t, "good@x", c.Top.Analysts[0].Analyst)
	q.Top = nil
	assert.Equal(t, 2, projections.Show(l.sym, l.events, q).Analysts)
}

// History with a cut per row (history --top N) gives every row what show
// --top N gives at that row's as_of, with that date's own cut.
func TestHistoryTopsEqualShowTop(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 16))
	analysts := []string{"a@x", "b@x", "c@y", "d@y", "e@z", "f@z", "g@z"}
	streams := []*ledger{realisticHistory(t, rng, "AAA", analysts, 900), realisticHistory(t, rng, "BBB", analysts, 900)}
	from, to := when(t, "2023-06-01"), when(t, "2024-06-01")
	ends := projections.RowTimes(from, to, projections.Month)
	tops := make([]*projections.Top, len(ends))
	for i, end := range ends {
		tops[i] = records(end, later, streams...).Top(2)
	}
	require.NotEqual(t, tops[0].Analysts, tops[len(tops)-1].Analysts, "the cut changes over the year")
	q := projections.Query{KnownAt: later, Window: projections.DefaultWindow, Tops: tops, EachBasis: true}
	for i, row := range projections.History("AAA", streams[0].events, from, to, projections.Month, q) {
		show := projections.Show("AAA", streams[0].events, projections.Query{AsOf: ends[i], KnownAt: later, Window: projections.DefaultWindow, Top: tops[i]})
		require.Equal(t, show, row, "row %s", ends[i])
	}
}
