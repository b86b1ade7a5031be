package esdb_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	client "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/esdb"
	"github.com/consensus-ledger/consensus/eventstore/esdb/esdbtest"
)

// rawClient is a plain EventStore-Client-Go client of the test server, to
// write what the store never would.
func rawClient(t *testing.T, srv *esdbtest.Server) *client.Client {
	t.Helper()
	cfg, err := client.ParseConnectionString(srv.ConnectionString())
	require.NoError(t, err)
	cfg.Logger = client.NoopLogging()
	c, err := client.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func rawAppend(t *testing.T, c *client.Client, stream, data, meta string) {
	t.Helper()
	_, err := c.AppendToStream(context.Background(), stream, client.AppendToStreamOptions{ExpectedRevision: client.Any{}},
		client.EventData{EventID: uuid.New(), EventType: "Foreign", ContentType: client.ContentTypeJson, Data: []byte(data), Metadata: []byte(meta)})
	require.NoError(t, err)
}

func rawTombstone(t *testing.T, c *client.Client, stream string) {
	t.Helper()
	_, err := c.TombstoneStream(context.Background(), stream, client.TombstoneStreamOptions{ExpectedRevision: client.Any{}})
	require.NoError(t, err)
}

// rawClaim writes a claim as an append that was interrupted after claiming
// would have left it.
func rawClaim(t *testing.T, c *client.Client, id uuid.UUID, stream string, version int64) {
	t.Helper()
	_, err := c.AppendToStream(context.Background(), "consensus-id-"+id.String(), client.AppendToStreamOptions{ExpectedRevision: client.Any{}},
		client.EventData{EventID: uuid.New(), EventType: "EventIDClaimed", ContentType: client.ContentTypeJson,
			Data: []byte(fmt.Sprintf(`{"stream":%q,"version":%d}`, stream, version))})
	require.NoError(t, err)
}

// TestOneIDTwoStreamsRace has writers, each with its own connection, append
// the same event id to different streams at once: exactly one wins.
func TestOneIDTwoStreamsRace(t *testing.T) {
	srv := startServer(t, esdbtest.Options{})
	const writers = 8
	for round := 0; round < 5; round++ {
		e := testEvent(round)
		var g errgroup.Group
		won := make([]bool, writers)
		for w := 0; w < writers; w++ {
			s := mustOpen(t, srv.ConnectionString(), esdb.Options{})
			g.Go(func() error {
				_, err := s.Append(context.Background(), fmt.Sprintf("instrument-R%dW%d", round, w), eventstore.NoStream, []eventstore.EventData{e})
				switch {
				case err == nil:
					won[w] = true
				case !errors.Is(err, eventstore.ErrDuplicateID):
					return err
				}
				return nil
			})
		}
		require.NoError(t, g.Wait())
		winners := 0
		for _, w := range won {
			if w {
				winners++
			}
		}
		assert.Equal(t, 1, winners, "round %d: writers that stored the id", round)
	}
}

// TestSameBatchRace has writers append the same batch to one stream at
// once, expecting Any: it is stored once, and every other writer is told
// it replayed.
func TestSameBatchRace(t *testing.T) {
	srv := startServer(t, esdbtest.Options{})
	const writers = 6
	batch := []eventstore.EventData{testEvent(1), testEvent(2), testEvent(3)}
	var mu sync.Mutex
	fresh, replays := 0, 0
	var g errgroup.Group
	for w := 0; w < writers; w++ {
		s := mustOpen(t, srv.ConnectionString(), esdb.Options{})
		g.Go(func() error {
			res, err := s.Append(context.Background(), "instrument-SAME", eventstore.Any, batch)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			if res.Replayed {
				replays++
			} else {
				fresh++
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())
	assert.Equal(t, 1, fresh)
	assert.Equal(t, writers-1, replays)
	s := mustOpen(t, srv.ConnectionString(), esdb.Options{})
	recs, err := s.ReadStream(context.Background(), "instrument-SAME", 0, 0)
	require.NoError(t, err)
	assert.Len(t, recs, len(batch))
}

// TestInterruptedClaims checks what a claim left by an interrupted append
// (written, but its events never appended) does to later appends.
func TestInterruptedClaims(t *testing.T) {
	srv := startServer(t, esdbtest.Options{})
	s := mustOpen(t, srv.ConnectionString(), esdb.Options{})
	raw := rawClient(t, srv)
	ctx := context.Background()

	t.Run("SameStreamTakesItOver", func(t *testing.T) {
		e := testEvent(1)
		rawClaim(t, raw, e.ID, "instrument-INT1", 5) // a version the stream never reached
		res, err := s.Append(ctx, "instrument-INT1", eventstore.NoStream, []eventstore.EventData{e})
		require.NoError(t, err)
		assert.False(t, res.Replayed)
		found, err := s.Find(ctx, e.ID)
		require.NoError(t, err)
		assert.Equal(t, "instrument-INT1", found.Stream)
	})
	t.Run("OtherStreamIsRefusedWhilePending", func(t *testing.T) {
		e := testEvent(2)
		rawClaim(t, raw, e.ID, "instrument-INT2", 0)
		_, err := s.Append(ctx, "instrument-INT3", eventstore.NoStream, []eventstore.EventData{e})
		assert.ErrorIs(t, err, eventstore.ErrDuplicateID)
		assert.Contains(t, err.Error(), "has not finished")
		_, err = s.Find(ctx, e.ID)
		assert.ErrorIs(t, err, eventstore.ErrEventNotFound, "a pending claim is not a stored event")

		// Once instrument-INT2 holds another event at the claimed version,
		// the claim is stale and the id is free.
		appendN(t, s, "instrument-INT2", 1)
		_, err = s.Append(ctx, "instrument-INT3", eventstore.NoStream, []eventstore.EventData{e})
		require.NoError(t, err)
		found, err := s.Find(ctx, e.ID)
		require.NoError(t, err)
		assert.Equal(t, "instrument-INT3", found.Stream)
	})
	t.Run("DamagedClaim", func(t *testing.T) {
		e := testEvent(3)
		_, err := raw.AppendToStream(ctx, "consensus-id-"+e.ID.String(), client.AppendToStreamOptions{ExpectedRevision: client.NoStream{}},
			client.EventData{EventID: uuid.New(), EventType: "EventIDClaimed", ContentType: client.ContentTypeJson, Data: []byte(`{}`)})
		require.NoError(t, err)
		_, err = s.Find(ctx, e.ID)
		assert.ErrorContains(t, err, "damaged")
	})
}

func TestStoreRefusesItsOwnAndSystemStreams(t *testing.T) {
	srv := startServer(t, esdbtest.Options{})
	s := mustOpen(t, srv.ConnectionString(), esdb.Options{})
	for _, stream := range []string{"$settings", "consensus-streams", "consensus-id-x"} {
		_, err := s.Append(context.Background(), stream, eventstore.Any, []eventstore.EventData{testEvent(1)})
		assert.ErrorIs(t, err, eventstore.ErrInvalidEvent, stream)
	}
	_, err := esdb.Open(context.Background(), srv.ConnectionString(), esdb.Options{StreamPrefixes: []string{"consensus"}})
	assert.ErrorContains(t, err, "stream prefix")
}

func TestReadOnlyStoreRefusesWrites(t *testing.T) {
	srv := startServer(t, esdbtest.Options{})
	s := mustOpen(t, srv.ConnectionString(), esdb.Options{ReadOnly: true})
	assert.True(t, s.ReadOnly())
	_, err := s.Append(context.Background(), "instrument-RO", eventstore.Any, []eventstore.EventData{testEvent(1)})
	assert.ErrorIs(t, err, eventstore.ErrReadOnly)
	_, err = s.AppendCopies(context.Background(), "instrument-RO", eventstore.NoStream, []eventstore.Record{{EventData: testEvent(1)}})
	assert.ErrorIs(t, err, eventstore.ErrReadOnly)
}

// TestRecordedAtNeverGoesBack uses a clock that steps back by less than
// eventstore.MaxClockLead: recorded times still never decrease within a
// stream, and are kept to the microsecond. (A step back further than that
// is refused: the conformance suite's ClockAhead.)
func TestRecordedAtNeverGoesBack(t *testing.T) {
	srv := startServer(t, esdbtest.Options{})
	times := []time.Time{
		time.Date(2026, 1, 1, 12, 0, 0, 123456789, time.UTC),
		time.Date(2026, 1, 1, 11, 59, 30, 0, time.UTC), // the clock stepped back 30 s
		time.Date(2026, 1, 1, 12, 0, 1, 0, time.UTC),
	}
	var mu sync.Mutex
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := times[0]
		if len(times) > 1 {
			times = times[1:]
		}
		return t
	}
	s := mustOpen(t, srv.ConnectionString(), esdb.Options{Now: clock})
	var got []time.Time
	for i := 0; i < 3; i++ {
		got = append(got, appendN(t, s, "instrument-CLOCK", 1)[0].RecordedAt)
	}
	assert.Equal(t, time.Date(2026, 1, 1, 12, 0, 0, 123456000, time.UTC), got[0], "truncated to microseconds")
	assert.Equal(t, got[0], got[1], "never before the last record")
	assert.Equal(t, time.Date(2026, 1, 1, 12, 0, 1, 0, time.UTC), got[2])
}

func TestFindOnUnknownIDs(t *testing.T) {
	srv := startServer(t, esdbtest.Options{})
	s := mustOpen(t, srv.ConnectionString(), esdb.Options{})
	_, err := s.Find(context.Background(), uuid.New())
	assert.ErrorIs(t, err, eventstore.ErrEventNotFound)
}

// TestAppendLargerThanTheServerTakes checks that an append over the
// server's MaxAppendSize is refused whole, with a message that says why.
func TestAppendLargerThanTheServerTakes(t *testing.T) {
	srv := startServer(t, esdbtest.Options{MaxAppendSize: 4096})
	s := mustOpen(t, srv.ConnectionString(), esdb.Options{})
	evs := make([]eventstore.EventData, 20)
	for i := range evs {
		evs[i] = testEvent(i)
	}
	_, err := s.Append(context.Background(), "instrument-BIG", eventstore.NoStream, evs)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "MaxAppendSize")
	assert.Contains(t, err.Error(), "20 events")
	recs, err := s.ReadStream(context.Background(), "instrument-BIG", 0, 0)
	require.NoError(t, err)
	assert.Empty(t, recs)
}
