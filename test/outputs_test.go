package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The files commands write (import --rejects, gen --out, chart -o, backup
// FILE) never replace the ledger's store, the files SQLite keeps beside
// it, a database or an input of the command, --force or not, however the
// path is spelt; an existing file is replaced only with --force. Issue 10,
// item 1.

// outputsFixture is a working directory holding a ledger with a little
// history (ledger.db), links to it, an import file with one valid and one
// invalid row, and an unrelated existing file.
type outputsFixture struct {
	c                   *cli
	store, input, other string
	before              string // snapshot of the store
}

const outputsInput = `{"type":"close","instrument":"TEST","price":"2","currency":"USD","at":"2025-09-02"}
{"type":"close","instrument":"TEST","price":"x","currency":"USD","at":"2025-09-03"}
`

func newOutputsFixture(t *testing.T) outputsFixture {
	t.Helper()
	c := newCLI(t)
	f := outputsFixture{c: c, store: filepath.Join(c.dir, "ledger.db"),
		input: filepath.Join(c.dir, "in.jsonl"), other: filepath.Join(c.dir, "old.jsonl")}
	c.ok(t, "close", "TEST", "--price", "1", "--currency", "USD", "--at", "2025-09-01", "--store", f.store)
	c.ok(t, "rate", "TEST", "--analyst", "a@firm", "--rating", "buy", "--currency", "USD", "--at", "2025-09-01", "--store", f.store)
	require.NoError(t, os.WriteFile(f.input, []byte(outputsInput), 0o644))
	require.NoError(t, os.WriteFile(f.other, []byte("keep me\n"), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(c.dir, "sub"), 0o755))
	require.NoError(t, os.Symlink(f.store, filepath.Join(c.dir, "link.db")))
	require.NoError(t, os.Symlink(c.dir, filepath.Join(c.dir, "dirlink")))
	require.NoError(t, os.Link(f.store, filepath.Join(c.dir, "hard.db")))
	require.NoError(t, os.Symlink(f.input, filepath.Join(c.dir, "link.jsonl")))
	require.NoError(t, os.Link(f.input, filepath.Join(c.dir, "hard.jsonl")))
	f.before = snapshot(t, c, f.store)
	return f
}

// assertUntouched checks that the store, the input and the unrelated file
// are as they were, and that nothing new (no temporary file) is left in
// the working directory.
func (f outputsFixture) assertUntouched(t *testing.T, entries []string) {
	t.Helper()
	assert.Equal(t, f.before, snapshot(t, f.c, f.store), "the store must be unchanged")
	assert.Contains(t, f.c.ok(t, "verify", "--store", f.store).stdout, "ok: 2 events in 1 streams")
	assert.Equal(t, outputsInput, readFile(t, f.input))
	assert.Equal(t, "keep me\n", readFile(t, f.other))
	assert.ElementsMatch(t, entries, files(t, f.c.dir))
}

// files lists dir without the -wal and -shm files SQLite creates and
// removes as connections come and go.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	for _, name := range dirEntries(t, dir) {
		if !strings.HasSuffix(name, "-wal") && !strings.HasSuffix(name, "-shm") {
			names = append(names, name)
		}
	}
	return names
}

// storeSpellings are the ways to name the store of outputsFixture (and
// the files beside it) from its working directory, with what the refusal
// says each is.
func storeSpellings(f outputsFixture) []struct{ path, is string } {
	return []struct{ path, is string }{
		{"ledger.db", "the ledger's store " + f.store},
		{"./ledger.db", "the ledger's store " + f.store},
		{"sub/../ledger.db", "the ledger's store " + f.store},
		{f.store, "the ledger's store " + f.store},
		{"link.db", "the ledger's store " + f.store},
		{"dirlink/ledger.db", "the ledger's store " + f.store},
		{"hard.db", "the ledger's store " + f.store},
		{"ledger.db-wal", "the ledger's write-ahead log " + f.store + "-wal"},
		{"./ledger.db-shm", "the ledger's shared-memory index " + f.store + "-shm"},
		{"ledger.db-journal", "the ledger's rollback journal " + f.store + "-journal"},
	}
}

