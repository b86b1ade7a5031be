package esdb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/consensus-ledger/consensus/eventstore"
)

// readBackAttempts and readBackDelay bound the wait for an appended batch
// to become readable on the node the store reads from.
const (
	readBackAttempts = 20
	readBackDelay    = 50 * time.Millisecond
)

// maxAnyAttempts bounds the retries of an append expecting Any while other
// writers keep moving the stream's head between its read and its write.
const maxAnyAttempts = 16

// Append implements eventstore.Store. See the package comment for how the
// batch's ids are claimed before it is written; the write itself is one
// append at the exact revision the stream's head was read at, so the hash
// chain it extends is the one stored.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.Version, events []eventstore.EventData) (eventstore.AppendResult, error) {
	res, err := s.append(ctx, stream, expected, events)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	return res, nil
}

func (s *Store) append(ctx context.Context, stream string, expected eventstore.Version, events []eventstore.EventData) (eventstore.AppendResult, error) {
	if s.readOnly {
		return eventstore.AppendResult{}, eventstore.ErrReadOnly
	}
	if err := validate(stream, expected, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	ids := make([]uuid.UUID, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	return s.write(ctx, batch{
		stream:   stream,
		expected: expected,
		ids:      ids,
		build:    func(h head) ([]eventstore.Record, error) { return s.stamp(stream, h, events) },
		same: func(i int, r *eventstore.Record) bool {
			e := events[i]
			return r.Type == e.Type && string(r.Data) == string(e.Data) && r.EffectiveAt.Equal(e.EffectiveAt)
		},
	})
}

// batch is one atomic write to one stream, as Append and AppendCopies
// prepare it.
type batch struct {
	stream   string
	expected eventstore.Version
	ids      []uuid.UUID
	// build makes the records to write after the stream's head h,
	// recorded times and hash chain included. An error wrapping
	// eventstore.ErrNotNext means the records belong elsewhere in the stream, which a
	// replay explains.
	build func(h head) ([]eventstore.Record, error)
	// same reports whether a stored record is the batch's i-th event, so
	// that the batch is a replay.
	same func(i int, r *eventstore.Record) bool
}

// write appends a batch:
//
//  1. read the stream's head;
//  2. if the head is not the expected version, look the ids up without
//     writing: the batch is a replay if they are all stored identically,
//     otherwise it is refused;
//  3. build the records (recorded time, hash chain) on that head;
//  4. claim every id for the version it will get; a claim that finds its
//     id stored makes the batch a replay or a conflict;
//  5. when the stream is new, add it to the catalog;
//  6. append at exactly the head's revision; if another writer got there
//     first, retry from 1 for Any, else look the ids up as in 2;
//  7. read the records back, with the positions the server gave them.
func (s *Store) write(ctx context.Context, b batch) (eventstore.AppendResult, error) {
	for attempt := 1; ; attempt++ {
		h, err := s.readHead(ctx, b.stream)
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		if b.expected != eventstore.Any && int64(b.expected) != h.version {
			return s.replayOr(ctx, b, fmt.Errorf("expected %s, but the stream is at %s: %w",
				eventstore.DescribeVersion(int64(b.expected)), eventstore.DescribeVersion(h.version), eventstore.ErrWrongVersion))
		}
		recs, err := b.build(h)
		if errors.Is(err, eventstore.ErrNotNext) {
			return s.replayOr(ctx, b, err)
		}
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		stored, err := s.claimAll(ctx, b.stream, h.version+1, b.ids)
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		if stored != nil && slices.Contains(stored, nil) {
			// A claim naming this append's own target may be another
			// writer's identical batch, which has landed since: the batch
			// is written atomically, so a second look sees all of it.
			if stored, err = s.lookupAll(ctx, b.ids); err != nil {
				return eventstore.AppendResult{}, err
			}
		}
		if stored != nil {
			return replayed(b, stored)
		}
		if h.version < 0 {
			if err := s.addToCatalog(ctx, b.stream); err != nil {
				return eventstore.AppendResult{}, err
			}
		}
		evs := make([]esdb.EventData, len(recs))
		for i, r := range recs {
			evs[i] = eventData(r)
		}
		_, err = s.appendRaw(ctx, b.stream, revision(h.version), evs...)
		if errors.Is(err, eventstore.ErrWrongVersion) {
			if b.expected == eventstore.Any && attempt < maxAnyAttempts {
				continue
			}
			return s.replayOr(ctx, b, fmt.Errorf("another writer appended first: %w", err))
		}
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		return s.readBack(ctx, b, recs)
	}
}

// replayOr answers a batch that cannot be written where it expected: a
// replay when every id is stored identically, the conflict an id reveals,
// or else refusal.
func (s *Store) replayOr(ctx context.Context, b batch, refusal error) (eventstore.AppendResult, error) {
	stored, err := s.lookupAll(ctx, b.ids)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	if stored == nil {
		return eventstore.AppendResult{}, refusal
	}
	return replayed(b, stored)
}

// replayed answers a batch some of whose ids are stored: the stored
// records, when all of them are the batch's events in this stream and in
// batch order; ErrDuplicateID naming the first conflict otherwise.
func replayed(b batch, stored []*eventstore.Record) (eventstore.AppendResult, error) {
	var missing, present uuid.UUID
	for i, r := range stored {
		id := b.ids[i]
		switch {
		case r == nil:
			if missing == uuid.Nil {
				missing = id
			}
			continue
		case r.Stream != b.stream:
			return eventstore.AppendResult{}, fmt.Errorf("event %s is already stored in stream %s: %w", id, r.Stream, eventstore.ErrDuplicateID)
		case !b.same(i, r):
			return eventstore.AppendResult{}, fmt.Errorf("event %s is already stored (version %d) with different content: %w", id, r.Version, eventstore.ErrDuplicateID)
		}
		if present == uuid.Nil {
			present = id
		}
	}
	if missing != uuid.Nil {
		return eventstore.AppendResult{}, fmt.Errorf("event %s is already stored but event %s of the same batch is not: %w", present, missing, eventstore.ErrDuplicateID)
	}
	res := eventstore.AppendResult{Replayed: true, Records: make([]eventstore.Record, len(stored))}
	for i, r := range stored {
		if i > 0 && r.Version <= stored[i-1].Version {
			return eventstore.AppendResult{}, fmt.Errorf("events %s and %s are already stored, in the other order: %w", b.ids[i-1], b.ids[i], eventstore.ErrDuplicateID)
		}
		res.Records[i] = *r
	}
	return res, nil
}

// readBack reads the records just appended, which gives them the
// positions the server chose. Should the server have answered from its own
// idempotency cache (an identical batch written moments earlier by another
// writer), the records read are that batch's, and the append is a replay.
func (s *Store) readBack(ctx context.Context, b batch, written []eventstore.Record) (eventstore.AppendResult, error) {
	var recs []eventstore.Record
	for attempt := 1; ; attempt++ {
		var err error
		recs, err = s.ReadStream(ctx, b.stream, written[0].Version, len(written))
		if err != nil {
			return eventstore.AppendResult{}, fmt.Errorf("read back the appended events: %w", err)
		}
		if len(recs) == len(written) || attempt == readBackAttempts {
			break
		}
		// A follower (nodePreference=follower) may not have indexed the
		// write the leader acknowledged yet.
		select {
		case <-ctx.Done():
			return eventstore.AppendResult{}, ctx.Err()
		case <-time.After(readBackDelay):
		}
	}
	if len(recs) != len(written) {
		return eventstore.AppendResult{}, fmt.Errorf("the server acknowledged %d events but %d are stored from version %d", len(written), len(recs), written[0].Version)
	}
	res := eventstore.AppendResult{Records: recs}
	for i, r := range recs {
		switch {
		case r.ID != written[i].ID:
			return eventstore.AppendResult{}, fmt.Errorf("the server acknowledged event %s but stores %s at version %d", written[i].ID, r.ID, r.Version)
		case r.Hash != written[i].Hash:
			if !b.same(i, &recs[i]) {
				return eventstore.AppendResult{}, fmt.Errorf("event %s is already stored (version %d) with different content: %w", r.ID, r.Version, eventstore.ErrDuplicateID)
			}
			res.Replayed = true
		}
	}
	return res, nil
}

// appendRaw is one append call to the server.
func (s *Store) appendRaw(ctx context.Context, stream string, expected esdb.ExpectedRevision, events ...esdb.EventData) (*esdb.WriteResult, error) {
	var res *esdb.WriteResult
	var refused bool
	err := s.call(ctx, func(ctx context.Context, c *esdb.Client, _ func()) error {
		r, err := c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: expected}, events...)
		res = r
		refused = status.Code(unwrapClient(err)) == codes.InvalidArgument
		return err
	})
	if err != nil && refused {
		// The server refuses an append as an invalid argument when it is
		// larger than its MaxAppendSize, the usual cause with ledger events.
		size := 0
		for _, e := range events {
			size += len(e.Data) + len(e.Metadata) + 2*len(e.EventType)
		}
		return nil, fmt.Errorf("the server refused an append of %d events (%d bytes as the server counts them; its MaxAppendSize bounds one append, "+
			"and the ledger takes it to be %d bytes: give the server's own as maxAppendSize in the connection string): %w",
			len(events), size, s.maxAppendSize, err)
	}
	return res, err
}

