package ledger

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
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

// sampleEvents is one of every event kind, with and without optional parts.
func sampleEvents() []domain.Recorded {
	at := time.Date(2025, 9, 11, 23, 59, 59, 999_999_999, time.UTC)
	target := domain.Money(165_690_000)
	rated := uuid.MustParse("0199a1c2-0000-7000-8000-000000000001")
	return []domain.Recorded{
		{ID: rated, Version: 0, RecordedAt: at.Add(time.Hour), Meta: domain.Metadata{RecordedBy: "cli:ana", Source: "manual", CorrelationID: "c-1", CausationID: "x"},
			Event: domain.RatingAdded{Instrument: "BABA", Analyst: "a@x", Firm: "Firm A", Rating: domain.Buy, BrokerRating: "outperform", Target: &target, Currency: "USD", EffectiveAt: at}},
		{ID: uuid.New(), Version: 1, RecordedAt: at.Add(2 * time.Hour),
			Event: domain.RatingAdded{Instrument: "BABA", Analyst: "b@y", Rating: domain.Hold, BrokerRating: "hold", Currency: "USD", EffectiveAt: at}},
		{ID: uuid.New(), Version: 2, RecordedAt: at.Add(3 * time.Hour),
			Event: domain.TargetRevised{Instrument: "BABA", Analyst: "a@x", Target: 1, Currency: "USD", EffectiveAt: at.Add(-time.Second)}},
		{ID: uuid.New(), Version: 3, RecordedAt: at.Add(4 * time.Hour),
			Event: domain.RatingWithdrawn{Instrument: "BABA", Analyst: "b@y", EffectiveAt: at}},
		{ID: uuid.New(), Version: 4, RecordedAt: at.Add(5 * time.Hour),
			Event: domain.CloseRecorded{Instrument: "BABA", Price: domain.MaxMoney, Currency: "USD", EffectiveAt: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{ID: uuid.New(), Version: 5, RecordedAt: at.Add(6 * time.Hour),
			Event: domain.EventRetracted{Instrument: "BABA", Retracted: rated, Reason: "typo, «quoted»", EffectiveAt: at}},
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	events := sampleEvents()
	head, chunks := encodeSnapshot(events)
	require.Empty(t, chunks, "the only close is the stream's first")
	got, err := decodeSnapshot(head, chunks)
	require.NoError(t, err)
	require.Len(t, got, len(events))
	for i := range events {
		assert.Equal(t, events[i].ID, got[i].ID)
		assert.Equal(t, events[i].Version, got[i].Version)
		assert.True(t, events[i].RecordedAt.Equal(got[i].RecordedAt))
		assert.Equal(t, events[i].Meta, got[i].Meta)
		want, err := domain.EncodeEvent(events[i].Event)
		require.NoError(t, err)
		have, err := domain.EncodeEvent(got[i].Event)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(have), "event %d", i)
	}
}

func TestSnapshotRejectsDamage(t *testing.T) {
	data, _ := encodeSnapshot(sampleEvents())
	for _, bad := range [][]byte{
		nil,
		data[:len(data)-1],
		append(append([]byte(nil), data...), 0),
		append([]byte("not a snapshot"), data...),
	} {
		_, err := decodeSnapshot(bad, nil)
		assert.ErrorIs(t, err, errBadSnapshot)
	}
}

// chunkedEvents is a stream of many closes (so several chunks), ratings, and
// retractions of closes, which the head keeps.
func chunkedEvents() []domain.Recorded {
	at := time.Date(2020, 1, 1, 21, 0, 0, 0, time.UTC)
	var events []domain.Recorded
	add := func(e domain.Event) uuid.UUID {
		id := uuid.New()
		events = append(events, domain.Recorded{ID: id, Version: int64(len(events)), RecordedAt: at.AddDate(0, 0, len(events)),
			Meta: domain.Metadata{Source: fmt.Sprintf("line %d", len(events))}, Event: e})
		return id
	}
	var retract []uuid.UUID
	for i := range 3*closesPerChunk + 7 {
		id := add(domain.CloseRecorded{Instrument: "BABA", Price: domain.Money(100_0000 + i), Currency: "USD", EffectiveAt: at.AddDate(0, 0, i)})
		if i%100 == 50 {
			retract = append(retract, id)
		}
		if i%40 == 0 {
			add(domain.RatingAdded{Instrument: "BABA", Analyst: "a@x", Rating: domain.Buy, BrokerRating: "buy", Currency: "USD", EffectiveAt: at.AddDate(0, 0, i)})
		}
	}
	for _, id := range retract {
		add(domain.EventRetracted{Instrument: "BABA", Retracted: id, Reason: "wrong close", EffectiveAt: at})
	}
	return events
}

func TestChunkedSnapshotRoundTrip(t *testing.T) {
	events := chunkedEvents()
	head, chunks := encodeSnapshot(events)
	require.Len(t, chunks, 3, "closes not retracted, beyond the first, in chunks of closesPerChunk")
	h, err := decodeHead(head, false)
	require.NoError(t, err)
	for _, r := range h.events {
		if c, ok := r.Event.(domain.CloseRecorded); ok && r.Version != 0 {
			assert.EqualValues(t, 50, (c.Price-100_0000)%100, "a close in the head is a retracted one")
		}
	}
	got, err := decodeSnapshot(head, chunks)
	require.NoError(t, err)
	require.Equal(t, events, got)

	// A chunk from another snapshot, or missing, is refused.
	other := append([][]byte(nil), chunks...)
	other[1], other[2] = chunks[2], chunks[1]
	_, err = decodeSnapshot(head, other)
	assert.ErrorIs(t, err, errBadSnapshot)
	_, err = decodeSnapshot(head, chunks[:2])
	assert.ErrorIs(t, err, errBadSnapshot)
}

func FuzzDecodeSnapshot(f *testing.F) {
	head, _ := encodeSnapshot(sampleEvents())
	f.Add(head)
	empty, _ := encodeSnapshot(nil)
	f.Add(empty)
	chunkedHead, chunks := encodeSnapshot(chunkedEvents())
	f.Add(chunkedHead)
	f.Add(chunks[0])
	f.Add([]byte("consensus-decoded-events\x02\xff\xff\xff\xff\x0f"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// What decodes re-encodes to the same bytes: the format has one
		// spelling for every value.
		if h, err := decodeHead(data, false); err == nil {
			assert.Equal(t, data, encodeHead(h))
			// Skipping metadata gives the same events without it.
			bare, err := decodeHead(data, true)
			require.NoError(t, err)
			for i := range h.events {
				h.events[i].Meta = domain.Metadata{}
			}
			assert.Equal(t, h, bare)
		}
		events, err := decodeChunk(data)
		if err != nil {
			return
		}
		w := &snapshotWriter{buf: append([]byte(nil), chunkMagic...)}
		w.events(events)
		assert.Equal(t, data, w.buf)
		// Scanning finds the same closes, each decoding where its
		// reference points.
		refs, err := scanChunk(data)
		require.NoError(t, err)
		require.Len(t, refs, len(events))
		for i, ref := range refs {
			e := events[i]
			assert.Equal(t, closeRef{offset: ref.offset, id: e.ID, version: e.Version,
				recorded: e.RecordedAt.UnixNano(), effective: e.Event.Effective().UnixNano()}, ref)
			got, err := decodeAt(data, ref.offset)
			require.NoError(t, err)
			assert.Equal(t, e, got)
		}
	})
}

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
	_, err := New(store).Load(ctx, "BABA")
	require.NoError(t, err)

	// Change one price inside the snapshot, keeping its format valid.
	snap, found, err := store.LoadSnapshot(ctx, snapshotName("instrument-BABA"))
	require.NoError(t, err)
	require.True(t, found)
	head, err := decodeHead(snap.Data, false)
	require.NoError(t, err)
	c := head.events[1].Event.(domain.CloseRecorded) // the first close, which the head keeps
	c.Price++
	head.events[1].Event = c
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE snapshots SET data = ? WHERE name = ?`, encodeHead(head), snap.Name)
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
	fakeHead, _ := encodeSnapshot(sampleEvents()[:3])
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
	_, err := New(store).Load(ctx, "BABA")
	require.NoError(t, err)

	// Change one price inside a chunk, keeping its format valid: the head's
	// checksum no longer matches, so readers ignore the chunk, verify
	// reports it, and rebuild replaces it although it claims the same version.
	name := chunkName("instrument-BABA", 0)
	chunk, found, err := store.LoadSnapshot(ctx, name)
	require.NoError(t, err)
	require.True(t, found, "a snapshot of %d events, two in three closes, has chunks", SnapshotEvery)
	closes, err := decodeChunk(chunk.Data)
	require.NoError(t, err)
	c := closes[3].Event.(domain.CloseRecorded)
	c.Price++
	closes[3].Event = c
	w := &snapshotWriter{buf: append([]byte(nil), chunkMagic...)}
	w.events(closes)
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE snapshots SET data = ? WHERE name = ?`, w.buf, name)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	events, err := New(store).loadSnapshot(ctx, "instrument-BABA")
	require.NoError(t, err)
	assert.Nil(t, events, "a chunk that does not match its head is a cache miss")
	_, err = New(store).Verify(ctx, "")
	assert.ErrorIs(t, err, ErrSnapshotMismatch)

	_, err = New(store).Rebuild(ctx)
	require.NoError(t, err)
	_, err = New(store).Verify(ctx, "")
	assert.NoError(t, err, "rebuild replaced the chunk")
	events, err = New(store).loadSnapshot(ctx, "instrument-BABA")
	require.NoError(t, err)
	assert.Len(t, events, SnapshotEvery)
}

// TestSnapshotOfAnOlderFormatIsReplaced: a head the ledger cannot use, at
// the very version it would save, is replaced on the next load rather than
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

	_, err = New(store).Load(ctx, "BABA")
	require.NoError(t, err)
	snap, found, err := store.LoadSnapshot(ctx, old.Name)
	require.NoError(t, err)
	require.True(t, found)
	assert.True(t, bytes.HasPrefix(snap.Data, snapshotMagic), "the head is in the current format")
	events, err := New(store).loadSnapshot(ctx, "instrument-BABA")
	require.NoError(t, err)
	assert.Len(t, events, SnapshotEvery)
}
