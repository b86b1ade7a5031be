package outfile_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/outfile"
)

// fixture is a directory holding a store file, its write-ahead log, an
// input and an unrelated existing file, and options protecting the first
// three.
type fixture struct {
	dir, store, input, other string
	opts                     outfile.Options
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	dir := t.TempDir()
	f := fixture{dir: dir, store: filepath.Join(dir, "ledger.db"), input: filepath.Join(dir, "in.jsonl"), other: filepath.Join(dir, "old.txt")}
	writeFile(t, f.store, "SQLite format 3\x00the ledger")
	writeFile(t, f.store+"-wal", "the log")
	writeFile(t, f.input, "the input")
	writeFile(t, f.other, "old content")
	f.opts = outfile.Options{Flag: "--rejects", Protected: []outfile.Protected{
		{Path: f.store, What: "the ledger's store"},
		{Path: f.store + "-wal", What: "the store's write-ahead log"},
		{Path: f.store + "-shm", What: "the store's shared-memory index"},
		{Path: f.input, What: "the file being imported"},
	}}
	return f
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func hello(w io.Writer) error {
	_, err := io.WriteString(w, "hello\n")
	return err
}

// entries lists the directory, so a test can see no temporary file is left.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteNewFile(t *testing.T) {
	f := newFixture(t)
	out := filepath.Join(f.dir, "new.jsonl")
	require.NoError(t, outfile.Write(out, f.opts, hello))
	assert.Equal(t, "hello\n", readFile(t, out))
	st, err := os.Stat(out)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o644), st.Mode().Perm())
	assert.ElementsMatch(t, []string{"ledger.db", "ledger.db-wal", "in.jsonl", "old.txt", "new.jsonl"}, entries(t, f.dir))
}

func TestWritePerm(t *testing.T) {
	f := newFixture(t)
	out := filepath.Join(f.dir, "key")
	f.opts.Perm = 0o600
	require.NoError(t, outfile.Write(out, f.opts, hello))
	st, err := os.Stat(out)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o600), st.Mode().Perm())
}

func TestExistingFileNeedsForce(t *testing.T) {
	f := newFixture(t)
	err := outfile.Write(f.other, f.opts, hello)
	require.Error(t, err)
	assert.Equal(t, "--rejects "+f.other+" already exists; give --force to replace it, or choose another name", err.Error())
	assert.ErrorIs(t, err, outfile.ErrExists)
	assert.ErrorIs(t, err, fs.ErrExist)
	assert.Equal(t, "old content", readFile(t, f.other))

	f.opts.Force = true
	require.NoError(t, outfile.Write(f.other, f.opts, hello))
	assert.Equal(t, "hello\n", readFile(t, f.other))
	assert.ElementsMatch(t, []string{"ledger.db", "ledger.db-wal", "in.jsonl", "old.txt"}, entries(t, f.dir))
}

// TestProtectedPaths names the store, its companions and the input in
// every way a user might, with and without --force: each is refused with
// one sentence and nothing changes.
func TestProtectedPaths(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, os.Mkdir(filepath.Join(f.dir, "sub"), 0o755))
	require.NoError(t, os.Symlink(f.store, filepath.Join(f.dir, "link.db")))
	require.NoError(t, os.Symlink(f.dir, filepath.Join(f.dir, "dirlink")))
	require.NoError(t, os.Link(f.store, filepath.Join(f.dir, "hard.db")))
	require.NoError(t, os.Link(f.input, filepath.Join(f.dir, "hard.jsonl")))
	t.Chdir(f.dir)

	for _, tc := range []struct{ path, what string }{
		{"ledger.db", "the ledger's store " + f.store},
		{"./ledger.db", "the ledger's store " + f.store},
		{"sub/../ledger.db", "the ledger's store " + f.store},
		{f.store, "the ledger's store " + f.store},
		{"link.db", "the ledger's store " + f.store},
		{"dirlink/ledger.db", "the ledger's store " + f.store},
		{"hard.db", "the ledger's store " + f.store},
		{"ledger.db-wal", "the store's write-ahead log " + f.store + "-wal"},
		{"sub/../ledger.db-shm", "the store's shared-memory index " + f.store + "-shm"}, // not there yet: still never written
		{"in.jsonl", "the file being imported " + f.input},
		{"hard.jsonl", "the file being imported " + f.input},
	} {
		for _, force := range []bool{false, true} {
			opts := f.opts
			opts.Force = force
			err := outfile.Write(tc.path, opts, hello)
			require.Error(t, err, "%s force=%v", tc.path, force)
			assert.Equal(t, "--rejects "+tc.path+" is "+tc.what+", which no command overwrites, --force or not; choose another name", err.Error())
			assert.ErrorIs(t, err, outfile.ErrProtected)
		}
	}
	assert.Equal(t, "SQLite format 3\x00the ledger", readFile(t, f.store))
	assert.Equal(t, "the log", readFile(t, f.store+"-wal"))
	assert.Equal(t, "the input", readFile(t, f.input))
	_, err := os.Lstat(f.store + "-shm")
	assert.ErrorIs(t, err, fs.ErrNotExist)
	for _, name := range entries(t, f.dir) {
		assert.False(t, strings.HasSuffix(name, ".tmp"), "temporary file left: %s", name)
	}
}

