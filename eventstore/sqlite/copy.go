package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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
	}
	if err := validate(stream, expected, events); err != nil {
		return res, err
	}
	if err := eventstore.CheckCopies(stream, records, representable); err != nil {
		return res, err
	}
	if s.bulk != nil {
		// One transaction at a time, as appendTx; the next bulk append
		// finds the mark moved and starts its tail again.
		s.bulkMu.Lock()
		defer s.bulkMu.Unlock()
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
	last, err := s.indexAll(ctx, tx)
	if err != nil {
		return res, err
	}
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
		return res, fmt.Errorf("expected %s, but the stream is at %s: %w",
			eventstore.DescribeVersion(int64(expected)), eventstore.DescribeVersion(head.version), eventstore.ErrWrongVersion)
	}
	chain, err := s.lastChain(ctx, tx, stream, head.version)
	if err != nil {
		return res, err
	}
	if err := eventstore.CheckCopiesContinue(records, head.version, head.hash, head.recordedAt, chain); err != nil {
		return res, err
	}
	res.Records = make([]eventstore.Record, len(records))
	for i, r := range records {
		r.Stream = stream
		res.Records[i] = r
	}
	if err := s.insertRecords(ctx, tx, res.Records, nil); err != nil {
		return eventstore.AppendResult{}, err
	}
	end := int64(res.Records[len(res.Records)-1].Position.Commit)
	if err := checkSeqs(last, int64(len(res.Records)), end); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := s.indexIDs(ctx, tx, last, end); err != nil {
		if errors.Is(err, errIDTaken) {
			err = fmt.Errorf("an event id is stored already: %w", eventstore.ErrDuplicateID)
		}
		return eventstore.AppendResult{}, err
	}
	if err := tx.Commit(); err != nil {
		return eventstore.AppendResult{}, withContext(ctx, err)
	}
	return res, nil
}

// lastChain is the chain version of the stream's record at version (the
// last), or 0 when the stream is empty. Only copies need it, to refuse a
// record of an older version after a newer one, so it is not kept in the
// streams table that every append reads.
func (s *Store) lastChain(ctx context.Context, tx *sql.Tx, stream string, version int64) (int, error) {
	if version < 0 {
		return 0, nil
	}
	var chain int
	if err := tx.QueryRowContext(ctx, `SELECT chain FROM events WHERE stream = ? AND version = ?`, stream, version).Scan(&chain); err != nil {
		return 0, fmt.Errorf("read the chain version of %s's last event: %w", stream, withContext(ctx, err))
	}
	return chain, nil
}
