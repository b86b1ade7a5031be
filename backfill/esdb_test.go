package backfill_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/backfill"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/esdb"
	"github.com/consensus-ledger/consensus/eventstore/esdb/esdbtest"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/gen"
	"github.com/consensus-ledger/consensus/ledger"
)

// serverNow is the pinned clock of the server import tests, after the
// generated history.
var serverNow = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

// generated is a deterministic import file with a few hundred events per
// instrument, retractions included.
func generated(t *testing.T) []byte {
	t.Helper()
	var file bytes.Buffer
	stats, err := gen.Generate(context.Background(), &file, gen.Config{Instruments: 2, Analysts: 12, Years: 1, Seed: 11}, gen.JSONL)
	require.NoError(t, err)
	require.Greater(t, stats.Rows(), int64(400))
	return file.Bytes()
}

// importFile imports file into the store with the default batch size.
func importFile(t *testing.T, store eventstore.Store, file []byte) (backfill.Summary, error) {
	t.Helper()
	r, err := backfill.NewReader(bytes.NewReader(file), "history.jsonl")
	require.NoError(t, err)
	clock := func() time.Time { return serverNow }
	l := ledger.New(store, ledger.WithClock(clock))
	return backfill.Import(context.Background(), l, r, backfill.Options{Name: "history.jsonl", RecordedBy: "test", Now: clock,
		OnReject: func(rej backfill.Reject) error { t.Errorf("rejected: %+v", rej); return nil }})
}

// TestImportFitsTheServersMaxAppendSize imports a file whose instruments
// each hold far more than one append of a server with a small
// MaxAppendSize can: the store names its limit, the import cuts its
// batches to fit, and the ledger holds every event, as an embedded store
// given the same file does. A store that believes the server takes more
// fails on the first batch, which shows what the cutting is for.
func TestImportFitsTheServersMaxAppendSize(t *testing.T) {
	const limit = 16 << 10 // a few dozen ledger events
	file := generated(t)
	srv, err := esdbtest.Start(esdbtest.Options{MaxAppendSize: limit})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, srv.Close()) })
	open := func(opts esdb.Options) *esdb.Store {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		opts.Now = func() time.Time { return serverNow }
		s, err := esdb.Open(ctx, srv.ConnectionString(), opts)
		require.NoError(t, err)
		t.Cleanup(func() { assert.NoError(t, s.Close()) })
		return s
	}

	_, err = importFile(t, open(esdb.Options{}), file) // believes 1 MiB
	require.Error(t, err)
	t.Logf("without the server's limit: %v", err)
	assert.Contains(t, err.Error(), "MaxAppendSize")

	server := open(esdb.Options{MaxAppendSize: limit})
	sum, err := importFile(t, server, file)
	require.NoError(t, err)
	embedded, err := sqlite.Open(filepath.Join(t.TempDir(), "ledger.db"), sqlite.Options{Now: func() time.Time { return serverNow }})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, embedded.Close()) })
	want, err := importFile(t, embedded, file)
	require.NoError(t, err)
	assert.Equal(t, want, sum)

	streams, err := server.Streams(context.Background())
	require.NoError(t, err)
	require.Len(t, streams, 2)
	for _, st := range streams {
		got, err := server.ReadStream(context.Background(), st.Stream, 0, 0)
		require.NoError(t, err)
		size := 0
		for _, r := range got {
			size += server.AppendBytes(r.EventData)
		}
		t.Logf("%s: %d events, %d bytes to append", st.Stream, len(got), size)
		require.Greater(t, size, 3*limit, "%s: several appends' worth of events", st.Stream)
		orig, err := embedded.ReadStream(context.Background(), st.Stream, 0, 0)
		require.NoError(t, err)
		require.Len(t, got, len(orig))
		for i := range got {
			assert.Equal(t, orig[i].ID, got[i].ID)
			assert.Equal(t, orig[i].Type, got[i].Type)
			assert.Equal(t, string(orig[i].Data), string(got[i].Data))
		}
		n, _, err := eventstore.VerifyStream(context.Background(), server, st.Stream)
		require.NoError(t, err)
		assert.Equal(t, st.Events, n)
	}

	// A re-run writes nothing: every row is a duplicate.
	again, err := importFile(t, server, file)
	require.NoError(t, err)
	assert.Equal(t, backfill.Summary{Duplicates: sum.Imported}, again)
}
