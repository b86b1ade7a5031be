package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
)

// TestCopyResumes interrupts a copy after its first page and runs it again:
// the second run continues where the first stopped, and the target then
// holds exactly the source's records, with their times and hashes.
func TestCopyResumes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	source := mustOpen(t, filepath.Join(dir, "source.db"), sqlite.Options{Now: func() time.Time { clock = clock.Add(time.Second); return clock }})
	for _, stream := range []string{"instrument-A", "instrument-B"} {
		version := eventstore.NoStream
		for range 3 {
			res, err := source.Append(ctx, stream, version, newEvents(900))
			require.NoError(t, err)
			version = eventstore.Version(res.Records[len(res.Records)-1].Version)
		}
	}
	target := mustOpen(t, filepath.Join(dir, "target.db"), sqlite.Options{})

	stopped, stop := context.WithCancel(ctx)
	_, err := eventstore.Copy(stopped, source, target, func(p eventstore.CopyProgress) {
		if p.Copied >= eventstore.CopyPage {
			stop()
		}
	})
	require.ErrorIs(t, err, context.Canceled)
	partial, err := target.ReadStream(ctx, "instrument-A", 0, 0)
	require.NoError(t, err)
	assert.Equal(t, eventstore.CopyPage, len(partial), "whole pages only")

	sum, err := eventstore.Copy(ctx, source, target, nil)
	require.NoError(t, err)
	assert.Equal(t, eventstore.CopySummary{Streams: 2, Copied: 5400 - eventstore.CopyPage, Present: eventstore.CopyPage}, sum)
	for _, stream := range []string{"instrument-A", "instrument-B"} {
		want, err := source.ReadStream(ctx, stream, 0, 0)
		require.NoError(t, err)
		got, err := target.ReadStream(ctx, stream, 0, 0)
		require.NoError(t, err)
		require.Len(t, got, len(want))
		for i := range want {
			assert.Equal(t, want[i].ID, got[i].ID)
			assert.True(t, want[i].RecordedAt.Equal(got[i].RecordedAt))
			assert.Equal(t, want[i].Hash, got[i].Hash)
		}
		_, last, err := eventstore.VerifyStream(ctx, target, stream)
		require.NoError(t, err)
		assert.Equal(t, want[len(want)-1].Hash, last)
	}
}
