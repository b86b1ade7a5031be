// Package sqlite is the ledger's embedded event store: one SQLite file, in
// pure Go (modernc.org/sqlite), so the binary builds with CGO_ENABLED=0.
//
// # Schema
//
// Tables created by the numbered migrations embedded in the binary
// (migrations/*.sql, applied in order in one transaction and counted by
// PRAGMA user_version):
//
//   - events: one row per record. Its INTEGER PRIMARY KEY seq is the record's
//     Position (Commit and Prepare alike); the id is a 16-byte blob;
//     (stream, version) is UNIQUE; both times are int64 unix nanoseconds in
//     UTC; prev_hash and hash are the stream's SHA-256 chain
//     (eventstore.RecordHash), and chain the version of the rule each hash
//     was computed with (schema version 3 on; a ledger at version 2 opened
//     read-only reads every record as version 1).
//   - event_ids: every stored id with its seq, keyed by id, so an id is
//     stored once across the ledger (schema version 4 on; before, a UNIQUE
//     index on events.id, which a ledger opened read-only still uses).
//     event_ids_through is the seq up to which it holds every event: a store
//     opened for bulk writes (an import) appends past it and merges its ids
//     every bulkTailEvents and when it closes; every other writer merges
//     whatever lies past it before writing (see ids.go).
//   - streams: one row per stream with its version, event count, last hash
//     and last recorded time, written in the same transaction as the events,
//     so Append and Streams never scan the events.
//
// PRAGMA application_id marks the file as a ledger. Open refuses any existing
// file that does not carry it, reading only its header and leaving it
// byte-for-byte untouched.
//
// # Durability
//
// The database runs in WAL mode with synchronous=FULL: when Append returns,
// the batch has been fsynced and survives a power cut. A batch is one
// transaction: a killed process leaves either all of it or none.
//
// # Concurrency
//
// A Store is safe for concurrent use, and several Stores, in one process or
// many, may share a file. Each Append runs in a BEGIN IMMEDIATE transaction:
// it takes the file's single write lock before reading the stream's head, so
// two writers never both read a version and then deadlock upgrading their
// locks; a writer waits up to busy_timeout (10s) for another to finish. In a
// process, writes share one connection, so writers queue in Go (honouring
// their contexts) rather than spinning on the file lock. Reads use their own
// pool of connections and, under WAL, never wait for a writer: each read
// statement sees the store as of one committed transaction.
//
// RecordedAt is taken inside the write transaction from Options.Now,
// truncated to microseconds, and raised to the stream's last RecordedAt if
// the clock went backwards, so it never decreases within a stream; by more
// than eventstore.MaxClockLead, the append is refused instead
// (eventstore.ErrClockBehind), since the new events would be hidden.
package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/consensus-ledger/consensus/eventstore"
)

// ApplicationID is the PRAGMA application_id of every ledger file: the
// ASCII bytes "CNSL". It lets Open, and tools such as file(1), tell a
// ledger from any other SQLite database.
const ApplicationID = 0x434E534C

// busyTimeout is how long a writer waits for another process's write
// transaction before giving up. Appends are short, so 10s means a stuck
// writer, not a busy one.
const busyTimeout = 10 * time.Second

// bulkCheckpointPages is how many pages the write-ahead log holds before a
// commit copies them into the file when a store is opened for bulk writes
// (Options.BulkWrites); SQLite's default is 1,000. An import's commit of
// 10,000 events rewrote pages all over the unique index on random event ids
// of schema version 3, some 30 MB at a million events, so at the default
// every commit was followed by copying all of them; a log of 16,000 pages
// (128 MiB at the ledger's 8 KiB pages) copies a page once for several
// commits that rewrote it. On the 1,000,340-row import: 20.6-22.5 s against
// 24.3-27.8 s (four runs each, alternating); 32,000 pages was no faster.
//
// It is not the default because checkpoints are also when a busy writer
// leaves the file's write lock free for a while: with writes in a tight
// loop from two connections, another connection's first write waited twice
// as long, and once more than the 10 s busy timeout.
const bulkCheckpointPages = 16_000

