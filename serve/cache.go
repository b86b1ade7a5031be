package serve

import (
	"sync"
	"time"

	"github.com/consensus-ledger/consensus/domain"
)

// maxCachedAnswers bounds the answer cache; when full it is emptied, which
// is cheap and rare, rather than tracking which entry is oldest.
const maxCachedAnswers = 1 << 16

// answerCache keeps consensus answers about a fixed valid time until the
// instrument's stream changes.
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
// instant until a new event lands; the caller sets known_at to the
// request's time.
type answerCache struct {
	mu      sync.RWMutex
	enabled bool   // the hub follows the store, so changes are seen
	global  uint64 // bumped when any instrument may have changed
	total   uint64 // bumped whenever any instrument changed: the stamp of answers about all
	gens    map[domain.Symbol]uint64
	entries map[answerKey]answerEntry

	// histories are instruments' events as the ledger loaded them, kept
	// under the same stamps, so a question not answered before (another
	// date, or "now") is folded without asking the store for news first.
	histories      map[domain.Symbol]historyEntry
	historyEventsN int // the events the histories hold, bounded by maxCachedEvents
}

// maxCachedEvents bounds the events the history cache refers to.
const maxCachedEvents = 1 << 20

type historyEntry struct {
	stamp  stamp
	events []domain.Recorded
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

// answerEntry is a stored answer: a projections.Consensus, or for every
// instrument a []projections.Consensus.
type answerEntry struct {
	stamp  stamp
	answer any
}

// stamp is the state of an instrument's events an answer was computed from.
type stamp struct{ gen, global uint64 }

func newAnswerCache() *answerCache {
	return &answerCache{gens: map[domain.Symbol]uint64{}, entries: map[answerKey]answerEntry{},
		histories: map[domain.Symbol]historyEntry{}}
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
// since it was computed.
func (c *answerCache) get(k answerKey) (any, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.enabled {
		return nil, false
	}
	e, ok := c.entries[k]
	if !ok || e.stamp != c.stampOf(k.symbol) {
		return nil, false
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

// put stores an answer computed from the events as of s.
func (c *answerCache) put(k answerKey, s stamp, answer any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCachedAnswers {
		clear(c.entries)
	}
	c.entries[k] = answerEntry{stamp: s, answer: answer}
}

// history returns the instrument's events if they were loaded since it last
// changed.
func (c *answerCache) history(sym domain.Symbol) ([]domain.Recorded, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.histories[sym]
	if !c.enabled || !ok || e.stamp != c.stampOf(sym) {
		return nil, false
	}
	return e.events, true
}

// putHistory keeps an instrument's events loaded as of s.
func (c *answerCache) putHistory(sym domain.Symbol, s stamp, events []domain.Recorded) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.histories[sym]; ok {
		c.historyEventsN -= len(old.events)
	}
	if c.historyEventsN+len(events) > maxCachedEvents {
		clear(c.histories)
		c.historyEventsN = 0
	}
	c.histories[sym] = historyEntry{stamp: s, events: events}
	c.historyEventsN += len(events)
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
