package test

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestDemoOnlyIntoItsOwnStore: the demo refuses a ledger holding other
// events (it used to add 68 fictitious ones to it), whether named by
// --store or CONSENSUS_STORE, and writes nothing; its own store takes it
// again, as a no-op. Issue 10, item 2.
func TestDemoOnlyIntoItsOwnStore(t *testing.T) {
	skipShort(t, "over 2 s (3 s in a full run on the loaded 2-core machine)")
	t.Parallel()
	f := newOutputsFixture(t)
	want := "consensus demo: " + f.store + " holds 2 events that are not the demo's, and demo data goes only into a store of its own; " +
		"give a new store path, or neither --store nor CONSENSUS_STORE for a temporary store.\n"
	r := f.c.run(t, "demo", "--store", f.store)
	assert.Equal(t, refused, r.code)
	assert.Empty(t, r.stdout)
	assert.Equal(t, want, r.stderr)
	r = f.c.withEnv("CONSENSUS_STORE="+f.store).run(t, "demo")
	assert.Equal(t, refused, r.code)
	assert.Equal(t, want, r.stderr)
	assert.Equal(t, f.before, snapshot(t, f.c, f.store))
	assert.Contains(t, f.c.ok(t, "verify", "--store", f.store).stdout, "ok: 2 events in 1 streams")

	// The demo's own store takes it again and writes nothing; one event of
	// anyone else's in it, and it is refused.
	own := demoStore(t, f.c)
	assert.Contains(t, f.c.ok(t, "demo", "--store", own).stdout, "0 events written, 68 already present")
	f.c.ok(t, "close", "BABA", "--price", "150", "--currency", "USD", "--at", "2025-09-15", "--store", own)
	before := snapshot(t, f.c, own)
	r = f.c.run(t, "demo", "--store", own)
	assert.Equal(t, refused, r.code)
	assert.Equal(t, "consensus demo: "+own+" holds 1 event that is not the demo's, and demo data goes only into a store of its own; "+
		"give a new store path, or neither --store nor CONSENSUS_STORE for a temporary store.\n", r.stderr)
	assert.Equal(t, before, snapshot(t, f.c, own))
}
