package esdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/consensus-ledger/consensus/eventstore"
)

// pageSize is how many events one read asks the server for: large enough
// that a long stream costs few round trips, small enough that one page of
// ledger events (a few hundred bytes each) stays well under the client's
// 17 MiB message limit.
const pageSize = 1024

// tombstoneType is the type of the record a hard delete leaves in $all.
const tombstoneType = "$streamDeleted"

// ReadStream implements eventstore.Store, reading forwards in pages of
// pageSize. An unknown stream reads as empty; from below 0 reads from the
// start.
func (s *Store) ReadStream(ctx context.Context, stream string, from int64, limit int) ([]eventstore.Record, error) {
	from = max(from, 0)
	var out []eventstore.Record
	for {
		n := pageSize
		if limit > 0 {
			n = min(n, limit-len(out))
		}
		page, err := s.readPage(ctx, stream, esdb.Revision(uint64(from)), esdb.Forwards, n)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", stream, err)
		}
		out = append(out, page...)
		if len(page) < n || limit > 0 && len(out) >= limit {
			return out, nil
		}
		from = page[len(page)-1].Version + 1
	}
}

// readPage reads up to n records of a stream; a stream with no events
// gives none.
func (s *Store) readPage(ctx context.Context, stream string, from esdb.StreamPosition, dir esdb.Direction, n int) ([]eventstore.Record, error) {
	var page []eventstore.Record
	err := s.call(ctx, func(ctx context.Context, c *esdb.Client, alive func()) error {
		rs, err := c.ReadStream(ctx, stream, esdb.ReadStreamOptions{Direction: dir, From: from}, uint64(n))
		if err != nil {
			return err
		}
		defer rs.Close()
		for {
			ev, err := rs.Recv()
			switch {
			case errors.Is(err, io.EOF):
				return nil
			case clientCode(err) == esdb.ErrorCodeResourceNotFound:
				page = nil
				return nil
			case err != nil:
				return err
			}
			alive()
			r, err := decodeRecord(ev)
			if err != nil {
				return err
			}
			page = append(page, r)
		}
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// readAt returns the record at a stream's version; ok is false when the
// stream has no record there (yet).
func (s *Store) readAt(ctx context.Context, stream string, version int64) (r eventstore.Record, ok bool, err error) {
	if version < 0 {
		return r, false, nil
	}
	page, err := s.readPage(ctx, stream, esdb.Revision(uint64(version)), esdb.Forwards, 1)
	if err != nil || len(page) == 0 {
		return r, false, err
	}
	return page[0], true, nil
}

// head is what an append needs to know of a stream's last record.
type head struct {
	version    int64 // -1 (NoStream) when the stream has no records
	hash       [32]byte
	recordedAt time.Time
	chain      int // the last record's chain version; 0 with no records
}

// readHead reads a stream's last record, backwards from its end.
func (s *Store) readHead(ctx context.Context, stream string) (head, error) {
	page, err := s.readPage(ctx, stream, esdb.End{}, esdb.Backwards, 1)
	if err != nil {
		return head{}, fmt.Errorf("read the head of %s: %w", stream, err)
	}
	if len(page) == 0 {
		return head{version: int64(eventstore.NoStream)}, nil
	}
	r := page[0]
	return head{version: r.Version, hash: r.Hash, recordedAt: r.RecordedAt, chain: r.Chain}, nil
}

// decodeRecord turns an event read from the server into a record. The
// store's own bookkeeping events (claims, catalog) and the server's (stream
// metadata) decode as records too, with zero times and hashes, so the same
// reader serves all; an event in a ledger stream that this store did not
// write is refused.
func decodeRecord(ev *esdb.ResolvedEvent) (eventstore.Record, error) {
	e := ev.OriginalEvent()
	if e == nil {
		return eventstore.Record{}, errors.New("the server sent a read result without an event")
	}
	r := eventstore.Record{
		EventData: eventstore.EventData{ID: e.EventID, Type: e.EventType, Data: e.Data},
		Stream:    e.StreamID,
		Version:   int64(e.EventNumber),
		Position:  eventstore.Position{Commit: e.Position.Commit, Prepare: e.Position.Prepare},
	}
	if isBookkeeping(e.StreamID) || strings.HasPrefix(e.StreamID, "$") {
		return r, nil // the store's own, or the server's: raw data only
	}
	if e.EventType == tombstoneType {
		return r, fmt.Errorf("%w: %s was hard-deleted (tombstoned)", ErrStreamDeleted, e.StreamID)
	}
	env, err := decodeMetadata(e.UserMetadata)
	if err != nil {
		return r, fmt.Errorf("event %s (%s version %d) was not written by the ledger: %w: %w",
			e.EventID, e.StreamID, e.EventNumber, eventstore.ErrNotLedger, err)
	}
	r.Metadata = env.Metadata
	r.EffectiveAt = env.EffectiveAt
	r.RecordedAt = env.RecordedAt
	r.PrevHash = env.PrevHash
	r.Hash = env.Hash
	r.Chain = env.Chain
	return r, nil
}