// sqliteMagic is the first 16 bytes of every SQLite 3 database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// Options configures Open.
type Options struct {
	// ReadOnly opens an existing ledger for reading only: Open never
	// creates or upgrades the file, and Append returns
	// eventstore.ErrReadOnly. Commands that only read use it so that a
	// typo in a path is an error rather than a new empty ledger.
	ReadOnly bool

	// Now is the clock RecordedAt is read from; nil means time.Now. Tests
	// pin it to make recorded times predictable.
	Now func() time.Time

	// BulkWrites tunes the store for one writer appending large batches
	// back to back, an import: the write-ahead log grows to
	// bulkCheckpointPages before it is copied into the file, and event ids
	// are checked in memory and indexed bulkTailEvents at a time (see
	// bulkIDs), the last of them when the store closes. Other writers then
	// wait longer for their turn.
	BulkWrites bool
}

// The Store and every optional capability the embedded store implements
// (see eventstore/capabilities.go).
var (
	_ eventstore.Store                 = (*Store)(nil)
	_ eventstore.BatchAppender         = (*Store)(nil)
	_ eventstore.EventReader           = (*Store)(nil)
	_ eventstore.StreamLister          = (*Store)(nil)
	_ eventstore.Finder                = (*Store)(nil)
	_ eventstore.Snapshotter           = (*Store)(nil)
	_ eventstore.SnapshotBatcher       = (*Store)(nil)
	_ eventstore.SnapshotPrefixDeleter = (*Store)(nil)
	_ eventstore.SnapshotPrefixReader  = (*Store)(nil)
	_ eventstore.HeadReader            = (*Store)(nil)
	_ eventstore.Copier                = (*Store)(nil)
	_ eventstore.ReadOnlyReporter      = (*Store)(nil)
	_ eventstore.IDChecker             = (*Store)(nil)
)

// Store is an eventstore.Store kept in one SQLite file. Make one with Open
// and release it with Close.
type Store struct {
	path     string
	now      func() time.Time
	rdb      *sql.DB // reads: a pool, never blocked by writers under WAL
	wdb      *sql.DB // writes: one connection; nil when read-only
	readOnly bool
	// beforeChain is set on a ledger opened read-only at the schema
	// version before the chain column (3): its records are all chain
	// version 1.
	beforeChain bool

	// Statements prepared once at Open; database/sql re-prepares them
	// lazily on each pooled connection.
	head, lookupOne, lookupMany, insert, insertRun, upsertStream *sql.Stmt
	readStream, readStreamEvents, readAll, find, streams         *sql.Stmt
	streamSize, lastSeq                                          *sql.Stmt
	idMark, indexTail, indexOne, indexMany, moveMark, idStored   *sql.Stmt
	// idsInTable is set when the ledger keeps its ids in event_ids (schema
	// version 4 on), as every ledger opened for writing does.
	idsInTable bool

	// bulk is what a store opened for bulk writes knows of the ids (nil
	// otherwise); bulkMu holds its transactions one at a time.
	bulk   *bulkIDs
	bulkMu sync.Mutex
	// ckpt copies the log into the file beside a bulk writer (nil
	// otherwise).
	ckpt *checkpointer

	closeOnce sync.Once
	closeErr  error
}

var (
	_ eventstore.Store        = (*Store)(nil)
	_ eventstore.StreamLister = (*Store)(nil)
	_ eventstore.Finder       = (*Store)(nil)
)

// Open opens the ledger at path, creating and initialising it when the file
// is missing or empty (unless opts.ReadOnly), and migrating its schema to
// the current version.
//
// Open never creates directories: a path in a missing directory is an
// error naming the directory. An existing file that is not a ledger (not a
// SQLite database, or one of another application) is refused with an error
// wrapping eventstore.ErrNotLedger and left unmodified. With ReadOnly, a
// missing file is an error wrapping fs.ErrNotExist and nothing is created.
func Open(path string, opts Options) (*Store, error) {
	s, err := open(path, opts)
	if err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	return s, nil
}

