package serve

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/consensus-ledger/consensus/domain"
)

// answerCache keeps consensus answers about a fixed valid time until the
// instrument's stream changes, and the instruments' read models that
// answer the questions not asked before.
//
// An answer depends only on the instrument's events, so it stays right
// until an event lands on its stream. Each instrument has a generation,
// bumped for every new event the hub sees (and at once for this server's
// own writes); an answer is stored with the generation read before it was
// computed, and served only while that is still the current one. An answer
// computed while an event landed is therefore never served.
//
// Answers "as of now" are not cached: now moves, and with it the window.
// Answers "as known now" are: they equal the answer as known at any later
// instant until a new event lands, or now reaches an event recorded after
// the answer was computed (see cached), which their expiry covers; the
// caller sets known_at to the request's time.
type answerCache struct {
	mu      sync.RWMutex
	enabled bool   // the hub follows the store, so changes are seen
	global  uint64 // bumped when any instrument may have changed
	total   uint64 // bumped whenever any instrument changed: the stamp of answers about all
	gens    map[domain.Symbol]uint64
	answers *answerStore // bounded by bytes (Config.MaxCacheBytes)

	// loaded are the instruments whose events the ledger keeps in memory
	// for this server, with their read models (domain.Index) kept under
	// the same stamps as answers, so a question not answered before
	// (another date, or "now") is answered without asking the store for
	// news first. They are bounded by the events they hold: the ledger
	// keeps every stream it has read until told to let go, and a
	// long-running server may be asked about every instrument of a large
	// ledger in turn.
	loaded       map[domain.Symbol]*loadedEntry
	loadedEvents int
	maxEvents    int           // the bound on loadedEvents; negative for none
	clock        atomic.Uint64 // ticks once per use of a loaded entry, to order them by recency
	evictions    atomic.Uint64 // instruments dropped to honour maxEvents
}

// loadedEntry is one instrument the ledger keeps loaded for the server.
type loadedEntry struct {
	stamp stamp
	// index is the read model as of stamp; nil when the events were loaded
	// for a write or the log, or while the cache was off.
	index  *domain.Index
	events int           // the events held, as counted against the bound
	used   atomic.Uint64 // the clock's value at the entry's last use
}

// answerKey is the question answered. An empty symbol asks about every
// instrument.
type answerKey struct {
	symbol      domain.Symbol
	asOfSec     int64
	asOfNsec    int
	knownAtSec  int64 // with latest false
	knownAtNsec int
	latestKnown bool // known_at defaulted to now
	window      time.Duration
	explain     bool
}

// stamp is the state of an instrument's events an answer was computed from.
type stamp struct{ gen, global uint64 }

// newAnswerCache makes an empty cache whose loaded instruments hold at most
// maxEvents events (no bound when negative) and whose answers hold at most
// maxBytes bytes.
func newAnswerCache(maxEvents int, maxBytes int64) *answerCache {
	return &answerCache{gens: map[domain.Symbol]uint64{}, answers: newAnswerStore(maxBytes),
		loaded: map[domain.Symbol]*loadedEntry{}, maxEvents: maxEvents}
}

func keyOf(sym domain.Symbol, pt point) answerKey {
	k := answerKey{symbol: sym, asOfSec: pt.query.AsOf.Unix(), asOfNsec: pt.query.AsOf.Nanosecond(),
		latestKnown: !pt.knownAtGiven, window: pt.query.Window, explain: pt.query.Explain}
	if pt.knownAtGiven {
		k.knownAtSec, k.knownAtNsec = pt.query.KnownAt.Unix(), pt.query.KnownAt.Nanosecond()
	}
	return k
}

// get returns the answer stored for k if the instrument has not changed
// since it was computed and, for a request at now, it has not expired.
func (c *answerCache) get(k answerKey, now time.Time) (encodedAnswer, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.enabled {
		return encodedAnswer{}, false
	}
	e, ok := c.answers.get(k)
	if !ok || e.stamp != c.stampOf(k.symbol) || (!e.until.IsZero() && !now.Before(e.until)) {
		return encodedAnswer{}, false
	}
	return e.answer, true
}

// current returns the instrument's stamp, to be read before computing an
// answer; ok is false while the cache is off.
func (c *answerCache) current(sym domain.Symbol) (stamp, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.stampOf(sym), c.enabled
}

func (c *answerCache) stampOf(sym domain.Symbol) stamp {
	if sym == "" {
		return stamp{c.total, c.global}
	}
	return stamp{c.gens[sym], c.global}
}

// put stores an answer computed from the events as of s, to be served
// until the time until (zero for as long as s is current).
func (c *answerCache) put(k answerKey, s stamp, until time.Time, answer encodedAnswer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.answers.put(k, s, until, answer)
}

// answerSize is the answers kept and the bytes they count.
func (c *answerCache) answerSize() (answers int, bytes int64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.answers.entries), c.answers.bytes
}

