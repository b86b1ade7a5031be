package test

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCopyKeepsEverything copies the demo ledger to a new store and checks
// that nothing a user can ask tells them apart: the full log (ids, both
// times, retractions), the chain heads verify reports, and the consensus at
// points in valid and transaction time.
func TestCopyKeepsEverything(t *testing.T) {
	skipShort(t, "over 2 s (3 s in a full run on the loaded 2-core machine)")
	c := newCLI(t)
	source := demoStore(t, c)
	target := newStore(t)

	r := c.ok(t, "copy", "--from", source, "--to", target)
	require.Regexp(t, `^copied [1-9][0-9]* events, 0 already there, 2 streams\n$`, r.stdout)

	assert.Equal(t, snapshot(t, c, source), snapshot(t, c, target))
	assert.Equal(t, c.ok(t, "verify", "--json", "--store", source).stdout, c.ok(t, "verify", "--json", "--store", target).stdout)
	for _, flags := range [][]string{
		{"--as-of", "2025-09-11"},
		{"--as-of", "2025-09-12T15:00:00Z"},
		{"--as-of", "2025-06-30", "--explain"},
		{"--as-of", "2025-09-11", "--known-at", logJSON(t, c, source, "BABA")[3]["recorded_at"].(string)},
	} {
		want, got := showJSON(t, c, source, "BABA", flags...), showJSON(t, c, target, "BABA", flags...)
		if !slices.Contains(flags, "--known-at") { // now, a moment apart
			delete(want, "known_at")
			delete(got, "known_at")
		}
		assert.Equal(t, want, got, "show %s", strings.Join(flags, " "))
	}

	// Running it again copies nothing.
	r = c.ok(t, "copy", "--from", source, "--to", target)
	require.Regexp(t, `^copied 0 events, [1-9][0-9]* already there, 2 streams\n$`, r.stdout)

	// New events in the source are copied on the next run, after the
	// ones already there.
	c.ok(t, "close", "BABA", "--price", "150.01", "--currency", "USD", "--at", "2025-09-15", "--store", source)
	r = c.ok(t, "copy", "--from", source, "--to", target)
	require.Regexp(t, `^copied 1 events, [1-9][0-9]* already there, 2 streams\n$`, r.stdout)
	assert.Equal(t, snapshot(t, c, source), snapshot(t, c, target))
	c.ok(t, "verify", "--store", target)
}

// TestCopyRefusesAnotherLedger checks that copying into a store whose
// stream holds other events fails with one clear line and writes nothing.
func TestCopyRefusesAnotherLedger(t *testing.T) {
	c := newCLI(t)
	source := demoStore(t, c)
	other := newStore(t)
	c.ok(t, "close", "BABA", "--price", "1.00", "--currency", "USD", "--at", "2025-01-02", "--store", other)
	before := snapshot(t, c, other)

	r := c.run(t, "copy", "--from", source, "--to", other)
	assert.Equal(t, 1, r.code)
	assertOneCleanLine(t, r.stderr)
	assert.Contains(t, r.stderr, "different ledgers")
	assert.Equal(t, before, snapshot(t, c, other))

	r = c.run(t, "copy", "--from", source)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "--to")
}
