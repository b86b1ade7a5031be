package ledger_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/ledger"
	"github.com/consensus-ledger/consensus/projections"
)

// seedHistory appends n events for one instrument straight to the store: 150
// analysts rating, revising and withdrawing over three years, and a daily
// close, in effective-time order. It returns the last effective time.
func seedHistory(tb testing.TB, store eventstore.Store, n int) time.Time {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2022, 1, 3, 0, 0, 0, 0, time.UTC)
	held := map[int]bool{}
	var batch []eventstore.EventData
	version := eventstore.NoStream
	at := start
	flush := func() {
		res, err := store.Append(context.Background(), "instrument-BENCH", version, batch)
		require.NoError(tb, err)
		version = eventstore.Version(res.Records[len(res.Records)-1].Version)
		batch = batch[:0]
	}
	for i := 0; i < n; i++ {
		at = at.Add(5 * time.Hour)
		var e domain.Event
		analyst := rng.IntN(150)
		name := domain.Analyst(fmt.Sprintf("analyst-%03d@firm-%d", analyst, analyst%20))
		target := domain.Money(rng.Int64N(100_000_000) + 50_000_000)
		switch k := rng.IntN(10); {
		case k < 3:
			e = domain.CloseRecorded{Instrument: "BENCH", Price: domain.Money(rng.Int64N(50_000_000) + 100_000_000), Currency: "USD", EffectiveAt: at}
		case k < 6 || !held[analyst]:
			e = domain.RatingAdded{Instrument: "BENCH", Analyst: name, Rating: domain.Rating(rng.IntN(5) + 1), BrokerRating: "buy", Target: &target, Currency: "USD", EffectiveAt: at}
			held[analyst] = true
		case k < 9:
			e = domain.TargetRevised{Instrument: "BENCH", Analyst: name, Target: target, Currency: "USD", EffectiveAt: at}
		default:
			e = domain.RatingWithdrawn{Instrument: "BENCH", Analyst: name, EffectiveAt: at}
			held[analyst] = false
		}
		data, err := domain.EncodeEvent(e)
		require.NoError(tb, err)
		batch = append(batch, eventstore.EventData{ID: uuid.Must(uuid.NewV7()), Type: e.Type(), Data: data,
			Metadata: []byte(`{"recorded_by":"bench","source":"bench"}`), EffectiveAt: at})
		if len(batch) == 500 {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
	return at
}

func openBenchStore(b *testing.B) (eventstore.Store, time.Time) {
	store, err := sqlite.Open(filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{})
	require.NoError(b, err)
	b.Cleanup(func() { store.Close() })
	last := seedHistory(b, store, 5000)
	return store, last
}

// BenchmarkShow5000Warm is `show` on an instrument with 5,000 events through a
// long-lived ledger (as a server holds one): each query checks the store for
// new events, then folds the cached history at a random date.
func BenchmarkShow5000Warm(b *testing.B) {
	store, last := openBenchStore(b)
	l := ledger.New(store)
	ctx := context.Background()
	span := last.Sub(time.Date(2022, 1, 3, 0, 0, 0, 0, time.UTC))
	rng := rand.New(rand.NewPCG(3, 4))
	_, err := l.Show(ctx, "BENCH", projections.Query{AsOf: last, KnownAt: time.Now()})
	require.NoError(b, err)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		asOf := last.Add(-time.Duration(rng.Int64N(int64(span))))
		if _, err := l.Show(ctx, "BENCH", projections.Query{AsOf: asOf, KnownAt: time.Now(), Window: projections.DefaultWindow}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkShow5000Cold is `show` as one command-line invocation does it: a
// fresh ledger on a read-only store loads the stream's snapshot (written
// when the stream was last appended to), checks it against the chain, reads
// the records after it and folds.
func BenchmarkShow5000Cold(b *testing.B) {
	benchmarkCold(b, func(s eventstore.Store) eventstore.Store { return s })
}

// BenchmarkShow5000ColdNoSnapshot is the same without snapshots: every
// record is read from SQLite and its JSON decoded.
func BenchmarkShow5000ColdNoSnapshot(b *testing.B) {
	benchmarkCold(b, func(s eventstore.Store) eventstore.Store { return hideSnapshots{s} })
}

// hideSnapshots hides a store's snapshots from the ledger.
type hideSnapshots struct{ eventstore.Store }

func benchmarkCold(b *testing.B, wrap func(eventstore.Store) eventstore.Store) {
	path := filepath.Join(b.TempDir(), "bench.db")
	writer, err := sqlite.Open(path, sqlite.Options{})
	require.NoError(b, err)
	last := seedHistory(b, writer, 5000)
	ctx := context.Background()
	_, err = ledger.New(writer).Load(ctx, "BENCH") // as the last append would: writes the snapshot
	require.NoError(b, err)
	require.NoError(b, writer.Close())
	reader, err := sqlite.Open(path, sqlite.Options{ReadOnly: true})
	require.NoError(b, err)
	b.Cleanup(func() { reader.Close() })
	store := wrap(reader)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		l := ledger.New(store)
		if _, err := l.Show(ctx, "BENCH", projections.Query{AsOf: last, KnownAt: time.Now(), Window: projections.DefaultWindow}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecordRate is one durable `rate` through the ledger: read the
// stream's new events, decide, append in its own fsynced transaction. It
// reports the p50 and p99 latency of the single writes.
func BenchmarkRecordRate(b *testing.B) {
	store, err := sqlite.Open(filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{})
	require.NoError(b, err)
	b.Cleanup(func() { store.Close() })
	l := ledger.New(store)
	ctx := context.Background()
	target := domain.Money(165_690_000)
	at := time.Date(2025, 9, 11, 23, 59, 59, 999_999_999, time.UTC)
	var latencies []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		cmd := domain.Rate{Instrument: "BABA", Analyst: domain.Analyst(fmt.Sprintf("analyst-%d@firm", i%200)),
			Rating: domain.Buy, BrokerRating: "outperform", Target: &target, Currency: "USD", EffectiveAt: at}
		start := time.Now()
		if _, err := l.Record(ctx, cmd, ledger.WriteOptions{RecordedBy: "bench", Source: "bench"}); err != nil {
			b.Fatal(err)
		}
		latencies = append(latencies, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds())
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}
