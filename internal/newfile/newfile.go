// Package newfile writes output files that must never replace anything:
// signing keys, checkpoints. Another branch builds the project's shared
// output-file facility; this is the one local place to swap for it.
package newfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrExists is returned by Write when path already exists; the existing
// file is left unchanged.
var ErrExists = errors.New("already exists")

// Write creates path with data and mode perm, durably and without ever
// replacing a file: data goes to a temporary file in the same directory,
// which is fsynced and then hard-linked to path (link fails rather than
// replace an existing path, unlike rename), and the directory is fsynced
// so the new name survives a power cut. A reader never sees a partly
// written file under path. An existing path is refused with ErrExists.
func Write(path string, data []byte, perm fs.FileMode) (err error) {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s %w; it was left unchanged", path, ErrExists)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		// The temporary name goes in every case: on success path holds
		// the data under its own link.
		if rerr := os.Remove(tmp.Name()); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && err == nil {
			err = rerr
		}
	}()
	if err := tmp.Chmod(perm); err != nil {
		return errors.Join(err, tmp.Close())
	}
	if _, err := tmp.Write(data); err != nil {
		return errors.Join(err, tmp.Close())
	}
	if err := tmp.Sync(); err != nil {
		return errors.Join(err, tmp.Close())
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s %w; it was left unchanged", path, ErrExists)
		}
		return err
	}
	return syncDir(dir)
}

// syncDir fsyncs a directory, so that a name just linked into it is on
// disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
