package ledger

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/ledger/snapshotcodec"
	"github.com/consensus-ledger/consensus/projections"
)

// seed appends n events to BABA directly (closes and ratings) and returns a
// fresh ledger over the store.
func seed(t *testing.T, store eventstore.Store, from, n int) {
	t.Helper()
	var batch []eventstore.EventData
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := from; i < from+n; i++ {
		at := base.Add(time.Duration(i) * time.Hour)
		var e domain.Event = domain.CloseRecorded{Instrument: "BABA", Price: domain.Money(100_000_000 + i), Currency: "USD", EffectiveAt: at}
		if i%3 == 0 {
			target := domain.Money(150_000_000 + i)
			e = domain.RatingAdded{Instrument: "BABA", Analyst: domain.Analyst("analyst-" + string(rune('a'+i%7)) + "@x"), Rating: domain.Rating(1 + i%5),
				BrokerRating: "buy", Target: &target, Currency: "USD", EffectiveAt: at}
		}
		data, err := domain.EncodeEvent(e)
		require.NoError(t, err)
		batch = append(batch, eventstore.EventData{ID: uuid.New(), Type: e.Type(), Data: data, Metadata: []byte(`{"source":"test"}`), EffectiveAt: at})
	}
	_, err := store.Append(context.Background(), "instrument-BABA", eventstore.Any, batch)
	require.NoError(t, err)
}

// saveDueSnapshot saves BABA's snapshot as a server's background task
// would: a fresh ledger loads the stream, then saves what is due.
func saveDueSnapshot(t *testing.T, store eventstore.Store) {
	t.Helper()
	l := New(store)
	_, err := l.Load(context.Background(), "BABA")
	require.NoError(t, err)
	saved, err := l.SaveDueSnapshots(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, saved)
}

func openStore(t *testing.T, path string, readOnly bool) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(path, sqlite.Options{ReadOnly: readOnly})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSnapshotsGiveTheSameAnswers(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	store := openStore(t, path, false)
	seed(t, store, 0, SnapshotEvery+10)

	writer := New(store)
	full, err := writer.Load(ctx, "BABA")
	require.NoError(t, err)
	saved, err := writer.SaveDueSnapshots(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, saved)
	_, found, err := store.LoadSnapshot(ctx, snapshotName("instrument-BABA"))
	require.NoError(t, err)
	require.True(t, found, "a long stream gets a snapshot")

	seed(t, store, SnapshotEvery+10, 5) // events after the snapshot
	reader := New(openStore(t, path, true))
	viaSnapshot, err := reader.Load(ctx, "BABA")
	require.NoError(t, err)
	assert.True(t, reader.snapshotted("instrument-BABA"), "the reader started from the snapshot")
	require.Len(t, viaSnapshot, len(full)+5)

	q := projections.Query{AsOf: time.Date(2024, 2, 15, 0, 0, 0, 0, time.UTC), KnownAt: time.Now(), Window: projections.DefaultWindow, Explain: true}
	plain, err := New(&noSnapshots{store}).Show(ctx, "BABA", q)
	require.NoError(t, err)
	fast, err := reader.Show(ctx, "BABA", q)
	require.NoError(t, err)
	assert.Equal(t, plain, fast)

	report, err := writer.Verify(ctx, "")
	require.NoError(t, err)
	assert.EqualValues(t, len(viaSnapshot), report.Events)
}

// noSnapshots hides a store's snapshots, so the ledger reads every record.
type noSnapshots struct{ eventstore.Store }

