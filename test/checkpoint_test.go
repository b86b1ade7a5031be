package test

import (
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
)

// dropDeletedIDs removes from the index of event ids the ids of events an
// attacker deleted, as a consistent rewrite would: left there, plain
// verify reports the index disagreeing with the events.
func dropDeletedIDs(t *testing.T, db *sql.DB) {
	t.Helper()
	_, err := db.Exec(`DELETE FROM event_ids WHERE seq NOT IN (SELECT seq FROM events)`)
	require.NoError(t, err)
}

// rechain recomputes, directly in the SQLite file, every hash of stream
// from its first event and the stream's row in the streams table, as
// someone who knows the hash function and can write the file would after
// changing, removing or inserting events. Plain verify cannot see such a
// rewrite; only a checkpoint made before it can.
func rechain(t *testing.T, db *sql.DB, stream string) {
	t.Helper()
	rows, err := db.Query(`SELECT seq, id, type, data, metadata, effective_at, recorded_at, chain FROM events WHERE stream = ? ORDER BY version`, stream)
	require.NoError(t, err)
	type row struct {
		seq, eff, rec int64
		id            []byte
		typ           string
		data, meta    []byte
		chain         int
	}
	var all []row
	for rows.Next() {
		var r row
		require.NoError(t, rows.Scan(&r.seq, &r.id, &r.typ, &r.data, &r.meta, &r.eff, &r.rec, &r.chain))
		all = append(all, r)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	require.NotEmpty(t, all)
	var prev [32]byte
	for i, r := range all {
		id, err := uuid.FromBytes(r.id)
		require.NoError(t, err)
		rec := eventstore.Record{EventData: eventstore.EventData{ID: id, Type: r.typ, Data: r.data, Metadata: r.meta,
			EffectiveAt: time.Unix(0, r.eff)}, RecordedAt: time.Unix(0, r.rec), Chain: r.chain}
		h := eventstore.RecordHash(prev, rec)
		_, err = db.Exec(`UPDATE events SET version = ?, prev_hash = ?, hash = ? WHERE seq = ?`, i, prev[:], h[:], r.seq)
		require.NoError(t, err)
		prev = h
	}
	last := all[len(all)-1]
	_, err = db.Exec(`INSERT INTO streams (name, version, events, last_hash, last_recorded_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET version = excluded.version, events = excluded.events,
			last_hash = excluded.last_hash, last_recorded_at = excluded.last_recorded_at`,
		stream, len(all)-1, len(all), prev[:], last.rec)
	require.NoError(t, err)
}

// tamperDB runs fn on the ledger file opened directly, bypassing the ledger.
func tamperDB(t *testing.T, store string, fn func(db *sql.DB)) {
	t.Helper()
	db, err := sql.Open("sqlite", store)
	require.NoError(t, err)
	defer func() { require.NoError(t, db.Close()) }()
	fn(db)
}

// checkpointFixture is a demo ledger with a key pair and a checkpoint of it.
type checkpointFixture struct {
	c                    *cli
	dir, store, key, cpt string
	fingerprint          string
}

func newCheckpointFixture(t *testing.T) checkpointFixture {
	t.Helper()
	c := newCLI(t)
	f := checkpointFixture{c: c, dir: t.TempDir()}
	f.store = demoStore(t, c)
	f.key = filepath.Join(f.dir, "ledger-key")
	out := c.ok(t, "keygen", "-o", f.key).stdout
	_, fp, ok := strings.Cut(strings.TrimSpace(out), "; key ")
	require.True(t, ok, out)
	f.fingerprint = fp
	f.cpt = filepath.Join(f.dir, "checkpoint.json")
	out = c.ok(t, "checkpoint", "--key", f.key, "-o", f.cpt, "--store", f.store).stdout
	assert.Regexp(t, `^wrote .*checkpoint.json: 68 events in 2 streams as of \S+Z, root [0-9a-f]{64}, signed by key `+f.fingerprint+"\n$", out)
	return f
}

// checkpointTime is the "time" of the checkpoint file.
func checkpointTime(t *testing.T, path string) string {
	t.Helper()
	var cp struct{ Time string }
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &cp))
	return cp.Time
}

