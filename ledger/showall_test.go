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

// TestShowFromSnapshotChunks checks the two cases of chunked closes a
// generated history rarely has: two closes on the same date (the later
// recorded wins, as in the fold), and a retraction recorded after the
// snapshot that names a chunked close.
func TestShowFromSnapshotChunks(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "ledger.db"), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, store.Close()) })
	l := New(store)
	first := time.Date(2020, 1, 10, 21, 0, 0, 0, time.UTC)
	closeOn := func(day int, price domain.Money) Receipt {
		r, err := l.Record(ctx, domain.RecordClose{Instrument: "CHK", Price: price, Currency: "USD", EffectiveAt: first.AddDate(0, 0, day)}, WriteOptions{})
		require.NoError(t, err)
		return r
	}
	var day500 Receipt
	for day := range SnapshotEvery - 1 {
		r := closeOn(day, domain.Money(100_0000+day))
		if day == 500 {
			day500 = r
		}
	}
	closeOn(700, 1) // a second close for day 700, recorded later: the snapshot now covers every event

	check := func(day int, price domain.Money, fromSnapshot bool) {
		t.Helper()
		history, err := l.Load(ctx, "CHK")
		require.NoError(t, err)
		q := projections.Query{AsOf: first.AddDate(0, 0, day), KnownAt: l.Now(), Window: projections.DefaultWindow, Explain: true}
		want := projections.Show("CHK", history, q)
		require.Equal(t, price.String(), want.Close.String(), "day %d", day)
		got, err := New(store).ShowAll(ctx, q)
		require.NoError(t, err)
		require.Equal(t, []projections.Consensus{want}, got, "day %d", day)
		_, ok, err := New(store).showFromSnapshot(ctx, "CHK", q)
		require.NoError(t, err)
		require.Equal(t, fromSnapshot, ok, "day %d answered from the snapshot", day)
	}
	check(700, 1, true)
	check(500, 100_0500, true)

	_, err = l.Record(ctx, domain.Retract{Instrument: "CHK", EventID: day500.EventID, Reason: "wrong"}, WriteOptions{})
	require.NoError(t, err)
	check(500, 100_0499, false) // the retraction names a chunked close: the full path answers
	check(501, 100_0501, false)
}