// TestRejectsNeverTheStore: `import --rejects` naming the store in any
// spelling is refused before any row is read or written, --force or not.
// It used to truncate the ledger, and verify then said ok.
func TestRejectsNeverTheStore(t *testing.T) {
	skipShort(t, "over 2 s (6 s in a full run on the loaded 2-core machine)")
	t.Parallel()
	f := newOutputsFixture(t)
	entries := files(t, f.c.dir)
	for _, s := range storeSpellings(f) {
		for _, extra := range [][]string{nil, {"--force"}} {
			for _, store := range []string{f.store, "sqlite:" + f.store} {
				args := append([]string{"import", "in.jsonl", "--rejects", s.path, "--store", store}, extra...)
				r := f.c.run(t, args...)
				assert.Equal(t, refused, r.code, "%v", args)
				assert.Empty(t, r.stdout, "%v", args)
				assert.Equal(t, "consensus import: --rejects "+s.path+" is "+s.is+", which no command overwrites, --force or not; choose another name.\n", r.stderr, "%v", args)
			}
		}
		// The store named by CONSENSUS_STORE is protected the same way.
		r := f.c.withEnv("CONSENSUS_STORE="+f.store).run(t, "import", "in.jsonl", "--rejects", s.path, "--force")
		assert.Equal(t, refused, r.code)
		assert.Equal(t, "consensus import: --rejects "+s.path+" is "+s.is+", which no command overwrites, --force or not; choose another name.\n", r.stderr)
	}
	f.assertUntouched(t, entries)
}

// TestRejectsNeverTheInput: `import --rejects` naming the file being
// imported is refused, --force or not; the input used to be destroyed.
func TestRejectsNeverTheInput(t *testing.T) {
	skipShort(t, "over 2 s (3 s in a full run on the loaded 2-core machine)")
	t.Parallel()
	f := newOutputsFixture(t)
	entries := files(t, f.c.dir)
	for _, path := range []string{"in.jsonl", "./in.jsonl", "sub/../in.jsonl", f.input, "link.jsonl", "hard.jsonl"} {
		for _, extra := range [][]string{nil, {"--force"}} {
			args := append([]string{"import", "in.jsonl", "--rejects", path, "--store", f.store}, extra...)
			r := f.c.run(t, args...)
			assert.Equal(t, refused, r.code, "%v", args)
			assert.Empty(t, r.stdout)
			assert.Equal(t, "consensus import: --rejects "+path+" is the file being imported in.jsonl, which no command overwrites, --force or not; choose another name.\n", r.stderr, "%v", args)
		}
	}
	f.assertUntouched(t, entries)
}

// TestRejectsExistingFile: an existing unrelated file is refused without
// --force (left as it was, and nothing imported) and replaced with it.
func TestRejectsExistingFile(t *testing.T) {
	t.Parallel()
	f := newOutputsFixture(t)
	entries := files(t, f.c.dir)
	r := f.c.run(t, "import", "in.jsonl", "--rejects", "old.jsonl", "--store", f.store)
	assert.Equal(t, refused, r.code)
	assert.Empty(t, r.stdout)
	assert.Equal(t, "consensus import: --rejects old.jsonl already exists; give --force to replace it, or choose another name.\n", r.stderr)
	f.assertUntouched(t, entries)

	r = f.c.run(t, "import", "in.jsonl", "--rejects", "old.jsonl", "--force", "--store", f.store)
	assert.Equal(t, refused, r.code, "a rejected row makes the import exit 1")
	assert.Equal(t, "imported 1, skipped 0 duplicates, rejected 1\n", r.stdout)
	rejects := strings.Split(strings.TrimSuffix(readFile(t, f.other), "\n"), "\n")
	require.Len(t, rejects, 1)
	rej := object(t, rejects[0])
	assert.Equal(t, "2", num(rej["line"]))
	assert.Equal(t, "price", rej["field"])
	assert.ElementsMatch(t, entries, files(t, f.c.dir), "no temporary file is left")
}

// TestRejectsFileAlwaysDescribesTheRun: the --rejects file is written once
// the import has run to the end, empty when no row was rejected, so that
// a file replaced with --force never keeps the rows of an earlier run.
func TestRejectsFileAlwaysDescribesTheRun(t *testing.T) {
	t.Parallel()
	f := newOutputsFixture(t)
	good := filepath.Join(f.c.dir, "good.jsonl")
	require.NoError(t, os.WriteFile(good, []byte(strings.SplitAfter(outputsInput, "\n")[0]), 0o644))

	r := f.c.ok(t, "import", "good.jsonl", "--rejects", "new.jsonl", "--store", f.store)
	assert.Equal(t, "imported 1, skipped 0 duplicates, rejected 0\n", r.stdout)
	assert.Equal(t, "", readFile(t, filepath.Join(f.c.dir, "new.jsonl")))

	f.c.ok(t, "import", "good.jsonl", "--rejects", "old.jsonl", "--force", "--store", f.store)
	assert.Equal(t, "", readFile(t, f.other), "the old rejects are replaced by this run's, none")
}

