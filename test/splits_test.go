package test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
)

// Issue 12, the inputs of splits (CONTRACT section 7), as a user meets them.

// receipt runs a writing command with --json and returns its event id and
// recorded time.
func receipt(t *testing.T, c *cli, args ...string) (id, recordedAt string) {
	t.Helper()
	var r struct {
		EventID    string `json:"event_id"`
		RecordedAt string `json:"recorded_at"`
	}
	decodeJSON(t, c.ok(t, append(args, "--json")...).stdout, &r)
	return r.EventID, r.RecordedAt
}

// splitHistory is CONTRACT section 7's worked example: a target of 480 at
// a close of 400, then a 4:1 split and a close of 100 on the new basis.
func splitHistory(t *testing.T, c *cli, store string) (splitID, splitRecorded string) {
	t.Helper()
	st := []string{"--store", store}
	c.ok(t, append([]string{"rate", "SPLT", "--analyst", "a@firm-a", "--rating", "buy", "--target", "480", "--currency", "USD", "--at", "2025-08-28"}, st...)...)
	c.ok(t, append([]string{"close", "SPLT", "--price", "400", "--currency", "USD", "--at", "2025-08-29"}, st...)...)
	splitID, splitRecorded = receipt(t, c, append([]string{"split", "SPLT", "--ratio", "4:1", "--at", "2025-09-01"}, st...)...)
	c.ok(t, append([]string{"close", "SPLT", "--price", "100", "--currency", "USD", "--at", "2025-09-01"}, st...)...)
	return splitID, splitRecorded
}

// figures are the figures of show --json a split changes.
func splitFigures(show map[string]any) map[string]string {
	return map[string]string{"mean_target": num(show["mean_target"]), "close": num(show["close"]), "upside_pct": num(show["upside_pct"])}
}

var (
	adjusted   = map[string]string{"mean_target": "120", "close": "100", "upside_pct": "20"}
	unadjusted = map[string]string{"mean_target": "480", "close": "100", "upside_pct": "380"}
)

// TestSplitRetraction: a split is retracted like any event, at the command
// line and by an import row; the figures are adjusted as known before the
// retraction was recorded and stop being adjusted from its recording on.
func TestSplitRetraction(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	store := newStore(t)
	splitID, splitRecorded := splitHistory(t, c, store)
	asOf := []string{"--as-of", "2025-09-01"}
	assert.Equal(t, adjusted, splitFigures(showJSON(t, c, store, "SPLT", asOf...)))

	retraction, retracted := receipt(t, c, "retract", splitID, "--reason", "the split was announced, then cancelled", "--store", store)
	assert.Equal(t, unadjusted, splitFigures(showJSON(t, c, store, "SPLT", asOf...)), "retracted: as published")
	assert.Equal(t, adjusted, splitFigures(showJSON(t, c, store, "SPLT", append(asOf, "--known-at", splitRecorded)...)),
		"known at the split's recording, before the retraction")
	assert.Equal(t, unadjusted, splitFigures(showJSON(t, c, store, "SPLT", append(asOf, "--known-at", retracted)...)),
		"known at the retraction's recording")

	log := logJSON(t, c, store, "SPLT")
	require.Len(t, log, 5)
	assert.Equal(t, "SplitRecorded", log[2]["type"])
	assert.Equal(t, retraction, log[2]["retracted_by"])
	text := c.ok(t, "log", "SPLT", "--store", store).stdout
	assert.Contains(t, text, "split 4:1  [RETRACTED by "+retraction+"]")

	// The split again, as an import row, and retracted by one.
	again := writeFile(t, "split.jsonl", `{"type":"split","instrument":"SPLT","ratio":"4:1","at":"2025-09-01"}`+"\n")
	assert.Equal(t, "imported 1, skipped 0 duplicates, rejected 0\n", c.ok(t, "import", again, "--store", store).stdout)
	log = logJSON(t, c, store, "SPLT")
	require.Len(t, log, 6)
	second := log[5]["event_id"].(string)
	assert.Equal(t, "2025-09-01T00:00:00Z", log[5]["effective_at"], "a bare ex-date is the start of the day")
	assert.Equal(t, adjusted, splitFigures(showJSON(t, c, store, "SPLT", asOf...)))
	retract := writeFile(t, "retract.csv", "type,event_id,reason\nretract,"+second+",keyed twice\n")
	assert.Equal(t, "imported 1, skipped 0 duplicates, rejected 0\n", c.ok(t, "import", retract, "--store", store).stdout)
	assert.Equal(t, unadjusted, splitFigures(showJSON(t, c, store, "SPLT", asOf...)))
	c.ok(t, "verify", "--store", store)
}

