package test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
)

// backupLine is the summary `consensus backup` prints.
var backupLine = regexp.MustCompile(`^backed up ([0-9]+) events in ([0-9]+) streams \(([0-9]+) bytes\) to (\S+), the ledger as known at (\S+)\n$`)

// backupInstruments are written to by the writers of TestBackupWhileProcessesWrite:
// one each, and BKSHARED by all of them, so that processes also race on one
// stream.
var backupInstruments = []string{"BK0", "BK1", "BK2", "BKSHARED"}

// TestBackupWhileProcessesWrite takes backups while three writer processes
// at a time keep recording ratings and closes. Every backup must verify;
// its events must be exactly the source's first ones, in store order and
// in each stream's log; and each instrument's consensus read from the
// backup must be the source's as known at the backup's last recorded time.
func TestBackupWhileProcessesWrite(t *testing.T) {
	skipShort(t, "many processes writing at once")
	t.Parallel()
	c := newCLI(t)
	store := demoStore(t, c)
	// Every instrument exists before the first backup, so every backup can
	// answer for every instrument.
	for _, sym := range backupInstruments {
		c.ok(t, "close", sym, "--price", "100", "--currency", "USD", "--at", "2025-01-02", "--store", store)
	}

	w := startBackupWriters(c, store, 3)
	dir := t.TempDir()
	var backups []string
	for i := range 3 {
		require.NoError(t, w.waitFor(10*(i+1), 2*time.Minute), "the writers must keep writing")
		b := filepath.Join(dir, fmt.Sprintf("backup-%d.db", i))
		r := c.ok(t, "backup", b, "--store", store)
		m := backupLine.FindStringSubmatch(r.stdout)
		require.NotNil(t, m, "backup summary: %q", r.stdout)
		assert.Equal(t, b, m[4])
		assert.Equal(t, backupKnownAt(t, c, b), m[5], "the summary gives the backup's last recorded time")
		backups = append(backups, b)
	}
	written := w.stop()
	require.NoError(t, w.err())
	t.Logf("%d writes by other processes while 3 backups were taken", written)

	all := backupReadAll(t, store)
	var previous int
	for i, b := range backups {
		assert.Regexp(t, `^ok: [0-9]+ events in 6 streams\nchain version 1: 0 events, chain version 2: [0-9]+ events\n$`, c.ok(t, "verify", "--store", b).stdout, "backup %d verifies", i)

		got := backupReadAll(t, b)
		require.LessOrEqual(t, len(got), len(all))
		assert.Equal(t, all[:len(got)], got, "backup %d holds exactly the source's first %d events, in store order", i, len(got))
		assert.GreaterOrEqual(t, len(got), previous, "a later backup holds no fewer events")
		previous = len(got)

		// The writers never retract, so an event's retracted_by is the same
		// in the backup and in the source, and each log is an exact prefix.
		for _, sym := range append([]string{"BABA", "9988.HK"}, backupInstruments...) {
			fromBackup, fromSource := logJSON(t, c, b, sym), logJSON(t, c, store, sym)
			require.LessOrEqual(t, len(fromBackup), len(fromSource), "%s in backup %d", sym, i)
			assert.Equal(t, fromSource[:len(fromBackup)], fromBackup, "%s in backup %d is a prefix of the source's log", sym, i)
		}

		known := backupKnownAt(t, c, b)
		for _, sym := range append([]string{"BABA", "9988.HK"}, backupInstruments...) {
			flags := []string{"--as-of", "2025-12-31", "--window", "0d"}
			fromBackup := showJSON(t, c, b, sym, flags...)
			fromSource := showJSON(t, c, store, sym, append(flags, "--known-at", known)...)
			delete(fromBackup, "known_at")
			delete(fromSource, "known_at")
			assert.Equal(t, fromSource, fromBackup, "%s in backup %d is the source's consensus as known at %s", sym, i, known)
		}
	}
	assert.Less(t, len(backupReadAll(t, backups[0])), len(all), "the first backup was taken while writes went on")
}