func TestVerifyDetectsAnAlteredSnapshot(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	store := openStore(t, path, false)
	seed(t, store, 0, SnapshotEvery)
	saveDueSnapshot(t, store)

	// Change one price inside the snapshot, keeping its format valid.
	snap, found, err := store.LoadSnapshot(ctx, snapshotName("instrument-BABA"))
	require.NoError(t, err)
	require.True(t, found)
	head, err := snapshotcodec.DecodeHead(snap.Data, false)
	require.NoError(t, err)
	c := head.Events[1].Event.(domain.CloseRecorded) // the first close, which the head keeps
	c.Price++
	head.Events[1].Event = c
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE snapshots SET data = ? WHERE name = ?`, snapshotcodec.EncodeHead(head), snap.Name)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	_, err = New(store).Verify(ctx, "")
	assert.ErrorIs(t, err, ErrSnapshotMismatch)

	report, err := New(store).Rebuild(ctx)
	require.NoError(t, err)
	assert.Equal(t, RebuildReport{Streams: 1, Events: SnapshotEvery, Snapshots: 1}, report)
	_, err = New(store).Verify(ctx, "")
	assert.NoError(t, err, "rebuild derives the snapshot from the events again")
}

func TestSnapshotOfAnotherChainIsIgnored(t *testing.T) {
	ctx := context.Background()
	store := openStore(t, filepath.Join(t.TempDir(), "ledger.db"), false)
	seed(t, store, 0, 3)
	recs, err := store.ReadStream(ctx, "instrument-BABA", 0, 0)
	require.NoError(t, err)
	fakeHead, _ := snapshotcodec.Encode(domain.Examples()[:3])
	require.NoError(t, store.SaveSnapshot(ctx, eventstore.Snapshot{Name: snapshotName("instrument-BABA"),
		Stream: "instrument-BABA", Version: 2, Hash: recs[1].Hash, Data: fakeHead}))

	events, err := New(store).Load(ctx, "BABA")
	require.NoError(t, err)
	require.Len(t, events, 3)
	assert.Equal(t, recs[0].ID, events[0].ID, "a snapshot whose hash does not match the chain is not used")
}

func TestVerifyDetectsAnAlteredChunk(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	store := openStore(t, path, false)
	seed(t, store, 0, SnapshotEvery)
	saveDueSnapshot(t, store)

	// Change one price inside a chunk, keeping its format valid: the head's
	// checksum no longer matches, so readers ignore the chunk, verify
	// reports it, and rebuild replaces it although it claims the same version.
	name := chunkName("instrument-BABA", 0)
	chunk, found, err := store.LoadSnapshot(ctx, name)
	require.NoError(t, err)
	require.True(t, found, "a snapshot of %d events, two in three closes, has chunks", SnapshotEvery)
	closes, err := snapshotcodec.DecodeChunk(chunk.Data, false)
	require.NoError(t, err)
	c := closes[3].Event.(domain.CloseRecorded)
	c.Price++
	closes[3].Event = c
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE snapshots SET data = ? WHERE name = ?`, snapshotcodec.EncodeChunk(closes), name)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	events, err := New(store).loadSnapshot(ctx, "instrument-BABA", false)
	require.NoError(t, err)
	assert.Nil(t, events, "a chunk that does not match its head is a cache miss")
	_, err = New(store).Verify(ctx, "")
	assert.ErrorIs(t, err, ErrSnapshotMismatch)

	_, err = New(store).Rebuild(ctx)
	require.NoError(t, err)
	_, err = New(store).Verify(ctx, "")
	assert.NoError(t, err, "rebuild replaced the chunk")
	events, err = New(store).loadSnapshot(ctx, "instrument-BABA", false)
	require.NoError(t, err)
	assert.Len(t, events, SnapshotEvery)
}

// TestSnapshotOfAnOlderFormatIsReplaced: a head the ledger cannot use, at
// the very version it would save, is replaced by the next save rather than
// kept (a row is otherwise only replaced by one covering more events).
func TestSnapshotOfAnOlderFormatIsReplaced(t *testing.T) {
	ctx := context.Background()
	store := openStore(t, filepath.Join(t.TempDir(), "ledger.db"), false)
	seed(t, store, 0, SnapshotEvery)
	recs, err := store.ReadStream(ctx, "instrument-BABA", SnapshotEvery-1, 1)
	require.NoError(t, err)
	old := eventstore.Snapshot{Name: snapshotName("instrument-BABA"), Stream: "instrument-BABA", Version: SnapshotEvery - 1,
		Hash: recs[0].Hash, Data: []byte("consensus-decoded-events\x01an older format")}
	require.NoError(t, store.SaveSnapshot(ctx, old))

	saveDueSnapshot(t, store)
	snap, found, err := store.LoadSnapshot(ctx, old.Name)
	require.NoError(t, err)
	require.True(t, found)
	_, err = snapshotcodec.DecodeHead(snap.Data, false)
	assert.NoError(t, err, "the head is in the current format")
	events, err := New(store).loadSnapshot(ctx, "instrument-BABA", false)
	require.NoError(t, err)
	assert.Len(t, events, SnapshotEvery)
}

