package ledger_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/backfill"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/gen"
	"github.com/consensus-ledger/consensus/ledger"
)

// BenchmarkFeed200 measures the rating-change feed of the page's front view
// (the 30 days to the data's end, the newest 200) over the ledger the
// first-load browser test generates: 200 instruments, one year. warm: every
// stream's events already cached, as in a server that has answered the list.
func BenchmarkFeed200(b *testing.B) {
	ctx := context.Background()
	store, err := sqlite.Open(filepath.Join(b.TempDir(), "feed.db"), sqlite.Options{})
	require.NoError(b, err)
	b.Cleanup(func() { store.Close() })
	var rows bytes.Buffer
	_, err = gen.Generate(ctx, &rows, gen.Config{Instruments: 200, Analysts: 5, Years: 1, Seed: 1}, gen.JSONL)
	require.NoError(b, err)
	src, err := backfill.NewReader(&rows, "gen.jsonl")
	require.NoError(b, err)
	l := ledger.New(store)
	_, err = backfill.Import(ctx, l, src, backfill.Options{Name: "gen.jsonl", RecordedBy: "bench", TempDir: b.TempDir()})
	require.NoError(b, err)
	list, err := l.Instruments(ctx)
	require.NoError(b, err)
	var last time.Time
	for _, in := range list {
		ix, err := l.Index(ctx, in.Symbol)
		require.NoError(b, err)
		for _, r := range ix.History() {
			if at := r.Event.Effective(); at.After(last) {
				last = at
			}
		}
	}
	from := last.AddDate(0, 0, -29)
	b.Run("warm", func(b *testing.B) {
		for b.Loop() {
			feed, err := l.Feed(ctx, from, last, time.Now(), 200)
			require.NoError(b, err)
			require.NotEmpty(b, feed.Changes)
		}
	})
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			_, err := ledger.New(store).Feed(ctx, from, last, time.Now(), 200)
			require.NoError(b, err)
		}
	})
}
