package projections_test

import (
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/projections"
)

func TestParseWindow(t *testing.T) {
	for text, want := range map[string]time.Duration{
		"90d": 90 * 24 * time.Hour, "0d": 0, "1d": 24 * time.Hour, "090d": 90 * 24 * time.Hour, "36500d": 36500 * 24 * time.Hour,
	} {
		got, err := projections.ParseWindow(text)
		require.NoError(t, err, text)
		assert.Equal(t, want, got, text)
	}
	for _, bad := range []string{"", "d", "90", "-5d", "+5d", "1.5d", "36501d", "9999999999999999999d", "90D", "90 d", " 90d", "90days", "90h", "1e2d"} {
		_, err := projections.ParseWindow(bad)
		var v *domain.ValidationError
		require.True(t, errors.As(err, &v), "%q: %v", bad, err)
		assert.Equal(t, "window", v.Field)
		assert.Equal(t, bad, v.Value)
	}
}

func TestParseEvery(t *testing.T) {
	for text, want := range map[string]projections.Every{"day": projections.Day, "week": projections.Week, "month": projections.Month, "Week": projections.Week} {
		got, err := projections.ParseEvery(text)
		require.NoError(t, err)
		assert.Equal(t, want, got)
		assert.Equal(t, want.String(), got.String())
	}
	_, err := projections.ParseEvery("year")
	var v *domain.ValidationError
	require.True(t, errors.As(err, &v))
	assert.Equal(t, "every", v.Field)
}

// asOfs lists the rows' as_of times, formatted as the contract prints them.
func asOfs(rows []projections.Consensus) []string {
	var out []string
	for _, r := range rows {
		out = append(out, domain.FormatTime(r.AsOf))
	}
	return out
}

func TestHistoryPeriods(t *testing.T) {
	eod := func(date string) string { return date + "T23:59:59.999999999Z" }
	tests := []struct {
		name     string
		from, to string
		every    projections.Every
		want     []string
	}{
		{"days", "2025-09-08", "2025-09-12", projections.Day,
			[]string{eod("2025-09-08"), eod("2025-09-09"), eod("2025-09-10"), eod("2025-09-11"), eod("2025-09-12")}},
		{"days from midday; to before the close adds a final row", "2025-09-08T12:00:00Z", "2025-09-10T15:00:00Z", projections.Day,
			[]string{eod("2025-09-08"), eod("2025-09-09"), "2025-09-10T15:00:00Z"}},
		{"one day", "2025-09-11", "2025-09-11", projections.Day, []string{eod("2025-09-11")}},
		{"from equals to, not a period end", "2025-09-11T10:00:00Z", "2025-09-11T10:00:00Z", projections.Day, []string{"2025-09-11T10:00:00Z"}},
		{"weeks end on Sundays, to on a Tuesday", "2025-09-01", "2025-09-30", projections.Week,
			[]string{eod("2025-09-07"), eod("2025-09-14"), eod("2025-09-21"), eod("2025-09-28"), eod("2025-09-30")}},
		{"weeks, to on a Sunday", "2025-09-07", "2025-09-14", projections.Week, []string{eod("2025-09-07"), eod("2025-09-14")}},
		{"no week ends in range", "2025-09-08", "2025-09-10", projections.Week, []string{eod("2025-09-10")}},
		{"months, through a leap February", "2024-01-15", "2024-04-30", projections.Month,
			[]string{eod("2024-01-31"), eod("2024-02-29"), eod("2024-03-31"), eod("2024-04-30")}},
		{"months, to mid-month", "2025-01-01", "2025-03-10", projections.Month,
			[]string{eod("2025-01-31"), eod("2025-02-28"), eod("2025-03-10")}},
		{"a year of months", "2025-01-01", "2025-12-31", projections.Month,
			[]string{eod("2025-01-31"), eod("2025-02-28"), eod("2025-03-31"), eod("2025-04-30"), eod("2025-05-31"), eod("2025-06-30"),
				eod("2025-07-31"), eod("2025-08-31"), eod("2025-09-30"), eod("2025-10-31"), eod("2025-11-30"), eod("2025-12-31")}},
		{"to before from", "2025-09-12", "2025-09-11", projections.Day, nil},
	}
	r := babaHistory(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := projections.History("BABA", r.events, when(t, tt.from), when(t, tt.to), tt.every, projections.Query{KnownAt: later, Window: window90})
			require.NotNil(t, rows, "History never returns nil")
			assert.Equal(t, tt.want, asOfs(rows))
			if tt.every == projections.Week {
				for _, row := range rows[:len(rows)-1] {
					assert.Equal(t, time.Sunday, row.AsOf.Weekday())
				}
			}
		})
	}
}