// index returns the instrument's read model if it was built since the
// instrument last changed.
func (c *answerCache) index(sym domain.Symbol) (*domain.Index, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.loaded[sym]
	if !c.enabled || !ok || e.index == nil || e.stamp != c.stampOf(sym) {
		return nil, false
	}
	// An atomic store under the read lock: a hit, the common case, must not
	// serialise the readers of a busy instrument.
	e.used.Store(c.clock.Add(1))
	return e.index, true
}

// keepIndex keeps an instrument's read model, built by the ledger after s
// was read, and returns the instruments dropped to make room, which the
// caller evicts from the ledger. Its events count against the bound even
// when it may not answer (cacheable false: the cache is off), since the
// ledger holds them all the same.
func (c *answerCache) keepIndex(sym domain.Symbol, s stamp, cacheable bool, ix *domain.Index) []domain.Symbol {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.use(sym)
	// Two loads finishing out of order: keep the later one's model.
	if e.index == nil || (s.gen >= e.stamp.gen && s.global >= e.stamp.global) {
		e.stamp, e.index = s, nil
		if cacheable {
			e.index = ix
		}
	}
	c.count(e, max(ix.Len(), e.events))
	return c.evictLocked(sym)
}

// keepEvents notes that the ledger holds n events of the instrument, loaded
// for a write or the log rather than through keepIndex, and returns the
// instruments dropped to make room, which the caller evicts from the
// ledger. A read model kept before stays, under its own stamp.
func (c *answerCache) keepEvents(sym domain.Symbol, n int) []domain.Symbol {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.use(sym)
	c.count(e, max(n, e.events)) // a stream only grows; a smaller n is an older read
	return c.evictLocked(sym)
}

// use returns the instrument's entry, made if missing, marked as used now;
// the caller holds c.mu for writing.
func (c *answerCache) use(sym domain.Symbol) *loadedEntry {
	e, ok := c.loaded[sym]
	if !ok {
		e = &loadedEntry{}
		c.loaded[sym] = e
	}
	e.used.Store(c.clock.Add(1))
	return e
}

// count sets the events an entry holds; the caller holds c.mu for writing.
func (c *answerCache) count(e *loadedEntry, n int) {
	c.loadedEvents += n - e.events
	e.events = n
}

// evictLocked drops the least recently used instruments other than keep
// while the loaded ones hold more events than the bound; the caller holds
// c.mu for writing. It drops down to seven eighths of the bound, so a cache
// kept full by questions about one instrument after another sorts its entries
// once per eighth of the bound loaded rather than on every load. The
// instrument just kept stays even when it alone exceeds the bound: it is
// the one being asked about.
func (c *answerCache) evictLocked(keep domain.Symbol) []domain.Symbol {
	if c.maxEvents < 0 || c.loadedEvents <= c.maxEvents {
		return nil
	}
	type candidate struct {
		sym  domain.Symbol
		used uint64
	}
	candidates := make([]candidate, 0, len(c.loaded))
	for sym, e := range c.loaded {
		if sym != keep {
			candidates = append(candidates, candidate{sym, e.used.Load()})
		}
	}
	slices.SortFunc(candidates, func(a, b candidate) int { return cmp.Compare(a.used, b.used) })
	target := c.maxEvents - c.maxEvents/8
	var evicted []domain.Symbol
	for _, cand := range candidates {
		if c.loadedEvents <= target {
			break
		}
		c.loadedEvents -= c.loaded[cand.sym].events
		delete(c.loaded, cand.sym)
		evicted = append(evicted, cand.sym)
	}
	c.evictions.Add(uint64(len(evicted)))
	return evicted
}

// holds reports whether the ledger keeps the instrument loaded for the
// server, so that it must not be evicted from the ledger behind its back.
func (c *answerCache) holds(sym domain.Symbol) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.loaded[sym]
	return ok
}

// worthKeeping reports whether an instrument of n events should be loaded
// and kept for a question about every instrument: when it is kept already
// (bringing it up to date costs little), or when it fits under the bound
// without dropping any other.
func (c *answerCache) worthKeeping(sym domain.Symbol, n int) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, kept := c.loaded[sym]
	return kept || c.maxEvents < 0 || c.loadedEvents+n <= c.maxEvents
}

// loadedSize is the instruments kept loaded and the events they hold.
func (c *answerCache) loadedSize() (instruments, events int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.loaded), c.loadedEvents
}

// changed marks an instrument's answers out of date.
func (c *answerCache) changed(sym domain.Symbol) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gens[sym]++
	c.total++
}

// changedAll marks every answer out of date, after a write whose
// instruments are not known one by one (an import).
func (c *answerCache) changedAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.global++
}

// setEnabled turns the cache on while the hub follows the store, and off
// while it cannot: changes it does not see must not leave answers stale.
func (c *answerCache) setEnabled(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.enabled = on
}
