package test

import (
	"bytes"
	"database/sql"
	"fmt"
	"net/http"
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
	count := strconv.Itoa(eventsOf(t, c, store, "9988.HK"))
	assert.Equal(t, "ok: "+count+" events in 1 streams\nchain version 1: 0 events, chain version 2: "+count+" events\n",
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
	skipShort(t, "another hand editing the store file; TestVerifyDetectsTampering keeps tampering in the quick loop")
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
	skipShort(t, "another hand editing the store file; TestVerifyDetectsTampering keeps tampering in the quick loop")
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
	rows, err := db.Query(`SELECT seq, id, type, data, metadata, effective_at, recorded_at FROM events WHERE stream = 'instrument-BABA' ORDER BY version`)
	require.NoError(t, err)
	type row struct {
		seq           int64
		id            []byte
		typ           string
		data, meta    []byte
		eff, recorded int64
	}
	var all []row
	for rows.Next() {
		var r row
		require.NoError(t, rows.Scan(&r.seq, &r.id, &r.typ, &r.data, &r.meta, &r.eff, &r.recorded))
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
		h := eventstore.HashV2(prev, id.String(), r.typ, r.data, time.Unix(0, r.eff), time.Unix(0, r.recorded), r.meta)
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

// TestVerifyNamesTheFirstBadEvent changes the SQLite file behind the
// ledger's back in each way a hand with write access could: altering any
// hashed field of an event, removing one, swapping two, moving one to
// another stream, and appending a forged one. verify must refuse (exit 1)
// in one line naming the stream, the position and, where an event stands
// there, its id.
func TestVerifyNamesTheFirstBadEvent(t *testing.T) {
	skipShort(t, "another hand editing the store file; TestVerifyDetectsTampering keeps tampering in the quick loop")
	t.Parallel()
	c := newCLI(t)
	pristine := demoStore(t, c)
	idAt := func(stream string, version int) string { return tamperEventID(t, pristine, stream, version) }
	const baba = "instrument-BABA"

	for _, tc := range []struct {
		name string
		sql  []string
		// want is what the one line must name: the stream and the position
		// of the first bad event, and the id of the event found there.
		want []string
	}{
		{"data altered", []string{
			`UPDATE events SET data = CAST(CAST(data AS TEXT) || ' ' AS BLOB) WHERE stream = 'instrument-BABA' AND version = 7`,
		}, []string{baba, "event 7 ", idAt(baba, 7), "does not match its hash"}},
		{"effective time altered", []string{
			`UPDATE events SET effective_at = effective_at - 86400000000000 WHERE stream = 'instrument-BABA' AND version = 7`,
		}, []string{baba, "event 7 ", idAt(baba, 7), "does not match its hash"}},
		{"recorded time altered", []string{
			`UPDATE events SET recorded_at = recorded_at + 1000 WHERE stream = 'instrument-BABA' AND version = 7`,
		}, []string{baba, "event 7 ", idAt(baba, 7), "does not match its hash"}},
		{"type altered", []string{
			`UPDATE events SET type = 'RatingWithdrawn' WHERE stream = 'instrument-BABA' AND version = 7`,
		}, []string{baba, "event 7 ", idAt(baba, 7), "does not match its hash"}},
		{"id altered", []string{
			`UPDATE events SET id = randomblob(16) WHERE stream = 'instrument-BABA' AND version = 7`,
		}, []string{baba, "event 7 ", "does not match its hash"}},
		{"event removed", []string{
			`DELETE FROM events WHERE stream = 'instrument-BABA' AND version = 5`,
		}, []string{baba, "event 5 ", idAt(baba, 6), "is numbered 6", "missing or out of order"}},
		{"two events swapped", []string{
			// (stream, version) is unique, so the swap goes through a free
			// version number.
			`UPDATE events SET version = 1000000 WHERE stream = 'instrument-BABA' AND version = 3`,
			`UPDATE events SET version = 3 WHERE stream = 'instrument-BABA' AND version = 4`,
			`UPDATE events SET version = 4 WHERE stream = 'instrument-BABA' AND version = 1000000`,
		}, []string{baba, "event 3 ", idAt(baba, 4), "does not link to the previous event's hash"}},
		{"id removed from the index of ids", []string{
			// Every chain still verifies; the index that keeps an id from
			// being stored twice no longer holds this one.
			`DELETE FROM event_ids WHERE seq = 3`,
		}, []string{"after 68 good events", "event_ids holds 67 ids for the 68 events up to seq 68"}},
		{"event moved to another stream", []string{
			`UPDATE events SET stream = 'instrument-9988.HK', version = 11 WHERE stream = 'instrument-BABA' AND version = 7`,
		}, []string{"instrument-9988.HK", "event 11 ", idAt(baba, 7), "does not link to the previous event's hash"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := copyStore(t, pristine)
			tamperExec(t, store, tc.sql...)
			r := c.run(t, "verify", "--store", store)
			assert.Equal(t, refused, r.code, "verify must fail; stdout: %s", r.stdout)
			assert.Empty(t, r.stdout)
			assertOneCleanLine(t, r.stderr)
			assert.Contains(t, r.stderr, "tampering detected")
			for _, w := range tc.want {
				assert.Contains(t, r.stderr, w)
			}
		})
	}

	// A forger who knows the hash function appends an event that links
	// onto the chain and matches its own hash, but leaves the streams table
	// alone: the chain and the recorded head disagree.
	t.Run("forged event appended", func(t *testing.T) {
		store := copyStore(t, pristine)
		db, err := sql.Open("sqlite", store)
		require.NoError(t, err)
		var (
			last          []byte
			typ           string
			data, meta    []byte
			eff, recorded int64
		)
		require.NoError(t, db.QueryRow(`SELECT hash, type, data, metadata, effective_at, recorded_at FROM events
			WHERE stream = 'instrument-BABA' ORDER BY version DESC LIMIT 1`).Scan(&last, &typ, &data, &meta, &eff, &recorded))
		id := uuid.New()
		var prev [32]byte
		copy(prev[:], last)
		recorded += 1000
		h := eventstore.HashV2(prev, id.String(), typ, data, time.Unix(0, eff), time.Unix(0, recorded), meta)
		_, err = db.Exec(`INSERT INTO events (id, stream, version, type, data, metadata, effective_at, recorded_at, prev_hash, hash, chain)
			VALUES (?, 'instrument-BABA', (SELECT max(version) + 1 FROM events WHERE stream = 'instrument-BABA'), ?, ?, ?, ?, ?, ?, ?, 2)`,
			id[:], typ, data, meta, eff, recorded, prev[:], h[:])
		require.NoError(t, err)
		require.NoError(t, db.Close())

		r := c.run(t, "verify", "--store", store)
		assert.Equal(t, refused, r.code, "verify must fail; stdout: %s", r.stdout)
		assertOneCleanLine(t, r.stderr)
		assert.Contains(t, r.stderr, baba)
		// The line names the forged event and the counts that disagree.
		assert.Contains(t, r.stderr, fmt.Sprintf("event 57 (%s) was not written by the ledger", id))
		assert.Contains(t, r.stderr, "holds 58 events but the store recorded 57")
	})
}

// TestServeHealthzReportsTampering runs the real server on a ledger, then
// alters an event in its file: GET /healthz must turn to 503 with the
// verification broken and the event named, while the server stays up and
// goes on answering.
func TestServeHealthzReportsTampering(t *testing.T) {
	skipShort(t, "another hand editing the store file; TestVerifyDetectsTampering keeps tampering in the quick loop")
	t.Parallel()
	c := newCLI(t)
	store := demoStore(t, c)
	s := startServe(t, c, "--store", store, "--verify-every", "100ms")

	var health map[string]any
	require.Eventually(t, func() bool {
		code, body := s.get(t, "/healthz")
		health = object(t, body)
		return code == http.StatusOK && health["verify"].(map[string]any)["status"] == "ok"
	}, 20*time.Second, 50*time.Millisecond, "healthz reports a verified ledger first")

	id := tamperEventID(t, store, "instrument-BABA", 7)
	tamperExec(t, store, `UPDATE events SET data = CAST(CAST(data AS TEXT) || ' ' AS BLOB) WHERE stream = 'instrument-BABA' AND version = 7`)

	var code int
	require.Eventually(t, func() bool {
		var body string
		code, body = s.get(t, "/healthz")
		health = object(t, body)
		return code == http.StatusServiceUnavailable
	}, 20*time.Second, 50*time.Millisecond, "healthz fails once the chains are verified again")
	assert.Equal(t, "failing", health["status"])
	verify := health["verify"].(map[string]any)
	assert.Equal(t, "broken", verify["status"])
	problem, _ := verify["problem"].(string)
	assert.Contains(t, problem, "instrument-BABA")
	assert.Contains(t, problem, "event 7 ")
	assert.Contains(t, problem, id)

	// Still up: it keeps answering, and keeps reporting the break.
	code, body := s.get(t, "/api/v1/instruments/9988.HK/consensus?as_of=2025-09-11")
	assert.Equal(t, http.StatusOK, code, body)
	code, _ = s.get(t, "/healthz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	select {
	case <-s.done:
		t.Fatalf("serve exited (status %d): %s", s.code, s.stderr)
	default:
	}
}

// tamperExec runs SQL statements on the ledger file directly, as another
// tool would, bypassing the ledger.
func tamperExec(t *testing.T, store string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", store)
	require.NoError(t, err)
	defer func() { require.NoError(t, db.Close()) }()
	for _, stmt := range stmts {
		res, err := db.Exec(stmt)
		require.NoError(t, err, stmt)
		n, err := res.RowsAffected()
		require.NoError(t, err)
		require.EqualValues(t, 1, n, "%s changes one row", stmt)
	}
}

// tamperEventID is the id of the event at version in stream.
func tamperEventID(t *testing.T, store, stream string, version int) string {
	t.Helper()
	db, err := sql.Open("sqlite", store)
	require.NoError(t, err)
	defer func() { require.NoError(t, db.Close()) }()
	var b []byte
	require.NoError(t, db.QueryRow(`SELECT id FROM events WHERE stream = ? AND version = ?`, stream, version).Scan(&b))
	id, err := uuid.FromBytes(b)
	require.NoError(t, err)
	return id.String()
}
