package projections_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/projections"
)

// TestDiffFieldsAreTheShowJSONKeys holds the diff's field names to the JSON
// keys of Consensus, in order: a field added to show --json is compared by
// diff as soon as it is added here, and a misspelt name fails.
func TestDiffFieldsAreTheShowJSONKeys(t *testing.T) {
	var keys []string
	typ := reflect.TypeFor[projections.Consensus]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		switch name {
		case "instrument", "as_of", "known_at", "top", "explain", "splits":
			continue // the question, not the answer; explain is not in the plain shape; splits is a list
		}
		keys = append(keys, name)
	}
	var names []string
	for _, f := range projections.DiffFields {
		names = append(names, f.Name)
	}
	assert.Equal(t, keys, names)

	// Each field reads what show --json prints under its key.
	l := newLedger(t, "BABA", "USD")
	l.rate("a", "buy", "150.5", "2025-09-01")
	l.rate("b", "hold", "120", "2025-09-02")
	l.close("140.25", "2025-09-02")
	c := projections.Show("BABA", l.events, projections.Query{AsOf: when(t, "2025-09-03"), KnownAt: later, Window: projections.DefaultWindow})
	var shown map[string]json.RawMessage
	b, err := json.Marshal(c)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &shown))
	for _, f := range projections.DiffFields {
		got, err := json.Marshal(f.Value(&c))
		require.NoError(t, err)
		assert.Equal(t, string(shown[f.Name]), string(got), f.Name)
	}
}

// TestDiff checks which fields a diff reports, with both values, on a
// history of one rating, a typo revision, its retraction and a close.
func TestDiff(t *testing.T) {
	l := newLedger(t, "BABA", "USD")
	l.rate("a", "buy", "150", "2025-09-01")
	l.rate("b", "hold", "120", "2025-09-01")
	typo := l.revise("b", "1200", "2025-09-02")
	t1 := l.next.Add(-time.Nanosecond) // knows the typo, nothing after
	retraction := l.retract(typo, "typo")
	fix := l.revise("b", "125", "2025-09-02")
	lateClose := l.close("140", "2025-09-01")
	l.rate("c", "sell", "100", "2025-09-05") // effective after the grid: no cause, no change

	d := projections.DiffQuery{From: when(t, "2025-09-01"), To: when(t, "2025-09-03"), Every: projections.Day,
		FromKnown: t1, ToKnown: later, Window: projections.DefaultWindow}
	rows := projections.DiffHistory("BABA", l.events, d)

	type row struct{ asOf, field, before, after string }
	var got []row
	for _, r := range rows {
		got = append(got, row{r.AsOf.Format(time.DateOnly), r.Field, jsonOf(t, r.Before), jsonOf(t, r.After)})
	}
	assert.Equal(t, []row{
		{"2025-09-01", "close", "null", "140"},
		{"2025-09-01", "close_at", "null", `"2025-09-01T23:59:59.999999999Z"`},
		{"2025-09-01", "upside_pct", "null", "-3.57"}, // targets 150 and 120 against 140
		{"2025-09-02", "mean_target", "675", "137.5"},
		{"2025-09-02", "median_target", "675", "137.5"},
		{"2025-09-02", "high_target", "1200", "150"},
		{"2025-09-02", "low_target", "150", "125"},
		{"2025-09-02", "stddev_target", "525", "12.5"},
		{"2025-09-02", "close", "null", "140"},
		{"2025-09-02", "close_at", "null", `"2025-09-01T23:59:59.999999999Z"`},
		{"2025-09-02", "upside_pct", "null", "-1.79"},
		{"2025-09-03", "mean_target", "675", "137.5"},
		{"2025-09-03", "median_target", "675", "137.5"},
		{"2025-09-03", "high_target", "1200", "150"},
		{"2025-09-03", "low_target", "150", "125"},
		{"2025-09-03", "stddev_target", "525", "12.5"},
		{"2025-09-03", "close", "null", "140"},
		{"2025-09-03", "close_at", "null", `"2025-09-01T23:59:59.999999999Z"`},
		{"2025-09-03", "upside_pct", "null", "-1.79"},
	}, got)

	causes := func(r projections.DiffRow) []uuid.UUID {
		var ids []uuid.UUID
		for _, c := range r.Causes {
			ids = append(ids, c.EventID)
		}
		return ids
	}
	// As of 1 September only the late close is effective; from the 2nd the
	// retraction (effective when the typo was) and the fix are too, in
	// stream order. The rating effective on the 5th is never a cause.
	assert.Equal(t, []uuid.UUID{lateClose}, causes(rows[0]))
	assert.Equal(t, []uuid.UUID{retraction, fix, lateClose}, causes(rows[3]))
	assert.Equal(t, []uuid.UUID{retraction, fix, lateClose}, causes(rows[len(rows)-1]))
	assert.Equal(t, projections.Cause{EventID: retraction, Type: domain.TypeEventRetracted,
		RecordedAt: l.recorded(retraction), EffectiveAt: when(t, "2025-09-02")}, rows[3].Causes[0])

	// The rows are Show's figures at both times, nothing else.
	for _, r := range rows {
		for _, side := range []struct {
			known time.Time
			want  projections.Figure
		}{{t1, r.Before}, {later, r.After}} {
			c := projections.Show("BABA", l.events, projections.Query{AsOf: r.AsOf, KnownAt: side.known, Window: projections.DefaultWindow})
			for _, f := range projections.DiffFields {
				if f.Name == r.Field {
					assert.Equal(t, side.want, f.Value(&c), "%s %s", r.AsOf, r.Field)
				}
			}
		}
	}
}

