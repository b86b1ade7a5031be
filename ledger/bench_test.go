package ledger_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
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
	return seedHistoryWithSplits(tb, store, n, 0)
}

// seedHistoryWithSplits is seedHistory with splits more: a 2:1 split
// replaces the event at every (n / (splits + 1))-th place, so that they
// fall evenly over the three years.
func seedHistoryWithSplits(tb testing.TB, store eventstore.Store, n, splits int) time.Time {
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
		case splits > 0 && i > 0 && i%(n/(splits+1)) == 0:
			e = domain.SplitRecorded{Instrument: "BENCH", Ratio: domain.Ratio{New: 2, Old: 1}, EffectiveAt: at.Truncate(24 * time.Hour)}
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
	benchmarkWarmShow(b, ledger.New(store), "BENCH", time.Date(2022, 1, 3, 0, 0, 0, 0, time.UTC), last)
}

// BenchmarkShow5000WarmSplits is BenchmarkShow5000Warm on a history with
// two splits: the figures of most dates are adjusted for at least one.
func BenchmarkShow5000WarmSplits(b *testing.B) {
	store, err := sqlite.Open(filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{})
	require.NoError(b, err)
	b.Cleanup(func() { store.Close() })
	last := seedHistoryWithSplits(b, store, 5000, 2)
	benchmarkWarmShow(b, ledger.New(store), "BENCH", time.Date(2022, 1, 3, 0, 0, 0, 0, time.UTC), last)
}

// BenchmarkShowWarmStore is the warm `show` on an existing store, such as
// one a 10-million-event import produced: CONSENSUS_BENCH_STORE names the
// file and CONSENSUS_BENCH_SYMBOL the instrument (default: the one with the
// most events). It is skipped without a store.
func BenchmarkShowWarmStore(b *testing.B) {
	path := os.Getenv("CONSENSUS_BENCH_STORE")
	if path == "" {
		b.Skip("set CONSENSUS_BENCH_STORE to a ledger file (and CONSENSUS_BENCH_SYMBOL) to run")
	}
	store, err := sqlite.Open(path, sqlite.Options{ReadOnly: true})
	require.NoError(b, err)
	b.Cleanup(func() { store.Close() })
	l := ledger.New(store)
	ctx := context.Background()
	sym := domain.Symbol(os.Getenv("CONSENSUS_BENCH_SYMBOL"))
	if sym == "" {
		instruments, err := l.Instruments(ctx)
		require.NoError(b, err)
		busiest := slices.MaxFunc(instruments, func(a, c ledger.Instrument) int { return cmp.Compare(a.Events, c.Events) })
		sym = busiest.Symbol
	}
	history, err := l.Load(ctx, sym)
	require.NoError(b, err)
	first, last := history[0].Event.Effective(), history[0].Event.Effective()
	for _, r := range history {
		first, last = minTime(first, r.Event.Effective()), maxTime(last, r.Event.Effective())
	}
	b.Logf("%s: %d events from %s to %s", sym, len(history), first.Format(time.DateOnly), last.Format(time.DateOnly))
	benchmarkWarmShow(b, l, sym, first, last)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// benchmarkWarmShow asks l for sym's consensus at random dates between first
// and last, as a server would, and reports the p50 and p99 latency.
func benchmarkWarmShow(b *testing.B, l *ledger.Ledger, sym domain.Symbol, first, last time.Time) {
	ctx := context.Background()
	span := last.Sub(first)
	rng := rand.New(rand.NewPCG(3, 4))
	_, err := l.Show(ctx, sym, projections.Query{AsOf: last, KnownAt: time.Now()})
	require.NoError(b, err)
	var latencies []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		asOf := last.Add(-time.Duration(rng.Int64N(int64(span))))
		start := time.Now()
		if _, err := l.Show(ctx, sym, projections.Query{AsOf: asOf, KnownAt: time.Now(), Window: projections.DefaultWindow}); err != nil {
			b.Fatal(err)
		}
		latencies = append(latencies, time.Since(start))
	}
	b.StopTimer()
	reportPercentiles(b, latencies)
}

// reportPercentiles reports the p50 and p99 of latencies in microseconds.
func reportPercentiles(b *testing.B, latencies []time.Duration) {
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Nanoseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
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
	l := ledger.New(writer)
	_, err = l.Load(ctx, "BENCH")
	require.NoError(b, err)
	saved, err := l.SaveDueSnapshots(ctx) // as a write, or a server's background task, would
	require.NoError(b, err)
	require.Equal(b, 1, saved)
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
	reportPercentiles(b, latencies)
}
