package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
)

// oldLedger copies the demo ledger as an earlier release wrote it, at
// schema version 2 (before chain version 2) or 3 (before event_ids), to a
// new path.
func oldLedger(t *testing.T, schema int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "test", "testdata", fmt.Sprintf("schema%d-demo.sqlite", schema)))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "old.db")
	require.NoError(t, os.WriteFile(path, b, 0o644))
	return path
}

func userVersion(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	var v int
	require.NoError(t, db.QueryRow("PRAGMA user_version").Scan(&v))
	return v
}

// verifyAll verifies every stream and returns the counts by chain version.
func verifyAll(t *testing.T, s *sqlite.Store) [eventstore.ChainV2 + 1]int64 {
	t.Helper()
	infos, err := s.Streams(context.Background())
	require.NoError(t, err)
	var counts [eventstore.ChainV2 + 1]int64
	for _, info := range infos {
		sum, err := eventstore.VerifyChain(context.Background(), s, &eventstore.ChainVerifier{Stream: info.Stream})
		require.NoError(t, err)
		assert.Equal(t, info.LastHash, sum.Head)
		for v, n := range sum.ByChain {
			counts[v] += n
		}
	}
	return counts
}

// TestSchema2LedgerReadsAndUpgrades opens a ledger at schema version 2:
// read-only it is read as it is (every record chain version 1, the file
// untouched); opened for writing it is migrated to version 3 with every
// record still version 1 and verifying (and on to version 4, ids in
// event_ids), and new records are version 2.
func TestSchema2LedgerReadsAndUpgrades(t *testing.T) {
	path := oldLedger(t, 2)
	before, err := os.ReadFile(path)
	require.NoError(t, err)

	ro := mustOpen(t, path, sqlite.Options{ReadOnly: true})
	assert.Equal(t, [3]int64{0, 68, 0}, verifyAll(t, ro))
	require.NoError(t, ro.Close())
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, before, after, "read-only leaves the file as it was")
	assert.Equal(t, 2, userVersion(t, path))

	rw := mustOpen(t, path, sqlite.Options{})
	assert.Equal(t, 4, userVersion(t, path))
	assert.Equal(t, [3]int64{0, 68, 0}, verifyAll(t, rw), "migrated records keep version 1 and verify")
	res, err := rw.Append(context.Background(), "instrument-BABA", eventstore.Any, newEvents(2))
	require.NoError(t, err)
	assert.Equal(t, eventstore.ChainV2, res.Records[0].Chain)
	assert.Equal(t, [3]int64{0, 68, 2}, verifyAll(t, rw))
}

// TestChainMigrationFailsWhole makes the chain migration fail (a column of
// its name already exists, as a stray tool might have added): the ledger
// is left at schema version 2, unchanged and still readable, since every
// step runs in one transaction. A crash during the step leaves it the same
// way.
func TestChainMigrationFailsWhole(t *testing.T) {
	path := oldLedger(t, 2)
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(`ALTER TABLE events ADD COLUMN chain INTEGER`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	_, err = sqlite.Open(path, sqlite.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "migration 0003_chain_version.sql")
	assert.Equal(t, 2, userVersion(t, path), "the failed step left the schema version as it was")
	ro := mustOpen(t, path, sqlite.Options{ReadOnly: true})
	assert.Equal(t, [3]int64{0, 68, 0}, verifyAll(t, ro))
}
