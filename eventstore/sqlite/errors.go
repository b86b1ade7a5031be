package sqlite

import (
	"context"
	"errors"
	"fmt"

	msqlite "modernc.org/sqlite" // also registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/consensus-ledger/consensus/eventstore"
)

// translate turns the driver's errors into the store's, by SQLite result
// code (never by message text), keeping the driver's error wrapped for
// detail.
func translate(err error) error {
	var se *msqlite.Error
	if err == nil || !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff { // the primary code; extended codes are enabled
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return fmt.Errorf("another writer held the ledger for longer than %s: %w", busyTimeout, err)
	case sqlite3.SQLITE_READONLY:
		return fmt.Errorf("%w: the file cannot be written: %w", eventstore.ErrReadOnly, err)
	case sqlite3.SQLITE_NOTADB:
		return fmt.Errorf("%w: %w", eventstore.ErrNotLedger, err)
	case sqlite3.SQLITE_CORRUPT:
		return fmt.Errorf("the ledger file is damaged: %w", err)
	case sqlite3.SQLITE_FULL:
		return &diskError{msg: "the disk holding the ledger is full", err: err}
	case sqlite3.SQLITE_IOERR:
		// SQLite reports a write the operating system refused for any
		// reason but ENOSPC, such as EFBIG past a file-size limit (ulimit
		// -f) or a quota, as IOERR_WRITE, and failing to grow the
		// shared-memory index as IOERR_SHMSIZE; the errno is not passed on.
		switch se.Code() {
		case sqlite3.SQLITE_IOERR_WRITE, sqlite3.SQLITE_IOERR_SHMSIZE:
			return &diskError{msg: "the ledger file could not be written, perhaps because the disk is full or the file reached a size limit or quota", err: err}
		}
	case sqlite3.SQLITE_CANTOPEN:
		return fmt.Errorf("cannot open the ledger file: %w", err)
	}
	return err
}

// diskError is a write the file system refused. Its message says all a user
// can act on, so it leaves out the driver's own text ("database or disk is
// full (13)"), which it still wraps for errors.As.
type diskError struct {
	msg string
	err error
}

func (e *diskError) Error() string { return e.msg }
func (e *diskError) Unwrap() error { return e.err }

// isBusy reports whether err is SQLite's "the file is locked" answer.
func isBusy(err error) bool {
	var se *msqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code() & 0xff
	return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
}

// isUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY
// constraint failure.
func isUniqueViolation(err error) bool {
	var se *msqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code()
	return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// withContext translates err and, when ctx has ended, makes sure the
// result wraps ctx's error (withCause).
func withContext(ctx context.Context, err error) error {
	return withCause(ctx, translate(err))
}

// withCause makes sure err wraps ctx's error when ctx has ended: the
// driver reports an interrupted statement, and database/sql a statement of
// a transaction it rolled back for ctx, in their own terms, but callers
// test for context.Canceled.
func withCause(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w: %w", cerr, err)
	}
	return err
}