// TestCheckpointAttacks edits the SQLite file directly in each way a hand
// with write access and knowledge of the hash function could, recomputing
// the chains so that plain verify passes where it can, and checks that
// verify --against a checkpoint made before detects each one, exit 1, in
// one line naming the stream and what happened to it.
func TestCheckpointAttacks(t *testing.T) {
	skipShort(t, "over 2 s (9 s in a full run on the loaded 2-core machine)")
	t.Parallel()
	f := newCheckpointFixture(t)
	c := f.c
	at := checkpointTime(t, f.cpt)
	pub := f.key + ".pub"
	r := c.ok(t, "verify", "--against", f.cpt, "--pubkey", pub, "--store", f.store)
	assert.Equal(t, "ok: 68 events in 2 streams\nchain version 1: 0 events, chain version 2: 68 events\n"+
		"ok against checkpoint "+f.cpt+": 2 of its streams checked, as of "+at+"; the ledger has 2 streams; signed by key "+
		f.fingerprint+", the key in "+pub+"\n", r.stdout)
	hkLast := tamperEventID(t, f.store, "instrument-9988.HK", 10)

	for _, tc := range []struct {
		name   string
		tamper func(db *sql.DB)
		// plainOK says whether plain verify still passes (the chains were
		// recomputed); want is what verify --against must say.
		plainOK bool
		want    string
	}{
		{"metadata of a version-2 event edited", func(db *sql.DB) {
			_, err := db.Exec(`UPDATE events SET metadata = CAST(replace(CAST(metadata AS TEXT), '"recorded_by":"demo"', '"recorded_by":"mallory"') AS BLOB)
				WHERE stream = 'instrument-9988.HK' AND version = 10`)
			require.NoError(t, err)
		}, false, "instrument-9988.HK: event 10 (" + hkLast + ") does not match its hash: its content, times or metadata (recorded_by, source, correlation or causation id) were changed"},
		{"whole stream deleted", func(db *sql.DB) {
			_, err := db.Exec(`DELETE FROM events WHERE stream = 'instrument-9988.HK'`)
			require.NoError(t, err)
			_, err = db.Exec(`DELETE FROM streams WHERE name = 'instrument-9988.HK'`)
			require.NoError(t, err)
			_, err = db.Exec(`DELETE FROM snapshots WHERE stream = 'instrument-9988.HK'`)
			require.NoError(t, err)
			dropDeletedIDs(t, db)
		}, true, "instrument-9988.HK: event 10 is missing: checkpoint " + f.cpt + " saw 11 events in the stream, and the ledger no longer has it: the stream was deleted"},
		{"stream truncated", func(db *sql.DB) {
			_, err := db.Exec(`DELETE FROM events WHERE stream = 'instrument-9988.HK' AND version >= 8`)
			require.NoError(t, err)
			dropDeletedIDs(t, db)
			rechain(t, db, "instrument-9988.HK")
		}, true, "instrument-9988.HK: event 10 is missing: checkpoint " + f.cpt + " saw 11 events in the stream, and it now holds 8: the stream was truncated"},
		{"stream rewritten with a recomputed chain", func(db *sql.DB) {
			_, err := db.Exec(`UPDATE events SET metadata = CAST('{"recorded_by":"mallory"}' AS BLOB) WHERE stream = 'instrument-9988.HK' AND version = 3`)
			require.NoError(t, err)
			rechain(t, db, "instrument-9988.HK")
		}, true, "instrument-9988.HK: event 10 (" + hkLast + ") has a hash other than the one checkpoint " + f.cpt + " saw: the stream was rewritten up to this event"},
		{"forged stream with a recomputed chain", func(db *sql.DB) {
			// A copy of 9988.HK's first event under a new stream and id,
			// recorded at the checkpoint's time.
			_, err := db.Exec(`INSERT INTO events (id, stream, version, type, data, metadata, effective_at, recorded_at, prev_hash, hash, chain)
				SELECT randomblob(16), 'instrument-FAKE', 0, type, data, metadata, effective_at, recorded_at, prev_hash, hash, chain
				FROM events WHERE stream = 'instrument-9988.HK' AND version = 0`)
			require.NoError(t, err)
			rechain(t, db, "instrument-FAKE")
		}, true, "instrument-FAKE: event 0 ("},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := copyStore(t, f.store)
			tamperDB(t, store, tc.tamper)
			plain := c.run(t, "verify", "--store", store)
			if tc.plainOK {
				assert.Equal(t, 0, plain.code, "the rewrite is consistent, so plain verify passes: %s", plain.stderr)
			} else {
				assert.Equal(t, refused, plain.code)
				assert.Contains(t, plain.stderr, tc.want)
			}
			r := c.run(t, "verify", "--against", f.cpt, "--pubkey", pub, "--store", store)
			assert.Equal(t, refused, r.code, "verify --against must fail; stdout: %s", r.stdout)
			assert.Empty(t, r.stdout)
			assertOneCleanLine(t, r.stderr)
			assert.Contains(t, r.stderr, "consensus verify: tampering detected after ")
			assert.Contains(t, r.stderr, tc.want)
		})
	}
	t.Run("forged stream is named as such", func(t *testing.T) {
		store := copyStore(t, f.store)
		tamperDB(t, store, func(db *sql.DB) {
			_, err := db.Exec(`INSERT INTO events (id, stream, version, type, data, metadata, effective_at, recorded_at, prev_hash, hash, chain)
				SELECT randomblob(16), 'instrument-FAKE', 0, type, data, metadata, effective_at, recorded_at, prev_hash, hash, chain
				FROM events WHERE stream = 'instrument-9988.HK' AND version = 0`)
			require.NoError(t, err)
			rechain(t, db, "instrument-FAKE")
		})
		first := tamperEventID(t, store, "instrument-FAKE", 0)
		hk := c.ok(t, "log", "9988.HK", "--json", "--store", store).stdout
		recordedAt := array(t, hk)[0]["recorded_at"].(string)
		r := c.run(t, "verify", "--against", f.cpt, "--pubkey", pub, "--store", store)
		assert.Equal(t, "consensus verify: tampering detected after 69 good events: instrument-FAKE: event 0 ("+first+") was recorded at "+
			recordedAt+", at or before the time of checkpoint "+f.cpt+" ("+at+"), which does not list the stream: "+
			"the stream was hidden from it or forged since.\n", r.stderr)
	})
}

