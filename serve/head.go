package serve

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
)

// headPosition finds the position of the store's last record (zero for an
// empty store), so the server follows only what lands after it starts.
//
// A store that reads its head in one call (eventstore.HeadReader, SQLite)
// answers it; for others (EventStoreDB) it is found with ReadAll alone:
// positions are ordered by Commit, so "is there a record
// after every record of commit c?" is true below the last commit and false
// from it on. An exponential then a binary search on c finds the last
// commit in about 2 log2(N) one-record reads (some 40 for a million
// records), instead of reading every record.
func headPosition(ctx context.Context, store eventstore.Store) (eventstore.Position, error) {
	if h, ok := eventstore.AsHeadReader(store); ok {
		return h.Head(ctx)
	}
	first, err := store.ReadAll(ctx, eventstore.Position{}, 1)
	if err != nil || len(first) == 0 {
		return eventstore.Position{}, err
	}
	// laterThan reports whether a record lies in a commit after c.
	laterThan := func(c uint64) (bool, error) {
		recs, err := store.ReadAll(ctx, eventstore.Position{Commit: c, Prepare: math.MaxUint64}, 1)
		return len(recs) > 0, err
	}
	lo := first[0].Position.Commit // the last commit is at or after lo
	hi := lo                       // grows until no commit follows it
	for step := uint64(1); ; step *= 2 {
		later, err := laterThan(hi)
		if err != nil {
			return eventstore.Position{}, err
		}
		if !later {
			break
		}
		lo = hi + 1
		if hi > math.MaxUint64-step {
			hi = math.MaxUint64
		} else {
			hi += step
		}
	}
	for lo < hi { // the last commit is in [lo, hi]
		mid := lo + (hi-lo)/2
		later, err := laterThan(mid)
		if err != nil {
			return eventstore.Position{}, err
		}
		if later {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	// Read the last commit's records (one transaction's worth) to find the
	// very last one.
	after := eventstore.Position{}
	if lo > 0 {
		after = eventstore.Position{Commit: lo - 1, Prepare: math.MaxUint64}
	}
	var last eventstore.Position
	for {
		recs, err := store.ReadAll(ctx, after, 4096)
		if err != nil {
			return eventstore.Position{}, err
		}
		if len(recs) == 0 {
			return last, nil
		}
		last = recs[len(recs)-1].Position
		after = last
	}
}

// formatPosition writes a position as a server-sent event id: the commit
// alone when both parts agree (as in the embedded store), else commit/prepare.
func formatPosition(p eventstore.Position) string {
	if p.Commit == p.Prepare {
		return strconv.FormatUint(p.Commit, 10)
	}
	return strconv.FormatUint(p.Commit, 10) + "/" + strconv.FormatUint(p.Prepare, 10)
}

// parsePosition reads what formatPosition writes.
func parsePosition(text string) (eventstore.Position, error) {
	commitText, prepareText, two := strings.Cut(text, "/")
	commit, err := strconv.ParseUint(commitText, 10, 64)
	if err != nil {
		return eventstore.Position{}, fmt.Errorf("%s is not an event position", domain.Quote(text))
	}
	if !two {
		return eventstore.Position{Commit: commit, Prepare: commit}, nil
	}
	prepare, err := strconv.ParseUint(prepareText, 10, 64)
	if err != nil {
		return eventstore.Position{}, fmt.Errorf("%s is not an event position", domain.Quote(text))
	}
	return eventstore.Position{Commit: commit, Prepare: prepare}, nil
}
