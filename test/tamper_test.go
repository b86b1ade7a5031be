package test

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"
)

// TestVerifyDetectsTampering changes one event's data directly in the SQLite
// file, bypassing the ledger: verify must fail (exit 1) naming that event,
// and the store must still answer questions.
func TestVerifyDetectsTampering(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	store := demoStore(t, c)

	// Raise Thursday's BABA close from 155.44 to 255.44 (the schema is in
	// eventstore/sqlite/migrations).
	db, err := sql.Open("sqlite", store)
	require.NoError(t, err)
	var (
		seq        int64
		id, data   []byte
		eventCount int
	)
	rows, err := db.Query(`SELECT seq, id, data FROM events WHERE stream = 'instrument-BABA' AND type = 'CloseRecorded'`)
	require.NoError(t, err)
	for rows.Next() {
		var s int64
		var i, d []byte
		require.NoError(t, rows.Scan(&s, &i, &d))
		if bytes.Contains(d, []byte(`"155.44"`)) {
			seq, id, data = s, i, d
			eventCount++
		}
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	require.Equal(t, 1, eventCount, "one BABA close of 155.44")
	tampered := bytes.Replace(data, []byte(`"155.44"`), []byte(`"255.44"`), 1)
	res, err := db.Exec(`UPDATE events SET data = ? WHERE seq = ?`, tampered, seq)
	require.NoError(t, err)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	require.NoError(t, db.Close())
	eventID, err := uuid.FromBytes(id)
	require.NoError(t, err)

	r := c.run(t, "verify", "--store", store)
	assert.Equal(t, refused, r.code, "verify must fail on a tampered store; stdout: %s", r.stdout)
	assertOneCleanLine(t, r.stderr)
	assert.Contains(t, r.stderr, eventID.String(), "verify must name the tampered event")
	assert.NotContains(t, r.stdout, "ok:")

	r = c.run(t, "verify", "BABA", "--store", store)
	assert.Equal(t, refused, r.code)
	assert.Contains(t, r.stderr, eventID.String())

	// The other stream is intact, and the store still answers.
	assert.Equal(t, "ok: "+strconv.Itoa(eventsOf(t, c, store, "9988.HK"))+" events in 1 streams\n",
		c.ok(t, "verify", "9988.HK", "--store", store).stdout)
	got := showJSON(t, c, store, "BABA", "--as-of", "2025-09-12")
	assertFigures(t, got, figures{"analysts": "18", "buy": "17", "mean_target": "165.69", "close": "152.98"})
	assert.Len(t, logJSON(t, c, store, "BABA"), eventsOf(t, c, store, "BABA"))
}

// eventsOf is the event count `instruments --json` gives for symbol.
func eventsOf(t *testing.T, c *cli, store, symbol string) int {
	t.Helper()
	for _, in := range array(t, c.ok(t, "instruments", "--json", "--store", store).stdout) {
		if in["instrument"] == symbol {
			n, err := strconv.Atoi(num(in["events"]))
			require.NoError(t, err)
			return n
		}
	}
	t.Fatalf("instrument %s not listed", symbol)
	return 0
}

// TestVerifyDetectsRemovedEvents removes events directly from the SQLite
// file: from the middle of a stream, and from its end with the stream's
// summary row adjusted to match. verify must fail either way.
func TestVerifyDetectsRemovedEvents(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for _, tc := range []struct {
		name string
		sql  []string
		want string
	}{
		{"an event in the middle", []string{
			`DELETE FROM events WHERE stream = 'instrument-BABA' AND version = 5`,
		}, "missing"},
		{"the last event, summary adjusted", []string{
			`DELETE FROM events WHERE stream = 'instrument-BABA' AND version = (SELECT max(version) FROM events WHERE stream = 'instrument-BABA')`,
			`UPDATE streams SET version = version - 1, events = events - 1 WHERE name = 'instrument-BABA'`,
		}, "removed or replaced at its end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := demoStore(t, c)
			db, err := sql.Open("sqlite", store)
			require.NoError(t, err)
			for _, stmt := range tc.sql {
				_, err := db.Exec(stmt)
				require.NoError(t, err)
			}
			require.NoError(t, db.Close())

			r := c.run(t, "verify", "--store", store)
			assert.Equal(t, refused, r.code, "verify must fail; stdout: %s", r.stdout)
			assertOneCleanLine(t, r.stderr)
			assert.Contains(t, r.stderr, "instrument-BABA")
			assert.Contains(t, r.stderr, tc.want)
		})
	}
}

// TestVerifyAgainstSavedHeads rewrites a stream the way someone able to
// recompute every hash would: change an event, then recompute its hash and
// every later one, and the stream's recorded head. Plain verify cannot see
// that; verify --against the chain ends saved earlier must.
func TestVerifyAgainstSavedHeads(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	store := demoStore(t, c)
	heads := filepath.Join(t.TempDir(), "heads.json")
	saved := c.ok(t, "verify", "--json", "--store", store).stdout
	require.NoError(t, os.WriteFile(heads, []byte(saved), 0o600))
	assert.Contains(t, c.ok(t, "verify", "--against", heads, "--store", store).stdout, "ok:")

	db, err := sql.Open("sqlite", store)
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.Query(`SELECT seq, id, type, data, effective_at, recorded_at FROM events WHERE stream = 'instrument-BABA' ORDER BY version`)
	require.NoError(t, err)
	type row struct {
		seq           int64
		id            []byte
		typ           string
		data          []byte
		eff, recorded int64
	}
	var all []row
	for rows.Next() {
		var r row
		require.NoError(t, rows.Scan(&r.seq, &r.id, &r.typ, &r.data, &r.eff, &r.recorded))
		all = append(all, r)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	var prev [32]byte
	for i, r := range all {
		if bytes.Contains(r.data, []byte(`"155.44"`)) {
			r.data = bytes.Replace(r.data, []byte(`"155.44"`), []byte(`"255.44"`), 1)
		}
		id, err := uuid.FromBytes(r.id)
		require.NoError(t, err)
		h := eventstore.Hash(prev, id.String(), r.typ, r.data, time.Unix(0, r.eff), time.Unix(0, r.recorded))
		_, err = db.Exec(`UPDATE events SET data = ?, prev_hash = ?, hash = ? WHERE seq = ?`, r.data, prev[:], h[:], r.seq)
		require.NoError(t, err)
		prev = h
		if i == len(all)-1 {
			_, err = db.Exec(`UPDATE streams SET last_hash = ? WHERE name = 'instrument-BABA'`, h[:])
			require.NoError(t, err)
		}
	}
	require.NoError(t, db.Close())

	assert.Contains(t, c.ok(t, "verify", "--store", store).stdout, "ok:", "a consistent rewrite passes plain verify")
	r := c.run(t, "verify", "--against", heads, "--store", store)
	assert.Equal(t, refused, r.code)
	assertOneCleanLine(t, r.stderr)
	assert.Contains(t, r.stderr, "instrument-BABA")
	assert.Contains(t, r.stderr, "rewritten")
}
