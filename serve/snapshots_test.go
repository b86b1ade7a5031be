package serve_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/ledger"
	"github.com/consensus-ledger/consensus/serve"
)

// appendCloses appends n daily closes of sym straight to the store, as
// another process (or an older version, which kept no snapshot) would.
func appendCloses(t *testing.T, store eventstore.Store, sym domain.Symbol, n int) {
	t.Helper()
	batch := make([]eventstore.EventData, n)
	first := time.Date(2020, 1, 1, 21, 0, 0, 0, time.UTC)
	for i := range batch {
		e := domain.CloseRecorded{Instrument: sym, Price: domain.Money(100_000_000 + i), Currency: "USD", EffectiveAt: first.AddDate(0, 0, i)}
		data, err := domain.EncodeEvent(e)
		require.NoError(t, err)
		batch[i] = eventstore.EventData{ID: uuid.New(), Type: e.Type(), Data: data, Metadata: []byte(`{}`), EffectiveAt: e.EffectiveAt}
	}
	_, err := store.Append(context.Background(), sym.Stream(), eventstore.Any, batch)
	require.NoError(t, err)
}

// hasSnapshot reports whether the stream of sym has a stored snapshot.
func hasSnapshot(t *testing.T, store eventstore.Store, sym domain.Symbol) bool {
	t.Helper()
	_, found, err := store.(eventstore.Snapshotter).LoadSnapshot(context.Background(), "decoded:"+sym.Stream())
	require.NoError(t, err)
	return found
}

// TestGetsNeverSaveSnapshots: questions about a long stream without a
// snapshot, on a writable server whose background task is off, store none.
func TestGetsNeverSaveSnapshots(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{empty: true, config: func(c *serve.Config) { c.SnapshotInterval = -1 }})
	appendCloses(t, ts.store, "LONG", ledger.SnapshotEvery+5)
	for _, path := range []string{"/api/v1/instruments/LONG/consensus?as_of=2021-06-30", "/api/v1/instruments/LONG/events",
		"/api/v1/instruments/LONG/history?from=2021-06-01&to=2021-06-30", "/api/v1/consensus?as_of=2021-06-30"} {
		res := ts.do(t, "GET", path, readToken, "")
		require.Equal(t, http.StatusOK, res.status, "%s: %s", path, res.body)
	}
	assert.False(t, hasSnapshot(t, ts.store, "LONG"), "a GET saved a snapshot")
}

// TestBackgroundTaskSavesDueSnapshots: the server's background task saves
// the snapshot of a stream it answered about that grew long elsewhere.
func TestBackgroundTaskSavesDueSnapshots(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{empty: true, config: func(c *serve.Config) { c.SnapshotInterval = 10 * time.Millisecond }})
	appendCloses(t, ts.store, "LONG", ledger.SnapshotEvery+5)
	res := ts.do(t, "GET", "/api/v1/instruments/LONG/consensus?as_of=2021-06-30", readToken, "")
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Eventually(t, func() bool { return hasSnapshot(t, ts.store, "LONG") }, 10*time.Second, 10*time.Millisecond,
		"the background task saved no snapshot")
}

// blockedReads is an embedded store whose reads of stream records wait
// until release is closed (or their context is done).
type blockedReads struct {
	*sqlite.Store
	reading chan struct{} // closed at the first read
	release chan struct{}
}

func (b *blockedReads) ReadStreamEvents(ctx context.Context, stream string, from int64, limit int) ([]eventstore.Record, error) {
	select {
	case <-b.reading:
	default:
		close(b.reading)
	}
	select {
	case <-b.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return b.Store.ReadStreamEvents(ctx, stream, from, limit)
}

// TestCancelledGetStopsWaiting: a GET waiting for an instrument's load,
// shared with other requests and so not cancelled with it, returns as soon
// as its own context is cancelled.
func TestCancelledGetStopsWaiting(t *testing.T) {
	t.Parallel()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "ledger.db"), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, store.Close()) })
	appendCloses(t, store, "SLOW", 10)
	blocked := &blockedReads{Store: store, reading: make(chan struct{}), release: make(chan struct{})}
	srv, err := serve.New(serve.Config{Ledger: ledger.New(blocked), Store: blocked, VerifyEvery: -1, SnapshotInterval: -1})
	require.NoError(t, err)
	t.Cleanup(func() { close(blocked.release) }) // lets the shared load finish

	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, "GET", "/api/v1/instruments/SLOW/consensus?as_of=2020-01-05", nil)
	req.Host = "localhost" // a server without tokens answers only this machine's names
	done := make(chan int, 1)
	go func() {
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, req)
		done <- w.Code
	}()
	select {
	case <-blocked.reading:
	case code := <-done:
		t.Fatalf("answered %d without reading the stream", code)
	}
	cancel()
	select {
	case code := <-done:
		assert.Equal(t, 499, code, "the client went away before the answer (nginx's \"client closed request\")")
	case <-time.After(5 * time.Second): // a bound on waiting, not a speed test
		t.Fatal("the cancelled GET is still waiting for the shared load")
	}
}
