package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
)

// The tests of the capabilities declared in eventstore/capabilities.go that
// storetest.go does not cover: each skips when the store lacks it.

// receiveWithin is how long a subscriber may take to pass a record on.
const receiveWithin = 10 * time.Second

func testSubscriber(t *testing.T, s eventstore.Store) {
	sub, ok := eventstore.AsSubscriber(s)
	if !ok {
		t.Skip("store does not implement eventstore.Subscriber")
	}
	stream := newStream(t)
	first := mustAppend(t, s, stream, eventstore.NoStream, events(0, 1)).Records[0]
	stored := mustAppend(t, s, stream, 0, events(1, 2)).Records

	t.Run("StoredThenLive", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		got := make(chan eventstore.Record, 16)
		done := make(chan error, 1)
		go func() {
			done <- sub.SubscribeAll(ctx, first.Position, func(r eventstore.Record) error {
				if r.Stream == stream { // a shared store holds others' records too
					got <- r
				}
				return nil
			})
		}()
		for _, want := range stored {
			assertSameRecord(t, want, receive(t, got))
		}
		live := mustAppend(t, s, stream, eventstore.Version(stored[len(stored)-1].Version), events(3, 2)).Records
		for _, want := range live {
			assertSameRecord(t, want, receive(t, got))
		}
		cancel()
		select {
		case err := <-done:
			assert.ErrorIs(t, err, context.Canceled, "SubscribeAll returns ctx's error once ctx is done")
		case <-time.After(receiveWithin):
			t.Fatal("SubscribeAll did not return after its context was cancelled")
		}
	})

	t.Run("StopsOnFnError", func(t *testing.T) {
		errStop := errors.New("stop")
		seen := 0
		err := sub.SubscribeAll(context.Background(), first.Position, func(r eventstore.Record) error {
			if r.Stream != stream {
				return nil
			}
			seen++
			return errStop
		})
		assert.ErrorIs(t, err, errStop, "SubscribeAll returns fn's error")
		assert.Equal(t, 1, seen, "fn is not called after it failed")
	})
}

// receive returns the next record from got, failing the test when none
// comes in time.
func receive(t *testing.T, got <-chan eventstore.Record) eventstore.Record {
	t.Helper()
	select {
	case r := <-got:
		return r
	case <-time.After(receiveWithin):
		t.Fatal("no record was passed on")
		return eventstore.Record{}
	}
}

func testAppendLimiter(t *testing.T, s eventstore.Store) {
	limiter, ok := eventstore.AsAppendLimiter(s)
	if !ok {
		t.Skip("store does not implement eventstore.AppendLimiter")
	}
	limit := limiter.MaxAppendBytes()
	require.Positive(t, limit)

	small, large := padded(1, 10), padded(2, 1000)
	assert.GreaterOrEqual(t, limiter.AppendBytes(small), len(small.Data), "an event counts at least its data")
	assert.GreaterOrEqual(t, limiter.AppendBytes(large)-limiter.AppendBytes(small), len(large.Data)-len(small.Data),
		"more data counts more")

	// A batch counted as fitting is taken in one append: the count is never
	// short of what the store itself counts.
	var batch []eventstore.EventData
	budget := limit
	for n := 0; ; n++ {
		e := padded(n, limit/8)
		if budget -= limiter.AppendBytes(e); budget < 0 {
			break
		}
		batch = append(batch, e)
	}
	require.Greater(t, len(batch), 1)
	mustAppend(t, s, newStream(t), eventstore.NoStream, batch)
}

// padded is event n with about pad more bytes of data.
func padded(n, pad int) eventstore.EventData {
	e := event(n)
	e.Data = []byte(fmt.Sprintf(`{"n":%d,"pad":%q}`, n, strings.Repeat("x", pad)))
	return e
}