func TestHistoryReference(t *testing.T) {
	r := babaHistory(t)
	rows := projections.History("BABA", r.events, when(t, "2025-09-09"), when(t, "2025-09-12"), projections.Day,
		projections.Query{KnownAt: later, Window: projections.DefaultWindow})
	var closes, upsides []string
	for _, row := range rows {
		closes, upsides = append(closes, str(row.Close)), append(upsides, str(row.UpsidePct))
	}
	assert.Equal(t, []string{"142.05", "143.93", "155.44", "152.98"}, closes)
	assert.Equal(t, "6.59", upsides[2])
	assert.Equal(t, "8.31", upsides[3])
}

func TestHistoryIsBounded(t *testing.T) {
	rows := projections.History("X", nil, when(t, "1900-01-01"), when(t, "2100-01-01"), projections.Day, projections.Query{KnownAt: later})
	assert.Len(t, rows, projections.MaxHistoryRows)
}

// randomHistory makes a stream of n events on a few analysts: ratings (with
// and without targets), revisions and withdrawals (some of which no longer
// apply), closes (some at equal effective times), and retractions, with
// effective times out of order and recorded times that sometimes repeat.
func randomHistory(rng *rand.Rand, n int) *ledger {
	l := newLedger(nil, "RND", "USD")
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	analysts := []domain.Analyst{"a", "b", "c", "d", "e", "f", "g", "h"}
	var retractable []domain.Recorded
	for range n {
		at := start.Add(time.Duration(rng.Int64N(int64(700 * 24 * time.Hour))))
		if rng.IntN(3) == 0 {
			at = domain.EndOfDay(at) // as bare dates give
		}
		target := domain.Money(rng.Int64N(300_000_000) + 1)
		analyst := analysts[rng.IntN(len(analysts))]
		var e domain.Event
		switch k := rng.IntN(20); {
		case k < 6:
			ra := domain.RatingAdded{Instrument: l.sym, Analyst: analyst, Rating: domain.Rating(1 + rng.IntN(5)), Currency: l.ccy, EffectiveAt: at}
			ra.BrokerRating = ra.Rating.String()
			if rng.IntN(4) > 0 {
				ra.Target = &target
			}
			e = ra
		case k < 10:
			e = domain.TargetRevised{Instrument: l.sym, Analyst: analyst, Target: target, Currency: l.ccy, EffectiveAt: at}
		case k < 12:
			e = domain.RatingWithdrawn{Instrument: l.sym, Analyst: analyst, EffectiveAt: at}
		case k < 17:
			e = domain.CloseRecorded{Instrument: l.sym, Price: target, Currency: l.ccy, EffectiveAt: at}
		default:
			if len(retractable) == 0 {
				continue
			}
			i := rng.IntN(len(retractable))
			victim := retractable[i]
			retractable = slices.Delete(retractable, i, i+1)
			e = domain.EventRetracted{Instrument: l.sym, Retracted: victim.ID, Reason: "test", EffectiveAt: victim.Event.Effective()}
		}
		l.add(e)
		if e.Type() != domain.TypeEventRetracted {
			retractable = append(retractable, l.events[len(l.events)-1])
		}
		if rng.IntN(4) > 0 {
			l.next = l.events[len(l.events)-1].RecordedAt.Add(time.Duration(rng.Int64N(int64(3 * time.Hour))))
		} else {
			l.next = l.events[len(l.events)-1].RecordedAt // the same recorded time
		}
	}
	return l
}

