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

// DecidedBatch is one instrument's part of a multi-instrument append.
type DecidedBatch struct {
	Symbol   domain.Symbol
	Expected eventstore.Version
	Events   []Decided
}

// AppendDecided appends already-decided events of one instrument as one
// atomic batch, if the stream is at the expected version, and adds them to
// the ledger's cache of the stream so the caller's next Load need not read
// them back. It returns the store's errors unchanged (ErrWrongVersion when
// another writer came first, ErrDuplicateID for an id stored elsewhere).
func (l *Ledger) AppendDecided(ctx context.Context, sym domain.Symbol, expected eventstore.Version, events []Decided) ([]eventstore.Record, error) {
	batch, err := EncodeDecided(events)
	if err != nil {
		return nil, err
	}
	res, err := l.store.Append(ctx, sym.Stream(), expected, batch)
	if err != nil {
		return nil, err
	}
	l.extendCache(ctx, sym.Stream(), res, events)
	return res.Records, nil
}

// CanAppendMany reports whether the store can append to several
// instruments in one transaction (AppendDecidedMany).
func (l *Ledger) CanAppendMany() bool {
	_, ok := eventstore.AsBatchAppender(l.store)
	return ok
}

// AppendDecidedMany appends several instruments' decided events in one
// atomic transaction: all of them or, on any error, none. The store must
// implement eventstore.BatchAppender (see CanAppendMany).
func (l *Ledger) AppendDecidedMany(ctx context.Context, batches []DecidedBatch) error {
	encoded, err := EncodeMany(batches)
	if err != nil {
		return err
	}
	return l.AppendEncodedMany(ctx, encoded)
}

// EncodedBatches are decided batches encoded for the store. Encoding apart
// from appending lets an import encode its next batch on one core while the
// store writes the last one on another.
type EncodedBatches struct {
	decided []DecidedBatch
	streams []eventstore.StreamBatch
}

// Events is the number of events in the batches.
func (e EncodedBatches) Events() int {
	n := 0
	for _, b := range e.streams {
		n += len(b.Events)
	}
	return n
}

// EncodeMany encodes batches for AppendEncodedMany.
func EncodeMany(batches []DecidedBatch) (EncodedBatches, error) {
	sb := make([]eventstore.StreamBatch, len(batches))
	for i, b := range batches {
		events, err := EncodeDecided(b.Events)
		if err != nil {
			return EncodedBatches{}, err
		}
		sb[i] = eventstore.StreamBatch{Stream: b.Symbol.Stream(), Expected: b.Expected, Events: events}
	}
	return EncodedBatches{decided: batches, streams: sb}, nil
}

// AppendEncodedMany appends encoded batches as AppendDecidedMany does.
func (l *Ledger) AppendEncodedMany(ctx context.Context, e EncodedBatches) error {
	ba, ok := eventstore.AsBatchAppender(l.store)
	if !ok {
		return fmt.Errorf("this store cannot append to several instruments at once")
	}
	results, err := ba.AppendBatches(ctx, e.streams)
	if err != nil {
		return err
	}
	for i, b := range e.decided {
		l.extendCache(ctx, e.streams[i].Stream, results[i], b.Events)
	}
	return nil
}

// EncodeDecided encodes decided events as the store receives them: their
// canonical JSON and metadata.
func EncodeDecided(events []Decided) ([]eventstore.EventData, error) {
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
	return batch, nil
}

// extendCache adds appended events to the stream's cache when it holds
// exactly what preceded them, and then, outside the cache's lock, saves a
// snapshot when one is due.
func (l *Ledger) extendCache(ctx context.Context, stream string, res eventstore.AppendResult, events []Decided) {
	if res.Replayed || len(res.Records) == 0 {
		return
	}
	c, ok := l.cache.get(stream)
	if !ok {
		return
	}
	c.mu.Lock()
	extended := int64(len(c.events)) == res.Records[0].Version
	if extended {
		for i, r := range res.Records {
			c.events = append(c.events, domain.Recorded{ID: r.ID, Version: r.Version, RecordedAt: r.RecordedAt,
				Meta: events[i].Meta, Event: events[i].Event})
		}
		l.cache.account(stream, c)
	}
	c.mu.Unlock()
	if extended {
		_, _ = l.saveSnapshotIfDue(ctx, stream, c) // best effort: a failure never fails the write
	}
}
