package ledger

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/projections"
)

// appendCloses appends n daily closes to the instrument's stream.
func appendCloses(t *testing.T, store eventstore.Store, sym domain.Symbol, n int) {
	t.Helper()
	day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	batch := make([]eventstore.EventData, n)
	for i := range batch {
		at := day.AddDate(0, 0, i)
		data, err := domain.EncodeEvent(domain.CloseRecorded{Instrument: sym, Price: domain.Money(10_000_000), Currency: "USD", EffectiveAt: at})
		require.NoError(t, err)
		batch[i] = eventstore.EventData{ID: uuid.New(), Type: "CloseRecorded", Data: data, EffectiveAt: at}
	}
	_, err := store.Append(context.Background(), sym.Stream(), eventstore.NoStream, batch)
	require.NoError(t, err)
}

// TestCacheLetsTheLeastRecentlyUsedGo checks the order in which the ledger
// lets streams go: least recently used first, down to seven eighths of the
// bound, never the one in use, and an instrument larger than the bound is
// kept, alone.
func TestCacheLetsTheLeastRecentlyUsedGo(t *testing.T) {
	ctx := context.Background()
	store := openStore(t, filepath.Join(t.TempDir(), "ledger.db"), false)
	for sym, n := range map[domain.Symbol]int{"A": 30, "B": 30, "C": 30, "D": 25, "E": 150} {
		appendCloses(t, store, sym, n)
	}
	l := New(store, WithCache(CacheBounds{MaxEvents: 100, MaxBytes: -1}))
	for _, sym := range []domain.Symbol{"A", "B", "C"} {
		_, err := l.Index(ctx, sym)
		require.NoError(t, err)
	}
	_, ok := l.CachedIndex("A") // A is now used more recently than B
	require.True(t, ok)
	assert.True(t, l.WorthCaching("D", 10), "fits without letting any go")
	assert.False(t, l.WorthCaching("D", 11))
	assert.True(t, l.WorthCaching("B", 1000), "cached already")

	// 115 events: over the bound; letting B (the least recent) go leaves
	// 85, within seven eighths of it.
	_, err := l.Load(ctx, "D")
	require.NoError(t, err)
	stats := l.CacheStats()
	assert.Equal(t, 3, stats.Streams)
	assert.Equal(t, 85, stats.Events)
	assert.EqualValues(t, 1, stats.Evictions)
	_, ok = l.CachedIndex("B")
	assert.False(t, ok, "B was let go")
	_, ok = l.CachedIndex("A")
	assert.True(t, ok)

	_, err = l.Index(ctx, "E")
	require.NoError(t, err)
	stats = l.CacheStats()
	assert.Equal(t, 1, stats.Streams, "an instrument larger than the bound is kept, alone")
	assert.Equal(t, 150, stats.Events)
	assert.EqualValues(t, 4, stats.Evictions)
	_, ok = l.CachedIndex("E")
	assert.True(t, ok)
}

// TestCacheStaysWithinItsBounds asks about instruments at random, in
// questions, writes and logs, under a bound on events and one on bytes, and
// checks after each that the cache holds no more than either allows beyond
// the instrument in use, and that its count is what it holds.
func TestCacheStaysWithinItsBounds(t *testing.T) {
	ctx := context.Background()
	store := openStore(t, filepath.Join(t.TempDir(), "ledger.db"), false)
	var symbols []domain.Symbol
	for i := range 12 {
		sym := domain.Symbol(fmt.Sprintf("S%d", i))
		appendCloses(t, store, sym, 10+7*i)
		symbols = append(symbols, sym)
	}
	for name, bounds := range map[string]CacheBounds{
		"events": {MaxEvents: 200, MaxBytes: -1},
		"bytes":  {MaxEvents: -1, MaxBytes: 80_000}, // the largest instrument alone counts some 36,000
	} {
		t.Run(name, func(t *testing.T) {
			l := New(store, WithCache(bounds))
			rng := rand.New(rand.NewPCG(1, 2))
			for range 300 {
				sym := symbols[rng.IntN(len(symbols))]
				var err error
				switch rng.IntN(3) {
				case 0:
					_, err = l.Index(ctx, sym)
				case 1:
					_, err = l.Load(ctx, sym)
				default:
					_, err = l.Log(ctx, sym)
				}
				require.NoError(t, err)
				stats := l.CacheStats()
				if bounds.MaxEvents >= 0 {
					assert.LessOrEqual(t, stats.Events, bounds.MaxEvents)
				}
				if bounds.MaxBytes >= 0 {
					assert.LessOrEqual(t, stats.Bytes, bounds.MaxBytes)
				}
				events, streams := 0, 0
				l.cache.mu.RLock()
				for _, e := range l.cache.entries {
					events += len(e.events)
					streams++
				}
				l.cache.mu.RUnlock()
				assert.Equal(t, events, stats.Events, "the count is what the cache holds")
				assert.Equal(t, streams, stats.Streams)
			}
			assert.Positive(t, l.CacheStats().Evictions)
		})
	}
}

// TestCacheDefaults: a ledger made without WithCache is bounded by the
// defaults.
func TestCacheDefaults(t *testing.T) {
	l := New(openStore(t, filepath.Join(t.TempDir(), "ledger.db"), false))
	stats := l.CacheStats()
	assert.Equal(t, DefaultMaxCachedEvents, stats.MaxEvents)
	assert.EqualValues(t, DefaultMaxCachedBytes, stats.MaxBytes)
}

// TestCacheBoundsUnknownInstruments: questions about instruments that have
// no events (anyone may ask about any symbol) leave entries that count
// against the bytes bound, so they cannot grow the cache without bound.
func TestCacheBoundsUnknownInstruments(t *testing.T) {
	ctx := context.Background()
	bound := 50 * entryBytes
	l := New(openStore(t, filepath.Join(t.TempDir(), "ledger.db"), false), WithCache(CacheBounds{MaxEvents: -1, MaxBytes: bound}))
	for i := range 500 {
		_, err := l.Show(ctx, domain.Symbol(fmt.Sprintf("NONE%d", i)), projections.Query{AsOf: time.Now(), KnownAt: time.Now(), Window: projections.DefaultWindow})
		require.ErrorIs(t, err, ErrUnknownInstrument)
		require.LessOrEqual(t, l.CacheStats().Bytes, bound)
	}
	assert.Positive(t, l.CacheStats().Evictions)
}
