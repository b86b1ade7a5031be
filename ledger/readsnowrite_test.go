package ledger

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/projections"
)

// writeWatch is an embedded store that counts every call that writes
// snapshots, and can make them fail. Embedding *sqlite.Store keeps every
// capability the ledger looks for.
type writeWatch struct {
	*sqlite.Store
	writes atomic.Int64
	fail   error
}

func (w *writeWatch) SaveSnapshot(ctx context.Context, s eventstore.Snapshot) error {
	w.writes.Add(1)
	if w.fail != nil {
		return w.fail
	}
	return w.Store.SaveSnapshot(ctx, s)
}

func (w *writeWatch) SaveSnapshots(ctx context.Context, s []eventstore.Snapshot) error {
	w.writes.Add(1)
	if w.fail != nil {
		return w.fail
	}
	return w.Store.SaveSnapshots(ctx, s)
}

func (w *writeWatch) DeleteSnapshot(ctx context.Context, name string) error {
	w.writes.Add(1)
	if w.fail != nil {
		return w.fail
	}
	return w.Store.DeleteSnapshot(ctx, name)
}

func (w *writeWatch) DeleteSnapshotsWithPrefix(ctx context.Context, prefix string) error {
	w.writes.Add(1)
	if w.fail != nil {
		return w.fail
	}
	return w.Store.DeleteSnapshotsWithPrefix(ctx, prefix)
}

// TestQueriesNeverWrite: every question a front end asks, on a writable
// store whose long stream has no snapshot yet, writes nothing; saving the
// due snapshot is left to SaveDueSnapshots (or a write, or rebuild).
func TestQueriesNeverWrite(t *testing.T) {
	ctx := context.Background()
	store := &writeWatch{Store: openStore(t, filepath.Join(t.TempDir(), "ledger.db"), false)}
	seed(t, store, 0, SnapshotEvery+10)
	q := projections.Query{AsOf: time.Date(2024, 2, 15, 0, 0, 0, 0, time.UTC), KnownAt: time.Now(), Window: projections.DefaultWindow}

	for name, ask := range map[string]func(l *Ledger) error{
		"Load":  func(l *Ledger) error { _, err := l.Load(ctx, "BABA"); return err },
		"Index": func(l *Ledger) error { _, err := l.Index(ctx, "BABA"); return err },
		"Show":  func(l *Ledger) error { _, err := l.Show(ctx, "BABA", q); return err },
		"History": func(l *Ledger) error {
			_, err := l.History(ctx, "BABA", q.AsOf.AddDate(0, 0, -7), q.AsOf, projections.Day, q)
			return err
		},
		"ShowAll":     func(l *Ledger) error { _, err := l.ShowAll(ctx, q); return err },
		"Log":         func(l *Ledger) error { _, err := l.Log(ctx, "BABA"); return err },
		"Instruments": func(l *Ledger) error { _, err := l.Instruments(ctx); return err },
		"Verify":      func(l *Ledger) error { _, err := l.Verify(ctx, ""); return err },
	} {
		store.writes.Store(0)
		l := New(store)
		require.NoError(t, ask(l), name)
		require.NoError(t, ask(l), name) // a second question, from the warm cache
		assert.Zero(t, store.writes.Load(), "%s wrote", name)
	}

	l := New(store)
	_, err := l.Load(ctx, "BABA")
	require.NoError(t, err)
	saved, err := l.SaveDueSnapshots(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, saved)
	assert.NotZero(t, store.writes.Load(), "the watch sees the writes it counts")
}

// TestWriteSavesTheSnapshotItCompletes: the write that brings a stream to
// SnapshotEvery events beyond its snapshot saves the snapshot, once the
// append has committed; no later read is needed.
func TestWriteSavesTheSnapshotItCompletes(t *testing.T) {
	ctx := context.Background()
	store := openStore(t, filepath.Join(t.TempDir(), "ledger.db"), false)
	seed(t, store, 0, SnapshotEvery-1)
	l := New(store)
	_, err := l.Record(ctx, domain.RecordClose{Instrument: "BABA", Price: 100_000_000, Currency: "USD",
		EffectiveAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}, WriteOptions{})
	require.NoError(t, err)
	snap, found, err := store.LoadSnapshot(ctx, snapshotName("instrument-BABA"))
	require.NoError(t, err)
	require.True(t, found, "the %d-th event's write saved the snapshot", SnapshotEvery)
	assert.EqualValues(t, SnapshotEvery-1, snap.Version)

	// The batch path (WriteInstrument, the import's) saves too.
	seed(t, store, SnapshotEvery, SnapshotEvery-1)
	w, err := l.WriteInstrument(ctx, "BABA", []Row{{Entry: domain.Entry{Line: 1, ID: uuid.New(), Cmd: domain.RecordClose{
		Instrument: "BABA", Price: 100_000_001, Currency: "USD", EffectiveAt: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)}}}},
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 100)
	require.NoError(t, err)
	require.Equal(t, 1, w.Written)
	snap, _, err = store.LoadSnapshot(ctx, snapshotName("instrument-BABA"))
	require.NoError(t, err)
	assert.EqualValues(t, 2*SnapshotEvery-1, snap.Version)
}

