package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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

// historyOf returns an instrument's events: from the cache while nothing
// has landed on it since they were loaded, else from the ledger, which
// reads what is new from the store. It is what ledger.Show and
// ledger.History do first, without a query to the store when the hub has
// seen nothing new.
func (s *Server) historyOf(ctx context.Context, sym domain.Symbol) ([]domain.Recorded, error) {
	if events, ok := s.cache.history(sym); ok {
		return events, nil
	}
	st, cacheable := s.cache.current(sym)
	events, err := s.l.Load(ctx, sym)
	if err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return nil, fmt.Errorf("%w: %s has no events", ledger.ErrUnknownInstrument, sym)
	}
	if cacheable {
		s.cache.putHistory(sym, st, events)
	}
	return events, nil
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
