package test

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore/esdb/esdbtest"
)

// startServer starts an in-process EventStoreDB/KurrentDB test server that
// stops when the test ends, and returns its connection string. The binary
// reaches it like any server: over gRPC on a loopback port.
func startServer(t *testing.T, opts esdbtest.Options) string {
	t.Helper()
	srv, err := esdbtest.Start(opts)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, srv.Close()) })
	return srv.ConnectionString()
}

// copied matches copy's closing line, capturing the events copied, those
// already there and the streams.
var copied = regexp.MustCompile(`^copied ([0-9]+) events, ([0-9]+) already there, ([0-9]+) streams\n$`)

// copyCounts runs copy and returns its counts.
func copyCounts(t *testing.T, c *cli, from, to string) (copiedN, present, streams int) {
	t.Helper()
	r := c.ok(t, "copy", "--from", from, "--to", to)
	m := copied.FindStringSubmatch(r.stdout)
	require.NotNil(t, m, "copy printed %q", r.stdout)
	n := make([]int, 3)
	for i := range n {
		var err error
		n[i], err = strconv.Atoi(m[i+1])
		require.NoError(t, err)
	}
	return n[0], n[1], n[2]
}

// TestCopyThroughAServer copies a ledger with a rich history (the demo, a
// generated history with retractions, and a late recording) from SQLite to
// a server and from the server to a new SQLite file, with the real binary.
// The server and the second file verify with the same chain heads, and
// every log, instrument list and consensus answer matches the source's:
// ids, both times and hashes survive both moves. Copying again writes
// nothing, and events written to the server afterwards reach the file on
// the next copy.
func TestCopyThroughAServer(t *testing.T) {
	skipShort(t, "runs the binary against an in-process EventStoreDB server")
	t.Parallel()
	c := newCLI(t)
	server := startServer(t, esdbtest.Options{})

	source := demoStore(t, c)
	file := filepath.Join(t.TempDir(), "history.jsonl")
	c.ok(t, "gen", "--instruments", "3", "--analysts", "25", "--years", "2", "--seed", "4", "--out", file)
	require.Positive(t, strings.Count(readFile(t, file), `"type":"retract"`), "the generated history holds retractions")
	c.ok(t, "import", file, "--store", source)
	// A rating recorded now for Wednesday 10 September 2025: a late
	// recording, so the consensus on the Thursday known before it differs
	// from the one known after it.
	before := logJSON(t, c, source, "BABA")
	c.ok(t, "rate", "BABA", "--analyst", "late.analyst@e2e", "--rating", "sell", "--target", "120", "--currency", "USD",
		"--at", "2025-09-10", "--store", source)
	knownBeforeLate := before[len(before)-1]["recorded_at"].(string)
	var instruments []string
	for _, in := range array(t, c.ok(t, "instruments", "--json", "--store", source).stdout) {
		instruments = append(instruments, in["instrument"].(string))
	}
	require.Len(t, instruments, 5)
	total := 0
	for _, sym := range instruments {
		total += len(logJSON(t, c, source, sym))
	}

	back := newStore(t)
	assert.Equal(t, []int{total, 0, 5}, ints(copyCounts(t, c, source, server)), "SQLite to the server")
	assert.Equal(t, []int{total, 0, 5}, ints(copyCounts(t, c, server, back)), "the server to SQLite")

	want := snapshot(t, c, source)
	wantHeads := c.ok(t, "verify", "--json", "--store", source).stdout
	for name, store := range map[string]string{"server": server, "back": back} {
		assert.Equal(t, want, snapshot(t, c, store), "%s: instruments and every log", name)
		assert.Equal(t, wantHeads, c.ok(t, "verify", "--json", "--store", store).stdout, "%s: verify", name)
	}

	// The consensus at points in valid and transaction time, with the
	// retracted typo and the late recording on either side of them.
	var importedAt string
	for _, sym := range instruments {
		if sym != "BABA" && sym != "9988.HK" {
			importedAt = logJSON(t, c, source, sym)[0]["recorded_at"].(string)
		}
	}
	points := [][]string{
		{"--as-of", "2025-09-11"},
		{"--as-of", "2025-09-11", "--known-at", knownBeforeLate, "--explain"},
		{"--as-of", "2025-09-12T15:00:00Z", "--known-at", before[3]["recorded_at"].(string)},
		{"--as-of", "2025-06-30", "--known-at", importedAt, "--explain"},
		{"--as-of", "2024-12-31", "--window", "0d"},
	}
	for _, sym := range instruments {
		for _, flags := range points {
			wantShow := showJSON(t, c, source, sym, flags...)
			for name, store := range map[string]string{"server": server, "back": back} {
				got := showJSON(t, c, store, sym, flags...)
				if !strings.Contains(strings.Join(flags, " "), "--known-at") { // now, a moment apart
					delete(got, "known_at")
					delete(wantShow, "known_at")
				}
				assert.Equal(t, wantShow, got, "%s: show %s %s", name, sym, strings.Join(flags, " "))
			}
		}
	}
	late := showJSON(t, c, source, "BABA", "--as-of", "2025-09-11")
	early := showJSON(t, c, source, "BABA", "--as-of", "2025-09-11", "--known-at", knownBeforeLate)
	assert.Equal(t, "165.69", num(early["mean_target"]))
	assert.NotEqual(t, num(early["mean_target"]), num(late["mean_target"]), "the late rating counts once known")

	// Running both copies again writes nothing.
	assert.Equal(t, []int{0, total, 5}, ints(copyCounts(t, c, source, server)))
	assert.Equal(t, []int{0, total, 5}, ints(copyCounts(t, c, server, back)))
	assert.Equal(t, want, snapshot(t, c, back))

	// Events written to the server after the copy (a close and a
	// retraction) reach the file on the next copy, after those there.
	c.ok(t, "close", "BABA", "--price", "150.01", "--currency", "USD", "--at", "2025-09-15", "--store", server)
	lateRating := logJSON(t, c, server, "BABA")[len(before)]
	require.Equal(t, "late.analyst@e2e", lateRating["data"].(map[string]any)["analyst"])
	c.ok(t, "retract", lateRating["event_id"].(string), "--reason", "entered against the wrong instrument", "--store", server)
	assert.Equal(t, []int{2, total, 5}, ints(copyCounts(t, c, server, back)))
	assert.Equal(t, snapshot(t, c, server), snapshot(t, c, back))
	assert.Equal(t, c.ok(t, "verify", "--json", "--store", server).stdout, c.ok(t, "verify", "--json", "--store", back).stdout)
	assert.Equal(t, "165.69", num(showJSON(t, c, back, "BABA", "--as-of", "2025-09-11")["mean_target"]), "the late rating is retracted")
}

