package ledger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/backfill"
	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/gen"
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

// TestDiffAllMatchesDiffOfWholeStreams imports generated histories in
// three bursts, the later ones with retractions, and checks at random
// grids and knowledge times that diff --all in a fresh ledger (nothing
// cached: streams shorter than a snapshot read from their records alone,
// longer ones from their snapshots) answers each instrument exactly as
// projections.DiffHistory over its whole stream, and only those with rows.
func TestDiffAllMatchesDiffOfWholeStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short: imports generated history and compares dozens of diffs")
	}
	ctx := context.Background()
	l, store := mustOpen(t)
	rng := rand.New(rand.NewPCG(2026, 12))
	var file bytes.Buffer
	_, err := gen.Generate(ctx, &file, gen.Config{Instruments: 6, Analysts: 30, Years: 5, Seed: 5}, gen.JSONL)
	require.NoError(t, err)
	// Every instrument learns its second half-year after the first
	// burst's knowledge time; half the instruments keep their closes of the
	// last year only, so they stay shorter than a snapshot.
	var first, second []byte
	part := &first
	for line := range bytes.Lines(file.Bytes()) {
		var row struct{ Type, Instrument, At string }
		require.NoError(t, json.Unmarshal(line, &row))
		if row.Type == "close" && row.Instrument[0]%2 == 0 && row.At < "2025" {
			continue
		}
		if row.At != "" { // a retraction has none: it goes with the row before it
			part = &first
			if row.At >= "2025-07-01" {
				part = &second
			}
		}
		*part = append(*part, line...)
	}
	var knowns []time.Time
	for _, part := range [][]byte{first, second} {
		src, err := backfill.NewReader(bytes.NewReader(part), "part.jsonl")
		require.NoError(t, err)
		_, err = backfill.Import(ctx, l, src, backfill.Options{Name: "part.jsonl", Now: l.Now, TempDir: t.TempDir()})
		require.NoError(t, err)
		retractSome(t, l, rng)
		knowns = append(knowns, l.Now())
	}
	_, err = l.Rebuild(ctx)
	require.NoError(t, err)
	instruments, err := l.Instruments(ctx)
	require.NoError(t, err)
	histories := map[string][]domain.Recorded{}
	lengths := map[bool]int{}
	for _, in := range instruments {
		histories[string(in.Symbol)], err = l.Load(ctx, in.Symbol)
		require.NoError(t, err)
		lengths[len(histories[string(in.Symbol)]) < ledger.SnapshotEvery]++
	}
	require.Positive(t, lengths[true], "some streams shorter than a snapshot")
	require.Positive(t, lengths[false], "some streams with a snapshot")
	rows := 0
	for range 12 {
		from := time.Date(2021+rng.IntN(5), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
		if rng.IntN(3) > 0 { // mostly over the second burst's half-year
			from = time.Date(2025, time.Month(6+rng.IntN(7)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
		}
		d := projections.DiffQuery{From: from, To: from.AddDate(0, 0, 1+rng.IntN(60)), Every: projections.Every(rng.IntN(3)),
			FromKnown: knowns[0].Add(-time.Duration(rng.IntN(2)) * time.Hour), ToKnown: knowns[rng.IntN(2)], Window: projections.DefaultWindow}
		var got []projections.DiffRow
		require.NoError(t, ledger.New(store, ledger.WithClock(l.Now)).DiffAll(ctx, d, func(rows []projections.DiffRow) error {
			if len(rows) == 0 {
				return errors.New("an instrument without rows was emitted")
			}
			got = append(got, rows...)
			return nil
		}))
		var want []projections.DiffRow
		for _, in := range instruments {
			want = append(want, projections.DiffHistory(in.Symbol, histories[string(in.Symbol)], d)...)
		}
		// Row by row: a failure then prints one row, not thousands.
		require.Len(t, got, len(want), "%+v", d)
		for i := range want {
			require.Equal(t, want[i], got[i], "row %d of %+v", i, d)
		}
		rows += len(got)
	}
	require.Positive(t, rows, "some diffs have rows")
}
