package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/ledger"
	"github.com/consensus-ledger/consensus/projections"
)

// cached answers a question about a fixed valid time from the answer cache
// when the instrument (or, for sym "", any instrument) has not changed since
// it was last computed, and computes and stores it otherwise. Questions
// about "now" are always computed.
func cached[T any](ctx context.Context, s *Server, sym domain.Symbol, pt point, compute func(context.Context) (T, error)) (T, error) {
	if !pt.asOfGiven {
		return compute(ctx)
	}
	key := keyOf(sym, pt)
	if v, ok := s.cache.get(key); ok {
		if answer, ok := v.(T); ok {
			return answer, nil
		}
	}
	st, cacheable := s.cache.current(sym)
	answer, err := compute(ctx)
	if err == nil && cacheable {
		s.cache.put(key, st, answer)
	}
	return answer, err
}

// indexOf returns an instrument's point-in-time read model: from the cache
// while nothing has landed on it since the model was kept, else from the
// ledger, which reads what is new from the store and extends the model it
// keeps. A warm question therefore touches neither the store nor the
// ledger's locks.
//
// Concurrent misses of one instrument (many clients, just after an event
// landed) share one call to the ledger, which would otherwise queue them on
// the stream's lock and read the store once each. They share it only when
// they read the same stamp: a request that began after a write was
// acknowledged must not be given a model loaded before it. A request that
// is cancelled stops waiting at once; the shared call goes on for the
// others.
func (s *Server) indexOf(ctx context.Context, sym domain.Symbol) (*domain.Index, error) {
	if ix, ok := s.cache.index(sym); ok {
		return ix, nil
	}
	st, cacheable := s.cache.current(sym)
	key := fmt.Sprintf("%s\x00%d\x00%d\x00%t", sym, st.gen, st.global, cacheable)
	load := func() (any, error) {
		// Shared by every caller: one going away must not fail the others.
		ix, err := s.l.Index(context.WithoutCancel(ctx), sym)
		if err == nil && ix.Len() == 0 {
			err = fmt.Errorf("%w: %s has no events", ledger.ErrUnknownInstrument, sym)
		}
		if err != nil {
			// Anyone may ask about any symbol: an unknown one must not
			// leave an empty entry in the ledger's cache.
			s.release(sym)
			return nil, err
		}
		s.evict(s.cache.keepIndex(sym, st, cacheable, ix))
		return ix, nil
	}
	// The wait runs on a goroutine of its own so that a cancelled request
	// can stop waiting. It is not singleflight's DoChan: that re-panics a
	// panicking load on a fresh goroutine, which would take the whole
	// server down instead of failing the request.
	type loaded struct {
		ix  *domain.Index
		err error
	}
	done := make(chan loaded, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- loaded{err: fmt.Errorf("load %s: panic: %v\n%s", sym, v, debug.Stack())}
			}
		}()
		v, err, _ := s.loads.Do(key, load)
		if err != nil {
			done <- loaded{err: err}
			return
		}
		done <- loaded{ix: v.(*domain.Index)}
	}()
	select {
	case r := <-done:
		return r.ix, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// noteLoaded notes that the ledger now holds n events of an instrument, read
// for a write or the log, so they count against the cache's bound.
func (s *Server) noteLoaded(sym domain.Symbol, n int) {
	s.evict(s.cache.keepEvents(sym, n))
}

// evict lets the ledger drop instruments the cache no longer keeps: the
// ledger keeps every stream it reads until told otherwise, so the cache's
// bound bounds memory only if the ledger lets go too.
func (s *Server) evict(symbols []domain.Symbol) {
	for _, sym := range symbols {
		s.l.Evict(sym)
	}
}

// release evicts an instrument from the ledger after a one-off read, unless
// the cache keeps it. Evicting one the cache has just started to keep costs
// a read of the store later, never a wrong answer.
func (s *Server) release(sym domain.Symbol) {
	if !s.cache.holds(sym) {
		s.l.Evict(sym)
	}
}

// consensusOf answers one question about an instrument from its read
// model: the same answer as a fold of its whole history (projections.Show),
// from the nearest checkpoint instead.
func consensusOf(sym domain.Symbol, ix *domain.Index, q projections.Query) projections.Consensus {
	return projections.Compute(sym, ix.State(q.AsOf, q.KnownAt), q)
}

// encodedConsensus is a consensus encoded as JSON once, split around the
// value of known_at: an answer cached "as known now" is sent with each
// request's own time without encoding the rest again.
type encodedConsensus struct{ head, tail []byte }

// knownAtZero is how known_at reads when encoded from the zero time.
const knownAtZero = `"known_at":"0001-01-01T00:00:00Z"`

func encodeConsensus(c projections.Consensus) (encodedConsensus, error) {
	c.KnownAt = time.Time{}
	b, err := json.Marshal(c)
	if err != nil {
		return encodedConsensus{}, fmt.Errorf("encode the answer: %w", err)
	}
	// The first occurrence is the top-level key: keys come in a fixed order
	// and no string value can hold an unescaped quote.
	i := bytes.Index(b, []byte(knownAtZero))
	if i < 0 {
		return encodedConsensus{}, fmt.Errorf("encode the answer: no known_at in %.80s", b)
	}
	split := i + len(`"known_at":`)
	return encodedConsensus{head: b[:split], tail: b[i+len(knownAtZero):]}, nil
}

// at is the answer's JSON with known_at set to t, as time.Time encodes it.
func (e encodedConsensus) at(t time.Time) []byte {
	out := make([]byte, 0, len(e.head)+len(e.tail)+40)
	out = append(out, e.head...)
	out = append(out, '"')
	out = t.UTC().AppendFormat(out, time.RFC3339Nano)
	out = append(out, '"')
	out = append(out, e.tail...)
	return append(out, '\n')
}