// ints gathers copyCounts' results for one comparison.
func ints(n ...int) []int { return n }

// TestImportIntoAServer imports a generated history into a server whose
// MaxAppendSize is far below one instrument's events, named to the binary
// by the connection string's maxAppendSize: the import cuts its batches to
// fit, every event arrives, and a re-run writes nothing. Without the
// setting the first batch is refused whole, in one line that names it.
func TestImportIntoAServer(t *testing.T) {
	skipShort(t, "runs the binary against an in-process EventStoreDB server")
	t.Parallel()
	c := newCLI(t)
	server := startServer(t, esdbtest.Options{MaxAppendSize: 32 << 10})
	file := filepath.Join(t.TempDir(), "history.jsonl")
	c.ok(t, "gen", "--instruments", "2", "--analysts", "12", "--years", "1", "--seed", "11", "--out", file)
	rows := strings.Count(readFile(t, file), "\n")

	r := c.run(t, "import", file, "--store", server)
	assert.Equal(t, 1, r.code)
	assertOneCleanLine(t, r.stderr)
	assert.Contains(t, r.stderr, "maxAppendSize")

	limited := server + "&maxAppendSize=32768"
	assert.Equal(t, "imported "+itoa(rows)+", skipped 0 duplicates, rejected 0\n", c.ok(t, "import", file, "--store", limited).stdout)
	assert.Contains(t, c.ok(t, "verify", "--store", server).stdout, "ok: "+itoa(rows)+" events in 2 streams")
	assert.Equal(t, "imported 0, skipped "+itoa(rows)+" duplicates, rejected 0\n", c.ok(t, "import", file, "--store", limited).stdout)

	embedded := newStore(t)
	c.ok(t, "import", file, "--store", embedded)
	assert.Equal(t, events(t, c, embedded), events(t, c, server))
}
