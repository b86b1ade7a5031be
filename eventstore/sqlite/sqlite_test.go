package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/eventstore/storetest"
)

// TestConformance runs the store's contract on a plain store and on one
// opened for bulk writes, whose events wait past the id index's mark until
// it merges them: replays, refused ids, versions and reads by id must not
// tell the difference.
func TestConformance(t *testing.T) {
	for name, opts := range map[string]sqlite.Options{"plain": {}, "bulk": {BulkWrites: true}} {
		t.Run(name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) eventstore.Store {
				return mustOpen(t, filepath.Join(t.TempDir(), "ledger.db"), opts)
			})
		})
	}
}

// mustOpen opens a store that is closed, and checked, when the test ends.
func mustOpen(tb testing.TB, path string, opts sqlite.Options) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(path, opts)
	require.NoError(tb, err)
	tb.Cleanup(func() {
		assert.NoError(tb, s.Close())
		if !opts.ReadOnly {
			assertLedgerFile(tb, path)
		}
	})
	return s
}

// assertLedgerFile checks, with the file closed, that its header marks it as
// a ledger: the application id must be in the main file, not only in a WAL.
func assertLedgerFile(tb testing.TB, path string) {
	tb.Helper()
	h := readFile(tb, path)
	if assert.GreaterOrEqual(tb, len(h), 100, "ledger file shorter than a SQLite header") {
		assert.Equal(tb, "SQLite format 3\x00", string(h[:16]))
		assert.Equal(tb, uint32(sqlite.ApplicationID), binary.BigEndian.Uint32(h[68:72]), "application_id")
	}
}

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	require.NoError(tb, err)
	return b
}

// rawDB opens the file directly with the driver, as another tool would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, db.Close()) })
	return db
}

var effective = time.Date(2025, 9, 11, 23, 59, 59, 999999999, time.UTC)

func newEvent(n int) eventstore.EventData {
	return eventstore.EventData{
		ID:          uuid.New(),
		Type:        "TestEvent",
		Data:        []byte(fmt.Sprintf(`{"n":%d}`, n)),
		Metadata:    []byte(`{"source":"sqlite_test"}`),
		EffectiveAt: effective,
	}
}

func newEvents(n int) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		out[i] = newEvent(i)
	}
	return out
}

// dirEntries lists a directory's names, to prove Open created nothing.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestOpenMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "no-such-dir")
	for _, ro := range []bool{false, true} {
		_, err := sqlite.Open(filepath.Join(dir, "ledger.db"), sqlite.Options{ReadOnly: ro})
		require.Error(t, err)
		assert.ErrorIs(t, err, fs.ErrNotExist)
		assert.Contains(t, err.Error(), dir, "the error names the directory")
		assert.NoDirExists(t, dir, "Open created the directory")
	}
}

func TestOpenPathIsFileAsDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	_, err := sqlite.Open(filepath.Join(file, "ledger.db"), sqlite.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), file)
	assert.Equal(t, []byte("x"), readFile(t, file))
}