// TestHistoryEqualsShow checks History's single pass against independent
// Show calls at every row, over random histories, transaction times and
// windows: the cursor must give exactly what a fresh fold gives.
func TestHistoryEqualsShow(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short: 6 random histories compared row by row with show (about 5 s)")
	}
	rng := rand.New(rand.NewPCG(20250911, 12))
	var rowsCounted, rowsStale, rowsWithNotes, rowsWithUpside int
	defer func() {
		// The generator must reach the interesting cases, or the test proves little.
		assert.Positive(t, rowsCounted, "rows with counted analysts")
		assert.Positive(t, rowsStale, "rows with stale analysts")
		assert.Positive(t, rowsWithNotes, "rows with skipped or retracted events explained")
		assert.Positive(t, rowsWithUpside, "rows with an upside")
	}()
	for seed := range 6 {
		l := randomHistory(rng, 150+50*seed)
		first, last := l.events[0].RecordedAt, l.events[len(l.events)-1].RecordedAt
		for i := range 12 {
			knownAt := first.Add(time.Duration(rng.Int64N(int64(last.Sub(first)) + 1)))
			switch i {
			case 0:
				knownAt = first.Add(-time.Nanosecond)
			case 1:
				knownAt = last
			case 2:
				knownAt = l.events[rng.IntN(len(l.events))].RecordedAt
			}
			windows := []time.Duration{0, 30 * 24 * time.Hour, projections.DefaultWindow, 36 * time.Hour}
			q := projections.Query{KnownAt: knownAt, Window: windows[rng.IntN(len(windows))], Explain: rng.IntN(2) == 0}
			from := time.Date(2023, 12, 20, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(int64(60 * 24 * time.Hour))))
			to := from.Add(time.Duration(rng.Int64N(int64(760 * 24 * time.Hour))))
			every := projections.Every(rng.IntN(3))
			rows := projections.History(l.sym, l.events, from, to, every, q)
			require.NotEmpty(t, rows)
			assert.True(t, rows[len(rows)-1].AsOf.Equal(to), "the last row is at to")
			for _, row := range rows {
				q.AsOf = row.AsOf
				want := projections.Show(l.sym, l.events, q)
				if !assert.Equal(t, want, row, "seed %d, known_at %s, as_of %s, every %s", seed, knownAt, row.AsOf, every) {
					return
				}
				if row.Analysts > 0 {
					rowsCounted++
				}
				if row.UpsidePct != nil {
					rowsWithUpside++
				}
				for _, e := range row.Explain {
					if e.Status == projections.StatusStale {
						rowsStale++
					}
					if len(e.Notes) > 0 {
						rowsWithNotes++
					}
				}
			}
		}
	}
}

// TestTargetFiguresAgainstRationals compares the figures with a slow,
// independent computation in exact rationals (and a 400-bit square root) over
// random targets, including values close together so that many figures fall
// near a rounding half.
func TestTargetFiguresAgainstRationals(t *testing.T) {
	rng := rand.New(rand.NewPCG(165, 69))
	for i := range 400 {
		n := 1 + rng.IntN(40)
		targets := make([]int64, n)
		base := rng.Int64N(int64(domain.MaxMoney)) + 1
		spread := []int64{10, 10_000, 1_000_000, 100_000_000, int64(domain.MaxMoney)}[rng.IntN(5)]
		l := newLedger(t, "RAT", "USD")
		for j := range targets {
			targets[j] = min(max(base+rng.Int64N(2*spread+1)-spread, 1), int64(domain.MaxMoney))
			if rng.IntN(10) == 0 {
				targets[j] = 1 + rng.Int64N(1000) // tiny amounts too
			}
			m := domain.Money(targets[j])
			l.add(domain.RatingAdded{Instrument: l.sym, Analyst: domain.Analyst(fmt.Sprint("a", j)), Rating: domain.Buy,
				BrokerRating: "buy", Target: &m, Currency: l.ccy, EffectiveAt: when(t, "2025-09-01")})
		}
		closePrice := rng.Int64N(int64(domain.MaxMoney)) + 1
		if i%2 == 0 {
			closePrice = 1 + rng.Int64N(1_000_000_000)
		}
		l.add(domain.CloseRecorded{Instrument: l.sym, Price: domain.Money(closePrice), Currency: l.ccy, EffectiveAt: when(t, "2025-09-10")})

		got := figuresOf(showAt(t, l, "2025-09-11"))
		assert.Equal(t, referenceFigures(targets, closePrice), got, "targets %v, close %d", targets, closePrice)
	}
}