// TestGeneratedSplitsImportCopyAndRebuild: a history generated with
// --splits imports with zero rejects from JSON Lines and from CSV (its
// ratio column read through the header check), and both give the same
// ledger; copy to a new store keeps every split, ids and both times, and
// rebuild and verify pass on the copy with the same figures.
func TestGeneratedSplitsImportCopyAndRebuild(t *testing.T) {
	skipShort(t, "generates, imports twice, copies and rebuilds a 6,000-row history (about 20 s on a loaded machine)")
	t.Parallel()
	c := newCLI(t)
	dir := t.TempDir()
	jsonl, csv := dir+"/rows.jsonl", dir+"/rows.csv"
	flags := []string{"gen", "--instruments", "3", "--analysts", "20", "--years", "8", "--seed", "5", "--splits"}
	summary := c.ok(t, append(flags, "--out", jsonl)...).stdout
	assert.Regexp(t, `, split [1-9][0-9]*\) in `, summary)
	c.ok(t, append(flags, "--out", csv)...)

	stores := map[string]string{}
	for name, file := range map[string]string{"jsonl": jsonl, "csv": csv} {
		stores[name] = newStore(t)
		r := c.ok(t, "import", file, "--store", stores[name])
		assert.Regexp(t, `^imported [1-9][0-9]*, skipped 0 duplicates, rejected 0\n$`, r.stdout, name)
	}
	splits := map[string]int{} // by instrument
	var anySplit string
	for _, in := range array(t, c.ok(t, "instruments", "--json", "--store", stores["jsonl"]).stdout) {
		sym := in["instrument"].(string)
		for _, e := range logJSON(t, c, stores["jsonl"], sym) {
			if e["type"] == "SplitRecorded" {
				splits[sym]++
				anySplit = sym
				data := e["data"].(map[string]any)
				assert.Regexp(t, `^[0-9]+:[0-9]+$`, data["ratio"])
				assert.Regexp(t, `T00:00:00Z$`, e["effective_at"], "an ex-date starts its day")
			}
		}
	}
	require.NotEmpty(t, splits, "seed 5 makes splits")
	// Only the source differs (import:rows.jsonl:N against rows.csv:N+1).
	assert.True(t, facts(t, c, stores["jsonl"], false) == facts(t, c, stores["csv"], false), "CSV and JSON Lines give the same events")

	copied := newStore(t)
	c.ok(t, "copy", "--from", stores["jsonl"], "--to", copied)
	assert.True(t, snapshot(t, c, stores["jsonl"]) == snapshot(t, c, copied), "copy keeps every event, splits included, ids, times and metadata")
	assert.Regexp(t, `^rebuilt: [1-9][0-9]* events in 3 streams, 3 snapshots written\n$`, c.ok(t, "rebuild", "--store", copied).stdout)
	assert.Regexp(t, `^ok: [1-9][0-9]* events in 3 streams\n`, c.ok(t, "verify", "--store", copied).stdout)
	original, rebuilt := showJSON(t, c, stores["jsonl"], anySplit, "--as-of", "2025-12-31"), showJSON(t, c, copied, anySplit, "--as-of", "2025-12-31")
	delete(original, "known_at") // now, when each ran
	delete(rebuilt, "known_at")
	assert.Equal(t, original, rebuilt)
}

// facts is every event of the store as id, type, effective time, data and
// retraction, one line each (with the recorded time and metadata when
// withMeta), compact enough to compare whole.
func facts(t *testing.T, c *cli, store string, withMeta bool) string {
	t.Helper()
	var b strings.Builder
	for _, in := range array(t, c.ok(t, "instruments", "--json", "--store", store).stdout) {
		for _, e := range logJSON(t, c, store, in["instrument"].(string)) {
			data, err := json.Marshal(e["data"])
			require.NoError(t, err)
			fmt.Fprintln(&b, e["event_id"], e["type"], e["effective_at"], string(data), e["retracted_by"])
			if withMeta {
				fmt.Fprintln(&b, e["recorded_at"], e["recorded_by"], e["source"])
			}
		}
	}
	return b.String()
}