// TestCheckpointFileAttacks alters the checkpoint and the key instead of
// the ledger: each is refused, exit 1, in one line naming the file.
func TestCheckpointFileAttacks(t *testing.T) {
	skipShort(t, "over 2 s (8 s in a full run on the loaded 2-core machine)")
	t.Parallel()
	f := newCheckpointFixture(t)
	c := f.c
	pub := f.key + ".pub"
	var cp map[string]any
	b, err := os.ReadFile(f.cpt)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &cp))

	flipped := filepath.Join(f.dir, "flipped.json")
	sig, err := base64.StdEncoding.DecodeString(cp["signature"].(string))
	require.NoError(t, err)
	sig[7] ^= 0x01
	edited := strings.Replace(string(b), cp["signature"].(string), base64.StdEncoding.EncodeToString(sig), 1)
	require.NoError(t, os.WriteFile(flipped, []byte(edited), 0o644))

	otherKey := filepath.Join(f.dir, "other-key")
	out := c.ok(t, "keygen", "-o", otherKey).stdout
	_, otherFP, _ := strings.Cut(strings.TrimSpace(out), "; key ")
	byOther := filepath.Join(f.dir, "by-other.json")
	c.ok(t, "checkpoint", "--key", otherKey, "-o", byOther, "--store", f.store)

	for _, tc := range []struct {
		name, file, want string
	}{
		{"signature byte flipped", flipped, "consensus verify: checkpoint " + flipped + " has a signature that does not verify with key " +
			f.fingerprint + ": the checkpoint was altered after it was signed.\n"},
		{"signed by another key", byOther, "consensus verify: checkpoint " + byOther + " was signed by key " + otherFP +
			", not by the key in " + pub + " (" + f.fingerprint + ").\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.run(t, "verify", "--against", tc.file, "--pubkey", pub, "--store", f.store)
			assert.Equal(t, refused, r.code)
			assert.Empty(t, r.stdout)
			assert.Equal(t, tc.want, r.stderr)
		})
	}

	t.Run("key file readable by others", func(t *testing.T) {
		require.NoError(t, os.Chmod(f.key, 0o644))
		defer func() { require.NoError(t, os.Chmod(f.key, 0o600)) }()
		target := filepath.Join(f.dir, "new.json")
		r := c.run(t, "checkpoint", "--key", f.key, "-o", target, "--store", f.store)
		assert.Equal(t, refused, r.code)
		assert.Equal(t, "consensus checkpoint: key file "+f.key+" is readable by group or others (mode 0644); run chmod 600 "+f.key+".\n", r.stderr)
		assertNoFile(t, target)
	})

	t.Run("existing files are never overwritten", func(t *testing.T) {
		before, err := os.ReadFile(f.key)
		require.NoError(t, err)
		r := c.run(t, "keygen", "-o", f.key)
		assert.Equal(t, refused, r.code)
		assert.Equal(t, "consensus keygen: -o "+f.key+" already exists and is never replaced; choose a new name.\n", r.stderr)
		after, err := os.ReadFile(f.key)
		require.NoError(t, err)
		assert.Equal(t, before, after)
		st, err := os.Stat(f.key)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

		cpBefore, err := os.ReadFile(f.cpt)
		require.NoError(t, err)
		r = c.run(t, "checkpoint", "--key", f.key, "-o", f.cpt, "--store", f.store)
		assert.Equal(t, refused, r.code)
		assert.Equal(t, "consensus checkpoint: -o "+f.cpt+" already exists and is never replaced; choose a new name.\n", r.stderr)
		cpAfter, err := os.ReadFile(f.cpt)
		require.NoError(t, err)
		assert.Equal(t, cpBefore, cpAfter)
	})
}