// appendSplit appends a SplitRecorded to BABA directly.
func appendSplit(t *testing.T, store eventstore.Store, ratio domain.Ratio, at time.Time) {
	t.Helper()
	e := domain.SplitRecorded{Instrument: "BABA", Ratio: ratio, EffectiveAt: at}
	data, err := domain.EncodeEvent(e)
	require.NoError(t, err)
	_, err = store.Append(context.Background(), "instrument-BABA", eventstore.Any,
		[]eventstore.EventData{{ID: uuid.New(), Type: e.Type(), Data: data, Metadata: []byte(`{"source":"test"}`), EffectiveAt: at}})
	require.NoError(t, err)
}

// TestSnapshotsWithSplits: a stream holding splits before its snapshot and
// after it loads through the snapshot to the same events, and answers the
// same adjusted figures as a ledger that reads every record.
func TestSnapshotsWithSplits(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	store := openStore(t, path, false)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	seed(t, store, 0, 40)
	appendSplit(t, store, domain.Ratio{New: 4, Old: 1}, base.Add(40*time.Hour))
	seed(t, store, 41, SnapshotEvery)
	saveDueSnapshot(t, store)
	appendSplit(t, store, domain.Ratio{New: 1, Old: 10}, base.Add(time.Duration(SnapshotEvery+45)*time.Hour)) // after the snapshot

	reader := New(openStore(t, path, true))
	viaSnapshot, err := reader.Load(ctx, "BABA")
	require.NoError(t, err)
	assert.True(t, reader.snapshotted("instrument-BABA"), "the reader started from the snapshot")
	full, err := New(&noSnapshots{store}).Load(ctx, "BABA")
	require.NoError(t, err)
	require.Len(t, viaSnapshot, SnapshotEvery+42)
	assert.Equal(t, full, viaSnapshot)
	assert.Equal(t, domain.SplitRecorded{Instrument: "BABA", Ratio: domain.Ratio{New: 4, Old: 1}, EffectiveAt: base.Add(40 * time.Hour)},
		viaSnapshot[40].Event, "the split before the snapshot, decoded from it")

	q := projections.Query{AsOf: base.Add(time.Duration(SnapshotEvery+50) * time.Hour), KnownAt: time.Now(), Window: projections.DefaultWindow, Explain: true}
	plain, err := New(&noSnapshots{store}).Show(ctx, "BABA", q)
	require.NoError(t, err)
	fast, err := reader.Show(ctx, "BABA", q)
	require.NoError(t, err)
	assert.Equal(t, plain, fast)
	// Every rating and close counted is after the 4:1 split and before
	// the 1:10 one, which multiplies them by 10.
	require.Len(t, fast.Splits, 1)
	assert.Equal(t, "1:10", fast.Splits[0].Ratio)
	assert.True(t, fast.Adjusted)
}

// TestInlineSnapshotStillServesAndVerifies: a snapshot saved before the
// table format, in the inline format, is still read (a new reader starts
// from it) and verify finds it equal to its events.
func TestInlineSnapshotStillServesAndVerifies(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	store := openStore(t, path, false)
	seed(t, store, 0, SnapshotEvery+300)
	saveDueSnapshot(t, store)
	snap, found, err := store.LoadSnapshot(ctx, snapshotName("instrument-BABA"))
	require.NoError(t, err)
	require.True(t, found)
	full, err := New(&noSnapshots{store}).Load(ctx, "BABA")
	require.NoError(t, err)

	head, chunks := snapshotcodec.EncodeLike([]byte("consensus-decoded-events\x02"), full[:snap.Version+1])
	require.Greater(t, len(chunks), 2)
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	rewrite := func(name string, data []byte) {
		res, err := db.Exec(`UPDATE snapshots SET data = ? WHERE name = ?`, data, name)
		require.NoError(t, err)
		n, err := res.RowsAffected()
		require.NoError(t, err)
		require.EqualValues(t, 1, n, name)
	}
	rewrite(snap.Name, head)
	for k, c := range chunks {
		rewrite(chunkName("instrument-BABA", k), c)
	}
	require.NoError(t, db.Close())

	reader := New(openStore(t, path, true))
	got, err := reader.Load(ctx, "BABA")
	require.NoError(t, err)
	assert.True(t, reader.snapshotted("instrument-BABA"), "the reader started from the inline snapshot")
	assert.Equal(t, full, got)
	_, err = New(store).Verify(ctx, "")
	assert.NoError(t, err)
}
