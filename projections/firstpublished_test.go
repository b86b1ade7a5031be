package projections_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/projections"
)

// TestRestatedCoversEveryField holds Restated to its definition: a change to
// any field of the row's contract JSON but known_at is a restatement, and a
// change of known_at alone is not. A field added to Consensus fails here
// until Restated compares it.
func TestRestatedCoversEveryField(t *testing.T) {
	d := func(s string) *projections.Decimal {
		v, err := projections.ParseDecimal(s)
		require.NoError(t, err)
		return &v
	}
	closeAt := when(t, "2025-09-10")
	base := projections.Consensus{Instrument: "BABA", Currency: "USD", AsOf: when(t, "2025-09-11"), KnownAt: when(t, "2025-09-11"),
		WindowDays: 90, Analysts: 3, Buy: 2, Hold: 1, Sell: 0, MeanRating: d("1.67"), Label: projections.LabelModerateBuy,
		Targets: 3, MeanTarget: d("150"), MedianTarget: d("150"), HighTarget: d("160"), LowTarget: d("140"),
		StddevTarget: d("8.16"), Close: d("143.93"), CloseAt: &closeAt, UpsidePct: d("4.22"),
		Adjusted: true, Splits: []projections.AppliedSplit{{Ratio: "2:1", EffectiveAt: closeAt.Add(-time.Hour)}}}
	assert.False(t, projections.Restated(base, base))
	moved := base
	moved.KnownAt = later
	assert.False(t, projections.Restated(base, moved), "known_at alone is no restatement")
	sameNumber := base
	sameNumber.Close, sameNumber.CloseAt = d("143.930"), ptrTo(closeAt.In(time.FixedZone("X", 3600)))
	assert.False(t, projections.Restated(base, sameNumber), "equal figures and instants, written differently")

	typ := reflect.TypeOf(base)
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Name == "KnownAt" || f.Name == "Explain" || f.Name == "Top" {
			continue
		}
		changed := base
		v := reflect.ValueOf(&changed).Elem().Field(i)
		switch x := v.Interface().(type) {
		case string:
			v.SetString(x + "x")
		case int:
			v.SetInt(int64(x) + 1)
		case time.Time:
			v.Set(reflect.ValueOf(x.Add(time.Nanosecond)))
		case *time.Time:
			v.Set(reflect.ValueOf(ptrTo(x.Add(time.Nanosecond))))
		case *projections.Decimal:
			v.Set(reflect.ValueOf(d(x.String() + "1")))
		case bool:
			v.SetBool(!x)
		case []projections.AppliedSplit:
			for _, other := range [][]projections.AppliedSplit{nil, {{Ratio: "2:1", EffectiveAt: closeAt}}} {
				changed.Splits = other
				assert.True(t, projections.Restated(changed, base), "splits %v", other)
			}
			ratio := base
			ratio.Splits = []projections.AppliedSplit{{Ratio: "4:1", EffectiveAt: closeAt}}
			changed.Splits = []projections.AppliedSplit{{Ratio: "4:1", EffectiveAt: closeAt.Add(time.Nanosecond)}}
			assert.True(t, projections.Restated(changed, ratio), "a split's effective time")
		default:
			t.Fatalf("field %s of type %s: teach this test and Restated about it", f.Name, f.Type)
		}
		assert.True(t, projections.Restated(changed, base), "a change of %s", f.Name)
		absent := base
		if a := reflect.ValueOf(&absent).Elem().Field(i); a.Kind() == reflect.Pointer {
			a.Set(reflect.Zero(a.Type()))
			assert.True(t, projections.Restated(absent, base), "%s absent against present", f.Name)
			assert.True(t, projections.Restated(base, absent), "%s present against absent", f.Name)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }

// typoLedger is a live ledger: each event recorded the day it takes effect,
// but for a target keyed as 1650 on 3 September, retracted and keyed again
// as 165 on the 5th, and a close recorded a day late.
func typoLedger(t *testing.T) *ledger {
	l := newLedger(t, "BABA", "USD")
	l.recordAt(when(t, "2025-09-01T10:00:00Z")).rate("a.one", "buy", "140", "2025-09-01")
	l.rate("b.two", "hold", "150", "2025-09-01")
	typo := l.recordAt(when(t, "2025-09-03T10:00:00Z")).revise("a.one", "1650", "2025-09-03")
	l.recordAt(when(t, "2025-09-04T10:00:00Z")).close("141.50", "2025-09-04")
	l.recordAt(when(t, "2025-09-05T10:00:00Z")).retract(typo, "typo: 1650 keyed instead of 165")
	l.revise("a.one", "165", "2025-09-03")
	l.recordAt(when(t, "2025-09-07T09:00:00Z")).close("142.10", "2025-09-06")
	return l
}

func TestFirstPublishedRestatesTheTypo(t *testing.T) {
	l := typoLedger(t)
	q := projections.Query{KnownAt: when(t, "2025-09-07T12:00:00Z"), Window: projections.DefaultWindow}
	ix := domain.NewIndex(l.events)
	got := projections.FirstPublished(l.sym, ix, when(t, "2025-08-31"), when(t, "2025-09-08"), projections.Day, q)
	assert.Equal(t, when(t, "2025-09-01T10:00:00Z"), got.FirstRecorded)

	type row struct {
		asOf, knownAt, mean, high, close string
		restated                         bool
	}
	var rows []row
	for _, r := range got.Rows {
		rows = append(rows, row{r.AsOf.Format(time.DateOnly), domain.FormatTime(r.KnownAt), str(r.MeanTarget),
			str(r.HighTarget), str(r.Close), r.Restated})
	}
	eod := func(day string) string { return day + "T23:59:59.999999999Z" }
	// 31 August is before the first recording: never published, left out.
	assert.Equal(t, []row{
		{"2025-09-01", eod("2025-09-01"), "145", "150", "null", false},
		{"2025-09-02", eod("2025-09-02"), "145", "150", "null", false},
		{"2025-09-03", eod("2025-09-03"), "900", "1650", "null", true},    // the typo, as shown then
		{"2025-09-04", eod("2025-09-04"), "900", "1650", "141.5", true},   // and still the next day
		{"2025-09-05", eod("2025-09-05"), "157.5", "165", "141.5", false}, // corrected
		{"2025-09-06", eod("2025-09-06"), "157.5", "165", "141.5", true},  // the 6th's close came on the 7th
		{"2025-09-07", "2025-09-07T12:00:00Z", "157.5", "165", "142.1", false},
		{"2025-09-08", "2025-09-07T12:00:00Z", "157.5", "165", "142.1", false},
	}, rows)

	for _, r := range got.Rows {
		requireShown(t, l, q, r)
	}
}

// requireShown checks a first-published row against show: it equals `show
// --as-of D --known-at min(D, known-at)`, and is restated exactly where
// that differs from `show --as-of D --known-at known-at`.
func requireShown(t *testing.T, l *ledger, q projections.Query, r projections.Published) {
	t.Helper()
	knownAt := q.KnownAt
	if r.AsOf.Before(knownAt) {
		knownAt = r.AsOf
	}
	first := projections.Show(l.sym, l.events, projections.Query{AsOf: r.AsOf, KnownAt: knownAt, Window: q.Window})
	require.Equal(t, first, r.Consensus, "row %s", r.AsOf)
	now := projections.Show(l.sym, l.events, projections.Query{AsOf: r.AsOf, KnownAt: q.KnownAt, Window: q.Window})
	require.Equal(t, projections.Restated(first, now), r.Restated, "row %s", r.AsOf)
}

// TestFirstPublishedBackfill is the contract's worked example: a history of
// an instrument backfilled today (every event effective long before) has no
// first-published row before today.
func TestFirstPublishedBackfill(t *testing.T) {
	l := newLedger(t, "BABA", "USD") // recorded from t0, 2026-01-01
	l.rate("a.one", "buy", "140", "2025-12-01")
	l.close("120", "2025-12-02")
	ix := domain.NewIndex(l.events)
	q := projections.Query{KnownAt: later, Window: projections.DefaultWindow}

	before := projections.FirstPublished(l.sym, ix, when(t, "2025-06-01"), when(t, "2025-12-31"), projections.Day, q)
	assert.Equal(t, []projections.Published{}, before.Rows)
	assert.Equal(t, t0, before.FirstRecorded)

	// Across the backfill, only the rows from its day on, as known now.
	across := projections.FirstPublished(l.sym, ix, when(t, "2025-12-30"), when(t, "2026-01-02"), projections.Day, q)
	require.Len(t, across.Rows, 2)
	for _, r := range across.Rows {
		assert.False(t, r.Restated)
		assert.Equal(t, r.AsOf, r.KnownAt)
		assert.Equal(t, "140", str(r.MeanTarget))
		assert.Equal(t, "120", str(r.Close))
	}
	assert.Equal(t, []string{"2026-01-01T23:59:59.999999999Z", "2026-01-02T23:59:59.999999999Z"},
		[]string{domain.FormatTime(across.Rows[0].AsOf), domain.FormatTime(across.Rows[1].AsOf)})

	// Known at a time before the backfill, nothing was published at all.
	early := projections.FirstPublished(l.sym, ix, when(t, "2026-01-01"), when(t, "2026-01-05"), projections.Day,
		projections.Query{KnownAt: when(t, "2025-12-31"), Window: projections.DefaultWindow})
	assert.Empty(t, early.Rows)

	empty := projections.FirstPublished(l.sym, domain.NewIndex(nil), when(t, "2026-01-01"), when(t, "2026-01-05"), projections.Day, q)
	assert.Equal(t, projections.PublishedHistory{Rows: []projections.Published{}}, empty)
}

// TestPublishedJSON checks the row's JSON: the contract row's keys in their
// order, then "restated".
func TestPublishedJSON(t *testing.T) {
	l := typoLedger(t)
	q := projections.Query{KnownAt: when(t, "2025-09-07T12:00:00Z"), Window: projections.DefaultWindow}
	got := projections.FirstPublished(l.sym, domain.NewIndex(l.events), when(t, "2025-09-04"), when(t, "2025-09-04"), projections.Day, q)
	require.Len(t, got.Rows, 1)
	b, err := json.Marshal(got.Rows[0])
	require.NoError(t, err)
	assert.Equal(t, `{"instrument":"BABA","currency":"USD","as_of":"2025-09-04T23:59:59.999999999Z",`+
		`"known_at":"2025-09-04T23:59:59.999999999Z","window_days":90,"analysts":2,"buy":1,"hold":1,"sell":0,`+
		`"mean_rating":2.5,"label":"Moderate Buy","targets":2,"mean_target":900,"median_target":900,"high_target":1650,`+
		`"low_target":150,"stddev_target":750,"close":141.5,"close_at":"2025-09-04T23:59:59.999999999Z",`+
		`"upside_pct":536.04,"adjusted":true,"splits":[],"restated":true}`, string(b))
}

// TestFirstPublishedMatchesShow checks a generated live ledger (recorded
// within hours of taking effect, closes after midnight, corrections days
// later) row by row against show at each row's own time.
func TestFirstPublishedMatchesShow(t *testing.T) {
	l := liveHistory(t, 1000, 3)
	q := projections.Query{KnownAt: benchEnd.AddDate(0, 0, -30), Window: projections.DefaultWindow}
	from := benchEnd.AddDate(-3, 0, 0)
	got := projections.FirstPublished(l.sym, domain.NewIndex(l.events), from, benchEnd, projections.Day, q)
	restated := 0
	for i, r := range got.Rows {
		if r.Restated {
			restated++
		}
		if !r.AsOf.Before(q.KnownAt) {
			require.False(t, r.Restated, "row %s is after known-at: the plain row", r.AsOf)
			require.Equal(t, q.KnownAt, r.KnownAt)
		}
		if i%10 != 0 {
			continue // a sample: two full folds per row
		}
		requireShown(t, l, q, r)
	}
	// The generated history restates most days (each day's close and late
	// ratings arrive after midnight), but not the rows after known-at.
	assert.Equal(t, 1095, len(got.Rows))
	assert.Equal(t, 753, restated)
}

// TestFirstPublishedOwnBasis: every first-published row is on the basis of
// its own as_of, as show gave it then, so a split announced in advance
// restates nothing, while the plain history puts every row on its last
// row's basis; a split recorded late restates the rows it has adjusted
// since.
func TestFirstPublishedOwnBasis(t *testing.T) {
	for _, c := range []struct {
		name, recorded string
		restated       []bool
	}{
		{"announced", "2025-09-01T12:00:00Z", []bool{false, false, false, false}},
		{"recorded late", "2025-09-05T12:00:00Z", []bool{false, false, true, true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := newLedger(t, "BABA", "USD")
			l.recordAt(when(t, "2025-09-01T10:00:00Z")).rate("a.one", "buy", "100", "2025-09-01")
			l.recordAt(when(t, c.recorded)).add(domain.SplitRecorded{Instrument: l.sym, Ratio: domain.Ratio{New: 2, Old: 1},
				EffectiveAt: when(t, "2025-09-03T00:00:00Z")})
			q := projections.Query{KnownAt: later, Window: projections.DefaultWindow}
			from, to := when(t, "2025-09-01"), when(t, "2025-09-04")
			got := projections.FirstPublished(l.sym, domain.NewIndex(l.events), from, to, projections.Day, q)
			var means []string
			var restated []bool
			for _, r := range got.Rows {
				means, restated = append(means, str(r.MeanTarget)), append(restated, r.Restated)
				requireShown(t, l, projections.Query{KnownAt: later, Window: projections.DefaultWindow, EachBasis: true}, r)
			}
			first := map[bool][]string{false: {"100", "100", "50", "50"}, true: {"100", "100", "100", "100"}}
			assert.Equal(t, first[c.restated[2]], means)
			assert.Equal(t, c.restated, restated)
			var plain []string
			for _, r := range projections.History(l.sym, l.events, from, to, projections.Day, q) {
				plain = append(plain, str(r.MeanTarget))
			}
			assert.Equal(t, []string{"50", "50", "50", "50"}, plain, "the plain history: every row on the last row's basis")
		})
	}
}