func open(path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("no path given")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(abs); !opts.ReadOnly && (errors.Is(err, fs.ErrNotExist) || err == nil && fi.Size() == 0) {
		// Perhaps a ledger to create: one creator at a time, until its
		// schema is in place (see lockForCreate).
		unlock, err := lockForCreate(filepath.Dir(abs))
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	fresh, err := checkFile(path, abs, opts.ReadOnly)
	if err != nil {
		return nil, err
	}
	s := &Store{path: abs, now: opts.Now, readOnly: opts.ReadOnly}
	if s.now == nil {
		s.now = time.Now
	}
	ctx := context.Background()
	if opts.ReadOnly {
		s.rdb, err = openDB(abs, url.Values{"mode": {"ro"}}, maxReaders())
		if err != nil {
			return nil, translate(err)
		}
		version, err := checkSchema(ctx, s.rdb)
		if err != nil {
			return nil, errors.Join(err, s.rdb.Close())
		}
		s.beforeChain = version < chainSchema
		s.idsInTable = version >= idsSchema
	} else {
		// A 16 MiB page cache (SQLite's default is 2 MiB) keeps more of the
		// index on random event ids in memory during bulk appends; 64 MiB
		// was no faster on a 1-million-event import and cost 100 MB more
		// resident memory (both measured with schema version 3's unique
		// index on events.id).
		pragmas := []string{"cache_size(-16384)"}
		if opts.BulkWrites {
			pragmas = append(pragmas, fmt.Sprintf("wal_autocheckpoint(%d)", bulkCheckpointPages))
		}
		s.wdb, err = openDB(abs, url.Values{"_txlock": {"immediate"}, "_synchronous": {"FULL"}, "_pragma": pragmas}, 1)
		if err != nil {
			return nil, translate(err)
		}
		if err := initialise(ctx, s.wdb, fresh); err != nil {
			return nil, errors.Join(err, s.wdb.Close())
		}
		s.rdb, err = openDB(abs, url.Values{"_query_only": {"1"}}, maxReaders())
		if err != nil {
			return nil, errors.Join(translate(err), s.wdb.Close())
		}
		s.idsInTable = true
		if opts.BulkWrites {
			s.bulk = &bulkIDs{limit: bulkTailEvents}
			ckdb, err := openDB(abs, url.Values{"_synchronous": {"FULL"}}, 1)
			if err != nil {
				return nil, errors.Join(translate(err), s.rdb.Close(), s.wdb.Close())
			}
			s.ckpt = newCheckpointer(ckdb)
		}
	}
	if err := s.prepare(ctx); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

// maxReaders bounds the read pool: more connections than CPUs only add
// page caches, not throughput.
func maxReaders() int {
	return max(4, runtime.GOMAXPROCS(0))
}

// openDB opens a pool on the file at abs. It is given as a file: URI so
// that SQLite's own parameters (mode=ro) apply and any character in the
// path is escaped rather than read as URI syntax.
func openDB(abs string, params url.Values, conns int) (*sql.DB, error) {
	params.Set("_busy_timeout", strconv.FormatInt(busyTimeout.Milliseconds(), 10))
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: params.Encode()}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	// Connect now, so that a file SQLite cannot open fails Open, not the
	// first Append.
	if err := db.PingContext(context.Background()); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return db, nil
}

// checkFile applies the opening rules before the driver touches anything.
// It reports whether the file is missing or empty, that is, a ledger yet to
// be initialised. user is the path as the caller gave it, for messages.
func checkFile(user, abs string, readOnly bool) (fresh bool, err error) {
	dir := filepath.Dir(user)
	fi, err := os.Stat(filepath.Dir(abs))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("directory %s does not exist: %w", dir, fs.ErrNotExist)
	case err != nil:
		return false, err
	case !fi.IsDir():
		return false, fmt.Errorf("%s is not a directory", dir)
	}

	fi, err = os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if readOnly {
			return false, fmt.Errorf("cannot open read-only: %w", fs.ErrNotExist)
		}
		return true, checkNoWAL(abs)
	case err != nil:
		return false, err
	case fi.IsDir():
		return false, fmt.Errorf("is a directory: %w", eventstore.ErrNotLedger)
	case !fi.Mode().IsRegular():
		return false, fmt.Errorf("is not a regular file: %w", eventstore.ErrNotLedger)
	case fi.Size() == 0:
		if readOnly {
			// A writer creating the ledger was stopped before its schema
			// landed; the next writer creates it.
			return false, fmt.Errorf("is an empty file, not yet a ledger: %w", fs.ErrNotExist)
		}
		return true, checkNoWAL(abs)
	}
	if readOnly && hotJournal(abs) {
		// A ledger works in WAL mode and has no rollback journal once
		// created: a journal beside it is the creation's, cut short. Only a
		// writer may roll it back, and what it rolls back to holds no
		// events yet.
		return false, fmt.Errorf("was being created when its writer stopped; the next write completes it: %w", fs.ErrNotExist)
	}
	return false, checkHeader(abs)
}

