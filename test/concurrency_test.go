package test

import (
	"bytes"
	"fmt"
	"os/exec"
	"sort"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// started is a process started by startAll.
type started struct {
	cmd            *exec.Cmd
	stdout, stderr *bytes.Buffer
}

// startAll starts every command line at once, then waits for all of them.
func startAll(t *testing.T, c *cli, lines [][]string) []result {
	t.Helper()
	procs := make([]started, len(lines))
	for i, args := range lines {
		cmd, stdout, stderr := c.command(args...)
		require.NoError(t, cmd.Start())
		procs[i] = started{cmd, stdout, stderr}
	}
	results := make([]result, len(procs))
	for i, p := range procs {
		results[i] = finish(t, p.cmd.Wait(), p.stdout, p.stderr)
	}
	return results
}

// rates are n rate commands on one symbol by n different analysts.
func rates(n int, symbol, store string) [][]string {
	lines := make([][]string, n)
	for i := range lines {
		lines[i] = []string{"rate", symbol, "--analyst", fmt.Sprintf("analyst%d@firm-%d", i, i), "--rating", "buy",
			"--target", strconv.Itoa(100 + i), "--currency", "USD", "--at", "2025-09-01", "--store", store}
	}
	return lines
}

// TestConcurrentRates starts six rate processes at once on one store and one
// symbol: every one succeeds, and the stream holds exactly their six events
// at versions 0 to 5 with an intact hash chain.
func TestConcurrentRates(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	store := newStore(t)
	// The store exists before the race (created by a write on another
	// instrument); TestConcurrentRatesOnNewStore races its creation too.
	c.ok(t, "close", "OTHER", "--price", "1", "--currency", "USD", "--at", "2025-09-01", "--store", store)

	const n = 6
	for i, r := range startAll(t, c, rates(n, "CONC", store)) {
		assert.Equal(t, 0, r.code, "rate %d: %s", i, r.stderr)
		assert.Regexp(t, `^[0-9a-f-]{36}\n$`, r.stdout, "rate %d prints its event id", i)
	}
	assertConcurrentStream(t, c, store, n)
	assert.Equal(t, "ok: 7 events in 2 streams\n", c.ok(t, "verify", "--store", store).stdout)
}

// assertConcurrentStream checks that CONC holds exactly the n analysts'
// ratings at versions 0..n-1.
func assertConcurrentStream(t *testing.T, c *cli, store string, n int) {
	t.Helper()
	events := logJSON(t, c, store, "CONC")
	require.Len(t, events, n)
	var analysts []string
	for i, e := range events {
		assert.Equal(t, strconv.Itoa(i), num(e["version"]))
		assert.Equal(t, "RatingAdded", e["type"])
		analysts = append(analysts, e["data"].(map[string]any)["analyst"].(string))
	}
	sort.Strings(analysts)
	for i := range analysts {
		assert.Equal(t, fmt.Sprintf("analyst%d@firm-%d", i, i), analysts[i])
	}
	got := showJSON(t, c, store, "CONC", "--as-of", "2025-09-02")
	assertFigures(t, got, figures{"analysts": strconv.Itoa(n), "buy": strconv.Itoa(n)})
}

// TestConcurrentRatesOnNewStore races six first writes on a store that does
// not exist yet ("created on first write"): all must succeed. It repeats the
// race a few times, because losing it depends on timing.
func TestConcurrentRatesOnNewStore(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	const n, rounds = 6, 25
	for round := range rounds {
		store := newStore(t)
		failed := false
		for i, r := range startAll(t, c, rates(n, "CONC", store)) {
			if !assert.Equal(t, 0, r.code, "round %d, rate %d on a new store: %s", round, i, r.stderr) {
				failed = true
			}
		}
		if failed {
			return
		}
		assertConcurrentStream(t, c, store, n)
		assert.Equal(t, "ok: 6 events in 1 streams\n", c.ok(t, "verify", "--store", store).stdout)
	}
}

// TestRefusedWriteNeverDeletesAnotherWritersStore races a refused write (a
// revision for an analyst with no rating) against a valid rating, both on a
// store that does not exist yet. A refused command writes nothing, and that
// includes never removing what another process wrote: the rating must
// succeed and stay in the store.
func TestRefusedWriteNeverDeletesAnotherWritersStore(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	const rounds = 20
	for round := range rounds {
		store := newStore(t)
		results := startAll(t, c, [][]string{
			{"revise", "CONC", "--analyst", "nobody@firm-n", "--target", "5", "--currency", "USD", "--at", "2025-09-01", "--store", store},
			{"rate", "CONC", "--analyst", "analyst0@firm-0", "--rating", "buy", "--currency", "USD", "--at", "2025-09-01", "--store", store},
		})
		assert.Equal(t, refused, results[0].code, "round %d: the revision is refused: %s", round, results[0].stderr)
		if !assert.Equal(t, 0, results[1].code, "round %d: the rating must succeed: %s", round, results[1].stderr) {
			return
		}
		r := c.run(t, "log", "CONC", "--json", "--store", store)
		if !assert.Equal(t, 0, r.code, "round %d: the rating that exited 0 must be in the store: %s", round, r.stderr) {
			return
		}
		if !assert.Len(t, array(t, r.stdout), 1, "round %d", round) {
			return
		}
	}
}