func TestOpenRefusesForeignFiles(t *testing.T) {
	foreignDB := func(t *testing.T, path string, setup ...string) {
		db, err := sql.Open("sqlite", path)
		require.NoError(t, err)
		defer func() { require.NoError(t, db.Close()) }()
		for _, q := range setup {
			_, err := db.Exec(q)
			require.NoError(t, err, q)
		}
	}
	cases := []struct {
		name  string
		write func(t *testing.T, path string)
	}{
		{"TextFile", func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, []byte("instrument,analyst,rating\nBABA,j.smith,buy\n"), 0o644))
		}},
		{"BinaryFile", func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, []byte{0xff, 0xfe, 0, 1, 2}, 0o644))
		}},
		{"SQLiteMagicOnly", func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, []byte("SQLite format 3\x00\x10\x00"), 0o644))
		}},
		{"ForeignSQLite", func(t *testing.T, path string) {
			foreignDB(t, path, "CREATE TABLE notes (body TEXT)", "INSERT INTO notes VALUES ('keep me')")
		}},
		{"ForeignSQLiteWAL", func(t *testing.T, path string) {
			foreignDB(t, path, "PRAGMA journal_mode = WAL", "CREATE TABLE events (x)", "INSERT INTO events VALUES (1)")
		}},
		{"OtherApplicationID", func(t *testing.T, path string) {
			foreignDB(t, path, "PRAGMA application_id = 1234", "CREATE TABLE t (x)")
		}},
		{"EmptySQLiteDatabase", func(t *testing.T, path string) {
			foreignDB(t, path, "PRAGMA user_version = 7")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "ledger.db")
			tc.write(t, path)
			before := readFile(t, path)
			entries := dirEntries(t, dir)
			for _, ro := range []bool{false, true} {
				s, err := sqlite.Open(path, sqlite.Options{ReadOnly: ro})
				if s != nil {
					require.NoError(t, s.Close())
				}
				require.ErrorIs(t, err, eventstore.ErrNotLedger, "read-only %t", ro)
				assert.Contains(t, err.Error(), path)
			}
			assert.Equal(t, before, readFile(t, path), "Open modified the file")
			assert.Equal(t, entries, dirEntries(t, dir), "Open created files beside it")
		})
	}

	t.Run("Directory", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ledger.db")
		require.NoError(t, os.Mkdir(path, 0o755))
		_, err := sqlite.Open(path, sqlite.Options{})
		assert.ErrorIs(t, err, eventstore.ErrNotLedger)
	})
}

func TestOpenReadOnlyMissingFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ledger.db")
	_, err := sqlite.Open(path, sqlite.Options{ReadOnly: true})
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.Contains(t, err.Error(), path)
	assert.NoFileExists(t, path)
	assert.Empty(t, dirEntries(t, dir))
}

func TestOpenEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	require.NoError(t, os.WriteFile(path, nil, 0o644))

	// A writer stopped before the schema landed leaves an empty file: to a
	// reader it holds no ledger yet, as a missing file.
	_, err := sqlite.Open(path, sqlite.Options{ReadOnly: true})
	assert.ErrorIs(t, err, fs.ErrNotExist, "read-only cannot initialise")
	assert.Empty(t, readFile(t, path))

	s := mustOpen(t, path, sqlite.Options{})
	_, err = s.Append(context.Background(), "s", eventstore.NoStream, newEvents(1))
	require.NoError(t, err)
}

// TestOpenReadOnlyDuringCreation: a rollback journal beside the file is
// left by a creation cut short (a ledger runs in WAL mode afterwards); a
// reader sees no ledger yet, and a writer rolls it back and goes on.
func TestOpenReadOnlyDuringCreation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	s := mustOpen(t, path, sqlite.Options{})
	require.NoError(t, s.Close())
	require.NoError(t, os.WriteFile(path+"-journal", []byte("a hot journal"), 0o644))

	_, err := sqlite.Open(path, sqlite.Options{ReadOnly: true})
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.ErrorContains(t, err, "was being created when its writer stopped")
}

func TestOpenRefusesLeftoverWAL(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ledger.db")
	// A ledger whose main file was deleted while its WAL still held data.
	s, err := sqlite.Open(path, sqlite.Options{})
	require.NoError(t, err)
	db := rawDB(t, path) // keeps the WAL from being checkpointed when s closes
	_, err = s.Append(context.Background(), "s", eventstore.NoStream, newEvents(1))
	require.NoError(t, err)
	wal := readFile(t, path+"-wal")
	require.NotEmpty(t, wal)
	require.NoError(t, s.Close())
	require.NoError(t, db.Close())
	require.NoError(t, os.Remove(path))
	require.NoError(t, os.WriteFile(path+"-wal", wal, 0o644))

	_, err = sqlite.Open(path, sqlite.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ledger.db-wal")
	assert.NoFileExists(t, path)
	assert.Equal(t, wal, readFile(t, path+"-wal"))
}

func TestOpenPathWithURICharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my ledgers #1")
	require.NoError(t, os.Mkdir(dir, 0o755))
	path := filepath.Join(dir, "a?b=c&d%20e.db")
	s := mustOpen(t, path, sqlite.Options{})
	_, err := s.Append(context.Background(), "s", eventstore.NoStream, newEvents(1))
	require.NoError(t, err)
	assert.FileExists(t, path)
	assert.Equal(t, path, s.Path())
}

