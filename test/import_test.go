package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// events lists every event of a store as "stream version id type data", the
// part of the log a clean and an interrupted import must agree on (the
// recorded times naturally differ).
func events(t *testing.T, c *cli, store string) []string {
	t.Helper()
	var out []string
	for _, in := range array(t, c.ok(t, "instruments", "--json", "--store", store).stdout) {
		sym := in["instrument"].(string)
		for _, e := range logJSON(t, c, store, sym) {
			data, err := json.Marshal(e["data"])
			require.NoError(t, err)
			out = append(out, strings.Join([]string{sym, num(e["version"]), e["event_id"].(string), e["type"].(string), string(data)}, " "))
		}
	}
	return out
}

func TestImportGeneratedHistory(t *testing.T) {
	skipShort(t, "over 2 s (6 s in a full run on the loaded 2-core machine)")
	t.Parallel()
	c := newCLI(t)
	file := filepath.Join(t.TempDir(), "history.jsonl")
	c.ok(t, "gen", "--instruments", "5", "--analysts", "40", "--years", "2", "--seed", "3", "--out", file)
	csv := filepath.Join(t.TempDir(), "history.csv")
	c.ok(t, "gen", "--instruments", "5", "--analysts", "40", "--years", "2", "--seed", "3", "--out", csv)
	rows := strings.Count(readFile(t, file), "\n")

	store := newStore(t)
	r := c.ok(t, "import", file, "--store", store)
	assert.Equal(t, "imported "+itoa(rows)+", skipped 0 duplicates, rejected 0\n", r.stdout)
	assert.Contains(t, c.ok(t, "verify", "--store", store).stdout, "ok: "+itoa(rows)+" events in 5 streams")

	// Again, and the same history as CSV: every row is a duplicate.
	assert.Equal(t, "imported 0, skipped "+itoa(rows)+" duplicates, rejected 0\n", c.ok(t, "import", file, "--store", store).stdout)
	assert.Equal(t, "imported 0, skipped "+itoa(rows)+" duplicates, rejected 0\n", c.ok(t, "import", csv, "--store", store).stdout)

	// From standard input, into another store: the same events.
	other := newStore(t)
	cmd, stdout, stderr := c.command("import", "-", "--store", other)
	in, err := os.Open(file)
	require.NoError(t, err)
	defer in.Close()
	cmd.Stdin = in
	require.Equal(t, 0, finish(t, cmd.Run(), stdout, stderr).code, stderr.String())
	assert.Equal(t, events(t, c, store), events(t, c, other))
}

func TestImportDryRun(t *testing.T) {
	skipShort(t, "generates a history and imports it twice; backfill's TestDryRunWritesNothing keeps the rule in the quick loop")
	t.Parallel()
	c := newCLI(t)
	file := filepath.Join(t.TempDir(), "history.jsonl")
	c.ok(t, "gen", "--instruments", "2", "--analysts", "10", "--years", "1", "--seed", "5", "--out", file)
	rows := strings.Count(readFile(t, file), "\n")
	store := newStore(t)
	r := c.ok(t, "import", file, "--dry-run", "--store", store)
	assert.Equal(t, "dry run, nothing written: imported "+itoa(rows)+", skipped 0 duplicates, rejected 0\n", r.stdout)
	assertNoFile(t, store)

	existing := demoStore(t, c)
	before := snapshot(t, c, existing)
	c.ok(t, "import", file, "--dry-run", "--store", existing)
	assert.Equal(t, before, snapshot(t, c, existing), "a dry run writes nothing")
}