func testReadOnlyReporter(t *testing.T, s eventstore.Store) {
	ro, ok := eventstore.AsReadOnlyReporter(s)
	if !ok {
		t.Skip("store does not implement eventstore.ReadOnlyReporter")
	}
	assert.False(t, ro.ReadOnly(), "a store the suite appends to is not read-only")
	assert.False(t, eventstore.IsReadOnly(s))
}

// snapshotterWith returns the store's Snapshotter and its capability c
// (found by as, named name), skipping the test when it has either not.
func snapshotterWith[C any](t *testing.T, s eventstore.Store, as func(eventstore.Snapshotter) (C, bool), name string) (eventstore.Snapshotter, C) {
	sn, ok := eventstore.AsSnapshotter(s)
	if !ok {
		t.Skip("store does not implement eventstore.Snapshotter")
	}
	c, ok := as(sn)
	if !ok {
		t.Skip("store does not implement eventstore." + name)
	}
	return sn, c
}

func testSnapshotBatcher(t *testing.T, s eventstore.Store) {
	sn, batcher := snapshotterWith(t, s, eventstore.AsSnapshotBatcher, "SnapshotBatcher")
	ctx := context.Background()
	stream := newStream(t)
	recs := mustAppend(t, s, stream, eventstore.NoStream, events(0, 2)).Records
	a := eventstore.Snapshot{Name: "storetest:a:" + stream, Stream: stream, Version: 1, Hash: recs[1].Hash, Data: []byte("a")}
	b := eventstore.Snapshot{Name: "storetest:b:" + stream, Stream: stream, Version: 1, Hash: recs[1].Hash, Data: []byte("b")}
	require.NoError(t, batcher.SaveSnapshots(ctx, []eventstore.Snapshot{a, b}))
	for _, want := range []eventstore.Snapshot{a, b} {
		got, found, err := sn.LoadSnapshot(ctx, want.Name)
		require.NoError(t, err)
		require.True(t, found, want.Name)
		assert.Equal(t, want, got)
	}
	older := a
	older.Version, older.Hash, older.Data = 0, recs[0].Hash, []byte("older")
	require.NoError(t, batcher.SaveSnapshots(ctx, []eventstore.Snapshot{older}))
	got, _, err := sn.LoadSnapshot(ctx, a.Name)
	require.NoError(t, err)
	assert.Equal(t, a, got, "an older snapshot must not replace a newer one, in a batch too")
	require.NoError(t, batcher.SaveSnapshots(ctx, nil), "an empty batch saves nothing and is no error")
}

func testSnapshotPrefixDeleter(t *testing.T, s eventstore.Store) {
	sn, deleter := snapshotterWith(t, s, eventstore.AsSnapshotPrefixDeleter, "SnapshotPrefixDeleter")
	ctx := context.Background()
	stream := newStream(t)
	rec := mustAppend(t, s, stream, eventstore.NoStream, events(0, 1)).Records[0]
	prefix := "storetest:" + stream + ":"
	names := []string{prefix + "0", prefix + "1", "storetest:other:" + stream}
	for _, name := range names {
		require.NoError(t, sn.SaveSnapshot(ctx, eventstore.Snapshot{Name: name, Stream: stream, Hash: rec.Hash, Data: []byte(name)}))
	}
	require.NoError(t, deleter.DeleteSnapshotsWithPrefix(ctx, prefix))
	for i, name := range names {
		_, found, err := sn.LoadSnapshot(ctx, name)
		require.NoError(t, err)
		assert.Equal(t, i == 2, found, "%s after deleting the prefix %s", name, prefix)
	}
	require.NoError(t, deleter.DeleteSnapshotsWithPrefix(ctx, prefix), "deleting nothing is not an error")
}

