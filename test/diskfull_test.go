package test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
)

// The tests in this file make the ledger's file system refuse writes in
// the middle of an import, and check that the import stops with one clear
// line, that the ledger keeps only whole batches and verifies, and that the
// same import run again, once writes succeed, writes exactly what a clean
// run writes.
//
// An import appends batches of 10,000 events, each in one transaction;
// the generated history of 30 instruments here is about 24,000 events, so
// the failure falls after the first batch has been committed. Each of its
// instruments has fewer rows than a batch, so the importer writes each one
// whole within a single batch: a stream found cut short would be a torn
// batch.

// diskfullCounts reads the summary an import prints, whole or "so far".
var diskfullCounts = regexp.MustCompile(`imported ([0-9]+), skipped ([0-9]+) duplicates, rejected 0`)

// TestImportOnFullDisk puts the ledger on a tmpfs too small for the
// import, so that SQLite meets ENOSPC (SQLITE_FULL) while writing; then
// makes the file system larger (as freeing space would) and runs the same
// import again.
//
// It needs to mount a file system: it runs as root, or else through
// passwordless sudo (sudo -n), and is skipped, saying so, where neither may
// mount. It does not prove behaviour on a disk that fails fsync, or on a
// file system other than tmpfs; TestImportPastFileSizeLimit exercises a
// refused write without mounting anything.
func TestImportOnFullDisk(t *testing.T) {
	skipShort(t, "fills a disk or a file-size limit")
	t.Parallel()
	// Mounted first, so that a machine that cannot mount skips at once.
	mnt := diskfullMount(t, 1<<20)
	c := newCLI(t)
	data, clean, size := diskfullCleanRun(t, c)

	// 60% of the finished ledger's size holds the first batch (in the
	// write-ahead log) but not the second.
	mnt.resize(t, size*6/10)
	store := filepath.Join(mnt.dir, "ledger.db")
	r := c.run(t, "import", data, "--store", store)
	done := diskfullAssertStopped(t, c, r, store, clean, "the disk holding the ledger is full")

	mnt.resize(t, 3*size+16<<20)
	diskfullAssertCompleted(t, c, data, store, clean, done)
}

// TestImportPastFileSizeLimit runs the import under a file-size limit
// (RLIMIT_FSIZE, set by prlimit(1) on the child process), so its writes past
// the limit fail with EFBIG, which SQLite reports as SQLITE_IOERR_WRITE;
// then runs it again without the limit.
//
// Unlike TestImportOnFullDisk it needs no mount rights, so it runs on any
// Linux machine with prlimit (util-linux). It proves the handling of a
// write the operating system refuses; it does not prove that of ENOSPC
// itself, which SQLite reports differently (SQLITE_FULL), nor of a full
// disk under the shared-memory index.
func TestImportPastFileSizeLimit(t *testing.T) {
	skipShort(t, "fills a disk or a file-size limit")
	t.Parallel()
	skipWithoutPrlimit(t)
	c := newCLI(t)
	data, clean, size := diskfullCleanRun(t, c)

	store := filepath.Join(t.TempDir(), "ledger.db")
	r := runUnderFileSizeLimit(t, c, size*6/10, "import", data, "--store", store)
	done := diskfullAssertStopped(t, c, r, store, clean, "the ledger file could not be written")

	diskfullAssertCompleted(t, c, data, store, clean, done)
}

// diskfullEvent is what a stored event must keep across runs: everything
// but the recorded time and what derives from it.
type diskfullEvent struct {
	ID, Type, Data string
	EffectiveAt    time.Time
}

// diskfullCleanRun generates the history, imports it into a new ledger on
// an ordinary file system, and returns the file, each stream's events and
// the finished ledger's size.
func diskfullCleanRun(t *testing.T, c *cli) (data string, clean map[string][]diskfullEvent, size int64) {
	t.Helper()
	data = filepath.Join(t.TempDir(), "history.jsonl")
	c.ok(t, "gen", "--instruments", "30", "--analysts", "60", "--years", "3", "--seed", "7", "--end", "2025-12-31", "--out", data)
	store := newStore(t)
	r := c.ok(t, "import", data, "--store", store)
	m := diskfullCounts.FindStringSubmatch(r.stdout)
	require.NotNil(t, m, "import summary: %s", r.stdout)
	clean = diskfullEvents(t, store)
	total := 0
	for _, evs := range clean {
		require.Less(t, len(evs), 10000, "each instrument fits in one batch")
		total += len(evs)
	}
	require.Equal(t, m[1], strconv.Itoa(total))
	require.Greater(t, total, 20000, "the history spans more than two batches")
	st, err := os.Stat(store)
	require.NoError(t, err)
	return data, clean, st.Size()
}

