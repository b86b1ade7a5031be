package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/consensus-ledger/consensus/eventstore"
)

// AppendCopies implements eventstore.Copier: records copied from another
// store keep their ids, both times and their hashes, which are checked to
// link onto the stream's chain before anything is written.
func (s *Store) AppendCopies(ctx context.Context, stream string, expected eventstore.Version, records []eventstore.Record) (eventstore.AppendResult, error) {
	res, err := s.appendCopies(ctx, stream, expected, records)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("copy to %s: %w", stream, err)
	}
	return res, nil
}

func (s *Store) appendCopies(ctx context.Context, stream string, expected eventstore.Version, records []eventstore.Record) (res eventstore.AppendResult, err error) {
	if s.readOnly {
		return res, eventstore.ErrReadOnly
	}
	events := make([]eventstore.EventData, len(records))
	for i, r := range records {
		events[i] = r.EventData
		if !representable(r.RecordedAt) {
			return res, fmt.Errorf("event %s: recorded time %s cannot be stored: %w", r.ID, r.RecordedAt, eventstore.ErrInvalidEvent)
		}
	}
	if err := validate(stream, expected, events); err != nil {
		return res, err
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return res, withContext(ctx, err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, ignoreDone(tx.Rollback()))
		}
	}()
	stored, err := s.lookupIDs(ctx, tx, events)
	if err != nil {
		return res, err
	}
	if stored != nil {
		if err := replayable(stream, events, stored); err != nil {
			return res, err
		}
		for i, r := range stored {
			if r.Version != records[i].Version || r.Hash != records[i].Hash {
				return res, fmt.Errorf("event %s is already stored as version %d with another hash: %w", r.ID, r.Version, eventstore.ErrDuplicateID)
			}
		}
		res.Replayed = true
		for _, r := range stored {
			res.Records = append(res.Records, *r)
		}
		return res, tx.Commit()
	}
	head, err := s.readHead(ctx, tx, stream)
	if err != nil {
		return res, err
	}
	if expected != eventstore.Any && int64(expected) != head.version {
		return res, fmt.Errorf("expected %s, but the stream is at %s: %w", describe(int64(expected)), describe(head.version), eventstore.ErrWrongVersion)
	}
	insert := tx.StmtContext(ctx, s.insert)
	prev, last := head.hash, head.recordedAt
	for i, r := range records {
		if err := checkCopy(r, head.version+1+int64(i), prev, last); err != nil {
			return res, err
		}
		r.Stream, r.EffectiveAt, r.RecordedAt = stream, fromNanos(r.EffectiveAt.UnixNano()), fromNanos(r.RecordedAt.UnixNano())
		var metadata any
		if len(r.Metadata) == 0 {
			r.Metadata = nil
		} else {
			metadata = r.Metadata
		}
		out, err := insert.ExecContext(ctx, r.ID[:], stream, r.Version, r.Type, r.Data, metadata,
			r.EffectiveAt.UnixNano(), r.RecordedAt.UnixNano(), r.PrevHash[:], r.Hash[:])
		if err != nil {
			return res, s.insertError(ctx, tx, r, err, true)
		}
		seq, err := out.LastInsertId()
		if err != nil {
			return res, withContext(ctx, err)
		}
		r.Position = eventstore.Position{Commit: uint64(seq), Prepare: uint64(seq)}
		res.Records = append(res.Records, r)
		prev, last = r.Hash, r.RecordedAt
	}
	end := res.Records[len(res.Records)-1]
	if _, err := tx.StmtContext(ctx, s.upsertStream).ExecContext(ctx,
		stream, end.Version, end.Version+1, end.Hash[:], end.RecordedAt.UnixNano()); err != nil {
		return res, withContext(ctx, err)
	}
	if err := tx.Commit(); err != nil {
		return res, withContext(ctx, err)
	}
	return res, nil
}

// checkCopy refuses a copied record that would not continue the stream's
// chain exactly: the next version, linked to the last hash, its own hash
// right, and not recorded before the record it follows.
func checkCopy(r eventstore.Record, version int64, prev [32]byte, last time.Time) error {
	fail := func(problem string) error {
		return fmt.Errorf("event %s %s: %w", r.ID, problem, eventstore.ErrInvalidEvent)
	}
	switch {
	case r.Version != version:
		return fail(fmt.Sprintf("is numbered %d where the stream continues at %d", r.Version, version))
	case r.PrevHash != prev:
		return fail("does not link to the stream's last hash")
	case eventstore.RecordHash(prev, r) != r.Hash:
		return fail("has a hash that does not match its content")
	case r.RecordedAt.Before(last):
		return fail("was recorded before the event it follows")
	}
	return nil
}