// TestImportRefusesBadSplitRows: each bad split row of issue 12 is rejected
// with its line, the field and the value, and nothing is written, from
// JSON Lines and from CSV.
func TestImportRefusesBadSplitRows(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	store := newStore(t)
	c.ok(t, "close", "SPLT", "--price", "400", "--currency", "USD", "--at", "2025-08-29", "--store", store)
	before := snapshot(t, c, store)
	type bad struct{ ratio, at, extra, want string }
	cases := []bad{
		{"1:1", "2025-09-01", "", `ratio "1:1" changes nothing: N and M must differ`},
		{"0:1", "2025-09-01", "", `ratio "0:1" must name at least 1 share on each side`},
		{"4:0", "2025-09-01", "", `ratio "4:0" must name at least 1 share on each side`},
		{"4/1", "2025-09-01", "", `ratio "4/1" must be N:M with whole numbers, N new shares for every M old, such as 4:1 or 1:10`},
		{"4:1.5", "2025-09-01", "", `ratio "4:1.5" must be N:M with whole numbers`},
		{"-4:1", "2025-09-01", "", `ratio "-4:1" must be N:M with whole numbers`},
		{"1000001:1", "2025-09-01", "", `ratio "1000001:1" must name at most 1000000 shares on each side`},
		{"", "2025-09-01", "", `ratio is required`},
		{"4:1", "01/09/2025", "", `at "01/09/2025" `},
		{"4:1", "2025-09-01", "currency", `currency "USD" is not a field of a split (a split has instrument, ratio and at)`},
		{"4:1", "2025-09-01", "target", `target "100" is not a field of a split (a split has instrument, ratio and at)`},
	}
	var jsonl, csv strings.Builder
	csv.WriteString("type,instrument,ratio,at,currency,target\n")
	var want strings.Builder
	for i, k := range cases {
		row := map[string]string{"type": "split", "instrument": "SPLT", "at": k.at}
		if k.ratio != "" {
			row["ratio"] = k.ratio
		}
		currency, target := "", ""
		switch k.extra {
		case "currency":
			row["currency"], currency = "USD", "USD"
		case "target":
			row["target"], target = "100", "100"
		}
		b, err := json.Marshal(row)
		require.NoError(t, err)
		jsonl.Write(append(b, '\n'))
		csv.WriteString("split,SPLT," + k.ratio + "," + k.at + "," + currency + "," + target + "\n")
		want.WriteString("line " + itoa(i+1) + ": " + k.want)
	}
	for name, file := range map[string]string{"jsonl": writeFile(t, "bad.jsonl", jsonl.String()), "csv": writeFile(t, "bad.csv", csv.String())} {
		t.Run(name, func(t *testing.T) {
			r := c.run(t, "import", file, "--store", store)
			assert.Equal(t, refused, r.code)
			assert.Equal(t, "imported 0, skipped 0 duplicates, rejected 11\n", r.stdout)
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			require.Len(t, lines, len(cases), r.stderr)
			for i, k := range cases {
				line := i + 1
				if name == "csv" {
					line++ // the header is line 1
				}
				assert.True(t, strings.HasPrefix(lines[i], "line "+itoa(line)+": "+k.want), "got %q, want %q", lines[i], k.want)
			}
			assert.Equal(t, before, snapshot(t, c, store), "a rejected row writes nothing")
		})
	}
}

// TestNewerVersionIsNotCorrupt writes, with the raw store API, an event of
// a type this version does not know (as a version before splits meets a
// SplitRecorded): show, log and history say the ledger was written by a
// newer version of consensus and exit 1, and none says corrupt. verify
// checks the hash chains, which such an event does not break: it says ok,
// since an upgrade is not tampering and must not raise verify's alarm.
func TestNewerVersionIsNotCorrupt(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	store := newStore(t)
	c.ok(t, "close", "NEWR", "--price", "10", "--currency", "USD", "--at", "2025-09-01", "--store", store)
	s, err := sqlite.Open(store, sqlite.Options{})
	require.NoError(t, err)
	_, err = s.Append(context.Background(), "instrument-NEWR", eventstore.Version(0), []eventstore.EventData{{
		ID: uuid.MustParse("0b8a3c5e-0000-4000-8000-00000000f0f0"), Type: "DividendRecorded",
		Data:        []byte(`{"instrument":"NEWR","amount":"0.25","effective_at":"2025-09-02T00:00:00Z"}`),
		Metadata:    []byte(`{"recorded_by":"a newer consensus","source":"test"}`),
		EffectiveAt: time.Date(2025, 9, 2, 0, 0, 0, 0, time.UTC),
	}})
	require.NoError(t, err)
	require.NoError(t, s.Close())

	for _, args := range [][]string{{"show", "NEWR"}, {"log", "NEWR"}, {"log", "NEWR", "--json"}, {"history", "NEWR", "--from", "2025-09-01", "--to", "2025-09-30"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := c.run(t, append(args, "--store", store)...)
			assert.Equal(t, refused, r.code, r.stderr)
			assertOneCleanLine(t, r.stderr)
			assert.Contains(t, r.stderr, `instrument-NEWR event 1 (0b8a3c5e-0000-4000-8000-00000000f0f0) of type "DividendRecorded" was written by a newer version of consensus; upgrade consensus to read this ledger.`)
			assert.NotContains(t, strings.ToLower(r.stderr), "corrupt")
			assert.NotContains(t, strings.ToLower(r.stderr), "cannot be read")
		})
	}
	r := c.ok(t, "verify", "--store", store)
	assert.Equal(t, "ok: 2 events in 1 streams\nchain version 1: 0 events, chain version 2: 2 events\n", r.stdout)
}
