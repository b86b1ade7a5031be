package ledger

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/projections"
)

// TestShowFromSnapshotKeepsTheCurrencyClose covers the one close kept for a
// reason other than the question's point in time: a stream of closes only,
// asked about a date before the first, still answers in their currency.
func TestShowFromSnapshotKeepsTheCurrencyClose(t *testing.T) {
	ctx := context.Background()
	store := openStore(t, filepath.Join(t.TempDir(), "ledger.db"), false)
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
	store := openStore(t, filepath.Join(t.TempDir(), "ledger.db"), false)
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

	_, err := l.Record(ctx, domain.Retract{Instrument: "CHK", EventID: day500.EventID, Reason: "wrong"}, WriteOptions{})
	require.NoError(t, err)
	check(500, 100_0499, false) // the retraction names a chunked close: the full path answers
	check(501, 100_0501, false)
}

// TestShowAllAdjustsForSplits: show --all answers from the snapshot head
// (which keeps every event but the closes, so every split) plus the one
// close that matters, and must give show's figures, adjusted and as
// published. A rating of 480, a close a day from 100 to 1123, a 4:1 split
// on day 300 and a 1:2 reverse split on day 800, the last close on day 1023.
func TestShowAllAdjustsForSplits(t *testing.T) {
	ctx := context.Background()
	store := openStore(t, filepath.Join(t.TempDir(), "ledger.db"), false)
	l := New(store)
	first := time.Date(2020, 1, 10, 21, 0, 0, 0, time.UTC)
	record := func(c domain.Command) {
		t.Helper()
		_, err := l.Record(ctx, c, WriteOptions{})
		require.NoError(t, err)
	}
	target := domain.Money(480_000000)
	record(domain.Rate{Instrument: "SPL", Analyst: "a@firm", Rating: domain.Buy, BrokerRating: "buy", Target: &target,
		Currency: "USD", EffectiveAt: first.Add(-time.Hour)})
	record(domain.RecordSplit{Instrument: "SPL", Ratio: domain.Ratio{New: 4, Old: 1}, EffectiveAt: first.AddDate(0, 0, 300).Truncate(24 * time.Hour)})
	record(domain.RecordSplit{Instrument: "SPL", Ratio: domain.Ratio{New: 1, Old: 2}, EffectiveAt: first.AddDate(0, 0, 800).Truncate(24 * time.Hour)})
	for day := range SnapshotEvery {
		record(domain.RecordClose{Instrument: "SPL", Price: domain.Money(100_000000 + int64(day)*1_000000), Currency: "USD",
			EffectiveAt: first.AddDate(0, 0, day)})
	}
	history, err := l.Load(ctx, "SPL")
	require.NoError(t, err)

	for _, tc := range []struct {
		day         int
		unadjusted  bool
		mean, close string
		upside      string
	}{
		// Day 299: before both splits, nothing to adjust: 480 / 399 - 1.
		{299, false, "480", "399", "20.3"},
		// Day 500: the target is on the old basis, 480 x 1/4 = 120; the
		// close of day 500 is on the new one.
		{500, false, "120", "600", "-80"},
		{500, true, "480", "600", "-20"},
		// Day 900: 480 x 1/4 x 2 = 240; the close of day 900 is 1000.
		{900, false, "240", "1000", "-76"},
		{900, true, "480", "1000", "-52"},
	} {
		// The rating is ninety days old by day 90: a window of no expiry
		// keeps it counting.
		q := projections.Query{AsOf: first.AddDate(0, 0, tc.day), KnownAt: l.Now(), Unadjusted: tc.unadjusted}
		want := projections.Show("SPL", history, q)
		require.Equal(t, []string{tc.mean, tc.close, tc.upside}, []string{want.MeanTarget.String(), want.Close.String(), want.UpsidePct.String()}, "day %d unadjusted %t", tc.day, tc.unadjusted)

		_, fromSnapshot, err := New(store).showFromSnapshot(ctx, "SPL", q)
		require.NoError(t, err)
		require.True(t, fromSnapshot, "day %d: show --all takes the snapshot's fast path", tc.day)
		all, err := New(store).ShowAll(ctx, q)
		require.NoError(t, err)
		require.Equal(t, []projections.Consensus{want}, all, "day %d unadjusted %t", tc.day, tc.unadjusted)
		one, err := New(store).Show(ctx, "SPL", q)
		require.NoError(t, err)
		require.Equal(t, want, one, "day %d unadjusted %t", tc.day, tc.unadjusted)
	}
}
