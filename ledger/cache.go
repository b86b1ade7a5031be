package ledger

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/consensus-ledger/consensus/domain"
)

// The ledger's cache of decoded streams, with each stream's point-in-time
// read model, is the ledger's alone: it is bounded by the events and the
// bytes it holds (WithCache), lets the streams used least recently go when
// either bound is passed, and reports its size (CacheStats). Nothing outside
// the ledger evicts from it: a long-running server sizes it with an option,
// the way it sizes everything else it owns.

// Defaults of the cache's bounds.
const (
	// DefaultMaxCachedEvents keeps some two million events loaded (a
	// history of a million events, whole, with room to spare).
	DefaultMaxCachedEvents = 1 << 21
	// DefaultMaxCachedBytes bounds the bytes the cached streams are counted
	// as (see entryBytes); at DefaultMaxCachedEvents ordinary events it is
	// not the binding bound, but events with long free text are.
	DefaultMaxCachedBytes = 2 << 30
)

// CacheBounds bound the ledger's cache of decoded streams. A stream asked
// about is kept even when it alone passes a bound: it is the one in use.
type CacheBounds struct {
	// MaxEvents bounds the events of the cached streams. Zero means
	// DefaultMaxCachedEvents; negative means no bound.
	MaxEvents int
	// MaxBytes bounds the bytes they are counted as. Zero means
	// DefaultMaxCachedBytes; negative means no bound.
	MaxBytes int64
}

// WithCache bounds the ledger's cache of decoded streams.
func WithCache(b CacheBounds) Option {
	return func(l *Ledger) {
		if b.MaxEvents == 0 {
			b.MaxEvents = DefaultMaxCachedEvents
		}
		if b.MaxBytes == 0 {
			b.MaxBytes = DefaultMaxCachedBytes
		}
		l.cache.bounds = b
	}
}

// CacheStats is the size of the ledger's cache, for an operator sizing
// its bounds (serve's /metrics).
type CacheStats struct {
	Streams   int    // streams cached
	Events    int    // their events
	Bytes     int64  // what they are counted as
	MaxEvents int    // the bound on Events; negative for none
	MaxBytes  int64  // the bound on Bytes; negative for none
	Evictions uint64 // streams let go to stay within the bounds, since the ledger was made
}

// CacheStats reports the cache's size and bounds.
func (l *Ledger) CacheStats() CacheStats {
	c := &l.cache
	c.mu.RLock()
	defer c.mu.RUnlock()
	return CacheStats{Streams: len(c.entries), Events: c.events, Bytes: c.bytes,
		MaxEvents: c.bounds.MaxEvents, MaxBytes: c.bounds.MaxBytes, Evictions: c.evictions.Load()}
}

// CachedIndex returns the instrument's read model as the ledger last built
// it, without reading the store or waiting for the stream's lock: a caller
// that knows nothing has landed on the stream since it last called Index
// (a server following the store) answers from it at once. ok is false when
// the ledger holds no read model of the instrument (never built, or let
// go).
func (l *Ledger) CachedIndex(sym domain.Symbol) (ix *domain.Index, ok bool) {
	c := &l.cache
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.entries[sym.Stream()]
	if !ok {
		return nil, false
	}
	ix = e.index.Load()
	if ix == nil {
		return nil, false
	}
	// An atomic store under the read lock: a hit, the common case, must not
	// serialise the readers of a busy instrument.
	e.used.Store(c.clock.Add(1))
	return ix, true
}

// WorthCaching reports whether an instrument of n events is cached already
// (bringing it up to date costs little) or fits under the bounds without
// letting any other go, so that a question about every instrument loads and
// keeps only those.
func (l *Ledger) WorthCaching(sym domain.Symbol, n int) bool {
	c := &l.cache
	c.mu.RLock()
	defer c.mu.RUnlock()
	if _, ok := c.entries[sym.Stream()]; ok {
		return true
	}
	return (c.bounds.MaxEvents < 0 || c.events+n <= c.bounds.MaxEvents) &&
		(c.bounds.MaxBytes < 0 || c.bytes+int64(n)*(eventBytes+indexEventBytes) <= c.bounds.MaxBytes)
}

// Estimates of what the cache holds, in bytes, to bound it by: a decoded
// event (domain.Recorded, its event and the slices' share) besides its free
// text, the read model's share of one event (its place in fold order and in
// the checkpoints' states), and an entry besides its events.
const (
	eventBytes      = 320
	indexEventBytes = 96
	entryBytes      = int64(unsafe.Sizeof(streamCache{})) + 128
)

// cache is the ledger's cache of decoded streams.
type cache struct {
	bounds    CacheBounds
	mu        sync.RWMutex // guards entries, events and bytes; taken after an entry's mu, never before
	entries   map[string]*streamCache
	events    int
	bytes     int64
	clock     atomic.Uint64 // ticks once per use of an entry, to order entries by recency
	evictions atomic.Uint64
}

func (c *cache) init() {
	c.entries = map[string]*streamCache{}
	c.bounds = CacheBounds{MaxEvents: DefaultMaxCachedEvents, MaxBytes: DefaultMaxCachedBytes}
}

