package ledger

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/projections"
)

// TestShowFromSnapshotKeepsTheCurrencyClose covers the one close kept for a
// reason other than the question's point in time: a stream of closes only,
// asked about a date before the first, still answers in their currency.
func TestShowFromSnapshotKeepsTheCurrencyClose(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "ledger.db"), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, store.Close()) })
	l := New(store)
	first := time.Date(2020, 1, 10, 21, 0, 0, 0, time.UTC)
	for i := range SnapshotEvery { // the snapshot then covers them all
		_, err := l.Record(ctx, domain.RecordClose{Instrument: "CUR", Price: domain.Money(100_0000 + i), Currency: "USD",
			EffectiveAt: first.AddDate(0, 0, i)}, WriteOptions{})
		require.NoError(t, err)
	}
	history, err := l.Load(ctx, "CUR")
	require.NoError(t, err)
	q := projections.Query{AsOf: first.AddDate(0, 0, -1), KnownAt: l.Now(), Window: projections.DefaultWindow}
	want := projections.Show("CUR", history, q)
	require.Equal(t, "USD", want.Currency)

	got, ok, err := New(store).showFromSnapshot(ctx, "CUR", q)
	require.NoError(t, err)
	require.True(t, ok, "answered from the snapshot")
	require.Equal(t, want, got)
}
