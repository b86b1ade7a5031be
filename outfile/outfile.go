// Package outfile writes the files commands produce (an import's rejects, a
// generated history, a chart, later reports, checkpoints and keys) so that
// no output ever destroys data:
//
//   - an existing file is refused unless the caller passes Force;
//   - a protected path (the ledger's store and the files SQLite keeps beside
//     it, the command's own inputs) is refused, Force or not, however it is
//     named: through "..", a symbolic link or a hard link;
//   - an existing SQLite database is refused, Force or not, since no output
//     of this program is one and ledgers and backups are;
//   - the content goes to a temporary file in the same directory, which is
//     fsynced, put in place by one rename (or, without Force, one hard link,
//     which fails rather than replace a file that appeared meanwhile), and
//     the directory is fsynced, so the path holds either its old content or
//     the whole new one, even after a crash.
//
// Every refusal is an *Error whose message is one sentence naming the flag
// and the path; it matches ErrExists or ErrProtected with errors.Is.
package outfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
)

// Protected is a path no output may replace, and what it is, for the
// message of a refusal ("the ledger's store", "the file being imported").
type Protected struct {
	Path string
	What string
}

// Options says how an output may be written.
type Options struct {
	// Flag is how the user named the path, for messages: "--rejects",
	// "-o", "backup FILE".
	Flag string
	// Force allows replacing an existing file that is not protected.
	Force bool
	// Protected lists paths never to be replaced, Force or not.
	Protected []Protected
	// Perm is the new file's permissions; zero means 0o644.
	Perm fs.FileMode
	// NoForce is set by a command that has no --force (a backup never
	// replaces a file): Force must be false, and refusals do not
	// suggest it.
	NoForce bool
}

// File is an output being written: a temporary file beside its path, put in
// place by Commit or removed by Abort.
type File struct {
	path string
	opts Options
	tmp  *os.File
	done bool
}

// Create checks path (see Check) and opens a temporary file in its
// directory. Nothing is visible at path until Commit.
func Create(path string, opts Options) (*File, error) {
	if err := Check(path, opts); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, cannotWrite(opts, path, err)
	}
	return &File{path: path, opts: opts, tmp: tmp}, nil
}

// Write writes to the temporary file.
func (f *File) Write(p []byte) (int, error) { return f.tmp.Write(p) }

// TempPath is the temporary file's name, for writers that need a path of
// their own (SQLite's VACUUM INTO); it holds nothing until they write it.
func (f *File) TempPath() string { return f.tmp.Name() }

// Commit makes the written content durable and puts it at the path. The
// checks of Create are made again just before, so a protected file or,
// without Force, any file that appeared at the path meanwhile is left as
// it is and the output is dropped.
func (f *File) Commit() (err error) {
	if f.done {
		return errors.New("outfile: Commit after Commit or Abort")
	}
	defer func() {
		if err != nil {
			f.Abort()
		}
	}()
	if err := f.tmp.Chmod(f.opts.perm()); err != nil {
		return cannotWrite(f.opts, f.path, err)
	}
	if err := f.tmp.Sync(); err != nil {
		return cannotWrite(f.opts, f.path, err)
	}
	if err := f.tmp.Close(); err != nil {
		return cannotWrite(f.opts, f.path, err)
	}
	if err := Check(f.path, f.opts); err != nil {
		return err
	}
	if err := place(f.tmp.Name(), f.path, f.opts); err != nil {
		return err
	}
	f.done = true
	if err := SyncDir(filepath.Dir(f.path)); err != nil {
		return fmt.Errorf("%s %s was written, but its directory could not be synced to disk: %w", f.opts.Flag, f.path, err)
	}
	return nil
}

// Abort removes the temporary file; the path is left as it was. It may be
// called after Commit (it then does nothing), so callers can defer it.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	_ = f.tmp.Close()
	_ = os.Remove(f.tmp.Name())
}

// Write creates the output, lets write fill it and commits it; if write
// fails, nothing is left behind and the path is unchanged.
func Write(path string, opts Options, write func(io.Writer) error) error {
	f, err := Create(path, opts)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := write(f); err != nil {
		return err
	}
	return f.Commit()
}

// WriteBytes writes data as the whole output, as Write does.
func WriteBytes(path string, opts Options, data []byte) error {
	return Write(path, opts, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

func (o Options) perm() fs.FileMode {
	if o.Perm == 0 {
		return 0o644
	}
	return o.Perm
}

// place moves the finished temporary file to path. With Force it renames,
// which replaces atomically. Without, it hard-links, which fails when path
// exists, making the check and the move one step; on a file system without
// hard links it falls back to a check and a rename, leaving a moment for a
// race.
func place(tmp, path string, opts Options) error {
	if opts.Force {
		if err := os.Rename(tmp, path); err != nil {
			return cannotWrite(opts, path, err)
		}
		return nil
	}
	err := os.Link(tmp, path)
	switch {
	case err == nil:
		_ = os.Remove(tmp)
		return nil
	case errors.Is(err, fs.ErrExist):
		return existsError(opts, path)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return existsError(opts, path)
	}
	if err := os.Rename(tmp, path); err != nil {
		return cannotWrite(opts, path, err)
	}
	return nil
}

// SyncDir makes a new directory entry durable: after a file is created,
// linked or renamed into dir, the name survives a power cut only once the
// directory itself is fsynced. Windows cannot sync a directory and does not
// need to; a file system that cannot (EINVAL) is not a failure of the write
// either. The store's backup, which places its file by its own means, uses
// it too.
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) {
		err = nil
	}
	return errors.Join(err, d.Close())
}
