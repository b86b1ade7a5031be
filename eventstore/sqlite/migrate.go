package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/consensus-ledger/consensus/eventstore"
)

// migrationFiles are the schema's numbered steps, 0001_*.sql onwards. They
// are compiled in so that any binary can create or upgrade a ledger without
// files beside it. A released migration is never edited: a change is a new
// file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered schema step.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations lists the embedded steps in order. It fails unless they are
// numbered 1, 2, 3... without gaps, so a misnamed file is caught by every
// test rather than by a user's ledger.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		prefix, _, ok := strings.Cut(e.Name(), "_")
		n, err := strconv.Atoi(prefix)
		if !ok || err != nil || n <= 0 {
			return nil, fmt.Errorf("migration %s is not named NNNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(migrationFiles, "migrations/"+e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: n, name: e.Name(), sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected number %d", m.name, i+1)
		}
	}
	return out, nil
}

// pageSize is the page size of a new ledger file. Twice SQLite's default:
// an import of 1,000,000 generated events into a new store ran 18 % faster
// (53,300 against 43,900–45,700 events/s; raw inserts of the same rows
// 59,300 against 48,400–54,500), because each commit writes fewer pages of
// the index on random event ids. 1 and 2 KiB pages were slower, 16 KiB
// little faster still. An existing file keeps the size it was made with.
const pageSize = 8192

// initialise brings the ledger on db's single connection to the current
// schema, in WAL mode.
//
// A fresh file is first migrated in SQLite's default rollback-journal mode
// and only then switched to WAL: the migration writes the application id
// into the file's header directly, so the header check in checkHeader finds
// it even if the process dies before a WAL checkpoint.
//
// A fresh file gets pages of pageSize bytes, set before its first table.
func initialise(ctx context.Context, db *sql.DB, fresh bool) error {
	if fresh {
		// PRAGMA arguments cannot be bound; pageSize is a constant.
		if _, err := db.ExecContext(ctx, fmt.Sprintf("PRAGMA page_size = %d", pageSize)); err != nil {
			return fmt.Errorf("set the page size: %w", err)
		}
	}
	if !fresh {
		if err := enableWAL(ctx, db); err != nil {
			return err
		}
	}
	if err := migrate(ctx, db); err != nil {
		return err
	}
	if fresh {
		return enableWAL(ctx, db)
	}
	return nil
}

// enableWAL switches the file to write-ahead logging. The switch needs the
// file to itself, and SQLite answers SQLITE_BUSY at once, without waiting
// out the busy timeout, while another process has it open (as when several
// processes create a new ledger together); so the switch is retried until
// the busy timeout has passed.
func enableWAL(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(busyTimeout)
	pause := time.Millisecond
	for {
		var mode string
		err := db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode)
		if err == nil {
			if !strings.EqualFold(mode, "wal") {
				return fmt.Errorf("enable WAL: the file system keeps the journal in %q mode", mode)
			}
			return nil
		}
		if !isBusy(err) || time.Now().After(deadline) {
			return fmt.Errorf("enable WAL: %w", translate(err))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("enable WAL: %w", ctx.Err())
		case <-time.After(pause):
		}
		pause = min(2*pause, 50*time.Millisecond)
	}
}

// migrate applies the steps the ledger lacks, all in one write transaction,
// so a ledger is never left half-migrated and two processes opening a new
// ledger at once apply each step once.
func migrate(ctx context.Context, db *sql.DB) (err error) {
	ms, err := migrations()
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: see the _txlock DSN parameter
	if err != nil {
		return fmt.Errorf("migrate: %w", translate(err))
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, ignoreDone(tx.Rollback()))
		}
	}()
	appID, version, err := pragmas(ctx, tx)
	if err != nil {
		return err
	}
	switch {
	case version == 0 && appID == 0:
		// A fresh file, or one another process has just created: ours to
		// initialise. checkHeader has refused every non-empty foreign file.
	case appID != ApplicationID:
		return fmt.Errorf("application_id is %#08x: %w", appID, eventstore.ErrNotLedger)
	case version > len(ms):
		return fmt.Errorf("schema version %d is newer than this program's %d: upgrade the program", version, len(ms))
	}
	if version == len(ms) {
		return tx.Commit()
	}
	for _, m := range ms[version:] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, translate(err))
		}
	}
	// PRAGMA arguments cannot be bound; both values are integers this
	// package controls.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = %d", ApplicationID, len(ms))); err != nil {
		return fmt.Errorf("migrate: %w", translate(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: %w", translate(err))
	}
	return nil
}

// chainSchema is the schema version that added the events' chain column
// (0003_chain_version.sql).
const chainSchema = 3

// checkSchema verifies, on a read-only ledger, what migrate would have
// ensured on a writable one, and returns the schema version. The versions
// from the one just before chainSchema are read as they are (every record
// chain version 1 before it, ids in a unique index on events before
// idsSchema), so that verifying an archived ledger never needs write
// access.
func checkSchema(ctx context.Context, db *sql.DB) (int, error) {
	ms, err := migrations()
	if err != nil {
		return 0, err
	}
	appID, version, err := pragmas(ctx, db)
	switch {
	case err != nil:
		return 0, err
	case appID != ApplicationID:
		return 0, fmt.Errorf("application_id is %#08x: %w", appID, eventstore.ErrNotLedger)
	case version > len(ms):
		return 0, fmt.Errorf("schema version %d is newer than this program's %d: upgrade the program", version, len(ms))
	case version < chainSchema-1:
		return 0, fmt.Errorf("schema version %d is older than this program's %d: open the ledger once for writing to upgrade it", version, len(ms))
	}
	return version, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func pragmas(ctx context.Context, q querier) (appID uint32, version int, err error) {
	var id int64
	if err := q.QueryRowContext(ctx, "PRAGMA application_id").Scan(&id); err != nil {
		return 0, 0, fmt.Errorf("read application_id: %w", translate(err))
	}
	if err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return 0, 0, fmt.Errorf("read user_version: %w", translate(err))
	}
	return uint32(id), version, nil
}

// ignoreDone drops the error Rollback returns after a successful Commit.
func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}