// TestBackupRestores: a backup is used as a store as it is, and the
// documented restore (stop every writer, move the ledger and its -wal and
// -shm away, move the backup in its place) gives back the ledger as it was
// backed up, which then takes new events.
func TestBackupRestores(t *testing.T) {
	skipShort(t, "over 2 s (3 s in a full run on the loaded 2-core machine)")
	t.Parallel()
	c := newCLI(t)
	store := demoStore(t, c)
	b := filepath.Join(t.TempDir(), "backup.db")
	c.ok(t, "backup", b, "--store", store)
	before := snapshot(t, c, store)
	assert.Equal(t, before, snapshot(t, c, b), "the backup answers as the ledger")

	c.ok(t, "close", "BABA", "--price", "150", "--currency", "USD", "--at", "2025-09-15", "--store", store)
	moved := filepath.Join(t.TempDir(), "damaged")
	require.NoError(t, os.Mkdir(moved, 0o755))
	for _, suffix := range []string{"", "-wal", "-shm"} {
		err := os.Rename(store+suffix, filepath.Join(moved, filepath.Base(store)+suffix))
		if !errors.Is(err, os.ErrNotExist) {
			require.NoError(t, err)
		}
	}
	require.NoError(t, os.Rename(b, store))
	assert.Equal(t, before, snapshot(t, c, store), "the restored ledger is the one backed up")
	c.ok(t, "close", "BABA", "--price", "151", "--currency", "USD", "--at", "2025-09-15", "--store", store)
	assert.Contains(t, c.ok(t, "verify", "--store", store).stdout, "ok: 69 events in 2 streams")
}

// TestBackupRefusals: a backup never replaces a file, needs an embedded
// store that exists, and leaves a server's backups to the server.
func TestBackupRefusals(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	store := demoStore(t, c)
	existing := filepath.Join(t.TempDir(), "existing.db")
	require.NoError(t, os.WriteFile(existing, []byte("keep me"), 0o600))

	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"an existing file", []string{"backup", existing, "--store", store}, refused, []string{"the backup file " + existing + " already exists and is never replaced; choose a new name."}},
		{"the ledger itself", []string{"backup", store, "--store", store}, refused, []string{"the backup file " + store + " is the ledger's store " + store + ", which no command overwrites; choose another name."}},
		{"a missing directory", []string{"backup", filepath.Join(t.TempDir(), "no", "b.db"), "--store", store}, refused, []string{"directory", "does not exist"}},
		{"no ledger", []string{"backup", filepath.Join(t.TempDir(), "b.db"), "--store", newStore(t)}, refused, []string{"no ledger at"}},
		{"a server store", []string{"backup", filepath.Join(t.TempDir(), "b.db"), "--store", "esdb://admin:secret@127.0.0.1:1?tls=false"}, refused, []string{"server's own tools", "consensus copy"}},
		{"a server as the file", []string{"backup", "esdb://127.0.0.1:1", "--store", store}, refused, []string{"not a file path"}},
		{"no file", []string{"backup", "--store", store}, usage, []string{"missing FILE"}},
		{"two files", []string{"backup", "a.db", "b.db", "--store", store}, usage, []string{"one FILE"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.run(t, tc.args...)
			assert.Equal(t, tc.code, r.code, "stderr: %s", r.stderr)
			assert.Empty(t, r.stdout)
			assertOneCleanLine(t, r.stderr)
			assert.NotContains(t, r.stderr, "secret", "the password is never shown")
			for _, w := range tc.want {
				assert.Contains(t, r.stderr, w)
			}
		})
	}
	b, err := os.ReadFile(existing)
	require.NoError(t, err)
	assert.Equal(t, "keep me", string(b))
}

// backupWriters runs writer processes in a loop until stopped.
type backupWriters struct {
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	written atomic.Int64
	mu      sync.Mutex
	failed  error
}