// TestVerifyAgainstHeadsThatProveNothing is issue 10 item 11: a heads
// file that lists no stream used to print the same "ok" as a real check.
// It is refused; a file listing only some streams still checks those and
// fails on a stream it omits that predates it; an old heads file without a
// time works, as of the latest event its heads name.
func TestVerifyAgainstHeadsThatProveNothing(t *testing.T) {
	skipShort(t, "over 2 s (8 s in a full run on the loaded 2-core machine)")
	t.Parallel()
	c := newCLI(t)
	store := demoStore(t, c)
	dir := t.TempDir()
	for i, body := range []string{`{}`, `null`, `{"heads":[]}`, `{"events":68,"streams":2,"heads":[]}`} {
		path := filepath.Join(dir, fmt.Sprintf("empty-%d.json", i))
		require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
		r := c.run(t, "verify", "--against", path, "--store", store)
		assert.Equal(t, refused, r.code, body)
		assert.Empty(t, r.stdout, body)
		assert.Equal(t, `consensus verify: against `+domain.Quote(path)+` lists no stream, so it proves nothing: give a checkpoint or the output of 'consensus verify --json' on a ledger with events.`+"\n", r.stderr, body)
	}

	var saved map[string]any
	decodeJSON(t, c.ok(t, "verify", "--json", "--store", store).stdout, &saved)
	heads := saved["heads"].([]any)
	require.Len(t, heads, 2)
	at := saved["time"].(string)
	write := func(name string, v any) string {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, b, 0o644))
		return path
	}
	full := write("full.json", saved)
	assert.Equal(t, "ok: 68 events in 2 streams\nchain version 1: 0 events, chain version 2: 68 events\n"+
		"ok against the heads file "+full+": 2 of its streams checked, as of "+at+"; the ledger has 2 streams\n",
		c.ok(t, "verify", "--against", full, "--store", store).stdout)

	// Only BABA listed: 9988.HK's events predate the file, so the file
	// hid it, or the stream was forged since.
	partial := write("partial.json", map[string]any{"events": 57, "streams": 1, "time": at, "heads": []any{heads[1]}})
	r := c.run(t, "verify", "--against", partial, "--store", store)
	assert.Equal(t, refused, r.code)
	assertOneCleanLine(t, r.stderr)
	assert.Contains(t, r.stderr, "instrument-9988.HK: event 0 (")
	assert.Contains(t, r.stderr, "at or before the time of the heads file "+partial+" ("+at+"), which does not list the stream")

	// A heads file from before "time" existed: as of the latest event its
	// heads name.
	old := write("old.json", map[string]any{"events": 68, "streams": 2, "heads": heads})
	assert.Contains(t, c.ok(t, "verify", "--against", old, "--store", store).stdout,
		"ok against the heads file "+old+": 2 of its streams checked, as of "+at+"; the ledger has 2 streams\n")

	// A new stream begun after the file is counted, not refused.
	c.ok(t, "close", "NEW", "--price", "10", "--currency", "USD", "--at", "2025-09-01", "--store", store)
	assert.Contains(t, c.ok(t, "verify", "--against", full, "--store", store).stdout,
		"2 of its streams checked, as of "+at+"; the ledger has 3 streams, 1 of them begun after that time\n")
}

