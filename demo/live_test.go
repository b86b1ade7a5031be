package demo_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/demo"
	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/ledger"
	"github.com/consensus-ledger/consensus/projections"
)

// TestLoadLive checks the live scenario: the same facts as Load, each
// recorded when it happened, so that what the ledger showed on 4 September
// (the 1650 typo) differs from what it shows for that day now.
func TestLoadLive(t *testing.T) {
	ctx := context.Background()
	var clock time.Time
	now := func() time.Time { return clock }
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "live.db"), sqlite.Options{Now: now})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, store.Close()) })
	l := ledger.New(store, ledger.WithClock(now))
	res, err := demo.LoadLive(ctx, l, func(at time.Time) { clock = at })
	require.NoError(t, err)
	assert.Equal(t, demo.Result{Written: len(demo.Steps())}, res)

	entries, err := l.Log(ctx, "BABA")
	require.NoError(t, err)
	assert.Equal(t, "2025-03-10T23:59:59.999999Z", domain.FormatTime(entries[0].Event.RecordedAt), "the first fact, recorded the day it took effect (the store keeps microseconds)")
	var typo ledger.LogEntry
	for _, e := range entries {
		if e.Event.ID == (demo.Step{Key: "baba-rossi-typo"}).ID() {
			typo = e
		}
	}
	require.NotNil(t, typo.RetractedBy)
	assert.Equal(t, "2025-09-03T23:59:59.999999Z", domain.FormatTime(typo.Event.RecordedAt))
	assert.Equal(t, demo.TypoCorrected, domain.FormatTime(typo.RetractedBy.RecordedAt))

	day, _ := domain.ParseTime("at", "2025-09-04")
	then, err := l.Show(ctx, "BABA", projections.Query{AsOf: day, KnownAt: day, Window: projections.DefaultWindow})
	require.NoError(t, err)
	assert.Equal(t, "1650", then.HighTarget.String(), "shown on the 4th: the typo")
	later := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	today, err := l.Show(ctx, "BABA", projections.Query{AsOf: day, KnownAt: later, Window: projections.DefaultWindow})
	require.NoError(t, err)
	assert.Equal(t, "200", today.HighTarget.String(), "known now: corrected")

	thursday, _ := domain.ParseTime("at", demo.Thursday)
	c, err := l.Show(ctx, "BABA", projections.Query{AsOf: thursday, KnownAt: later, Window: projections.DefaultWindow})
	require.NoError(t, err)
	assert.Equal(t, []any{17, 1, "165.69", "155.44"}, []any{c.Buy, c.Hold, c.MeanTarget.String(), c.Close.String()},
		"the article's figures, as with Load")
}