// TestGenOutNeverTheStore: `gen --out` refuses the store named by
// CONSENSUS_STORE (or the default one), any database, and without --force
// any existing file. It used to replace the ledger.
func TestGenOutNeverTheStore(t *testing.T) {
	skipShort(t, "over 2 s (2 s in a full run on the loaded 2-core machine)")
	t.Parallel()
	f := newOutputsFixture(t)
	entries := files(t, f.c.dir)
	gen := []string{"gen", "--instruments", "1", "--analysts", "2", "--years", "1", "--seed", "1", "--end", "2025-06-30"}
	env := f.c.withEnv("CONSENSUS_STORE=" + f.store)
	for _, s := range storeSpellings(f) {
		r := env.run(t, append(gen, "--out", s.path, "--force")...)
		assert.Equal(t, refused, r.code, s.path)
		assert.Empty(t, r.stdout)
		assert.Equal(t, "consensus gen: --out "+s.path+" is "+s.is+", which no command overwrites, --force or not; choose another name.\n", r.stderr)
	}
	// Without CONSENSUS_STORE, a ledger is still a database, and the
	// default store's files are still protected.
	for _, path := range []string{"ledger.db", "link.db", "hard.db"} {
		r := f.c.run(t, append(gen, "--out", path, "--force")...)
		assert.Equal(t, refused, r.code, path)
		assert.Equal(t, "consensus gen: --out "+path+" is a SQLite database (a ledger or a backup), which no command overwrites, --force or not; choose another name.\n", r.stderr)
	}
	r := f.c.run(t, append(gen, "--out", "consensus.db-wal")...)
	assert.Equal(t, refused, r.code)
	assert.Equal(t, "consensus gen: --out consensus.db-wal is the ledger's write-ahead log ./consensus.db-wal, which no command overwrites, --force or not; choose another name.\n", r.stderr)

	r = env.run(t, append(gen, "--out", "old.jsonl")...)
	assert.Equal(t, refused, r.code)
	assert.Equal(t, "consensus gen: --out old.jsonl already exists; give --force to replace it, or choose another name.\n", r.stderr)
	f.assertUntouched(t, entries)

	env.ok(t, append(gen, "--out", "old.jsonl", "--force")...)
	assert.Equal(t, env.ok(t, gen...).stdout, readFile(t, f.other), "--force replaces the file with the history")
}

// TestChartOutputRules: `chart -o` refuses an existing file without
// --force, replaces it with, and never writes the store, even through a
// link whose name ends in .svg or .png.
func TestChartOutputRules(t *testing.T) {
	skipShort(t, "one more command's output-file rules; outfile's tests keep the rules, and TestRejectsExistingFile one command's, in the quick loop")
	t.Parallel()
	c := newCLI(t)
	store := filepath.Join(c.dir, "ledger.db")
	c.ok(t, "demo", "--store", store)
	before := snapshot(t, c, store)
	require.NoError(t, os.Symlink(store, filepath.Join(c.dir, "link.svg")))
	require.NoError(t, os.Link(store, filepath.Join(c.dir, "hard.png")))
	old := filepath.Join(c.dir, "old.svg")
	require.NoError(t, os.WriteFile(old, []byte("keep me\n"), 0o644))
	chart := []string{"chart", "BABA", "--from", "2025-06-01", "--to", "2025-09-11", "--store", store}

	for _, path := range []string{"link.svg", "hard.png"} {
		r := c.run(t, append(chart, "-o", path, "--force")...)
		assert.Equal(t, refused, r.code, path)
		assert.Equal(t, "consensus chart: -o "+path+" is the ledger's store "+store+", which no command overwrites, --force or not; choose another name.\n", r.stderr)
	}
	r := c.run(t, append(chart, "-o", "old.svg")...)
	assert.Equal(t, refused, r.code)
	assert.Equal(t, "consensus chart: -o old.svg already exists; give --force to replace it, or choose another name.\n", r.stderr)
	assert.Equal(t, "keep me\n", readFile(t, old))
	assert.Equal(t, before, snapshot(t, c, store))

	c.ok(t, append(chart, "-o", "old.svg", "--force")...)
	assert.Contains(t, readFile(t, old), "<svg")
	assert.Equal(t, before, snapshot(t, c, store))
}

// TestBackupNeverTheStore: a backup never lands on the store or the files
// beside it, however named, nor on any existing file.
func TestBackupNeverTheStore(t *testing.T) {
	skipShort(t, "one more command's output-file rules; outfile's tests keep the rules, and TestRejectsExistingFile one command's, in the quick loop")
	t.Parallel()
	f := newOutputsFixture(t)
	entries := files(t, f.c.dir)
	for _, s := range storeSpellings(f) {
		r := f.c.run(t, "backup", s.path, "--store", f.store)
		assert.Equal(t, refused, r.code, s.path)
		assert.Empty(t, r.stdout)
		assert.Equal(t, "consensus backup: the backup file "+s.path+" is "+s.is+", which no command overwrites; choose another name.\n", r.stderr)
	}
	r := f.c.run(t, "backup", "old.jsonl", "--store", f.store)
	assert.Equal(t, refused, r.code)
	assert.Equal(t, "consensus backup: the backup file old.jsonl already exists and is never replaced; choose a new name.\n", r.stderr)
	f.assertUntouched(t, entries)
}