// startBackupWriters starts n goroutines, each running one `rate` or
// `close` process after another against store.
func startBackupWriters(c *cli, store string, n int) *backupWriters {
	ctx, cancel := context.WithCancel(context.Background())
	w := &backupWriters{cancel: cancel}
	ratings := []string{"buy", "hold", "sell", "strong_buy", "outperform"}
	for g := range n {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				at := time.Date(2025, 1, 3, 0, 0, 0, 0, time.UTC).AddDate(0, 0, (g*97+i)%360).Format(time.DateOnly)
				args := []string{"close", "BKSHARED", "--price", fmt.Sprintf("%d.%02d", 90+i%20, g), "--currency", "USD", "--at", at}
				if i%3 != 0 {
					args = []string{"rate", backupInstruments[g%3], "--analyst", fmt.Sprintf("a%d@firm-%d", i%7, g),
						"--rating", ratings[i%len(ratings)], "--target", fmt.Sprintf("%d.5", 100+i%50), "--currency", "USD", "--at", at}
				}
				cmd, stdout, stderr := c.command(append(args, "--store", store)...)
				if err := cmd.Run(); err != nil {
					w.fail(fmt.Errorf("consensus %s: %w (stdout %q, stderr %q)", strings.Join(args, " "), err, stdout, stderr))
					return
				}
				w.written.Add(1)
			}
		}()
	}
	return w
}

func (w *backupWriters) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failed == nil {
		w.failed = err
	}
	w.cancel()
}

func (w *backupWriters) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failed
}

// waitFor waits until the writers have written at least n events in all.
func (w *backupWriters) waitFor(n int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for w.written.Load() < int64(n) {
		if err := w.err(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d writes in %s", w.written.Load(), limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// stop ends the writers and returns how many writes succeeded. A process
// still running is let finish (the writers only stop between processes),
// so that the source's log is final when stop returns.
func (w *backupWriters) stop() int64 {
	w.cancel()
	w.wg.Wait()
	return w.written.Load()
}

// backupReadAll reads every record of the ledger at path in store order,
// through the store itself, read-only.
func backupReadAll(t *testing.T, path string) []eventstore.Record {
	t.Helper()
	s, err := sqlite.Open(path, sqlite.Options{ReadOnly: true})
	require.NoError(t, err)
	defer func() { assert.NoError(t, s.Close()) }()
	recs, err := s.ReadAll(context.Background(), eventstore.Position{}, 0)
	require.NoError(t, err)
	return recs
}

// backupKnownAt is the latest recorded time in the ledger at path, as
// `instruments --json` lists it.
func backupKnownAt(t *testing.T, c *cli, path string) string {
	t.Helper()
	var latest time.Time
	var text string
	for _, in := range array(t, c.ok(t, "instruments", "--json", "--store", path).stdout) {
		s, _ := in["last_recorded_at"].(string)
		at, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err, "last_recorded_at %q", s)
		if at.After(latest) {
			latest, text = at, s
		}
	}
	require.NotEmpty(t, text)
	return text
}

// TestBackupPastFileSizeLimit takes a backup under a file-size limit
// (RLIMIT_FSIZE, set by prlimit(1)) smaller than the ledger, as a full
// backup disk would refuse it: one clear line, and no file left behind, not
// even the temporary copy. The ledger itself is untouched. The limit stays
// above the 32 KiB shared-memory index that reading the ledger needs.
func TestBackupPastFileSizeLimit(t *testing.T) {
	skipShort(t, "fills a disk or a file-size limit")
	t.Parallel()
	skipWithoutPrlimit(t)
	c := newCLI(t)
	store := demoStore(t, c)
	before := snapshot(t, c, store)
	dir := t.TempDir()
	r := runUnderFileSizeLimit(t, c, 50000, "backup", filepath.Join(dir, "backup.db"), "--store", store)
	assert.Equal(t, refused, r.code, "stdout: %s", r.stdout)
	assertOneCleanLine(t, r.stderr)
	assert.Contains(t, r.stderr, "the backup could not be written")
	assert.Empty(t, dirEntries(t, dir), "nothing is left of a failed backup")
	assert.Equal(t, before, snapshot(t, c, store))
	assert.Contains(t, c.ok(t, "verify", "--store", store).stdout, "ok: 68 events")
}