// TestFailedSnapshotNeverFailsAWrite: a store that refuses every snapshot
// still takes the write that made one due.
func TestFailedSnapshotNeverFailsAWrite(t *testing.T) {
	ctx := context.Background()
	store := &writeWatch{Store: openStore(t, filepath.Join(t.TempDir(), "ledger.db"), false), fail: errors.New("disk full")}
	seed(t, store, 0, SnapshotEvery-1)
	l := New(store)
	r, err := l.Record(ctx, domain.RecordClose{Instrument: "BABA", Price: 100_000_000, Currency: "USD",
		EffectiveAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}, WriteOptions{})
	require.NoError(t, err)
	assert.EqualValues(t, SnapshotEvery-1, r.Version)
	assert.NotZero(t, store.writes.Load(), "a snapshot was attempted")
	_, err = l.SaveDueSnapshots(ctx)
	assert.ErrorContains(t, err, "disk full", "the background task hears of the failure, to log it")
}

// TestQueryDoesNotWaitForTheWriter: while another connection holds the
// store's write lock (an import's transaction, say), a question about a
// long stream with no snapshot is answered, and a question whose context is
// cancelled returns context.Canceled, both without waiting for the writer.
// Before reads stopped saving snapshots, the first waited for the write lock
// for the busy timeout (10 s).
func TestQueryDoesNotWaitForTheWriter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	store := openStore(t, path, false)
	seed(t, store, 0, SnapshotEvery+10)

	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := conn.ExecContext(ctx, "ROLLBACK")
		assert.NoError(t, err)
		conn.Close()
	})

	q := projections.Query{AsOf: time.Date(2024, 2, 15, 0, 0, 0, 0, time.UTC), KnownAt: time.Now(), Window: projections.DefaultWindow}
	// within fails the test if show has not returned well before the busy
	// timeout: it is a bound on waiting for the writer, not a speed test.
	within := func(show func() error) error {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- show() }()
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("the question is waiting for the writer's lock")
			return nil
		}
	}
	err = within(func() error { _, err := New(store).Show(ctx, "BABA", q); return err })
	require.NoError(t, err)

	cancelled, cancel := context.WithCancel(ctx)
	reading := &onRead{Store: store, read: cancel}
	err = within(func() error { _, err := New(reading).Show(cancelled, "BABA", q); return err })
	assert.ErrorIs(t, err, context.Canceled)
}

// onRead calls read when the ledger first reads a stream's records, then
// reads them.
type onRead struct {
	*sqlite.Store
	read func()
}

func (o *onRead) ReadStreamEvents(ctx context.Context, stream string, from int64, limit int) ([]eventstore.Record, error) {
	o.read()
	return o.Store.ReadStreamEvents(ctx, stream, from, limit)
}

// TestReadOnlyStoreSavesNoSnapshots: a ledger over a read-only store says
// it cannot save snapshots (a server then starts no task to save them), and
// SaveDueSnapshots does nothing there.
func TestReadOnlyStoreSavesNoSnapshots(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	store := openStore(t, path, false)
	seed(t, store, 0, SnapshotEvery+1)
	assert.True(t, New(store).SavesSnapshots())
	reader := New(openStore(t, path, true))
	assert.False(t, reader.SavesSnapshots())
	_, err := reader.Load(ctx, "BABA")
	require.NoError(t, err)
	saved, err := reader.SaveDueSnapshots(ctx)
	assert.NoError(t, err)
	assert.Zero(t, saved)
	assert.False(t, New(&noSnapshots{store}).SavesSnapshots(), "a store without snapshots")
}

// TestQueryWaitingForTheStreamIsCancellable: a question waiting for the
// stream's cache while another holds it (a long first load, say) returns
// context.Canceled once cancelled, already or while it waits.
func TestQueryWaitingForTheStreamIsCancellable(t *testing.T) {
	store := openStore(t, filepath.Join(t.TempDir(), "ledger.db"), false)
	seed(t, store, 0, 10)
	q := projections.Query{AsOf: time.Date(2024, 2, 15, 0, 0, 0, 0, time.UTC), KnownAt: time.Now(), Window: projections.DefaultWindow}
	l := New(store)
	c := l.cache.entry("instrument-BABA")
	c.mu.Lock() // another question's read, in progress
	defer c.mu.Unlock()
	for name, cancelled := range map[string]func() context.Context{
		"before": func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		},
		"while waiting": func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(20*time.Millisecond, cancel)
			return ctx
		},
	} {
		done := make(chan error, 1)
		go func() { _, err := l.Show(cancelled(), "BABA", q); done <- err }()
		select {
		case err := <-done:
			assert.ErrorIs(t, err, context.Canceled, name)
		case <-time.After(5 * time.Second): // a bound on waiting, not a speed test
			t.Fatalf("%s: the cancelled question still waits for the stream", name)
		}
	}
}