func referenceFigures(targets []int64, closePrice int64) figures {
	micro := func(v int64) *big.Rat { return big.NewRat(v, 1_000_000) }
	n := int64(len(targets))
	sorted := slices.Sorted(slices.Values(targets))
	sum := new(big.Rat)
	for _, v := range targets {
		sum.Add(sum, micro(v))
	}
	mean := new(big.Rat).Quo(sum, big.NewRat(n, 1))
	median := micro(sorted[n/2])
	if n%2 == 0 {
		median = new(big.Rat).Add(micro(sorted[n/2-1]), micro(sorted[n/2]))
		median.Quo(median, big.NewRat(2, 1))
	}
	variance := new(big.Rat)
	for _, v := range targets {
		d := new(big.Rat).Sub(micro(v), mean)
		variance.Add(variance, d.Mul(d, d))
	}
	variance.Quo(variance, big.NewRat(n, 1))
	// stddev in hundredths, rounded half up: floor(sqrt(var) * 100 + 1/2).
	root := new(big.Float).SetPrec(400).SetRat(variance)
	root.Sqrt(root)
	root.Mul(root, big.NewFloat(100).SetPrec(400))
	root.Add(root, big.NewFloat(0.5).SetPrec(400))
	hundredths, _ := root.Int(nil)
	upside := new(big.Rat).Quo(mean, micro(closePrice))
	upside.Sub(upside, big.NewRat(1, 1))
	upside.Mul(upside, big.NewRat(100, 1))
	return figures{fmt.Sprint(n), round2(mean), round2(median), round2(micro(sorted[n-1])), round2(micro(sorted[0])),
		round2(new(big.Rat).SetFrac(hundredths, big.NewInt(100))), exact(micro(closePrice)), round2(upside)}
}

// exact prints a rational with at most 6 decimals exactly, without trailing zeros.
func exact(r *big.Rat) string {
	d, _ := projections.ParseDecimal(r.FloatString(6))
	return d.String()
}

// round2 rounds half away from zero to 2 dp and prints without trailing zeros.
func round2(r *big.Rat) string {
	x := new(big.Rat).Mul(r, big.NewRat(100, 1))
	neg := x.Sign() < 0
	x.Abs(x)
	x.Add(x, big.NewRat(1, 2))
	h := new(big.Int).Quo(x.Num(), x.Denom())
	if neg {
		h.Neg(h)
	}
	return exact(new(big.Rat).SetFrac(h, big.NewInt(100)))
}

// TestCountRowsIsHistorysCount: CountRows counts the rows History returns,
// for ranges that do and do not end on a period end, and stops counting
// just past its limit.
func TestCountRowsIsHistorysCount(t *testing.T) {
	q := projections.Query{KnownAt: later}
	for _, every := range []projections.Every{projections.Day, projections.Week, projections.Month} {
		for _, r := range [][2]string{{"2025-01-01", "2025-01-01"}, {"2025-01-01", "2025-03-15T12:00:00Z"}, {"2024-12-29", "2026-02-28"}, {"1990-06-15", "2025-09-12"}} {
			from, to := when(t, r[0]), when(t, r[1])
			want := len(projections.History("X", nil, from, to, every, q))
			assert.Equal(t, want, projections.CountRows(from, to, every, projections.MaxHistoryRows), "%s %v", every, r)
			assert.Equal(t, min(want, 11), projections.CountRows(from, to, every, 10), "%s %v limited", every, r)
		}
	}
	assert.Zero(t, projections.CountRows(when(t, "2025-02-01"), when(t, "2025-01-01"), projections.Day, 10))
}