func TestImportRejectsBadRowsAndKeepsTheRest(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "mixed.jsonl")
	lines := []string{
		`{"type":"rating","instrument":"BABA","analyst":"a@x","rating":"buy","target":170,"currency":"USD","at":"2025-09-01"}`,
		`{"type":"rating","instrument":"BABA","analyst":"b@y","rating":"superbuy","currency":"USD","at":"2025-09-01"}`,
		`{not json`,
		`{"type":"target","instrument":"BABA","analyst":"a@x","target":"1e3","currency":"USD","at":"2025-09-02"}`,
		`{"type":"target","instrument":"BABA","analyst":"a@x","target":"1,000","currency":"USD","at":"2025-09-02"}`,
		`{"type":"upgrade","instrument":"BABA"}`,
		`{"type":"close","instrument":"BABA","price":"155.44","currency":"USD","at":"2025-09-11","id":"not-a-uuid"}`,
		`{"type":"target","instrument":"BABA","analyst":"c@z","target":"180","currency":"USD","at":"2025-09-03"}`,
		`{"type":"close","instrument":"BABA","price":155.44,"currency":"USD","at":"2025-09-11"}`,
	}
	require.NoError(t, os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
	store := newStore(t)
	rejects := filepath.Join(dir, "rejects.jsonl")
	r := c.run(t, "import", file, "--rejects", rejects, "--store", store)
	assert.Equal(t, refused, r.code, "rejected rows make the import exit 1")
	assert.Equal(t, "imported 2, skipped 0 duplicates, rejected 7\n", r.stdout)
	for _, line := range []string{"line 2:", "line 3:", "line 4:", "line 5:", "line 6:", "line 7:", "line 8:"} {
		assert.Contains(t, r.stderr, line)
	}
	assert.NotContains(t, r.stderr, "goroutine")

	var got []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(readFile(t, rejects)), "\n") {
		got = append(got, object(t, l))
	}
	require.Len(t, got, 7)
	fields := map[string]string{}
	for _, g := range got {
		fields[num(g["line"])] = g["field"].(string)
		assert.NotEmpty(t, g["reason"])
		// Line 8's analyst has no rating: it is rejected once judged,
		// after the sort, which keeps rows' places in the file rather
		// than their text, so its row is read back from the file.
		n, err := strconv.Atoi(num(g["line"]))
		require.NoError(t, err)
		assert.Equal(t, lines[n-1], g["row"], "line %d quoted as in the file", n)
	}
	assert.Equal(t, "rating", fields["2"])
	assert.Equal(t, "target", fields["4"])
	assert.Equal(t, "target", fields["5"])
	assert.Equal(t, "type", fields["6"])
	assert.Equal(t, "id", fields["7"])
	assert.Equal(t, "analyst", fields["8"])

	show := showJSON(t, c, store, "BABA", "--as-of", "2025-09-11")
	assert.Equal(t, "1", num(show["analysts"]))
	assert.Equal(t, "155.44", num(show["close"]))
}

func TestImportEmptyAndMissingFiles(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	empty := filepath.Join(t.TempDir(), "empty.jsonl")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	store := newStore(t)
	assert.Equal(t, "imported 0, skipped 0 duplicates, rejected 0\n", c.ok(t, "import", empty, "--store", store).stdout)
	assertNoFile(t, store)

	r := c.run(t, "import", filepath.Join(t.TempDir(), "missing.jsonl"), "--store", store)
	assert.Equal(t, refused, r.code)
	assertOneCleanLine(t, r.stderr)
	r = c.run(t, "import", "--store", store)
	assert.Equal(t, usage, r.code)
}

// TestImportKilledAndRunAgain kills a real import with SIGKILL part-way
// through, checks the store holds only whole batches that verify, runs the
// same command again, and compares the result with a clean import: the same
// events, ids, content and order.
func TestImportKilledAndRunAgain(t *testing.T) {
	skipShort(t, "kills the binary mid-run and checks what it left")
	t.Parallel()
	c := newCLI(t)
	file := filepath.Join(t.TempDir(), "history.jsonl")
	c.ok(t, "gen", "--instruments", "40", "--analysts", "300", "--years", "6", "--seed", "11", "--out", file)

	clean := newStore(t)
	c.ok(t, "import", file, "--store", clean)
	want := events(t, c, clean)

	killed := newStore(t)
	cmd, stdout, stderr := c.command("import", file, "--store", killed)
	require.NoError(t, cmd.Start())
	// Wait until some batches have landed, then kill without warning.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if st, err := os.Stat(killed + "-wal"); err == nil && st.Size() > 1<<20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the import wrote nothing within a minute; stderr: %s", stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	err := cmd.Wait()
	require.Error(t, err, "the import was killed before it finished; stdout: %s", stdout)

	r := c.ok(t, "verify", "--store", killed)
	assert.Contains(t, r.stdout, "ok:", "only whole batches remain")
	partial := len(events(t, c, killed))
	assert.Less(t, partial, len(want), "the kill came before the end")

	r = c.ok(t, "import", file, "--store", killed)
	assert.Contains(t, r.stdout, ", rejected 0")
	assert.Contains(t, r.stdout, "skipped "+itoa(partial)+" duplicates", "the second run skips what the first wrote")
	assert.Equal(t, want, events(t, c, killed))
	c.ok(t, "verify", "--store", killed)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func itoa(n int) string { return strconv.Itoa(n) }
