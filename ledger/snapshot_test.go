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
	got, err := decodeSnapshot(encodeSnapshot(events))
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
	data := encodeSnapshot(sampleEvents())
	for _, bad := range [][]byte{
		nil,
		data[:len(data)-1],
		append(append([]byte(nil), data...), 0),
		append([]byte("not a snapshot"), data...),
	} {
		_, err := decodeSnapshot(bad)
		assert.ErrorIs(t, err, errBadSnapshot)
	}
}

func FuzzDecodeSnapshot(f *testing.F) {
	f.Add(encodeSnapshot(sampleEvents()))
	f.Add(encodeSnapshot(nil))
	f.Add([]byte("consensus-decoded-events\x01\xff\xff\xff\xff\x0f"))
	f.Fuzz(func(t *testing.T, data []byte) {
		events, err := decodeSnapshot(data)
		if err != nil {
			return
		}
		// What decodes re-encodes to the same bytes: the format has one
		// spelling for every value.
		assert.Equal(t, data, encodeSnapshot(events))
		// Skipping the closes decodes the same events, and each skipped
		// close decodes where its reference points.
		others, closes, err := decodeSnapshotSkippingCloses(data)
		require.NoError(t, err)
		merged, taken := []domain.Recorded{}, 0
		for _, c := range closes {
			merged, taken = append(merged, others[taken:c.others]...), c.others
			close, err := decodeAt(data, c.offset)
			require.NoError(t, err)
			require.Equal(t, domain.TypeCloseRecorded, close.Event.Type())
			assert.Equal(t, closeRef{offset: c.offset, others: c.others, id: close.ID, version: close.Version,
				recorded: close.RecordedAt.UnixNano(), effective: close.Event.Effective().UnixNano()}, c)
			merged = append(merged, close)
		}
		assert.Equal(t, events, append(merged, others[taken:]...))
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
	events, err := decodeSnapshot(snap.Data)
	require.NoError(t, err)
	c := events[1].Event.(domain.CloseRecorded)
	c.Price++
	events[1].Event = c
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE snapshots SET data = ? WHERE name = ?`, encodeSnapshot(events), snap.Name)
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
	fake := sampleEvents()[:3]
	require.NoError(t, store.SaveSnapshot(ctx, eventstore.Snapshot{Name: snapshotName("instrument-BABA"),
		Stream: "instrument-BABA", Version: 2, Hash: recs[1].Hash, Data: encodeSnapshot(fake)}))

	events, err := New(store).Load(ctx, "BABA")
	require.NoError(t, err)
	require.Len(t, events, 3)
	assert.Equal(t, recs[0].ID, events[0].ID, "a snapshot whose hash does not match the chain is not used")
}
