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
//
// compute returns, besides the answer, the earliest recorded time after
// the question's known_at among the events it read (zero if none is
// later): an answer "as known now" changes by itself when now reaches it.
// Such an event is one the hub may never report, recorded by a process
// whose clock runs ahead before this server started following the store.
// A "known now" answer is therefore kept only until that time, and never
// longer than the poll interval after it was computed, which bounds its
// staleness for any event the answer could not see coming (and for the
// answer about every instrument, whose events are not all read here).
func cached(ctx context.Context, s *Server, sym domain.Symbol, pt point,
	compute func(context.Context) (encodedAnswer, time.Time, error)) (encodedAnswer, error) {
	if !pt.asOfGiven {
		answer, _, err := compute(ctx)
		return answer, err
	}
	key := keyOf(sym, pt)
	if answer, ok := s.cache.get(key, pt.query.KnownAt); ok {
		return answer, nil
	}
	st, cacheable := s.cache.current(sym)
	answer, changesAt, err := compute(ctx)
	if err == nil && cacheable {
		var until time.Time // answers about a given known_at are fixed until an event lands
		if !pt.knownAtGiven {
			until = pt.query.KnownAt.Add(s.cfg.PollInterval)
			if !changesAt.IsZero() && changesAt.Before(until) {
				until = changesAt
			}
		}
		s.cache.put(key, st, until, answer)
	}
	return answer, err
}

// recordedAfter is the earliest recorded time after t in an instrument's
// history, or zero when none is. Recorded times never decrease along a
// stream, so only its tail is read: nothing at all in the usual case, where
// the last event was recorded before t.
func recordedAfter(ix *domain.Index, t time.Time) time.Time {
	var first time.Time
	history := ix.History()
	for i := len(history) - 1; i >= 0 && history[i].RecordedAt.After(t); i-- {
		first = history[i].RecordedAt
	}
	return first
}

// indexOf returns an instrument's point-in-time read model, which the
// ledger keeps: as the ledger last built it while nothing has landed on the
// instrument since this server last asked for it (CachedIndex), else
// through Index, which reads what is new from the store and extends the
// model. A warm question therefore touches neither the store nor the
// stream's lock.
//
// Concurrent misses of one instrument (many clients, just after an event
// landed) share one call to the ledger, which would otherwise queue them on
// the stream's lock and read the store once each. They share it only when
// they read the same stamp: a request that began after a write was
// acknowledged must not be given a model loaded before it. A request that
// is cancelled stops waiting at once; the shared call goes on for the
// others.
func (s *Server) indexOf(ctx context.Context, sym domain.Symbol) (*domain.Index, error) {
	if s.cache.indexCurrent(sym) {
		if ix, ok := s.l.CachedIndex(sym); ok {
			return ix, nil
		}
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
			return nil, err
		}
		s.cache.indexed(sym, st, cacheable)
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

// consensusOf answers one question about an instrument from its read
// model: the same answer as a fold of its whole history (projections.Show),
// from the nearest checkpoint instead.
func consensusOf(sym domain.Symbol, ix *domain.Index, q projections.Query) projections.Consensus {
	return projections.Compute(sym, ix.State(q.AsOf, q.KnownAt), q)
}

// knownAtZero is how known_at reads when encoded from the zero time.
const knownAtZero = `"known_at":"0001-01-01T00:00:00Z"`

// encodeAnswer encodes a consensus, or a list of them, whose known_at are
// the zero time, leaving their values out (see encodedAnswer). Every
// occurrence of knownAtZero is a known_at key of a consensus: within a JSON
// string every quote is escaped, so none can hold it.
func encodeAnswer(v any) (encodedAnswer, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return encodedAnswer{}, fmt.Errorf("encode the answer: %w", err)
	}
	key := []byte(`"known_at":`)
	zero := []byte(knownAtZero)
	out := encodedAnswer{body: make([]byte, 0, len(b))}
	for {
		i := bytes.Index(b, zero)
		if i < 0 {
			break
		}
		out.body = append(out.body, b[:i+len(key)]...)
		out.knownAt = append(out.knownAt, len(out.body))
		b = b[i+len(zero):]
	}
	if len(out.knownAt) == 0 {
		return encodedAnswer{}, fmt.Errorf("encode the answer: no known_at in %.80s", b)
	}
	out.body = append(out.body, b...)
	return out, nil
}