func testSnapshotPrefixReader(t *testing.T, s eventstore.Store) {
	sn, reader := snapshotterWith(t, s, eventstore.AsSnapshotPrefixReader, "SnapshotPrefixReader")
	ctx := context.Background()
	stream := newStream(t)
	recs := mustAppend(t, s, stream, eventstore.NoStream, events(0, 2)).Records
	prefix := "storetest:" + stream + ":"
	// Saved out of name order, with names just outside the prefix on both
	// sides of it: the prefix with one byte fewer, and its last byte one
	// higher.
	var want []eventstore.Snapshot
	for i, name := range []string{prefix + "10", prefix + "1", prefix + "2", prefix} {
		snap := eventstore.Snapshot{Name: name, Stream: stream, Version: int64(i % 2), Hash: recs[i%2].Hash, Data: []byte(name)}
		require.NoError(t, sn.SaveSnapshot(ctx, snap))
		want = append(want, snap)
	}
	for _, name := range []string{prefix[:len(prefix)-1], prefix[:len(prefix)-1] + ";"} {
		require.NoError(t, sn.SaveSnapshot(ctx, eventstore.Snapshot{Name: name, Stream: stream, Hash: recs[0].Hash, Data: []byte("other")}))
	}
	got, err := reader.LoadSnapshotsWithPrefix(ctx, prefix)
	require.NoError(t, err)
	// By name: the prefix itself, then "1", "10", "2".
	assert.Equal(t, []eventstore.Snapshot{want[3], want[1], want[0], want[2]}, got,
		"every snapshot named with the prefix, by name, each as LoadSnapshot returns it")
	for _, snap := range got {
		one, found, err := sn.LoadSnapshot(ctx, snap.Name)
		require.NoError(t, err)
		require.True(t, found)
		assert.Equal(t, one, snap)
	}
	none, err := reader.LoadSnapshotsWithPrefix(ctx, "storetest:none:"+stream)
	require.NoError(t, err, "no snapshot with the prefix is not an error")
	assert.Empty(t, none)
}

func testHeadReader(t *testing.T, s eventstore.Store) {
	hr, ok := eventstore.AsHeadReader(s)
	if !ok {
		t.Skip("store does not implement eventstore.HeadReader")
	}
	ctx := context.Background()
	stream := newStream(t)
	first := mustAppend(t, s, stream, eventstore.NoStream, events(0, 1)).Records[0]
	head, err := hr.Head(ctx)
	require.NoError(t, err)
	assert.False(t, head.Less(first.Position), "the head is at or after the record just appended")
	recs := mustAppend(t, s, newStream(t), eventstore.NoStream, events(0, 2)).Records
	later, err := hr.Head(ctx)
	require.NoError(t, err)
	assert.True(t, head.Less(later), "an append to another stream moves the head")
	assert.False(t, later.Less(recs[1].Position), "the head is at or after the last record appended")
	// A shared store may take others' records meanwhile; a store of its own
	// stays where it is.
	if all, err := s.ReadAll(ctx, later, 1); err == nil && len(all) == 0 {
		again, err := hr.Head(ctx)
		require.NoError(t, err)
		assert.Equal(t, later, again, "no record after the head: reading it again gives the same head")
		assert.Equal(t, recs[1].Position, later, "the head is the last record's position")
	}
}

func testIDChecker(t *testing.T, s eventstore.Store) {
	c, ok := eventstore.AsIDChecker(s)
	if !ok {
		t.Skip("store does not implement eventstore.IDChecker")
	}
	ctx := context.Background()
	require.NoError(t, c.CheckIDs(ctx), "a new store")
	stream := newStream(t)
	first := events(0, 3)
	mustAppend(t, s, stream, eventstore.NoStream, first)
	_, err := s.Append(ctx, stream, eventstore.Any, first)
	require.NoError(t, err, "a replay")
	_, err = s.Append(ctx, newStream(t), eventstore.NoStream, first[1:2])
	require.ErrorIs(t, err, eventstore.ErrDuplicateID)
	mustAppend(t, s, newStream(t), eventstore.NoStream, events(0, 2))
	require.NoError(t, c.CheckIDs(ctx), "after appends, a replay and a refused id")
}
