package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/consensus-ledger/consensus/eventstore"
)

// maxAttempts bounds the retries of one event so that a store which never
// accepts an append fails the test instead of hanging it.
const maxAttempts = 100000

// testConcurrentAppendOneStream has several writers race for the head of one
// stream with optimistic concurrency, as ledger commands do: each reads the
// head, appends with that exact expected version and retries on
// ErrWrongVersion. Every version must be won by exactly one writer.
func testConcurrentAppendOneStream(t *testing.T, s eventstore.Store) {
	const writers = 8
	// Each win is a transaction of its own, so the full run's 200 take a
	// second or more on a loaded machine; under -short every writer still
	// races the seven others, for fewer versions.
	perWriter := 25
	if testing.Short() {
		perWriter = 8
	}
	stream := newStream(t)
	ids := make([][]uuid.UUID, writers) // the events each writer appended
	won := make([][]int64, writers)     // the versions each writer won
	conflicts := make([]int, writers)   // how often each writer lost a race
	g, ctx := errgroup.WithContext(context.Background())
	for w := 0; w < writers; w++ {
		g.Go(func() error {
			known := int64(eventstore.NoStream) // the last version this writer has seen
			for i := 0; i < perWriter; i++ {
				e := event(w*perWriter + i)
				ids[w] = append(ids[w], e.ID)
				for attempt := 0; ; attempt++ {
					if attempt == maxAttempts {
						return fmt.Errorf("writer %d: event %d not appended after %d attempts", w, i, attempt)
					}
					recs, err := s.ReadStream(ctx, stream, known+1, 0)
					if err != nil {
						return fmt.Errorf("writer %d: read head: %w", w, err)
					}
					if len(recs) > 0 {
						known = recs[len(recs)-1].Version
					}
					res, err := s.Append(ctx, stream, eventstore.Version(known), []eventstore.EventData{e})
					if errors.Is(err, eventstore.ErrWrongVersion) {
						conflicts[w]++
						continue
					}
					if err != nil {
						return fmt.Errorf("writer %d: append at %d: %w", w, known, err)
					}
					if res.Replayed || len(res.Records) != 1 {
						return fmt.Errorf("writer %d: append at %d: replayed=%t with %d records", w, known, res.Replayed, len(res.Records))
					}
					if got := res.Records[0].Version; got != known+1 {
						return fmt.Errorf("writer %d: expected version %d but was given %d", w, known, got)
					}
					known = res.Records[0].Version
					won[w] = append(won[w], known)
					break
				}
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())

	total := writers * perWriter
	winners := map[int64]int{}
	successes, lost := 0, 0
	for w := range won {
		successes += len(won[w])
		lost += conflicts[w]
		for _, v := range won[w] {
			winners[v]++
		}
	}
	t.Logf("%d appends succeeded, %d lost a race and retried", successes, lost)
	assert.Equal(t, total, successes, "successful appends")
	for v := int64(0); v < int64(total); v++ {
		assert.Equal(t, 1, winners[v], "writers that won version %d", v)
	}

	recs := readStream(t, s, stream)
	require.Len(t, recs, total)
	assertVersions(t, recs, 0)
	stored := map[uuid.UUID]int{}
	for _, r := range recs {
		stored[r.ID]++
	}
	for w := range ids {
		for _, id := range ids[w] {
			assert.Equal(t, 1, stored[id], "copies of writer %d's event %s", w, id)
		}
	}
	n, _, err := eventstore.VerifyStream(context.Background(), s, stream)
	require.NoError(t, err)
	assert.EqualValues(t, total, n)
}

// testConcurrentAppendManyStreams has writers append to their own streams at
// once; afterwards every event appears in ReadAll exactly once, in an order
// that keeps each stream's own order.
func testConcurrentAppendManyStreams(t *testing.T, s eventstore.Store) {
	const writers, batches = 6, 10
	streams := make([]string, writers)
	for w := range streams {
		streams[w] = newStream(t)
	}
	appended := make([][]eventstore.Record, writers)
	g, ctx := errgroup.WithContext(context.Background())
	for w := 0; w < writers; w++ {
		g.Go(func() error {
			expected := eventstore.NoStream
			for b := 0; b < batches; b++ {
				size := 1 + (w+b)%3
				res, err := s.Append(ctx, streams[w], expected, events(w*1000+b*10, size))
				if err != nil {
					return fmt.Errorf("writer %d: batch %d: %w", w, b, err)
				}
				appended[w] = append(appended[w], res.Records...)
				expected = eventstore.Version(res.Records[len(res.Records)-1].Version)
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())

	owner := map[uuid.UUID]int{}
	for w := range appended {
		for _, r := range appended[w] {
			owner[r.ID] = w
		}
	}
	seen := map[uuid.UUID]int{}
	perStream := make([][]eventstore.Record, writers)
	after := eventstore.Position{}
	for {
		page, err := s.ReadAll(context.Background(), after, 7)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			assert.True(t, after.Less(r.Position), "position %+v of %s does not follow %+v", r.Position, r.ID, after)
			after = r.Position
			w, ours := owner[r.ID]
			if !ours {
				continue
			}
			seen[r.ID]++
			perStream[w] = append(perStream[w], r)
		}
	}
	assert.Len(t, seen, len(owner), "events missing from ReadAll")
	for id, n := range seen {
		assert.Equal(t, 1, n, "copies of %s in ReadAll", id)
	}
	for w := range appended {
		assertSameRecords(t, appended[w], perStream[w])
		n, _, err := eventstore.VerifyStream(context.Background(), s, streams[w])
		require.NoError(t, err)
		assert.EqualValues(t, len(appended[w]), n)
	}
}
