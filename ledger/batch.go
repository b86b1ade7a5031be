package ledger

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
)

// Decided is an event judged outside Record, by a caller that decides many
// events in one pass (an import), ready to append.
type Decided struct {
	ID    uuid.UUID
	Event domain.Event
	Meta  domain.Metadata
}

// AppendDecided appends already-decided events of one instrument as one
// atomic batch, if the stream is at the expected version, and adds them to
// the ledger's cache of the stream so the caller's next Load need not read
// them back. It returns the store's errors unchanged (ErrWrongVersion when
// another writer came first, ErrDuplicateID for an id stored elsewhere).
func (l *Ledger) AppendDecided(ctx context.Context, sym domain.Symbol, expected eventstore.Version, events []Decided) ([]eventstore.Record, error) {
	stream := sym.Stream()
	batch := make([]eventstore.EventData, len(events))
	for i, d := range events {
		data, err := domain.EncodeEvent(d.Event)
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", d.ID, err)
		}
		meta, err := json.Marshal(d.Meta)
		if err != nil {
			return nil, fmt.Errorf("event %s metadata: %w", d.ID, err)
		}
		batch[i] = eventstore.EventData{ID: d.ID, Type: d.Event.Type(), Data: data, Metadata: meta, EffectiveAt: d.Event.Effective()}
	}
	res, err := l.store.Append(ctx, stream, expected, batch)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	c, ok := l.cache[stream]
	l.mu.Unlock()
	if ok && !res.Replayed {
		c.mu.Lock()
		if int64(len(c.events)) == res.Records[0].Version { // the cache holds exactly what preceded the batch
			for i, r := range res.Records {
				c.events = append(c.events, domain.Recorded{ID: r.ID, Version: r.Version, RecordedAt: r.RecordedAt,
					Meta: events[i].Meta, Event: events[i].Event})
			}
			l.saveSnapshot(ctx, stream, c)
		}
		c.mu.Unlock()
	}
	return res.Records, nil
}

// Evict drops the ledger's cache of an instrument's stream, to bound memory
// when a caller works through many instruments one after another.
func (l *Ledger) Evict(sym domain.Symbol) {
	l.mu.Lock()
	delete(l.cache, sym.Stream())
	l.mu.Unlock()
}
