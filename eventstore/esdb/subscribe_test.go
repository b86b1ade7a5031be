package esdb_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	client "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/esdb"
	"github.com/consensus-ledger/consensus/eventstore/esdb/esdbtest"
)

// collector gathers what a subscription delivers.
type collector struct {
	mu   sync.Mutex
	recs []eventstore.Record
	more chan struct{}
}

func newCollector() *collector { return &collector{more: make(chan struct{}, 1024)} }

func (c *collector) add(r eventstore.Record) error {
	c.mu.Lock()
	c.recs = append(c.recs, r)
	c.mu.Unlock()
	c.more <- struct{}{}
	return nil
}

// waitFor waits until n records have arrived and returns them.
func (c *collector) waitFor(t *testing.T, n int) []eventstore.Record {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		got := append([]eventstore.Record(nil), c.recs...)
		c.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-c.more:
		case <-deadline:
			t.Fatalf("waited 10s for %d records, got %d", n, len(got))
		}
	}
}

// subscribe runs SubscribeAll in the background until the test ends. It
// returns what it delivers, a function that stops it, and one that waits for
// its result.
func subscribe(t *testing.T, s *esdb.Store, after eventstore.Position) (c *collector, stop context.CancelFunc, result func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c = newCollector()
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		err = s.SubscribeAll(ctx, after, c.add)
	}()
	result = func() error {
		select {
		case <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("SubscribeAll did not return within 10s")
			return nil
		}
	}
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return c, cancel, result
}

func appendN(t *testing.T, s *esdb.Store, stream string, n int) []eventstore.Record {
	t.Helper()
	evs := make([]eventstore.EventData, n)
	for i := range evs {
		evs[i] = testEvent(i)
	}
	res, err := s.Append(context.Background(), stream, eventstore.Any, evs)
	require.NoError(t, err)
	return res.Records
}

func assertSameIDs(t *testing.T, want, got []eventstore.Record) {
	t.Helper()
	ids := func(recs []eventstore.Record) []uuid.UUID {
		out := make([]uuid.UUID, len(recs))
		for i, r := range recs {
			out[i] = r.ID
		}
		return out
	}
	assert.Equal(t, ids(want), ids(got))
}

// TestSubscribeAllCatchesUpThenFollows checks the documented behaviour:
// the stored records of the ledger's streams first, in store order, then
// each new one; nothing of other streams; ctx's error at the end.
func TestSubscribeAllCatchesUpThenFollows(t *testing.T) {
	srv := startServer(t, esdbtest.Options{})
	s := mustOpen(t, srv.ConnectionString(), esdb.Options{})
	stored := appendN(t, s, "instrument-AAA", 2)
	stored = append(stored, appendN(t, s, "instrument-BBB", 1)...)
	appendN(t, s, "other-CCC", 2) // not a ledger stream: filtered out on the server

	c, stop, result := subscribe(t, s, eventstore.Position{})
	assertSameIDs(t, stored, c.waitFor(t, 3))

	live := appendN(t, s, "instrument-AAA", 2)
	appendN(t, s, "other-CCC", 1)
	live = append(live, appendN(t, s, "instrument-DDD", 1)...)
	got := c.waitFor(t, 6)
	assertSameIDs(t, append(stored, live...), got)
	for i := 1; i < len(got); i++ {
		assert.True(t, got[i-1].Position.Less(got[i].Position), "store order")
	}
	assert.Equal(t, live[1].Hash, got[4].Hash, "records arrive whole")

	stop()
	assert.ErrorIs(t, result(), context.Canceled)
}

func TestSubscribeAllFromAPosition(t *testing.T) {
	srv := startServer(t, esdbtest.Options{})
	s := mustOpen(t, srv.ConnectionString(), esdb.Options{})
	recs := appendN(t, s, "instrument-POS", 4)

	t.Run("AfterARecord", func(t *testing.T) {
		c, _, _ := subscribe(t, s, recs[1].Position)
		assertSameIDs(t, recs[2:], c.waitFor(t, 2))
	})
	t.Run("JustBeforeARecord", func(t *testing.T) {
		p := recs[2].Position
		c, _, _ := subscribe(t, s, eventstore.Position{Commit: p.Commit, Prepare: p.Prepare - 1})
		assertSameIDs(t, recs[2:], c.waitFor(t, 2))
	})
	t.Run("AfterTheLast", func(t *testing.T) {
		c, _, _ := subscribe(t, s, recs[3].Position)
		next := appendN(t, s, "instrument-POS", 1)
		assertSameIDs(t, next, c.waitFor(t, 1))
	})
}

func TestSubscribeAllReturnsTheCallbacksError(t *testing.T) {
	srv := startServer(t, esdbtest.Options{})
	s := mustOpen(t, srv.ConnectionString(), esdb.Options{})
	appendN(t, s, "instrument-ERR", 3)
	stop := errors.New("read model full")
	seen := 0
	err := s.SubscribeAll(context.Background(), eventstore.Position{}, func(eventstore.Record) error {
		seen++
		if seen == 2 {
			return stop
		}
		return nil
	})
	assert.Same(t, stop, err)
	assert.Equal(t, 2, seen)
}

