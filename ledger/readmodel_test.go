package ledger_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/backfill"
	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/gen"
	"github.com/consensus-ledger/consensus/ledger"
	"github.com/consensus-ledger/consensus/projections"
)

// TestReadModelMatchesFullFold loads a generated history the way backfills
// and live writers do (out of order, in bursts recorded at different times,
// with retractions landing afterwards), asking questions all along so the
// read model is extended and rebuilt as events land. At many random
// (as_of, known_at) points, the ledger's answer (from its read model, in a
// long-lived and in a fresh ledger) must equal a full fold of the events,
// and a fresh ledger's disclosures reports the ones assembled from whole
// streams.
func TestReadModelMatchesFullFold(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short: imports 8 years of generated history in bursts and compares hundreds of points and 120 disclosures reports (about 22 s at load 11-16)")
	}
	ctx := context.Background()
	l, store := mustOpen(t)
	rng := rand.New(rand.NewPCG(2026, 11))

	var file bytes.Buffer
	_, err := gen.Generate(ctx, &file, gen.Config{Instruments: 3, Analysts: 30, Years: 8, Seed: 9}, gen.JSONL)
	require.NoError(t, err)
	lines := bytes.SplitAfter(file.Bytes(), []byte("\n"))
	third := len(lines) / 3
	// The newest third first, then the oldest, then the middle: each burst
	// is recorded later than the one before, about dates in any order.
	for _, part := range [][][]byte{lines[2*third:], lines[:third], lines[third : 2*third]} {
		src, err := backfill.NewReader(bytes.NewReader(bytes.Join(part, nil)), "part.jsonl")
		require.NoError(t, err)
		sum, err := backfill.Import(ctx, l, src, backfill.Options{Name: "part.jsonl", Now: l.Now, TempDir: t.TempDir()})
		require.NoError(t, err)
		require.Positive(t, sum.Imported)
		t.Logf("burst: %+v", sum)
		checkReadModel(t, l, l, rng, 20)
		retractSome(t, l, rng)
		checkReadModel(t, l, l, rng, 20)
	}
	checkReadModel(t, l, l, rng, 200)
	checkReadModel(t, l, ledger.New(store, ledger.WithClock(l.Now)), rng, 200)
	fresh := func() *ledger.Ledger { return ledger.New(store, ledger.WithClock(l.Now)) }
	// The last retractions named closes kept in the snapshots' chunks, so
	// ShowAll takes the full path; after a rebuild the snapshots cover
	// them, and it answers from heads and chunks; then with records after
	// the snapshots.
	checkShowAll(t, l, fresh, rng, 100)
	checkTrackRecords(t, l, fresh, rng, 5)
	checkDisclosures(t, l, fresh, rng, 30)
	_, err = l.Rebuild(ctx)
	require.NoError(t, err)
	checkShowAll(t, l, fresh, rng, 200)
	checkTrackRecords(t, l, fresh, rng, 5)
	checkDisclosures(t, l, fresh, rng, 60)
	instruments, err := l.Instruments(ctx)
	require.NoError(t, err)
	for _, in := range instruments {
		for i := range 3 {
			_, err := l.Record(ctx, domain.RecordClose{Instrument: in.Symbol, Price: domain.Money(1_0000 * (i + 1)), Currency: in.Currency,
				EffectiveAt: in.LastRecordedAt.AddDate(0, 0, -i)}, ledger.WriteOptions{})
			require.NoError(t, err)
		}
	}
	checkShowAll(t, l, fresh, rng, 100)
	checkTrackRecords(t, l, fresh, rng, 5)
	checkDisclosures(t, l, fresh, rng, 30)
}

// checkTrackRecords compares the track records of a fresh ledger (from
// each stream's snapshot without metadata and the records after it) with
// those of full histories loaded whole, at n random points, in every
// ranking and for every analyst.
func checkTrackRecords(t *testing.T, source *ledger.Ledger, fresh func() *ledger.Ledger, rng *rand.Rand, n int) {
	t.Helper()
	ctx := context.Background()
	instruments, err := source.Instruments(ctx)
	require.NoError(t, err)
	histories := make([][]domain.Recorded, len(instruments))
	var all []domain.Recorded
	for i, in := range instruments {
		histories[i], err = source.Load(ctx, in.Symbol)
		require.NoError(t, err)
		all = append(all, histories[i]...)
	}
	for range n {
		asOf := pick(rng, all, func(r domain.Recorded) time.Time { return r.Event.Effective() }).AddDate(1, 0, 0)
		knownAt := pick(rng, all, func(r domain.Recorded) time.Time { return r.RecordedAt })
		want := projections.NewRecords(asOf, knownAt)
		for i, in := range instruments {
			want.Add(in.Symbol, domain.NewTimeline(histories[i], knownAt))
		}
		got, err := fresh().TrackRecords(ctx, asOf, knownAt)
		require.NoError(t, err)
		require.Equal(t, want.Analysts(), got.Analysts(), "as of %s known at %s", asOf, knownAt)
		for _, by := range []projections.Rank{projections.RankSuccess, projections.RankReturn, projections.RankAccuracy} {
			require.Equal(t, want.Rank(by, projections.RankFilter{}), got.Rank(by, projections.RankFilter{}), "by %s as of %s known at %s", by, asOf, knownAt)
		}
	}
}

