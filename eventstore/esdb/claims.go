package esdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/consensus-ledger/consensus/eventstore"
)

// The store's own streams, kept beside the ledger's: an id index of one
// claim stream per event id, and a catalog of the ledger's streams. Their
// names never match the ledger's stream prefixes, so filtered reads of
// $all skip them.
const (
	bookkeepingPrefix = "consensus-"
	claimPrefix       = bookkeepingPrefix + "id-"
	claimType         = "EventIDClaimed"
)

// isBookkeeping reports whether a stream is one of the store's own.
func isBookkeeping(stream string) bool { return strings.HasPrefix(stream, bookkeepingPrefix) }

// claimStream is the stream that claims an event id.
func claimStream(id uuid.UUID) string { return claimPrefix + id.String() }

// claimConcurrency bounds the claim and lookup calls of one batch in
// flight at once: enough to hide round trips, few enough not to flood a
// server shared with other writers.
const claimConcurrency = 32

// maxClaimAttempts bounds how often one id's claim is retried while other
// writers keep claiming it.
const maxClaimAttempts = 16

// target is where a claim says its id is stored: the stream and version
// the claiming append writes it at.
type target struct {
	Stream  string `json:"stream"`
	Version int64  `json:"version"`
}

// claimState is what an id's claim stream says, checked against the
// streams its claims point at.
type claimState struct {
	// revision is the claim stream's last revision, -1 when it has none.
	revision int64
	// stored is the record holding the id, if a claim's target holds it.
	stored *eventstore.Record
	// pending is the latest claim whose target version is not written
	// yet: an append in progress, or one interrupted before it wrote.
	pending *target
}

// resolve reads an id's claims and checks each against its target: a
// claim whose target holds the id is the truth; one whose target holds
// another event is stale (its append lost a race or was refused); one whose
// target does not exist yet is pending.
func (s *Store) resolve(ctx context.Context, id uuid.UUID) (claimState, error) {
	st := claimState{revision: -1}
	claims, err := s.ReadStream(ctx, claimStream(id), 0, 0)
	if err != nil {
		return st, err
	}
	for _, c := range claims {
		st.revision = c.Version
		var t target
		if err := json.Unmarshal(c.Data, &t); err != nil || t.Stream == "" || t.Version < 0 {
			return st, fmt.Errorf("claim %d of event %s in %s is damaged: %q", c.Version, id, c.Stream, c.Data)
		}
		r, ok, err := s.readAt(ctx, t.Stream, t.Version)
		switch {
		case err != nil:
			return st, err
		case ok && r.ID == id:
			st.stored = &r
			return st, nil
		case !ok:
			st.pending = &t
		}
	}
	return st, nil
}

// claim makes the id's claim stream point at t. The first claim is
// written expecting no stream, so of two writers claiming a new id one
// wins and the other learns of it; later claims expect the claim stream's
// revision. It returns the stored record when the id is already stored,
// and refuses an id that an unfinished append to another stream claims.
func (s *Store) claim(ctx context.Context, id uuid.UUID, t target) (*eventstore.Record, error) {
	data, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	ev := esdb.EventData{EventID: uuid.New(), EventType: claimType, ContentType: esdb.ContentTypeJson, Data: data}
	var expected esdb.ExpectedRevision = esdb.NoStream{}
	for attempt := 0; attempt < maxClaimAttempts; attempt++ {
		_, err := s.appendRaw(ctx, claimStream(id), expected, ev)
		if err == nil {
			return nil, nil
		}
		if !errors.Is(err, eventstore.ErrWrongVersion) {
			return nil, fmt.Errorf("claim event id %s: %w", id, err)
		}
		st, err := s.resolve(ctx, id)
		switch {
		case err != nil:
			return nil, fmt.Errorf("look up event id %s: %w", id, err)
		case st.stored != nil:
			return st.stored, nil
		case st.pending != nil && st.pending.Stream != t.Stream:
			return nil, fmt.Errorf("event %s is claimed by an append to %s that has not finished, or was interrupted before writing: %w",
				id, st.pending.Stream, eventstore.ErrDuplicateID)
		case st.pending != nil && *st.pending == t:
			return nil, nil // an earlier attempt of this very append
		case st.revision < 0:
			expected = esdb.NoStream{}
		default:
			// A stale claim, or a pending one for this stream: either its
			// append can no longer succeed, or it races this one for the
			// same stream head, where only one of them can win.
			expected = esdb.Revision(uint64(st.revision))
		}
		ev.EventID = uuid.New()
	}
	return nil, fmt.Errorf("claim event id %s: other writers kept claiming it: %w", id, eventstore.ErrWrongVersion)
}

// claimAll claims every id of a batch for stream, the i-th at version
// first+i. It returns, for each id, its stored record or nil; a nil slice
// when none is stored.
func (s *Store) claimAll(ctx context.Context, stream string, first int64, ids []uuid.UUID) ([]*eventstore.Record, error) {
	return s.forEachID(ctx, ids, func(ctx context.Context, i int, id uuid.UUID) (*eventstore.Record, error) {
		return s.claim(ctx, id, target{Stream: stream, Version: first + int64(i)})
	})
}

// lookupAll finds where each id is stored, writing nothing. It returns,
// for each id, its stored record or nil; a nil slice when none is stored.
func (s *Store) lookupAll(ctx context.Context, ids []uuid.UUID) ([]*eventstore.Record, error) {
	return s.forEachID(ctx, ids, func(ctx context.Context, _ int, id uuid.UUID) (*eventstore.Record, error) {
		st, err := s.resolve(ctx, id)
		return st.stored, err
	})
}

// forEachID runs fn for every id, claimConcurrency at a time, and gathers
// the records it returns.
func (s *Store) forEachID(ctx context.Context, ids []uuid.UUID, fn func(context.Context, int, uuid.UUID) (*eventstore.Record, error)) ([]*eventstore.Record, error) {
	found := make([]*eventstore.Record, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(claimConcurrency)
	for i, id := range ids {
		g.Go(func() error {
			r, err := fn(gctx, i, id)
			found[i] = r
			return err
		})
	}
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %w", ctx.Err(), err)
		}
		return nil, err
	}
	for _, r := range found {
		if r != nil {
			return found, nil
		}
	}
	return nil, nil
}

// Find implements eventstore.Finder through the id's claim stream: one read
// of the claims and one of the record they point at.
func (s *Store) Find(ctx context.Context, id uuid.UUID) (eventstore.Record, error) {
	if err := ctx.Err(); err != nil {
		return eventstore.Record{}, fmt.Errorf("find event %s: %w", id, err)
	}
	if id == uuid.Nil {
		return eventstore.Record{}, fmt.Errorf("find event %s: %w", id, eventstore.ErrEventNotFound)
	}
	st, err := s.resolve(ctx, id)
	switch {
	case err != nil:
		return eventstore.Record{}, fmt.Errorf("find event %s: %w", id, err)
	case st.stored == nil:
		return eventstore.Record{}, fmt.Errorf("find event %s: %w", id, eventstore.ErrEventNotFound)
	}
	return *st.stored, nil
}