// TestSubscribeAllSurvivesARestart drops every connection in the middle of
// a subscription: it resumes after the last record delivered, missing and
// repeating nothing.
func TestSubscribeAllSurvivesARestart(t *testing.T) {
	srv := startServer(t, esdbtest.Options{})
	s := mustOpen(t, srv.ConnectionString(), esdb.Options{Timeout: 2 * time.Second})
	before := appendN(t, s, "instrument-RST", 2)
	c, _, _ := subscribe(t, s, eventstore.Position{})
	c.waitFor(t, 2)

	require.NoError(t, srv.Restart())
	var after []eventstore.Record
	require.Eventually(t, func() bool { // the store's client reconnects on its next call
		res, err := s.Append(context.Background(), "instrument-RST", eventstore.Any, []eventstore.EventData{testEvent(9)})
		if err == nil {
			after = append(after, res.Records...)
		}
		return err == nil
	}, 10*time.Second, 50*time.Millisecond)
	after = append(after, appendN(t, s, "instrument-RST", 1)...)
	got := c.waitFor(t, 4)
	assertSameIDs(t, append(before, after...), got)
}

// TestReadersRefuseDamage checks that records the ledger did not write, and
// deleted streams, are reported rather than skipped.
func TestReadersRefuseDamage(t *testing.T) {
	ctx := context.Background()
	t.Run("ForeignEvent", func(t *testing.T) {
		srv := startServer(t, esdbtest.Options{})
		s := mustOpen(t, srv.ConnectionString(), esdb.Options{})
		raw := rawClient(t, srv)
		appendN(t, s, "instrument-FOREIGN", 1)
		rawAppend(t, raw, "instrument-FOREIGN", `{"price":1}`, `{"$correlationId":"x"}`)
		_, err := s.ReadStream(ctx, "instrument-FOREIGN", 0, 0)
		assert.ErrorIs(t, err, eventstore.ErrNotLedger)
		_, err = s.ReadAll(ctx, eventstore.Position{}, 0)
		assert.ErrorIs(t, err, eventstore.ErrNotLedger)
		err = s.SubscribeAll(ctx, eventstore.Position{}, func(eventstore.Record) error { return nil })
		assert.ErrorIs(t, err, eventstore.ErrNotLedger)
	})
	t.Run("DeletedStream", func(t *testing.T) {
		srv := startServer(t, esdbtest.Options{})
		s := mustOpen(t, srv.ConnectionString(), esdb.Options{})
		raw := rawClient(t, srv)
		appendN(t, s, "instrument-GONE", 2)
		rawTombstone(t, raw, "instrument-GONE")
		_, err := s.ReadStream(ctx, "instrument-GONE", 0, 0)
		assert.ErrorIs(t, err, esdb.ErrStreamDeleted)
		_, err = s.Streams(ctx)
		assert.ErrorIs(t, err, esdb.ErrStreamDeleted)
		_, err = s.Append(ctx, "instrument-GONE", eventstore.Any, []eventstore.EventData{testEvent(3)})
		assert.ErrorIs(t, err, esdb.ErrStreamDeleted)
	})
	t.Run("SoftDeletedStream", func(t *testing.T) {
		srv := startServer(t, esdbtest.Options{})
		s := mustOpen(t, srv.ConnectionString(), esdb.Options{})
		raw := rawClient(t, srv)
		// The test server does not model soft deletes: it is enough that
		// the catalogued stream reads as empty and its metadata holds $tb,
		// which is what a soft delete leaves on a real server.
		rawAppend(t, raw, "consensus-streams", `{"stream":"instrument-SOFT"}`, ``)
		var meta client.StreamMetadata
		meta.SetTruncateBefore(1<<63 - 1)
		_, err := raw.SetStreamMetadata(ctx, "instrument-SOFT", client.AppendToStreamOptions{ExpectedRevision: client.Any{}}, meta)
		require.NoError(t, err)
		_, err = s.Streams(ctx)
		assert.ErrorIs(t, err, esdb.ErrStreamDeleted)
	})
	t.Run("InterruptedCreation", func(t *testing.T) {
		srv := startServer(t, esdbtest.Options{})
		s := mustOpen(t, srv.ConnectionString(), esdb.Options{})
		raw := rawClient(t, srv)
		rawAppend(t, raw, "consensus-streams", `{"stream":"instrument-NEVER"}`, ``)
		appendN(t, s, "instrument-REAL", 1)
		infos, err := s.Streams(ctx)
		require.NoError(t, err)
		require.Len(t, infos, 1, "a catalogued stream never written is not listed")
		assert.Equal(t, "instrument-REAL", infos[0].Stream)
	})
}
