package esdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/consensus-ledger/consensus/eventstore"
)

// The catalog: one event per stream the store created, so that Streams
// lists the ledger without reading $all.
const (
	catalogStream = bookkeepingPrefix + "streams"
	catalogType   = "StreamCreated"
)

// listConcurrency bounds the head reads of Streams in flight at once.
const listConcurrency = 16

// addToCatalog records a stream before its first append. Written before
// rather than after, a crash between the two can only leave an entry for a
// stream that was never created, which Streams skips, never a stream
// missing from the list. Two writers creating a stream at once may both
// add it; Streams lists each name once.
func (s *Store) addToCatalog(ctx context.Context, stream string) error {
	data, err := json.Marshal(struct {
		Stream string `json:"stream"`
	}{stream})
	if err != nil {
		return err
	}
	_, err = s.appendRaw(ctx, catalogStream, esdb.Any{},
		esdb.EventData{EventID: uuid.New(), EventType: catalogType, ContentType: esdb.ContentTypeJson, Data: data})
	if err != nil {
		return fmt.Errorf("add %s to the stream catalog: %w", stream, err)
	}
	return nil
}

// Streams implements eventstore.StreamLister: the catalog's streams that
// match Options.StreamPrefixes, each summarised from its last record (one
// backward read per stream). Events is the last version plus one: the
// server cannot remove records from the end of a stream, and records
// missing at its start (truncated with $tb) make VerifyStream fail. A
// listed stream deleted on the server is an error wrapping
// ErrStreamDeleted, not an omission, since the ledger never deletes.
func (s *Store) Streams(ctx context.Context) ([]eventstore.StreamInfo, error) {
	entries, err := s.ReadStream(ctx, catalogStream, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("list streams: %w", err)
	}
	seen := map[string]bool{}
	var names []string
	for _, e := range entries {
		var entry struct {
			Stream string `json:"stream"`
		}
		if err := json.Unmarshal(e.Data, &entry); err != nil || entry.Stream == "" {
			return nil, fmt.Errorf("list streams: catalog entry %d is damaged: %q", e.Version, e.Data)
		}
		// Only the streams ReadAll reads (Options.StreamPrefixes): a server
		// may hold other catalogued streams, such as the conformance
		// suite's, which are no part of this ledger.
		if !seen[entry.Stream] && s.wanted(entry.Stream) {
			seen[entry.Stream] = true
			names = append(names, entry.Stream)
		}
	}
	sort.Strings(names)

	infos := make([]eventstore.StreamInfo, len(names))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(listConcurrency)
	for i, name := range names {
		g.Go(func() error {
			h, err := s.readHead(gctx, name)
			if err != nil {
				return err
			}
			if h.version < 0 {
				infos[i].Version = -1 // left out below
				return s.checkNeverCreated(gctx, name)
			}
			infos[i] = eventstore.StreamInfo{Stream: name, Events: h.version + 1, Version: h.version,
				LastRecordedAt: h.recordedAt, LastHash: h.hash}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w: %w", ctx.Err(), err)
		}
		return nil, fmt.Errorf("list streams: %w", err)
	}
	out := infos[:0]
	for _, info := range infos {
		if info.Version >= 0 { // a catalog entry whose first append never happened
			out = append(out, info)
		}
	}
	return out, nil
}

// checkNeverCreated tells a catalogued stream whose first append never
// happened, which Streams skips, from one that was soft-deleted, which
// reads as empty too but leaves "$tb" (truncate before) in the stream's
// metadata ($$<stream>). A user without access to the metadata cannot tell
// them apart; the stream is then taken as never created.
func (s *Store) checkNeverCreated(ctx context.Context, stream string) error {
	page, err := s.readPage(ctx, "$$"+stream, esdb.End{}, esdb.Backwards, 1)
	switch {
	case errors.Is(err, ErrRefused):
		return nil
	case err != nil:
		return fmt.Errorf("read the metadata of %s: %w", stream, err)
	case len(page) == 0:
		return nil
	}
	var meta map[string]json.RawMessage
	if json.Unmarshal(page[0].Data, &meta) == nil && meta["$tb"] != nil {
		return fmt.Errorf("%w: %s was soft-deleted or truncated to nothing ($tb %s in its metadata)", ErrStreamDeleted, stream, meta["$tb"])
	}
	return nil
}