// hotJournal reports whether a rollback journal with content lies beside
// the file.
func hotJournal(abs string) bool {
	fi, err := os.Stat(abs + "-journal")
	return err == nil && fi.Mode().IsRegular() && fi.Size() > 0
}

// checkNoWAL refuses to initialise a ledger beside a leftover write-ahead
// log: SQLite would replay that log, from some other database, into the new
// file and corrupt it, or bring back part of a ledger someone deleted.
func checkNoWAL(abs string) error {
	fi, err := os.Stat(abs + "-wal")
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Size() > 0:
		return fmt.Errorf("%s-wal is left over from an earlier database; move it away (or restore the database it belongs to) first", filepath.Base(abs))
	}
	return nil
}

// checkHeader reads the file's 100-byte SQLite header, without the driver,
// and refuses anything but a SQLite database with the ledger's application
// id. Reading the id from the header, where PRAGMA application_id keeps it,
// means a foreign database is never opened, so neither it nor its journal is
// touched.
func checkHeader(abs string) error {
	f, err := os.Open(abs)
	if err != nil {
		return err
	}
	defer f.Close()
	var h [100]byte
	n, err := io.ReadFull(f, h[:])
	switch {
	case n < len(sqliteMagic) || !bytes.Equal(h[:len(sqliteMagic)], sqliteMagic):
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			return err
		}
		return fmt.Errorf("is not a SQLite database: %w", eventstore.ErrNotLedger)
	case err != nil:
		return fmt.Errorf("has a truncated SQLite header: %w", eventstore.ErrNotLedger)
	}
	if id := binary.BigEndian.Uint32(h[68:72]); id != ApplicationID {
		return fmt.Errorf("is a SQLite database of another application (application_id %#08x): %w", id, eventstore.ErrNotLedger)
	}
	return nil
}

// Path is the absolute path of the ledger file, for messages and backups.
func (s *Store) Path() string { return s.path }

// Close releases the store's connections. It is safe to call more than
// once; later calls return the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.bulk != nil && s.indexTail != nil {
			if err := s.mergeBulkTail(context.Background()); err != nil {
				errs = append(errs, fmt.Errorf("index the ids of the events appended in bulk (the next writer will): %w", err))
			}
		}
		if s.ckpt != nil {
			errs = append(errs, s.ckpt.close())
		}
		for _, st := range []*sql.Stmt{s.head, s.lookupOne, s.lookupMany, s.insert, s.insertRun, s.upsertStream, s.readStream, s.readStreamEvents, s.readAll, s.find, s.streams, s.streamSize, s.lastSeq, s.idMark, s.indexTail, s.indexOne, s.indexMany, s.moveMark, s.idStored} {
			if st != nil {
				errs = append(errs, st.Close())
			}
		}
		if s.rdb != nil {
			errs = append(errs, s.rdb.Close())
		}
		if s.wdb != nil {
			errs = append(errs, s.wdb.Close())
		}
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("close ledger %s: %w", s.path, err)
		}
	})
	return s.closeErr
}
