package esdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/consensus-ledger/consensus/eventstore"
)

// ReadAll implements eventstore.Store: the records of the ledger's streams
// (Options.StreamPrefixes) positioned after the given position, in commit
// order.
//
// EventStore-Client-Go v4 offers server-side filters only on subscriptions,
// not on reads of $all, so on servers that end a subscription's catch-up
// with a CaughtUp message (EventStoreDB 23.10 and later, every KurrentDB)
// ReadAll is a filtered catch-up subscription that it leaves at CaughtUp
// or at the limit: the server skips the id index, the catalog and system
// events. On older servers it reads $all unfiltered, in pages, and filters
// here.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.Record, error) {
	var recs []eventstore.Record
	var err error
	if s.subscribedReads {
		recs, err = s.readAllSubscribed(ctx, after, limit)
	} else {
		recs, err = s.readAllScanned(ctx, after, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("read all: %w", err)
	}
	return recs, nil
}

// wanted reports whether a stream is one of the ledger's.
func (s *Store) wanted(stream string) bool {
	for _, p := range s.prefixes {
		if strings.HasPrefix(stream, p) {
			return true
		}
	}
	return false
}

// filter is the server-side filter on the ledger's streams.
func (s *Store) filter() *esdb.SubscriptionFilter {
	return &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: s.prefixes}
}

// subscriptionStart turns "after this position" into where a subscription
// starts, and the record (if wanted) it must deliver itself first.
//
// A subscription from a position P skips the first record at or after P,
// which is "after P" only when P is a record's own position. ReadAll's
// callers may hold other positions (a checkpoint from another backend, a
// position built by hand), so it first reads, unfiltered, the first record
// at or after P: the subscription then starts from that record's position,
// and the record itself is returned when it lies after P and is wanted.
// When no record lies at or after P, done is true and the subscription
// starts from the log's last record, so that nothing appended meanwhile is
// missed (the caller skips what is not after P).
func (s *Store) subscriptionStart(ctx context.Context, after eventstore.Position) (from esdb.AllPosition, first *eventstore.Record, done bool, err error) {
	if after == (eventstore.Position{}) {
		return esdb.Start{}, nil, false, nil
	}
	at, beyond := serverPosition(after)
	var ev *esdb.ResolvedEvent
	if !beyond {
		if ev, err = s.readAllOne(ctx, esdb.Forwards, at); err != nil {
			return nil, nil, false, err
		}
	}
	if ev == nil {
		last, err := s.readAllOne(ctx, esdb.Backwards, esdb.End{})
		if err != nil || last == nil {
			return esdb.Start{}, nil, true, err
		}
		return last.OriginalEvent().Position, nil, true, nil
	}
	found := ev.OriginalEvent().Position
	pos := eventstore.Position{Commit: found.Commit, Prepare: found.Prepare}
	if after.Less(pos) && s.wanted(ev.OriginalEvent().StreamID) {
		r, err := decodeRecord(ev)
		if err != nil {
			return nil, nil, false, err
		}
		first = &r
	}
	return found, first, false, nil
}

// serverPosition turns a position into one the server accepts, with the
// same records after it. The server refuses a prepare position greater
// than the commit position, but every record it holds has prepare <=
// commit, so the records after (c, p > c) are those after (c, c). beyond
// is true for positions after every record the server can hold.
func serverPosition(p eventstore.Position) (at esdb.Position, beyond bool) {
	if p.Commit > math.MaxInt64 {
		return esdb.Position{}, true
	}
	return esdb.Position{Commit: p.Commit, Prepare: min(p.Prepare, p.Commit)}, false
}

// readAllOne reads one event of $all, unfiltered; nil when there is none.
func (s *Store) readAllOne(ctx context.Context, dir esdb.Direction, from esdb.AllPosition) (*esdb.ResolvedEvent, error) {
	var ev *esdb.ResolvedEvent
	err := s.call(ctx, func(ctx context.Context, c *esdb.Client, _ func()) error {
		rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{Direction: dir, From: from}, 1)
		if err != nil {
			return err
		}
		defer rs.Close()
		e, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		ev = e
		return err
	})
	if err != nil {
		return nil, err
	}
	return ev, nil
}

func (s *Store) readAllSubscribed(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.Record, error) {
	from, first, done, err := s.subscriptionStart(ctx, after)
	if err != nil || done {
		return nil, err
	}
	var out []eventstore.Record
	if first != nil {
		out = append(out, *first)
	}
	if limit > 0 && len(out) >= limit {
		return out, nil
	}
	var page []eventstore.Record
	err = s.call(ctx, func(ctx context.Context, c *esdb.Client, alive func()) error {
		sub, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: from, Filter: s.filter()})
		if err != nil {
			return err
		}
		defer sub.Close()
		for {
			ev := sub.Recv()
			alive()
			switch {
			case ev.SubscriptionDropped != nil:
				return ev.SubscriptionDropped.Error
			case ev.CaughtUp != nil:
				return nil
			case ev.EventAppeared != nil:
				r, err := decodeRecord(ev.EventAppeared)
				if err != nil {
					return err
				}
				if !after.Less(r.Position) {
					continue
				}
				page = append(page, r)
				if limit > 0 && len(out)+len(page) >= limit {
					return nil
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return append(out, page...), nil
}

// readAllScanned reads $all unfiltered, from the given position (which a
// read includes), keeping the ledger's records after it.
func (s *Store) readAllScanned(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.Record, error) {
	var out []eventstore.Record
	var from esdb.AllPosition = esdb.Start{}
	if after != (eventstore.Position{}) {
		at, beyond := serverPosition(after)
		if beyond {
			return nil, nil
		}
		from = at
	}
	for {
		var page []eventstore.Record
		var considered int
		last := after
		err := s.call(ctx, func(ctx context.Context, c *esdb.Client, alive func()) error {
			rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Forwards, From: from}, pageSize)
			if err != nil {
				return err
			}
			defer rs.Close()
			for {
				ev, err := rs.Recv()
				if errors.Is(err, io.EOF) {
					return nil
				}
				if err != nil {
					return err
				}
				alive()
				considered++
				e := ev.OriginalEvent()
				pos := eventstore.Position{Commit: e.Position.Commit, Prepare: e.Position.Prepare}
				if !last.Less(pos) {
					continue
				}
				last = pos
				if !s.wanted(e.StreamID) {
					continue
				}
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
		for _, r := range page {
			out = append(out, r)
			if limit > 0 && len(out) >= limit {
				return out, nil
			}
		}
		if considered < pageSize {
			return out, nil
		}
		after = last
		from, _ = serverPosition(last)
	}
}