func TestNeverReplacesDatabaseDirectoryOrDevice(t *testing.T) {
	f := newFixture(t)
	other := filepath.Join(f.dir, "other-ledger.db")
	writeFile(t, other, "SQLite format 3\x00another ledger")
	f.opts.Force = true
	f.opts.Flag = "--out"

	err := outfile.Write(other, f.opts, hello)
	require.Error(t, err)
	assert.Equal(t, "--out "+other+" is a SQLite database (a ledger or a backup), which no command overwrites, --force or not; choose another name", err.Error())
	assert.Equal(t, "SQLite format 3\x00another ledger", readFile(t, other))

	err = outfile.Write(f.dir, f.opts, hello)
	require.Error(t, err)
	assert.Equal(t, "--out "+f.dir+" is a directory; give a file name", err.Error())

	err = outfile.Write(os.DevNull, f.opts, hello)
	require.Error(t, err)
	assert.Equal(t, "--out "+os.DevNull+" is not a regular file (a device, pipe or socket); give a file name", err.Error())
}

func TestMissingDirectory(t *testing.T) {
	f := newFixture(t)
	out := filepath.Join(f.dir, "nowhere", "x.svg")
	f.opts.Flag = "-o"
	err := outfile.Write(out, f.opts, hello)
	require.Error(t, err)
	assert.Equal(t, "cannot write -o "+out+": directory "+filepath.Dir(out)+" does not exist", err.Error())
}

// TestSymlinkIsReplacedNotFollowed: with --force, a link to an unrelated
// file is replaced by the new file; the file it pointed to is untouched.
func TestSymlinkIsReplacedNotFollowed(t *testing.T) {
	f := newFixture(t)
	link := filepath.Join(f.dir, "link.txt")
	require.NoError(t, os.Symlink(f.other, link))
	err := outfile.Write(link, f.opts, hello)
	assert.ErrorIs(t, err, outfile.ErrExists)

	f.opts.Force = true
	require.NoError(t, outfile.Write(link, f.opts, hello))
	assert.Equal(t, "hello\n", readFile(t, link))
	assert.Equal(t, "old content", readFile(t, f.other))
	st, err := os.Lstat(link)
	require.NoError(t, err)
	assert.True(t, st.Mode().IsRegular())
}

func TestFailedWriteLeavesNothing(t *testing.T) {
	f := newFixture(t)
	boom := errors.New("boom")
	f.opts.Force = true
	err := outfile.Write(f.other, f.opts, func(w io.Writer) error {
		_, _ = io.WriteString(w, "partial")
		return boom
	})
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, "old content", readFile(t, f.other))
	assert.ElementsMatch(t, []string{"ledger.db", "ledger.db-wal", "in.jsonl", "old.txt"}, entries(t, f.dir))
}

// TestCommitRefusesFileCreatedMeanwhile: without --force, a file that
// appears at the path while the output is written is kept, not replaced.
func TestCommitRefusesFileCreatedMeanwhile(t *testing.T) {
	f := newFixture(t)
	out := filepath.Join(f.dir, "rejects.jsonl")
	w, err := outfile.Create(out, f.opts)
	require.NoError(t, err)
	_, err = io.WriteString(w, "mine")
	require.NoError(t, err)
	writeFile(t, out, "theirs")
	err = w.Commit()
	assert.ErrorIs(t, err, outfile.ErrExists)
	assert.Equal(t, "theirs", readFile(t, out))
	assert.ElementsMatch(t, []string{"ledger.db", "ledger.db-wal", "in.jsonl", "old.txt", "rejects.jsonl"}, entries(t, f.dir))
}

func TestAbortAfterCommitIsHarmless(t *testing.T) {
	f := newFixture(t)
	out := filepath.Join(f.dir, "x.txt")
	w, err := outfile.Create(out, f.opts)
	require.NoError(t, err)
	require.NoError(t, w.Commit())
	w.Abort()
	assert.Equal(t, "", readFile(t, out))
}

// TestNoForce: a command without --force (backup) is refused an existing
// file with no mention of the flag it lacks.
func TestNoForce(t *testing.T) {
	f := newFixture(t)
	f.opts.Flag, f.opts.NoForce = "the backup file", true
	err := outfile.Check(f.other, f.opts)
	require.Error(t, err)
	assert.Equal(t, "the backup file "+f.other+" already exists and is never replaced; choose a new name", err.Error())
	err = outfile.Check(f.store, f.opts)
	require.Error(t, err)
	assert.Equal(t, "the backup file "+f.store+" is the ledger's store "+f.store+", which no command overwrites; choose another name", err.Error())
	assert.NoError(t, outfile.Check(filepath.Join(f.dir, "new.db"), f.opts))
}
