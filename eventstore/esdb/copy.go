package esdb

import (
	"bytes"
	"context"
	"fmt"
	"time"

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
	if err := checkCopies(stream, records); err != nil {
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

// checkCopies checks what can be checked of copied records before any
// call: where they say they go, each record's own hash, and the links and
// time order between them.
func checkCopies(stream string, records []eventstore.Record) error {
	first := records[0].Version
	if first < 0 {
		return fmt.Errorf("record %s has version %d: %w", records[0].ID, first, eventstore.ErrInvalidEvent)
	}
	for i, r := range records {
		fail := func(problem string) error {
			return fmt.Errorf("record %s (version %d) %s: %w", r.ID, r.Version, problem, eventstore.ErrInvalidEvent)
		}
		switch {
		case r.Stream != "" && r.Stream != stream:
			return fail("belongs to stream " + r.Stream)
		case r.Version != first+int64(i):
			return fail(fmt.Sprintf("is not version %d: the records are not consecutive", first+int64(i)))
		case !storable(r.RecordedAt):
			return fail("has no recorded time the store can hold")
		case eventstore.RecordHash(r.PrevHash, r) != r.Hash:
			return fail("does not match its hash: its content or times differ from the copied record's")
		}
		if i > 0 {
			switch prev := records[i-1]; {
			case !bytes.Equal(r.PrevHash[:], prev.Hash[:]):
				return fail("does not link to the previous record's hash")
			case r.RecordedAt.Before(prev.RecordedAt):
				return fail("was recorded before the previous record")
			}
		}
	}
	return nil
}

// errNotNext is the refusal of copied records whose versions do not
// continue the stream.
var errNotNext = fmt.Errorf("the records are not the stream's next: %w", eventstore.ErrInvalidEvent)

// placeCopies checks that copied records continue the stream after head h
// and returns them as they will be stored.
func placeCopies(stream string, h head, records []eventstore.Record) ([]eventstore.Record, error) {
	first := records[0]
	switch {
	case first.Version != h.version+1:
		return nil, fmt.Errorf("record %s is version %d but the stream is at %s: %w", first.ID, first.Version, describe(h.version), errNotNext)
	case first.PrevHash != h.hash:
		return nil, fmt.Errorf("record %s (version %d) does not link to the hash of the stream's last record: %w", first.ID, first.Version, eventstore.ErrInvalidEvent)
	case first.RecordedAt.Before(h.recordedAt):
		return nil, fmt.Errorf("record %s (version %d) was recorded at %s, before the stream's last record (%s): %w",
			first.ID, first.Version, first.RecordedAt.Format(time.RFC3339Nano), h.recordedAt.Format(time.RFC3339Nano), eventstore.ErrInvalidEvent)
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
