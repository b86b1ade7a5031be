package demo

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/eventstore"
)

// readPage is how many records Foreign reads at a time from a store that
// cannot list its streams or find an event by id.
const readPage = 4096

// IDs returns the set of the scenario's event ids.
func IDs() map[uuid.UUID]bool {
	ids := make(map[uuid.UUID]bool)
	for _, s := range Steps() {
		ids[s.ID()] = true
	}
	return ids
}

// Foreign counts the events in store that are not the scenario's. The demo
// writes only into a store where it is zero (a new one, or one holding
// nothing but a demo, whole or interrupted), so fictitious events never
// mix with a real ledger's.
//
// A store that lists its streams and finds events by id answers with one
// listing and one lookup per scenario event, whatever its size; any other
// is read whole, a page at a time.
func Foreign(ctx context.Context, store eventstore.Store) (int64, error) {
	ids := IDs()
	lister, canList := eventstore.AsStreamLister(store)
	finder, canFind := eventstore.AsFinder(store)
	if canList && canFind {
		infos, err := lister.Streams(ctx)
		if err != nil {
			return 0, fmt.Errorf("list streams: %w", err)
		}
		var total int64
		for _, info := range infos {
			total += info.Events
		}
		if total == 0 {
			return 0, nil
		}
		for id := range ids {
			_, err := finder.Find(ctx, id)
			switch {
			case err == nil:
				total--
			case !errors.Is(err, eventstore.ErrEventNotFound):
				return 0, fmt.Errorf("find event %s: %w", id, err)
			}
		}
		return total, nil
	}
	var foreign int64
	var after eventstore.Position
	for {
		recs, err := store.ReadAll(ctx, after, readPage)
		if err != nil {
			return 0, fmt.Errorf("read all: %w", err)
		}
		if len(recs) == 0 {
			return foreign, nil
		}
		for _, r := range recs {
			if !ids[r.ID] {
				foreign++
			}
		}
		after = recs[len(recs)-1].Position
	}
}