// diskfullAssertStopped checks a failed import: one clean line saying why
// and how to finish, exit status 1, and a ledger that verifies and holds
// whole instruments of the clean run only, as many events as the line
// says. It returns that count.
func diskfullAssertStopped(t *testing.T, c *cli, r result, store string, clean map[string][]diskfullEvent, why string) int {
	t.Helper()
	// The contract keeps exit status 2 for command lines that cannot be
	// understood; every other failure, the store's included, is 1.
	require.Equal(t, refused, r.code, "the import must fail\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
	assertOneCleanLine(t, r.stderr)
	assert.Contains(t, r.stderr, why)
	assert.Contains(t, r.stderr, "run it again to finish")
	m := diskfullCounts.FindStringSubmatch(r.stderr)
	require.NotNil(t, m, "the line gives the counts so far: %s", r.stderr)
	done, err := strconv.Atoi(m[1])
	require.NoError(t, err)

	got := diskfullEvents(t, store)
	stored := 0
	for stream, evs := range got {
		stored += len(evs)
		assert.Equal(t, clean[stream], evs, "%s is whole, as in a clean run", stream)
	}
	assert.Equal(t, done, stored, "the ledger holds what the import reported")
	assert.Positive(t, stored, "the disk filled after the first batch")
	assert.Less(t, len(got), len(clean), "the disk filled before the last batch")
	assert.Equal(t, fmt.Sprintf("ok: %d events in %d streams\nchain version 1: 0 events, chain version 2: %d events\n", stored, len(got), stored), c.ok(t, "verify", "--store", store).stdout)
	return done
}

// diskfullAssertCompleted runs the import again and checks that it writes
// the rest, skipping what the failed run wrote, and leaves exactly the
// clean run's events.
func diskfullAssertCompleted(t *testing.T, c *cli, data, store string, clean map[string][]diskfullEvent, done int) {
	t.Helper()
	total := 0
	for _, evs := range clean {
		total += len(evs)
	}
	r := c.ok(t, "import", data, "--store", store)
	assert.Equal(t, fmt.Sprintf("imported %d, skipped %d duplicates, rejected 0\n", total-done, done), r.stdout)
	assert.Equal(t, clean, diskfullEvents(t, store), "the ledger holds exactly the clean run's events")
	assert.Equal(t, fmt.Sprintf("ok: %d events in %d streams\nchain version 1: 0 events, chain version 2: %d events\n", total, len(clean), total), c.ok(t, "verify", "--store", store).stdout)
}

// diskfullEvents reads every stream of the ledger in order.
func diskfullEvents(t *testing.T, store string) map[string][]diskfullEvent {
	t.Helper()
	s, err := sqlite.Open(store, sqlite.Options{ReadOnly: true})
	require.NoError(t, err)
	defer func() { assert.NoError(t, s.Close()) }()
	recs, err := s.ReadAll(context.Background(), eventstore.Position{}, 0)
	require.NoError(t, err)
	out := map[string][]diskfullEvent{}
	for _, r := range recs {
		require.EqualValues(t, len(out[r.Stream]), r.Version, "%s is read in order", r.Stream)
		out[r.Stream] = append(out[r.Stream], diskfullEvent{r.ID.String(), r.Type, string(r.Data), r.EffectiveAt})
	}
	return out
}

// diskfullFS is a size-capped tmpfs mounted for one test.
type diskfullFS struct {
	dir  string
	sudo bool
}

// diskfullMount mounts a tmpfs of the given size on a new directory and
// unmounts it when the test ends (before the directory is removed). It
// skips the test where mounting is not allowed.
func diskfullMount(t *testing.T, size int64) *diskfullFS {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("a size-capped tmpfs needs Linux")
	}
	fs := &diskfullFS{dir: t.TempDir()}
	var tried []string
	for _, sudo := range []bool{false, true} {
		if sudo == (os.Geteuid() == 0) {
			// Root mounts directly, anyone else only through sudo.
			continue
		}
		fs.sudo = sudo
		out, err := fs.run("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0777", size), "tmpfs", fs.dir)
		if err == nil {
			t.Cleanup(func() {
				if out, err := fs.run("umount", fs.dir); err != nil {
					t.Errorf("unmount the test's tmpfs at %s: %v: %s", fs.dir, err, out)
					fs.run("umount", "-l", fs.dir)
				}
			})
			return fs
		}
		tried = append(tried, fmt.Sprintf("%s: %v: %s", fs.describe("mount"), err, strings.Join(strings.Fields(out), " ")))
	}
	t.Skipf("skipped: no size-capped file system can be mounted here, so a full disk cannot be made (tried %s); "+
		"run the tests as root or with passwordless sudo to include it; TestImportPastFileSizeLimit still exercises a refused write",
		strings.Join(tried, "; "))
	return nil
}

// resize remounts the tmpfs with a new size, as freeing space would.
func (fs *diskfullFS) resize(t *testing.T, size int64) {
	t.Helper()
	out, err := fs.run("mount", "-o", fmt.Sprintf("remount,size=%d", size), fs.dir)
	require.NoError(t, err, "remount %s: %s", fs.dir, out)
}

func (fs *diskfullFS) run(args ...string) (string, error) {
	if fs.sudo {
		args = append([]string{"sudo", "-n"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (fs *diskfullFS) describe(name string) string {
	if fs.sudo {
		return "sudo -n " + name
	}
	return name
}

// skipWithoutPrlimit skips a test that needs prlimit(1) to set a file-size
// limit (RLIMIT_FSIZE) on the child process.
func skipWithoutPrlimit(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("RLIMIT_FSIZE is set with prlimit(1), which is Linux's")
	}
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("prlimit (util-linux) is not installed, so no file-size limit can be set on the child process")
	}
}

// runUnderFileSizeLimit runs the binary with args under a file-size limit of
// limit bytes: a write past it fails with EFBIG, as on a full disk.
func runUnderFileSizeLimit(t *testing.T, c *cli, limit int64, args ...string) result {
	t.Helper()
	prlimit, err := exec.LookPath("prlimit")
	require.NoError(t, err)
	cmd, stdout, stderr := c.command(args...)
	cmd.Path = prlimit
	cmd.Args = append([]string{"prlimit", fmt.Sprintf("--fsize=%d", limit), "--", bin}, cmd.Args[1:]...)
	return finish(t, cmd.Run(), stdout, stderr)
}
