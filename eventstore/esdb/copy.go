package esdb

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/eventstore"
)

// AppendCopies implements eventstore.Copier: records copied from another
// store keep their recorded times and hashes, so the copy verifies against
// the same chain heads as the original. The records must continue the
// stream's chain exactly (versions, links, hashes, non-decreasing recorded
// times) or nothing is written and the error wraps ErrInvalidEvent. A batch
// stored already, identically (same ids, versions and hashes), is a replay,
// so an interrupted copy can simply be run again. As in Append, a stream
// not at the expected version is ErrWrongVersion; with Any, the records'
// own versions say where they go.
func (s *Store) AppendCopies(ctx context.Context, stream string, expected eventstore.Version, records []eventstore.Record) (eventstore.AppendResult, error) {
	res, err := s.appendCopies(ctx, stream, expected, records)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("copy to %s: %w", stream, err)
	}
	return res, nil
}

func (s *Store) appendCopies(ctx context.Context, stream string, expected eventstore.Version, records []eventstore.Record) (eventstore.AppendResult, error) {
	if s.readOnly {
		return eventstore.AppendResult{}, eventstore.ErrReadOnly
	}
	events := make([]eventstore.EventData, len(records))
	for i, r := range records {
		events[i] = r.EventData
	}
	if err := validate(stream, expected, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := eventstore.CheckCopies(stream, records, storable); err != nil {
		return eventstore.AppendResult{}, err
	}
	ids := make([]uuid.UUID, len(records))
	for i, r := range records {
		ids[i] = r.ID
	}
	return s.write(ctx, batch{
		stream:   stream,
		expected: expected,
		ids:      ids,
		build:    func(h head) ([]eventstore.Record, error) { return placeCopies(stream, h, records) },
		same: func(i int, r *eventstore.Record) bool {
			return r.Version == records[i].Version && r.Hash == records[i].Hash
		},
	})
}

// placeCopies checks that copied records continue the stream after head h
// and returns them as they will be stored.
func placeCopies(stream string, h head, records []eventstore.Record) ([]eventstore.Record, error) {
	if err := eventstore.CheckCopiesContinue(records, h.version, h.hash, h.recordedAt, h.chain); err != nil {
		return nil, err
	}
	out := make([]eventstore.Record, len(records))
	for i, r := range records {
		r.Stream = stream
		r.EffectiveAt = r.EffectiveAt.UTC()
		r.RecordedAt = r.RecordedAt.UTC()
		if len(r.Metadata) == 0 {
			r.Metadata = nil
		}
		out[i] = r
	}
	return out, nil
}
