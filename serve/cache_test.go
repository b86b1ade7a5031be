package serve

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
)

// TestLoadedInstrumentsBound checks the order in which the cache lets
// instruments go: least recently used first, down to seven eighths of the
// bound, never the one just kept, and a kept instrument answers only while
// nothing has landed on it.
func TestLoadedInstrumentsBound(t *testing.T) {
	c := newAnswerCache(100, DefaultMaxCacheBytes)
	c.setEnabled(true)
	keep := func(sym domain.Symbol, events int) []domain.Symbol {
		st, cacheable := c.current(sym)
		require.True(t, cacheable)
		return c.keepIndex(sym, st, cacheable, closes(t, events))
	}
	assert.Empty(t, keep("A", 30))
	assert.Empty(t, keep("B", 30))
	assert.Empty(t, keep("C", 30))
	_, ok := c.index("A") // A is now used more recently than B
	require.True(t, ok)
	assert.True(t, c.worthKeeping("D", 10), "fits without letting any go")
	assert.False(t, c.worthKeeping("D", 11))
	assert.True(t, c.worthKeeping("B", 1000), "kept already")

	// 115 events: over the bound; dropping B (the least recent) leaves 85,
	// within seven eighths of it.
	assert.Equal(t, []domain.Symbol{"B"}, keep("D", 25))
	instruments, events := c.loadedSize()
	assert.Equal(t, 3, instruments)
	assert.Equal(t, 85, events)
	_, ok = c.index("B")
	assert.False(t, ok)

	// An event lands on A: its model no longer answers, but its events are
	// still held until it is loaded again or let go.
	c.changed("A")
	_, ok = c.index("A")
	assert.False(t, ok)
	assert.True(t, c.holds("A"))

	// An instrument larger than the bound is kept, alone.
	assert.ElementsMatch(t, []domain.Symbol{"A", "C", "D"}, keep("E", 150))
	instruments, events = c.loadedSize()
	assert.Equal(t, 1, instruments)
	assert.Equal(t, 150, events)
	_, ok = c.index("E")
	assert.True(t, ok)
	assert.Equal(t, uint64(4), c.evictions.Load())
}

// TestLoadedInstrumentsOff checks that a model loaded while the store is
// not followed never answers, though its events count.
func TestLoadedInstrumentsOff(t *testing.T) {
	c := newAnswerCache(100, DefaultMaxCacheBytes)
	st, cacheable := c.current("A")
	require.False(t, cacheable)
	c.keepIndex("A", st, cacheable, closes(t, 10))
	c.setEnabled(true)
	_, ok := c.index("A")
	assert.False(t, ok)
	_, events := c.loadedSize()
	assert.Equal(t, 10, events)

	// Events read for a write count too, and leave a model kept before in
	// place.
	st, cacheable = c.current("A")
	c.keepIndex("A", st, cacheable, closes(t, 10))
	assert.Empty(t, c.keepEvents("A", 12))
	_, events = c.loadedSize()
	assert.Equal(t, 12, events)
	_, ok = c.index("A")
	assert.True(t, ok)
}

// closes is a read model over n daily closes.
func closes(t *testing.T, n int) *domain.Index {
	t.Helper()
	price, err := domain.ParseMoney("price", "10")
	require.NoError(t, err)
	day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	history := make([]domain.Recorded, n)
	for i := range history {
		at := day.AddDate(0, 0, i)
		history[i] = domain.Recorded{ID: uuid.New(), Version: int64(i), RecordedAt: at,
			Event: domain.CloseRecorded{Instrument: "X", Price: price, Currency: "USD", EffectiveAt: at}}
	}
	return domain.NewIndex(history)
}