func TestOpenRelativePath(t *testing.T) {
	t.Chdir(t.TempDir())
	s := mustOpen(t, "ledger.db", sqlite.Options{})
	_, err := s.Append(context.Background(), "s", eventstore.NoStream, newEvents(1))
	require.NoError(t, err)
	assert.FileExists(t, "ledger.db")
}

func TestReopenPreservesData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	s, err := sqlite.Open(path, sqlite.Options{})
	require.NoError(t, err)
	res, err := s.Append(ctx, "s", eventstore.NoStream, newEvents(3))
	require.NoError(t, err)
	require.NoError(t, s.Close())
	assertLedgerFile(t, path)

	// Reopening, read-write then read-only, migrates nothing and loses nothing.
	for i := 0; i < 3; i++ {
		for _, ro := range []bool{false, true} {
			s, err := sqlite.Open(path, sqlite.Options{ReadOnly: ro})
			require.NoError(t, err, "reopen %d read-only %t", i, ro)
			recs, err := s.ReadStream(ctx, "s", 0, 0)
			require.NoError(t, err)
			assert.Equal(t, res.Records, recs)
			require.NoError(t, s.Close())
		}
	}

	db := rawDB(t, path)
	var version, appID int64
	require.NoError(t, db.QueryRow("PRAGMA user_version").Scan(&version))
	require.NoError(t, db.QueryRow("PRAGMA application_id").Scan(&appID))
	assert.EqualValues(t, 4, version, "user_version")
	assert.EqualValues(t, sqlite.ApplicationID, appID)
	var mode string
	require.NoError(t, db.QueryRow("PRAGMA journal_mode").Scan(&mode))
	assert.Equal(t, "wal", mode)
	var pageSize int
	require.NoError(t, db.QueryRow("PRAGMA page_size").Scan(&pageSize))
	assert.Equal(t, 8192, pageSize, "a new ledger's pages (bulk imports write fewer of them)")
	var tables int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'table'`).Scan(&tables))
	assert.Equal(t, 5, tables, "tables: events, streams, snapshots, event_ids, event_ids_through")
}

func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	s, err := sqlite.Open(path, sqlite.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	db := rawDB(t, path)
	_, err = db.Exec("PRAGMA user_version = 99")
	require.NoError(t, err)
	for _, ro := range []bool{false, true} {
		_, err = sqlite.Open(path, sqlite.Options{ReadOnly: ro})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "newer")
	}
}

func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	w := mustOpen(t, path, sqlite.Options{})
	_, err := w.Append(ctx, "s", eventstore.NoStream, newEvents(2))
	require.NoError(t, err)

	r := mustOpen(t, path, sqlite.Options{ReadOnly: true})
	_, err = r.Append(ctx, "s", eventstore.Any, newEvents(1))
	assert.ErrorIs(t, err, eventstore.ErrReadOnly)
	recs, err := r.ReadStream(ctx, "s", 0, 0)
	require.NoError(t, err)
	assert.Len(t, recs, 2)

	// A reader sees what a writer commits after it opened.
	_, err = w.Append(ctx, "s", 1, newEvents(1))
	require.NoError(t, err)
	recs, err = r.ReadStream(ctx, "s", 0, 0)
	require.NoError(t, err)
	assert.Len(t, recs, 3)
	infos, err := r.Streams(ctx)
	require.NoError(t, err)
	require.Len(t, infos, 1)
	assert.EqualValues(t, 3, infos[0].Events)
}

func TestReadsDoNotWaitForWriter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	s := mustOpen(t, path, sqlite.Options{})
	_, err := s.Append(ctx, "s", eventstore.NoStream, newEvents(1))
	require.NoError(t, err)

	// Another process holds the write lock.
	db := rawDB(t, path)
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	defer func() { require.NoError(t, conn.Close()) }()
	_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, "UPDATE streams SET events = events")
	require.NoError(t, err)

	start := time.Now()
	recs, err := s.ReadStream(ctx, "s", 0, 0)
	require.NoError(t, err)
	assert.Len(t, recs, 1)
	assert.Less(t, time.Since(start), time.Second, "a read waited for the writer")

	// A writer waits, and gives up when its context ends, long before the
	// busy timeout.
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = s.Append(short, "s", 0, newEvents(1))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)

	_, err = conn.ExecContext(ctx, "ROLLBACK")
	require.NoError(t, err)
	_, err = s.Append(ctx, "s", 0, newEvents(1))
	assert.NoError(t, err, "the store recovers once the lock is released")
}

func TestAppendRejectsWhatItCannotStore(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "ledger.db"), sqlite.Options{})
	far := newEvent(0)
	far.EffectiveAt = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err := s.Append(ctx, "s", eventstore.Any, []eventstore.EventData{far})
	assert.ErrorIs(t, err, eventstore.ErrInvalidEvent)

	_, err = s.Append(ctx, "", eventstore.Any, newEvents(1))
	assert.ErrorIs(t, err, eventstore.ErrInvalidEvent, "empty stream name")

	_, err = s.Append(ctx, "s", -3, newEvents(1))
	assert.ErrorIs(t, err, eventstore.ErrWrongVersion)

	recs, err := s.ReadAll(ctx, eventstore.Position{}, 0)
	require.NoError(t, err)
	assert.Empty(t, recs)
}

func TestErrorMessages(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "ledger.db"), sqlite.Options{})
	evs := newEvents(2)
	_, err := s.Append(ctx, "instrument-BABA", eventstore.NoStream, evs)
	require.NoError(t, err)

	_, err = s.Append(ctx, "instrument-BABA", 0, newEvents(1))
	require.ErrorIs(t, err, eventstore.ErrWrongVersion)
	assert.Contains(t, err.Error(), "append to instrument-BABA")
	assert.Contains(t, err.Error(), "expected version 0")
	assert.Contains(t, err.Error(), "at version 1")

	changed := evs[1]
	changed.Data = []byte(`{"changed":true}`)
	_, err = s.Append(ctx, "instrument-BABA", eventstore.Any, []eventstore.EventData{changed})
	require.ErrorIs(t, err, eventstore.ErrDuplicateID)
	assert.Contains(t, err.Error(), changed.ID.String())

	_, err = s.Append(ctx, "instrument-9988.HK", eventstore.Any, evs[:1])
	require.ErrorIs(t, err, eventstore.ErrDuplicateID)
	assert.Contains(t, err.Error(), "instrument-BABA", "names the stream holding the id")
}

func TestRecordedAtFromClock(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 11, 24, 12, 0, 0, 123456789, time.FixedZone("CET", 3600))
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	set := func(t time.Time) {
		mu.Lock()
		defer mu.Unlock()
		now = t
	}
	s := mustOpen(t, filepath.Join(t.TempDir(), "ledger.db"), sqlite.Options{Now: clock})
	want := time.Date(2026, 11, 24, 11, 0, 0, 123456000, time.UTC)

	res, err := s.Append(ctx, "a", eventstore.NoStream, newEvents(2))
	require.NoError(t, err)
	for _, r := range res.Records {
		assert.Equal(t, want, r.RecordedAt, "truncated to microseconds, in UTC")
	}

	// The clock steps back by less than eventstore.MaxClockLead: stream a
	// keeps its order, a new stream b takes the clock as it is.
	earlier := time.Date(2026, 11, 24, 10, 59, 30, 999, time.UTC)
	set(earlier)
	res, err = s.Append(ctx, "a", 1, newEvents(1))
	require.NoError(t, err)
	assert.Equal(t, want, res.Records[0].RecordedAt, "recorded_at went backwards in a stream")
	res, err = s.Append(ctx, "b", eventstore.NoStream, newEvents(1))
	require.NoError(t, err)
	assert.Equal(t, earlier.Truncate(time.Microsecond), res.Records[0].RecordedAt)

	// The clock steps back an hour: appending to a would hide the new
	// event behind a's last recorded time for that hour, so it is refused,
	// naming both times; stream b, recorded before, still takes appends.
	set(time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC))
	_, err = s.Append(ctx, "a", 2, newEvents(1))
	require.ErrorIs(t, err, eventstore.ErrClockBehind)
	assert.Equal(t, "append to a: the stream's last event was recorded at 2026-11-24T11:00:00.123456Z, more than a minute ahead of "+
		"this machine's clock (2026-11-24T10:00:00Z); nothing was written, since new events would stay hidden until then: "+
		"correct whichever clock is wrong", err.Error())

	// The clock moves on.
	later := want.Add(time.Minute + 7*time.Nanosecond)
	set(later)
	res, err = s.Append(ctx, "a", 2, newEvents(1))
	require.NoError(t, err)
	assert.Equal(t, later.Truncate(time.Microsecond), res.Records[0].RecordedAt)

	recs, err := s.ReadStream(ctx, "a", 0, 0)
	require.NoError(t, err)
	require.Len(t, recs, 4)
	for i, r := range recs {
		assert.Zero(t, r.RecordedAt.Nanosecond()%1000, "record %d kept sub-microsecond digits", i)
	}
	n, _, err := eventstore.VerifyStream(ctx, s, "a")
	require.NoError(t, err)
	assert.EqualValues(t, 4, n)

	infos, err := s.Streams(ctx)
	require.NoError(t, err)
	require.Len(t, infos, 2)
	assert.Equal(t, later.Truncate(time.Microsecond), infos[0].LastRecordedAt)

	// A clock the store cannot represent is an error, not a wrong time.
	set(time.Time{})
	_, err = s.Append(ctx, "a", eventstore.Any, newEvents(1))
	assert.Error(t, err)
}

// TestTwoStoresOneFile plays two processes writing one ledger: two *Store on
// the same file, each with several goroutines racing for the head of one
// stream. Every version must be won exactly once, across both.
func TestTwoStoresOneFile(t *testing.T) {
	const perStore, goroutines, perGoroutine = 2, 3, 10
	path := filepath.Join(t.TempDir(), "ledger.db")
	stores := make([]*sqlite.Store, perStore)
	for i := range stores {
		stores[i] = mustOpen(t, path, sqlite.Options{})
	}
	const stream = "instrument-BABA"
	won := make([][]int64, perStore*goroutines)
	g, ctx := errgroup.WithContext(context.Background())
	for w := range won {
		s := stores[w%perStore]
		g.Go(func() error {
			for i := 0; i < perGoroutine; i++ {
				e := newEvent(w*100 + i)
				for {
					infos, err := s.Streams(ctx)
					if err != nil {
						return err
					}
					expected := eventstore.NoStream
					if len(infos) == 1 {
						expected = eventstore.Version(infos[0].Version)
					}
					res, err := s.Append(ctx, stream, expected, []eventstore.EventData{e})
					if errors.Is(err, eventstore.ErrWrongVersion) {
						continue
					}
					if err != nil {
						return fmt.Errorf("writer %d: %w", w, err)
					}
					if res.Replayed {
						return fmt.Errorf("writer %d: unexpected replay", w)
					}
					won[w] = append(won[w], res.Records[0].Version)
					break
				}
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())

	total := perStore * goroutines * perGoroutine
	winners := map[int64]int{}
	for _, vs := range won {
		for _, v := range vs {
			winners[v]++
		}
	}
	assert.Len(t, winners, total)
	for v := int64(0); v < int64(total); v++ {
		assert.Equal(t, 1, winners[v], "winners of version %d", v)
	}
	for _, s := range stores {
		n, _, err := eventstore.VerifyStream(context.Background(), s, stream)
		require.NoError(t, err)
		assert.EqualValues(t, total, n)
	}
}

// tampered writes five events, lets tamper change the file behind the
// store's back, and returns what VerifyStream then reports.
func tampered(t *testing.T, tamper func(db *sql.DB, recs []eventstore.Record)) ([]eventstore.Record, error) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	s := mustOpen(t, path, sqlite.Options{})
	res, err := s.Append(ctx, "s", eventstore.NoStream, newEvents(5))
	require.NoError(t, err)
	n, _, err := eventstore.VerifyStream(ctx, s, "s")
	require.NoError(t, err)
	require.EqualValues(t, 5, n)

	tamper(rawDB(t, path), res.Records)
	_, _, err = eventstore.VerifyStream(ctx, s, "s")
	return res.Records, err
}

func TestTamperedDataIsDetected(t *testing.T) {
	recs, err := tampered(t, func(db *sql.DB, recs []eventstore.Record) {
		out, err := db.Exec("UPDATE events SET data = ? WHERE id = ?", []byte(`{"n":99}`), recs[2].ID[:])
		require.NoError(t, err)
		n, err := out.RowsAffected()
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
	})
	var ce *eventstore.ChainError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, recs[2].ID, ce.Record.ID)
	assert.EqualValues(t, 2, ce.Version)
	assert.Contains(t, err.Error(), recs[2].ID.String())
}

func TestTamperedRecordedAtIsDetected(t *testing.T) {
	recs, err := tampered(t, func(db *sql.DB, recs []eventstore.Record) {
		_, err := db.Exec("UPDATE events SET recorded_at = recorded_at + 1000 WHERE id = ?", recs[4].ID[:])
		require.NoError(t, err)
	})
	var ce *eventstore.ChainError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, recs[4].ID, ce.Record.ID)
}

func TestDeletedEventIsDetected(t *testing.T) {
	recs, err := tampered(t, func(db *sql.DB, recs []eventstore.Record) {
		_, err := db.Exec("DELETE FROM events WHERE id = ?", recs[2].ID[:])
		require.NoError(t, err)
	})
	var ce *eventstore.ChainError
	require.ErrorAs(t, err, &ce)
	assert.EqualValues(t, 2, ce.Version, "the missing version")
	assert.Equal(t, recs[3].ID, ce.Record.ID, "the first record after the gap")
}

func TestDamagedRowIsAnErrorNotAPanic(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	s := mustOpen(t, path, sqlite.Options{})
	res, err := s.Append(ctx, "s", eventstore.NoStream, newEvents(2))
	require.NoError(t, err)
	// Defeat the CHECK constraints as a hostile tool could.
	db := rawDB(t, path)
	_, err = db.Exec("PRAGMA ignore_check_constraints = ON")
	require.NoError(t, err)
	_, err = db.Exec("UPDATE events SET hash = x'00' WHERE id = ?", res.Records[1].ID[:])
	require.NoError(t, err)
	_, err = s.ReadStream(ctx, "s", 0, 0)
	assert.ErrorContains(t, err, "damaged")
	_, err = s.ReadStreamEvents(ctx, "s", 0, 0)
	assert.NoError(t, err, "the event read does not read the hashes")

	_, err = db.Exec("UPDATE events SET id = x'0102' WHERE id = ?", res.Records[0].ID[:])
	require.NoError(t, err)
	_, err = s.ReadStreamEvents(ctx, "s", 0, 0)
	assert.ErrorContains(t, err, "record 0 of s has a 2-byte id: the ledger file is damaged")
}

func TestCloseTwice(t *testing.T) {
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "ledger.db"), sqlite.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	_, err = s.Append(context.Background(), "s", eventstore.NoStream, newEvents(1))
	assert.Error(t, err, "append after close")
	_, err = s.ReadStream(context.Background(), "s", 0, 0)
	assert.Error(t, err, "read after close")
}

// Several openers creating the same new ledger at once all open it, and
// every one's write lands: none finds the file half-created beside its
// write-ahead log and takes the log for one left over from a deleted
// ledger (seen with several processes: lockForCreate serialises creators).
func TestConcurrentCreatorsOfOneLedger(t *testing.T) {
	for round := range 5 {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("new-%d.db", round))
		var g errgroup.Group
		for i := range 8 {
			g.Go(func() error {
				s, err := sqlite.Open(path, sqlite.Options{})
				if err != nil {
					return err
				}
				defer s.Close()
				_, err = s.Append(context.Background(), fmt.Sprintf("instrument-S%d", i), eventstore.NoStream, []eventstore.EventData{{
					ID: uuid.Must(uuid.NewV7()), Type: "CloseRecorded", Data: []byte(`{}`), Metadata: []byte(`{}`), EffectiveAt: time.Now()}})
				return err
			})
		}
		require.NoError(t, g.Wait(), "round %d", round)
		s := mustOpen(t, path, sqlite.Options{ReadOnly: true})
		streams, err := s.Streams(context.Background())
		require.NoError(t, err)
		assert.Len(t, streams, 8)
	}
}

// TestWALHoldsSeveralCommitsBeforeACheckpoint: opened for bulk writes,
// commits go on filling the write-ahead log well past SQLite's default of
// 1,000 pages (8 MiB here) before one of them copies the log into the file,
// so that a page an import rewrites in several commits is copied once (see
// bulkCheckpointPages). At the default, the log is copied and reused after
// every commit of these, and stays near 10 MiB.
func TestWALHoldsSeveralCommitsBeforeACheckpoint(t *testing.T) {
	for _, bulk := range []bool{true, false} {
		t.Run(fmt.Sprintf("bulk=%t", bulk), func(t *testing.T) {
			wal := walAfterCommits(t, bulk)
			if bulk {
				assert.Greater(t, wal, int64(16<<20), "the log holds the commits since the last checkpoint")
			} else {
				assert.Less(t, wal, int64(12<<20), "each commit is copied into the file and the log reused")
			}
		})
	}
}

// walAfterCommits appends some 24 MiB of pages, a MiB a commit, and
// returns the size of the write-ahead log.
func walAfterCommits(t *testing.T, bulk bool) int64 {
	path := filepath.Join(t.TempDir(), "ledger.db")
	s, err := sqlite.Open(path, sqlite.Options{BulkWrites: bulk})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	appendPadded(t, s, 24)
	wal, err := os.Stat(path + "-wal")
	require.NoError(t, err)
	return wal.Size()
}

// appendPadded appends batches of 1,000 events of about a KiB each, each
// batch a stream of its own (s0, s1, ...) and a commit of about a MiB.
func appendPadded(t *testing.T, s *sqlite.Store, batches int) {
	t.Helper()
	padding := strings.Repeat("x", 1000)
	for batch := range batches {
		events := newEvents(1000)
		for i := range events {
			events[i].Data = []byte(fmt.Sprintf(`{"n":%d,"pad":%q}`, batch*1000+i, padding))
		}
		_, err := s.Append(context.Background(), fmt.Sprintf("s%d", batch), eventstore.NoStream, events)
		require.NoError(t, err)
	}
}

// TestBulkLogCopiedBesideTheWriter: opened for bulk writes, the store
// copies the write-ahead log into the file on a connection of its own
// while the writer goes on, well before the log reaches the writer's own
// checkpoint (bulkCheckpointPages, 128 MiB), so that the writer's
// checkpoint finds little left to copy.
func TestBulkLogCopiedBesideTheWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	s := mustOpen(t, path, sqlite.Options{BulkWrites: true})
	sqlite.SetCheckpointEvents(s, 1000)
	before, err := os.Stat(path)
	require.NoError(t, err)
	appendPadded(t, s, 8)
	assert.Eventually(t, func() bool {
		fi, err := os.Stat(path)
		return err == nil && fi.Size() > before.Size()+4<<20
	}, 20*time.Second, 10*time.Millisecond, "the file grows by what the log held, before the store closes")
	require.NoError(t, s.Close())
	recs, err := mustOpen(t, path, sqlite.Options{ReadOnly: true}).ReadStream(context.Background(), "s7", 0, 0)
	require.NoError(t, err)
	assert.Len(t, recs, 1000)
}

// TestCancelEndsAnAppendUnderWay: the statements of an append do not
// watch its context, but cancelling it while the append inserts still ends
// the append with context.Canceled, and nothing of it is stored.
func TestCancelEndsAnAppendUnderWay(t *testing.T) {
	for _, bulk := range []bool{false, true} {
		t.Run(fmt.Sprintf("bulk=%t", bulk), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ledger.db")
			s := mustOpen(t, path, sqlite.Options{BulkWrites: bulk})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() {
				_, err := s.AppendBatches(ctx, []eventstore.StreamBatch{
					{Stream: "a", Expected: eventstore.NoStream, Events: newEvents(100_000)},
					{Stream: "b", Expected: eventstore.NoStream, Events: newEvents(100_000)},
				})
				done <- err
			}()
			time.Sleep(50 * time.Millisecond)
			cancel()
			require.ErrorIs(t, <-done, context.Canceled)
			for _, stream := range []string{"a", "b"} {
				recs, err := s.ReadStream(context.Background(), stream, 0, 0)
				require.NoError(t, err)
				assert.Empty(t, recs, stream)
			}
			_, err := s.Append(context.Background(), "a", eventstore.NoStream, newEvents(3))
			require.NoError(t, err, "the store writes on after the cancelled append")
			require.NoError(t, s.CheckIDs(context.Background()))
		})
	}
}