// TestDiffOfNothing checks that equal knowledge times, or a span in which
// nothing effective by the grid's end was learned, give no rows (an empty
// array, never null).
func TestDiffOfNothing(t *testing.T) {
	l := newLedger(t, "BABA", "USD")
	l.rate("a", "buy", "150", "2025-09-01")
	t1 := l.next
	l.rate("b", "sell", "100", "2025-10-01")
	for _, d := range []projections.DiffQuery{
		{From: when(t, "2025-09-01"), To: when(t, "2025-09-30"), FromKnown: t1, ToKnown: later},
		{From: when(t, "2025-09-01"), To: when(t, "2025-10-31"), FromKnown: later, ToKnown: later},
		{From: when(t, "2025-09-01"), To: when(t, "2025-10-31"), FromKnown: t0.Add(-time.Hour), ToKnown: t0.Add(-time.Minute)},
	} {
		rows := projections.DiffHistory("BABA", l.events, d)
		require.NotNil(t, rows)
		assert.Empty(t, rows)
		b, err := json.Marshal(rows)
		require.NoError(t, err)
		assert.Equal(t, "[]", string(b))
	}
}

// TestWithCausesBounds checks the bounds of a cause: recorded after T1
// (exclusive) and by T2 (inclusive), effective by the row's as_of
// (inclusive).
func TestWithCausesBounds(t *testing.T) {
	l := newLedger(t, "BABA", "USD")
	atT1 := l.close("100", "2025-09-01")
	t1 := l.recorded(atT1)
	justAfter := l.close("101", "2025-09-02")
	atT2 := l.close("102", "2025-09-03")
	t2 := l.recorded(atT2)
	l.close("103", "2025-09-01") // recorded after T2
	asOf := when(t, "2025-09-02")
	rows := projections.WithCauses([]projections.DiffRow{{AsOf: asOf}, {AsOf: asOf}, {AsOf: when(t, "2025-09-03")}}, l.events, t1, t2)
	require.Len(t, rows[0].Causes, 1)
	assert.Equal(t, justAfter, rows[0].Causes[0].EventID)
	assert.Equal(t, rows[0].Causes, rows[1].Causes)
	require.Len(t, rows[2].Causes, 2)
	assert.Equal(t, []uuid.UUID{justAfter, atT2}, []uuid.UUID{rows[2].Causes[0].EventID, rows[2].Causes[1].EventID})
}

func TestCheckDiffKnown(t *testing.T) {
	early, late := when(t, "2025-09-01"), when(t, "2025-09-02")
	require.NoError(t, projections.CheckDiffKnown("from-known", "2025-09-01", early, "--to-known", "2025-09-02", late))
	require.NoError(t, projections.CheckDiffKnown("from-known", "2025-09-01", early, "--to-known", "2025-09-01", early))
	err := projections.CheckDiffKnown("from-known", "2025-09-02", late, "--to-known", "2025-09-01", early)
	var v *domain.ValidationError
	require.ErrorAs(t, err, &v)
	assert.Equal(t, `from-known "2025-09-02" is after --to-known 2025-09-01`, err.Error())
}

func jsonOf(t *testing.T, f projections.Figure) string {
	t.Helper()
	b, err := json.Marshal(f)
	require.NoError(t, err)
	return string(b)
}
