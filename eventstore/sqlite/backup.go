package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/consensus-ledger/consensus/outfile"
)

// BackupSummary describes a backup file written by Backup.
type BackupSummary struct {
	Path    string // the backup's absolute path
	Events  int64  // events in the backup
	Streams int    // streams in the backup
	Bytes   int64  // the backup file's size

	// LastRecordedAt is the latest recorded time of any event in the
	// backup (zero for an empty ledger): the backup holds exactly the
	// ledger as known at that time, so it is the --known-at at which the
	// original answers as the backup does.
	LastRecordedAt time.Time
}

// Backup writes a consistent copy of the ledger to a new file at path while
// other connections, in this process or others, go on writing.
//
// The copy is made by SQLite's VACUUM INTO on a connection of its own. The
// statement reads the whole ledger in one read transaction, so the copy is
// the ledger as of one commit, and under WAL a reader never blocks a writer
// (it only holds back checkpoints while it runs). It cannot run inside a
// transaction of ours, and needs no more: one statement is one snapshot. The
// store's own read connections are query_only, which SQLite counts against
// VACUUM INTO, hence the separate read-only connection. VACUUM INTO keeps
// the page size, the application id and the schema version, and writes a
// compact file in rollback-journal mode: one self-contained file, which a
// writable Open turns back to WAL on first use.
//
// The copy is written to a temporary file beside path, opened as a ledger
// (so a file Open would refuse never becomes a backup), fsynced, and only
// then linked into place, so path either does not exist or holds a complete
// backup, even after a crash. Backup never replaces a file: an existing
// path is refused with an error wrapping fs.ErrExist, and so is a leftover
// path-wal or path-journal, which SQLite would replay into the backup when
// it is opened.
func (s *Store) Backup(ctx context.Context, path string) (BackupSummary, error) {
	sum, err := s.backup(ctx, path)
	if err != nil {
		return BackupSummary{}, fmt.Errorf("back up to %s: %w", path, err)
	}
	return sum, nil
}

func (s *Store) backup(ctx context.Context, path string) (sum BackupSummary, err error) {
	if path == "" {
		return sum, errors.New("no path given")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return sum, err
	}
	dir := filepath.Dir(abs)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return sum, fmt.Errorf("directory %s does not exist", filepath.Dir(path))
	}
	if err := checkFree(abs); err != nil {
		return sum, err
	}
	src, err := os.Stat(s.path)
	if err != nil {
		return sum, err
	}

	tmp, err := os.CreateTemp(dir, "."+filepath.Base(abs)+".backup-*.tmp")
	if err != nil {
		return sum, err
	}
	tmpPath := tmp.Name()
	// VACUUM INTO accepts an existing file only when it is empty, and
	// writes it through its own handle.
	if err := tmp.Close(); err != nil {
		return sum, errors.Join(err, os.Remove(tmpPath))
	}
	defer func() {
		if err != nil {
			// Nothing of a failed backup is left behind, not even the
			// journal VACUUM INTO may have started beside the copy.
			_ = os.Remove(tmpPath)
			_ = os.Remove(tmpPath + "-journal")
		}
	}()

	if err := s.vacuumInto(ctx, tmpPath); err != nil {
		return sum, err
	}
	if sum, err = describeBackup(ctx, tmpPath); err != nil {
		return sum, fmt.Errorf("the copy does not open as a ledger: %w", err)
	}
	if err := syncFile(tmpPath, src.Mode().Perm()); err != nil {
		return sum, err
	}
	if err := placeNoReplace(tmpPath, abs); err != nil {
		return sum, err
	}
	if err := outfile.SyncDir(dir); err != nil {
		return sum, fmt.Errorf("the backup is in place, but its directory could not be synced to disk: %w", err)
	}
	sum.Path = abs
	return sum, nil
}

// checkFree refuses a backup path that exists, or beside which SQLite
// would find a journal or write-ahead log to replay into the new file.
func checkFree(abs string) error {
	for _, p := range []string{abs, abs + "-wal", abs + "-journal"} {
		_, err := os.Lstat(p)
		switch {
		case err == nil && p == abs:
			return existsError("the file already exists, and a backup never replaces a file: choose a new name")
		case err == nil:
			return existsError(filepath.Base(p) + " is left over from another database, and SQLite would replay it into the backup: move it away first")
		case !errors.Is(err, fs.ErrNotExist):
			return err
		}
	}
	return nil
}

// vacuumInto copies the ledger into the empty file at dst in one read
// transaction.
func (s *Store) vacuumInto(ctx context.Context, dst string) error {
	db, err := openDB(s.path, url.Values{"mode": {"ro"}}, 1)
	if err != nil {
		return translate(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
		err = withContext(ctx, err)
		// The ledger is only read, so a refused write is the copy's: say
		// so, rather than blame the disk holding the ledger.
		var de *diskError
		if errors.As(err, &de) {
			return &diskError{msg: "the backup could not be written, perhaps because its disk is full or the file reached a size limit or quota", err: de.err}
		}
		return err
	}
	return db.Close()
}

// describeBackup opens the copy the way a reading command will, which
// checks its header, application id and schema version, and counts what
// it holds from its streams table.
func describeBackup(ctx context.Context, path string) (sum BackupSummary, err error) {
	b, err := open(path, Options{ReadOnly: true})
	if err != nil {
		return sum, err
	}
	defer func() { err = errors.Join(err, b.Close()) }()
	infos, err := b.Streams(ctx)
	if err != nil {
		return sum, err
	}
	for _, info := range infos {
		sum.Streams++
		sum.Events += info.Events
		if info.LastRecordedAt.After(sum.LastRecordedAt) {
			sum.LastRecordedAt = info.LastRecordedAt
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		return sum, err
	}
	sum.Bytes = st.Size()
	return sum, nil
}

// syncFile gives the copy the original's permissions, since it holds the
// same events, and forces it to disk before it is put in place.
func syncFile(path string, perm fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Chmod(perm)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// placeNoReplace moves the finished copy to dst unless dst has appeared
// meanwhile. A hard link fails when its target exists, which makes the
// check and the move one step; file systems without hard links fall back
// to a check and a rename, which leaves a moment for a race.
func placeNoReplace(tmp, dst string) error {
	err := os.Link(tmp, dst)
	switch {
	case err == nil:
		return os.Remove(tmp)
	case errors.Is(err, fs.ErrExist):
		return errCreatedMeanwhile
	}
	if _, serr := os.Lstat(dst); !errors.Is(serr, fs.ErrNotExist) {
		return errCreatedMeanwhile
	}
	return os.Rename(tmp, dst)
}

// existsError is a refusal to write over an existing file. It matches
// fs.ErrExist for callers, without adding "file already exists" to a
// message that already says so.
type existsError string

func (e existsError) Error() string        { return string(e) }
func (e existsError) Is(target error) bool { return target == fs.ErrExist }

// errCreatedMeanwhile is the refusal of placeNoReplace.
const errCreatedMeanwhile = existsError("another process created the file while the backup ran; it was left alone")
