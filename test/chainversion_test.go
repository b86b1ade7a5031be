package test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// oldLedger copies testdata/schema2-demo.sqlite, the demo ledger as the
// release before chain version 2 wrote it (schema version 2, every event
// chain version 1), to a new path.
func oldLedger(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "schema2-demo.sqlite"))
	require.NoError(t, err)
	path := newStore(t)
	require.NoError(t, os.WriteFile(path, b, 0o644))
	return path
}

// TestOldLedgerVerifiesAndMixesChainVersions opens a ledger written before
// chain version 2: it verifies read-only without being changed, a
// checkpoint of it is taken read-only, the first write upgrades it and
// adds a version-2 event after the version-1 ones, the mixed ledger
// verifies with both counted and against the checkpoint, and a copy keeps
// every event's version and hash.
func TestOldLedgerVerifiesAndMixesChainVersions(t *testing.T) {
	skipShort(t, "over 2 s (2 s in a full run on the loaded 2-core machine)")
	t.Parallel()
	c := newCLI(t)
	store := oldLedger(t)
	pristine, err := os.ReadFile(store)
	require.NoError(t, err)

	assert.Equal(t, "ok: 68 events in 2 streams\nchain version 1: 68 events, chain version 2: 0 events\n", c.ok(t, "verify", "--store", store).stdout)
	dir := t.TempDir()
	key, cpt := filepath.Join(dir, "key"), filepath.Join(dir, "old.json")
	c.ok(t, "keygen", "-o", key)
	c.ok(t, "checkpoint", "--key", key, "-o", cpt, "--store", store)
	after, err := os.ReadFile(store)
	require.NoError(t, err)
	assert.Equal(t, pristine, after, "reading an old ledger leaves its file unchanged")

	c.ok(t, "close", "9988.HK", "--price", "150", "--currency", "HKD", "--at", "2025-09-15", "--store", store)
	assert.Equal(t, "ok: 69 events in 2 streams\nchain version 1: 68 events, chain version 2: 1 events\n", c.ok(t, "verify", "--store", store).stdout)
	assert.Contains(t, c.ok(t, "verify", "--against", cpt, "--pubkey", key+".pub", "--store", store).stdout,
		"ok against checkpoint "+cpt+": 2 of its streams checked")
	chain := c.ok(t, "log", "9988.HK", "--chain", "--store", store).stdout
	assert.Regexp(t, `(?m)^10\t1\t`, chain, "the old events keep version 1")
	assert.Regexp(t, `(?m)^11\t2\t`, chain, "the new one is version 2")

	copied := newStore(t)
	c.ok(t, "copy", "--from", store, "--to", copied)
	assert.Equal(t, "ok: 69 events in 2 streams\nchain version 1: 68 events, chain version 2: 1 events\n", c.ok(t, "verify", "--store", copied).stdout)
	assert.Equal(t, chain, c.ok(t, "log", "9988.HK", "--chain", "--store", copied).stdout, "versions and hashes kept by copy")
	c.ok(t, "verify", "--against", cpt, "--pubkey", key+".pub", "--store", copied)
}
