package ledger_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/ledger"
	"github.com/consensus-ledger/consensus/projections"
)

// TestDiffAll checks that diff --all answers every instrument that learned
// something in symbol order, exactly as Diff answers each, hands each
// instrument's rows to emit at once, skips those that learned nothing, and
// stops at emit's error.
func TestDiffAll(t *testing.T) {
	ctx := context.Background()
	l, _ := mustOpen(t)
	at := time.Date(2025, 9, 1, 23, 59, 59, 999_999_999, time.UTC)
	closeOf := func(sym domain.Symbol, price domain.Money) {
		_, err := l.Record(ctx, domain.RecordClose{Instrument: sym, Price: price, Currency: "USD", EffectiveAt: at}, ledger.WriteOptions{})
		require.NoError(t, err)
	}
	for _, sym := range []domain.Symbol{"CCC", "AAA", "BBB", "DDD"} {
		closeOf(sym, 100_000_000)
	}
	t1 := l.Now()
	closeOf("CCC", 101_000_000)
	closeOf("AAA", 102_000_000) // BBB and DDD learn nothing

	d := projections.DiffQuery{From: at, To: at.AddDate(0, 0, 1), Every: projections.Day, FromKnown: t1, ToKnown: l.Now(), Window: projections.DefaultWindow}
	var got [][]projections.DiffRow
	require.NoError(t, l.DiffAll(ctx, d, func(rows []projections.DiffRow) error {
		got = append(got, rows)
		return nil
	}))
	require.Len(t, got, 2, "one call per instrument with rows")
	for i, sym := range []domain.Symbol{"AAA", "CCC"} {
		want, err := l.Diff(ctx, sym, d)
		require.NoError(t, err)
		assert.Equal(t, want, got[i], sym)
	}
	// No analyst, no target: of the figures only the close differs, on
	// both days of the grid.
	require.Len(t, got[0], 2)
	assert.Equal(t, "AAA", got[0][0].Instrument)
	assert.Equal(t, "close", got[0][0].Field)
	assert.Equal(t, "100", got[0][0].Before.String())
	assert.Equal(t, "102", got[0][0].After.String())

	stop := errors.New("the reader went away")
	calls := 0
	err := l.DiffAll(ctx, d, func([]projections.DiffRow) error {
		calls++
		return stop
	})
	require.ErrorIs(t, err, stop)
	assert.Equal(t, 1, calls, "no instrument is emitted after emit fails")
}
