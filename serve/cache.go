package serve

import (
	"sync"
	"time"

	"github.com/consensus-ledger/consensus/domain"
)

// answerCache keeps consensus answers about a fixed valid time until the
// instrument's stream changes, and knows which of the read models the
// ledger keeps are current, so that they answer the questions not asked
// before.
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

	// indexes are the stamps at which this server last had the ledger
	// build each instrument's read model (ledger.Index): while the stamp
	// is current, nothing has landed since, and the model the ledger keeps
	// (ledger.CachedIndex) answers without asking the store for news. The
	// ledger owns the models and their bound; this is only what the
	// server knows of their freshness.
	indexes map[domain.Symbol]stamp
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
	unadjusted  bool // prices and targets as published (adjusted=false)
}

// stamp is the state of an instrument's events an answer was computed from.
type stamp struct{ gen, global uint64 }

// newAnswerCache makes an empty cache whose answers hold at most maxBytes
// bytes.
func newAnswerCache(maxBytes int64) *answerCache {
	return &answerCache{gens: map[domain.Symbol]uint64{}, answers: newAnswerStore(maxBytes),
		indexes: map[domain.Symbol]stamp{}}
}

func keyOf(sym domain.Symbol, pt point) answerKey {
	k := answerKey{symbol: sym, asOfSec: pt.query.AsOf.Unix(), asOfNsec: pt.query.AsOf.Nanosecond(),
		latestKnown: !pt.knownAtGiven, window: pt.query.Window, explain: pt.query.Explain, unadjusted: pt.query.Unadjusted}
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

// indexCurrent reports whether the ledger built the instrument's read
// model since the instrument last changed, so that the model it keeps is
// current.
func (c *answerCache) indexCurrent(sym domain.Symbol) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s, ok := c.indexes[sym]
	return c.enabled && ok && s == c.stampOf(sym)
}

// indexed notes that the ledger built the instrument's read model after s
// was read; cacheable false (the cache is off) notes nothing. Two loads
// finishing out of order keep the later stamp.
func (c *answerCache) indexed(sym domain.Symbol, s stamp, cacheable bool) {
	if !cacheable {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.indexes[sym]; !ok || (s.gen >= old.gen && s.global >= old.global) {
		c.indexes[sym] = s
	}
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
