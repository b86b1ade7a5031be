package sqlite_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
)

// TestBackupWhileWriting takes backups while two other stores on the same
// file (as other processes would) keep appending to three streams. Each
// backup must hold exactly the source's first events in store order, with
// intact chains, describe itself correctly, be a ledger file Open accepts,
// and turn to WAL mode when first opened for writing.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "ledger.db")
	src := mustOpen(t, path, sqlite.Options{})
	_, err := src.Append(ctx, "instrument-A", eventstore.NoStream, newEvents(20))
	require.NoError(t, err)

	writerCtx, stop := context.WithCancel(ctx)
	var appended atomic.Int64
	g, gctx := errgroup.WithContext(writerCtx)
	for w := range 2 {
		s := mustOpen(t, path, sqlite.Options{})
		g.Go(func() error {
			for i := 0; gctx.Err() == nil; i++ {
				stream := fmt.Sprintf("instrument-%c", 'A'+(w+i)%3)
				_, err := s.Append(gctx, stream, eventstore.Any, newEvents(1+i%5))
				if err != nil && gctx.Err() == nil {
					return fmt.Errorf("writer %d: %w", w, err)
				}
				appended.Add(1)
			}
			return nil
		})
	}

	var backups []string
	var sums []sqlite.BackupSummary
	for i := range 3 {
		// Wait for a few more batches, so each backup cuts the history at
		// a different place.
		for start := appended.Load(); appended.Load() < start+5; {
			require.NoError(t, gctx.Err(), "a writer failed")
			time.Sleep(time.Millisecond)
		}
		b := filepath.Join(dir, fmt.Sprintf("backup-%d.db", i))
		sum, err := src.Backup(ctx, b)
		require.NoError(t, err)
		backups = append(backups, b)
		sums = append(sums, sum)
	}
	stop()
	require.NoError(t, g.Wait())

	all, err := src.ReadAll(ctx, eventstore.Position{}, 0)
	require.NoError(t, err)
	for i, b := range backups {
		sum := sums[i]
		assert.Equal(t, b, sum.Path)
		h := readFile(t, b)
		assert.Equal(t, uint32(sqlite.ApplicationID), binary.BigEndian.Uint32(h[68:72]), "application_id")
		assert.Equal(t, uint32(4), binary.BigEndian.Uint32(h[60:64]), "user_version, the schema version")
		assert.Equal(t, []byte{1, 1}, h[18:20], "a backup is one self-contained file, in rollback-journal mode")
		assert.EqualValues(t, len(h), sum.Bytes)

		copied := mustOpen(t, b, sqlite.Options{ReadOnly: true})
		got, err := copied.ReadAll(ctx, eventstore.Position{}, 0)
		require.NoError(t, err)
		require.Less(t, int64(20), sum.Events)
		require.EqualValues(t, sum.Events, len(got))
		require.LessOrEqual(t, len(got), len(all))
		assert.Equal(t, all[:len(got)], got, "backup %d holds exactly the source's first %d events", i, len(got))
		var last eventstore.Record
		for _, r := range got {
			if r.RecordedAt.After(last.RecordedAt) {
				last = r
			}
		}
		assert.True(t, last.RecordedAt.Equal(sum.LastRecordedAt), "LastRecordedAt")
		infos, err := copied.Streams(ctx)
		require.NoError(t, err)
		assert.Len(t, infos, sum.Streams)
		for _, info := range infos {
			n, head, err := eventstore.VerifyStream(ctx, copied, info.Stream)
			require.NoError(t, err)
			assert.Equal(t, info.Events, n)
			assert.Equal(t, info.LastHash, head)
		}
		if i > 0 {
			assert.GreaterOrEqual(t, sum.Events, sums[i-1].Events, "later backups hold more")
		}
	}
	assert.Less(t, sums[0].Events, int64(len(all)), "the first backup was taken while writes went on")

	// Restoring is opening the backup for writing: it becomes a WAL ledger
	// that takes appends on its chains.
	restored := mustOpen(t, backups[0], sqlite.Options{})
	_, err = restored.Append(ctx, "instrument-A", eventstore.Any, newEvents(1))
	require.NoError(t, err)
	n, _, err := eventstore.VerifyStream(ctx, restored, "instrument-A")
	require.NoError(t, err)
	assert.Positive(t, n)
	assert.Equal(t, []byte{2, 2}, readFile(t, backups[0])[18:20], "WAL mode once opened for writing")
}

// TestBackupRefuses: a backup never replaces a file, never lands beside a
// journal or write-ahead log SQLite would replay into it, and leaves
// nothing behind when it fails.
func TestBackupRefuses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := mustOpen(t, filepath.Join(dir, "ledger.db"), sqlite.Options{})
	_, err := src.Append(ctx, "instrument-A", eventstore.NoStream, newEvents(3))
	require.NoError(t, err)

	for _, tc := range []struct {
		name, file, present, want string
		exist                     bool
	}{
		{"an existing file", "b1.db", "b1.db", "already exists", true},
		{"the ledger itself", "ledger.db", "", "already exists", true},
		{"a leftover write-ahead log", "b2.db", "b2.db-wal", "b2.db-wal is left over", true},
		{"a leftover journal", "b3.db", "b3.db-journal", "b3.db-journal is left over", true},
		{"a missing directory", filepath.Join("nowhere", "b4.db"), "", "directory", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.present != "" {
				require.NoError(t, os.WriteFile(filepath.Join(dir, tc.present), []byte("keep me"), 0o600))
			}
			before := dirEntries(t, dir)
			_, err := src.Backup(ctx, filepath.Join(dir, tc.file))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Equal(t, tc.exist, errors.Is(err, fs.ErrExist))
			assert.Equal(t, before, dirEntries(t, dir), "nothing created or removed")
			if tc.present != "" {
				assert.Equal(t, "keep me", string(readFile(t, filepath.Join(dir, tc.present))))
			}
		})
	}

	t.Run("a cancelled context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		before := dirEntries(t, dir)
		_, err := src.Backup(cctx, filepath.Join(dir, "b5.db"))
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, before, dirEntries(t, dir), "no temporary file left")
	})
}

// TestBackupOfReadOnlyStore: reading commands open the ledger read-only,
// and so does the backup command.
func TestBackupOfReadOnlyStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "ledger.db")
	w := mustOpen(t, path, sqlite.Options{})
	_, err := w.Append(ctx, "instrument-A", eventstore.NoStream, newEvents(4))
	require.NoError(t, err)
	_, err = w.Append(ctx, "instrument-B", eventstore.NoStream, newEvents(2))
	require.NoError(t, err)

	r := mustOpen(t, path, sqlite.Options{ReadOnly: true})
	sum, err := r.Backup(ctx, filepath.Join(dir, "backup.db"))
	require.NoError(t, err)
	assert.EqualValues(t, 6, sum.Events)
	assert.Equal(t, 2, sum.Streams)
	assertLedgerFile(t, sum.Path)
	for _, name := range dirEntries(t, dir) {
		assert.Contains(t, []string{"backup.db", "ledger.db", "ledger.db-shm", "ledger.db-wal"}, name,
			"a backup leaves no temporary file, journal or index beside it")
	}
}
