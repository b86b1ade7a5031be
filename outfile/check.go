package outfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Errors a refusal matches; test for them with errors.Is.
var (
	// ErrExists is matched by the refusal of an existing file without
	// Force. It also matches fs.ErrExist.
	ErrExists = errors.New("the output file already exists")

	// ErrProtected is matched by the refusal of a path that must never be
	// replaced: a protected path, an existing SQLite database, a directory.
	ErrProtected = errors.New("the output path may not be written")
)

// Error is a refused output path. Its message is one sentence naming the
// flag and the path as the user gave them.
type Error struct {
	Flag, Path string
	Reason     string // completes "FLAG PATH ...", e.g. "already exists; ..."
	kind       error  // ErrExists or ErrProtected
}

func (e *Error) Error() string { return e.Flag + " " + e.Path + " " + e.Reason }

// Is makes a refusal match its kind, and an existing file fs.ErrExist.
func (e *Error) Is(target error) bool {
	return target == e.kind || (e.kind == ErrExists && target == fs.ErrExist)
}

func existsError(o Options, path string) error {
	reason := "already exists; give --force to replace it, or choose another name"
	if o.NoForce {
		reason = "already exists and is never replaced; choose a new name"
	}
	return &Error{Flag: o.Flag, Path: path, kind: ErrExists, Reason: reason}
}

// never ends the refusal of a path that is never replaced, saying that
// --force does not help where the command has one.
func (o Options) never() string {
	if o.NoForce {
		return "which no command overwrites; choose another name"
	}
	return "which no command overwrites, --force or not; choose another name"
}

func protectedError(o Options, path, reason string) error {
	return &Error{Flag: o.Flag, Path: path, kind: ErrProtected, Reason: reason}
}

func cannotWrite(o Options, path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("cannot write %s %s: %w", o.Flag, path, err)
}

// sqliteMagic begins every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// Check refuses path, writing nothing, when it is or reaches a protected
// path, when it is an existing directory or SQLite database, when its
// directory does not exist, or when it exists and Force is not given.
func Check(path string, opts Options) error {
	if path == "" {
		return fmt.Errorf("%s names no file", opts.Flag)
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("cannot write %s %s: directory %s does not exist", opts.Flag, path, dir)
	}
	for _, p := range opts.Protected {
		if same(path, p.Path) {
			return protectedError(opts, path, fmt.Sprintf("is %s %s, %s", p.What, p.Path, opts.never()))
		}
	}
	// Lstat, so that a dangling symbolic link counts as an existing file:
	// the rename replaces the link itself and never writes through it.
	_, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return cannotWrite(opts, path, err)
	}
	// What the path points at: a directory or a database is never
	// replaced, even through a symbolic link to it.
	if st, err := os.Stat(path); err == nil {
		switch {
		case st.IsDir():
			return protectedError(opts, path, "is a directory; give a file name")
		case !st.Mode().IsRegular():
			return protectedError(opts, path, "is not a regular file (a device, pipe or socket); give a file name")
		case isSQLite(path):
			return protectedError(opts, path, "is a SQLite database (a ledger or a backup), "+opts.never())
		}
	}
	if !opts.Force {
		return existsError(opts, path)
	}
	return nil
}

// same reports whether a and b name one file: the same path once made
// absolute and rid of symbolic links (which catches "./x/../ledger.db" and
// a link to the store, whether or not the file exists yet), or, when both
// exist, one file by os.SameFile (which catches a hard link).
func same(a, b string) bool {
	if canonical(a) == canonical(b) {
		return true
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// canonical is p made absolute with every symbolic link resolved; for a
// file that does not exist (or a dangling link), its directory is resolved
// and its own name kept.
func canonical(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	if r, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		return filepath.Join(r, filepath.Base(abs))
	}
	return abs
}

// isSQLite reports whether the file at path begins like a SQLite database.
func isSQLite(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, len(sqliteMagic))
	if _, err := io.ReadFull(f, head); err != nil {
		return false
	}
	return bytes.Equal(head, sqliteMagic)
}