// checkShowAll compares ShowAll's answers in a fresh ledger (from each
// stream's snapshot, decoding only the closes that matter) with full folds,
// at n random points.
func checkShowAll(t *testing.T, source *ledger.Ledger, fresh func() *ledger.Ledger, rng *rand.Rand, n int) {
	t.Helper()
	ctx := context.Background()
	instruments, err := source.Instruments(ctx)
	require.NoError(t, err)
	histories := make([][]domain.Recorded, len(instruments))
	for i, in := range instruments {
		histories[i], err = source.Load(ctx, in.Symbol)
		require.NoError(t, err)
		require.Greater(t, len(histories[i]), ledger.SnapshotEvery, "%s: long enough to have a snapshot", in.Symbol)
	}
	for range n {
		history := histories[rng.IntN(len(histories))]
		q := projections.Query{
			AsOf:    pick(rng, history, func(r domain.Recorded) time.Time { return r.Event.Effective() }),
			KnownAt: pick(rng, history, func(r domain.Recorded) time.Time { return r.RecordedAt }),
			Window:  []time.Duration{projections.DefaultWindow, 0, 30 * 24 * time.Hour}[rng.IntN(3)],
			Explain: rng.IntN(2) == 0,
		}
		answers, err := fresh().ShowAll(ctx, q)
		require.NoError(t, err)
		require.Len(t, answers, len(instruments))
		for i, in := range instruments {
			require.Equal(t, projections.Show(in.Symbol, histories[i], q), answers[i], "%s as of %s known at %s", in.Symbol, q.AsOf, q.KnownAt)
		}
	}
}

// retractSome retracts a random event of each instrument, as a live writer
// correcting a mistake would, and rates one analyst again.
func retractSome(t *testing.T, l *ledger.Ledger, rng *rand.Rand) {
	t.Helper()
	ctx := context.Background()
	instruments, err := l.Instruments(ctx)
	require.NoError(t, err)
	for _, in := range instruments {
		history, err := l.Load(ctx, in.Symbol)
		require.NoError(t, err)
		target := history[rng.IntN(len(history))]
		if target.Event.Type() == domain.TypeEventRetracted {
			continue
		}
		_, err = l.Record(ctx, domain.Retract{Instrument: in.Symbol, EventID: target.ID, Reason: "test correction"}, ledger.WriteOptions{})
		if err != nil { // already retracted, say: the fold must still agree
			var ve *domain.ValidationError
			require.ErrorAs(t, err, &ve)
		}
	}
}

// checkReadModel compares got's answers with a full fold of the events, at n
// random points per instrument.
func checkReadModel(t *testing.T, source, got *ledger.Ledger, rng *rand.Rand, n int) {
	t.Helper()
	ctx := context.Background()
	instruments, err := source.Instruments(ctx)
	require.NoError(t, err)
	for _, in := range instruments {
		history, err := source.Load(ctx, in.Symbol)
		require.NoError(t, err)
		for range n {
			q := projections.Query{
				AsOf:    pick(rng, history, func(r domain.Recorded) time.Time { return r.Event.Effective() }),
				KnownAt: pick(rng, history, func(r domain.Recorded) time.Time { return r.RecordedAt }),
				Window:  []time.Duration{projections.DefaultWindow, 0, 30 * 24 * time.Hour}[rng.IntN(3)],
				Explain: rng.IntN(2) == 0,
			}
			answer, err := got.Show(ctx, in.Symbol, q)
			require.NoError(t, err)
			require.Equal(t, projections.Show(in.Symbol, history, q), answer, "%s as of %s known at %s", in.Symbol, q.AsOf, q.KnownAt)
		}
	}
}

// pick returns a time near one of the history's own times (where "at or
// before" matters most), or just before or after it.
func pick(rng *rand.Rand, history []domain.Recorded, of func(domain.Recorded) time.Time) time.Time {
	t := of(history[rng.IntN(len(history))])
	switch rng.IntN(4) {
	case 0:
		return t
	case 1:
		return t.Add(-time.Microsecond)
	case 2:
		return t.Add(time.Duration(rng.IntN(240)) * time.Hour)
	}
	return t.Add(-time.Duration(rng.IntN(240)) * time.Hour)
}