// TestServeWritesCheckpoints runs the real server with a checkpoint
// directory: it writes one at start and more at each interval, each a new
// file named by its time, reports the last in /healthz, and each verifies
// against the ledger with the public key.
func TestServeWritesCheckpoints(t *testing.T) {
	skipShort(t, "over 2 s (4 s in a full run on the loaded 2-core machine)")
	t.Parallel()
	c := newCLI(t)
	store := demoStore(t, c)
	dir, keys := t.TempDir(), t.TempDir()
	key := filepath.Join(keys, "key")
	c.ok(t, "keygen", "-o", key)
	s := startServe(t, c, "--store", store, "--checkpoint-dir", dir, "--checkpoint-key", key, "--checkpoint-every", "1s")

	var last map[string]any
	require.Eventually(t, func() bool {
		code, body := s.get(t, "/healthz")
		last, _ = object(t, body)["last_checkpoint"].(map[string]any)
		return code == http.StatusOK && last != nil && last["file"] != nil && len(dirEntries(t, dir)) >= 2
	}, 20*time.Second, 50*time.Millisecond, "two checkpoints written, the last reported")
	assert.Regexp(t, `^checkpoint-\d{8}T\d{6}\.\d{3}Z\.json$`, last["file"])
	assert.Equal(t, "68", num(last["events"]))
	assert.Equal(t, "2", num(last["streams"]))
	assert.Nil(t, last["problem"])
	// Stopped, the server leaves whole checkpoints only: a file being
	// written is a temporary dot-file until it is complete.
	s.stop(t, syscall.SIGTERM)
	for _, name := range dirEntries(t, dir) {
		assert.Regexp(t, `^checkpoint-\d{8}T\d{6}\.\d{3}Z\.json$`, name, "no temporary file left in the directory")
		r := c.ok(t, "verify", "--against", filepath.Join(dir, name), "--pubkey", key+".pub", "--store", store)
		assert.Contains(t, r.stdout, "2 of its streams checked")
	}
}

// TestServeCheckpointFlags checks the refusals of serve's checkpoint flags
// before anything starts.
func TestServeCheckpointFlags(t *testing.T) {
	skipShort(t, "over 2 s (3 s in a full run on the loaded 2-core machine)")
	t.Parallel()
	c := newCLI(t)
	store := demoStore(t, c)
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	c.ok(t, "keygen", "-o", key)
	r := c.run(t, "serve", "--store", store, "--checkpoint-dir", dir)
	assert.Equal(t, usage, r.code)
	assert.Contains(t, r.stderr, "--checkpoint-dir and --checkpoint-key go together")
	r = c.run(t, "serve", "--store", store, "--checkpoint-dir", dir, "--checkpoint-key", key, "--checkpoint-every", "10ms")
	assert.Equal(t, usage, r.code)
	assert.Contains(t, r.stderr, "--checkpoint-every must be at least 1s")
	require.NoError(t, os.Chmod(key, 0o640))
	r = c.run(t, "serve", "--store", store, "--checkpoint-dir", dir, "--checkpoint-key", key)
	assert.Equal(t, refused, r.code)
	assert.Equal(t, "consensus serve: key file "+key+" is readable by group or others (mode 0640); run chmod 600 "+key+".\n", r.stderr)
}