// streamCache holds a stream's decoded events. Streams only grow, so the
// cache catches up by reading the records after the ones it holds.
type streamCache struct {
	mu     streamLock
	events []domain.Recorded
	// snapshotVersion is the last version covered by the stream's stored
	// snapshot, -1 when it has none.
	snapshotVersion int64
	// noSnapshots is set once the store refused a snapshot for being
	// read-only, so the ledger stops encoding snapshots it cannot save.
	noSnapshots bool
	// saving is set while a snapshot of the stream is being saved, outside
	// mu, so that two writers do not encode the same one.
	saving bool
	// index is the point-in-time read model of events, built on the first
	// question and extended as events land; nil until then. It is written
	// under mu and read without it (CachedIndex).
	index atomic.Pointer[domain.Index]

	// What the entry is counted as against the bounds (its events, the
	// bytes of the whole entry, the events its index covers), written
	// under both mu and cache.mu; and when it was last used.
	counted      int
	countedBytes int64
	indexed      int
	used         atomic.Uint64
}

// get returns the stream's entry, if there is one.
func (c *cache) get(stream string) (*streamCache, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.entries[stream]
	return e, ok
}

// entry returns the stream's entry, creating an empty one, marked as used
// now.
func (c *cache) entry(stream string) *streamCache {
	c.mu.RLock()
	e, ok := c.entries[stream]
	if ok {
		// The common case, under the read lock: warm questions about one
		// instrument must not serialise here.
		e.used.Store(c.clock.Add(1))
		c.mu.RUnlock()
		return e
	}
	c.mu.RUnlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok = c.entries[stream]
	if !ok {
		e = &streamCache{mu: newStreamLock(), snapshotVersion: -1, countedBytes: entryBytes}
		c.entries[stream] = e
		c.bytes += entryBytes
		c.evictLocked(stream) // entries of unknown instruments count too
	}
	e.used.Store(c.clock.Add(1))
	return e
}

// account counts what e, the stream's entry, holds now, and lets the
// streams used least recently go while the cache passes a bound; the
// caller holds e.mu. Streams only grow, so only the events added since the
// last count are measured. An entry already let go counts for nothing.
func (c *cache) account(stream string, e *streamCache) {
	bytes := e.countedBytes
	for _, r := range e.events[e.counted:] {
		bytes += eventBytes + int64(len(r.Meta.RecordedBy)+len(r.Meta.Source)+len(r.Meta.CorrelationID)+len(r.Meta.CausationID))
	}
	indexed := 0
	if ix := e.index.Load(); ix != nil {
		indexed = ix.Len()
	}
	if len(e.events) == e.counted && indexed == e.indexed {
		return // nothing new: a warm question takes no lock here
	}
	bytes += int64(indexed-e.indexed) * indexEventBytes
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries[stream] != e {
		return
	}
	c.events += len(e.events) - e.counted
	c.bytes += bytes - e.countedBytes
	e.counted, e.countedBytes, e.indexed = len(e.events), bytes, indexed
	c.evictLocked(stream)
}

// over reports whether the cache holds more than target of each bound
// allows; the caller holds c.mu.
func (c *cache) over(eventsTarget int, bytesTarget int64) bool {
	return (c.bounds.MaxEvents >= 0 && c.events > eventsTarget) || (c.bounds.MaxBytes >= 0 && c.bytes > bytesTarget)
}

// evictLocked lets the least recently used streams other than keep go while
// the cache passes a bound; the caller holds c.mu. It lets go down to seven
// eighths of the bounds, so a cache kept full by questions about one
// instrument after another sorts its entries once per eighth of a bound
// rather than on every load.
func (c *cache) evictLocked(keep string) {
	if !c.over(c.bounds.MaxEvents, c.bounds.MaxBytes) {
		return
	}
	type candidate struct {
		stream string
		used   uint64
	}
	candidates := make([]candidate, 0, len(c.entries))
	for stream, e := range c.entries {
		if stream != keep {
			candidates = append(candidates, candidate{stream, e.used.Load()})
		}
	}
	slices.SortFunc(candidates, func(a, b candidate) int { return cmp.Compare(a.used, b.used) })
	eventsTarget, bytesTarget := c.bounds.MaxEvents-c.bounds.MaxEvents/8, c.bounds.MaxBytes-c.bounds.MaxBytes/8
	for _, cand := range candidates {
		if !c.over(eventsTarget, bytesTarget) {
			break
		}
		c.dropLocked(cand.stream)
		c.evictions.Add(1)
	}
}

// drop lets a stream's entry go: the ledger's own bookkeeping for callers
// that fold many streams once each (ShowAll, Rebuild), never a caller's.
func (c *cache) drop(stream string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropLocked(stream)
}

func (c *cache) dropLocked(stream string) {
	e, ok := c.entries[stream]
	if !ok {
		return
	}
	c.events -= e.counted
	c.bytes -= e.countedBytes
	delete(c.entries, stream)
}