// revision is the expectation of a stream whose head is at version v.
func revision(v int64) esdb.ExpectedRevision {
	if v < 0 {
		return esdb.NoStream{}
	}
	return esdb.Revision(uint64(v))
}

// eventData is a record as the server stores it: the ledger's id, type and
// data as they are (labelled JSON when they are), and the envelope of
// times, hashes and ledger metadata as the event's metadata.
func eventData(r eventstore.Record) esdb.EventData {
	ct := esdb.ContentTypeBinary
	if isJSON(r.Data) {
		ct = esdb.ContentTypeJson
	}
	return esdb.EventData{
		EventID: r.ID, EventType: r.Type, ContentType: ct, Data: r.Data,
		Metadata: encodeMetadata(envelope{RecordedAt: r.RecordedAt, EffectiveAt: r.EffectiveAt,
			PrevHash: r.PrevHash, Hash: r.Hash, Metadata: r.Metadata, Chain: r.Chain}),
	}
}

// stamp makes the records of an Append after head h: versions, one
// recorded time for the batch, and the hash chain.
func (s *Store) stamp(stream string, h head, events []eventstore.EventData) ([]eventstore.Record, error) {
	recordedAt, err := s.recordedAt(h.recordedAt)
	if err != nil {
		return nil, err
	}
	recs := make([]eventstore.Record, len(events))
	prev := h.hash
	for i, e := range events {
		r := eventstore.Record{EventData: e, Stream: stream, Version: h.version + 1 + int64(i), RecordedAt: recordedAt, PrevHash: prev,
			Chain: eventstore.CurrentChain}
		r.EffectiveAt = e.EffectiveAt.UTC()
		if len(r.Metadata) == 0 {
			r.Metadata = nil
		}
		r.Hash = eventstore.RecordHash(prev, r)
		recs[i] = r
		prev = r.Hash
	}
	return recs, nil
}

// recordedAt is the batch's transaction time: the clock truncated to
// microseconds, the resolution the contract promises, but never before the
// stream's last record, so a clock stepping back (or two writers' clocks
// disagreeing) cannot break the stream's order.
func (s *Store) recordedAt(last time.Time) (time.Time, error) {
	now := s.now().UTC()
	if !storable(now) {
		return time.Time{}, fmt.Errorf("the clock reads %s, outside the years 1 to 9999 the store can hold", now.Format(time.RFC3339Nano))
	}
	t := now.Round(0).Truncate(time.Microsecond)
	if err := eventstore.CheckClock(last, t); err != nil {
		return time.Time{}, err
	}
	if t.Before(last) {
		t = last
	}
	return t, nil
}
