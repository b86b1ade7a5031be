package ledger

import (
	"context"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/eventstore"
)

// What a caller that writes in bulk (an import) needs to know of the store,
// asked of the ledger, which does not hand its store out.

// BoundsAppendSize reports whether the store refuses an append above some
// size (eventstore.AppendLimiter), so that a bulk writer must cut its
// batches (WriteInstrument does).
func (l *Ledger) BoundsAppendSize() bool {
	_, ok := eventstore.AsAppendLimiter(l.store)
	return ok
}

// fitAppend is how many of events, at least one, go in the next append: no
// more than count, and no more than fit in one append when the store bounds
// its size (eventstore.AppendLimiter), as EventStoreDB does. Each part is
// still appended whole, so an interrupted import leaves whole batches only,
// and a re-run finds them stored. To be measured, the events are encoded
// here as appendDecided will encode them; stores without a bound skip that.
func (l *Ledger) fitAppend(events []decided, count int) (int, error) {
	n := min(count, len(events))
	limiter, ok := eventstore.AsAppendLimiter(l.store)
	if !ok {
		return n, nil
	}
	encoded, err := encodeDecided(events[:n])
	if err != nil {
		return 0, err
	}
	budget := limiter.MaxAppendBytes()
	for i, e := range encoded {
		if budget -= limiter.AppendBytes(e); budget < 0 {
			return max(i, 1), nil
		}
	}
	return n, nil
}

// Find returns the stored record with the given id, wherever it is, and
// whether there is one: through the store's index when it has one
// (eventstore.Finder), else by reading every record.
func (l *Ledger) Find(ctx context.Context, id uuid.UUID) (eventstore.Record, bool, error) {
	return l.find(ctx, id)
}
