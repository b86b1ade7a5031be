package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/demo"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/ledger"
)

// liveDemoStore is a store holding the demo as recorded live
// (demo.LoadLive): the 1650 typo was shown on 3 and 4 September.
func liveDemoStore(t *testing.T) map[string]string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "live.db")
	var clock time.Time
	now := func() time.Time { return clock }
	store, err := sqlite.Open(path, sqlite.Options{Now: now})
	require.NoError(t, err)
	_, err = demo.LoadLive(context.Background(), ledger.New(store, ledger.WithClock(now)), func(at time.Time) { clock = at })
	require.NoError(t, err)
	require.NoError(t, store.Close())
	return map[string]string{"CONSENSUS_STORE": path}
}

// TestHistoryFirstPublishedBackfill is the contract's worked example: the
// demo, loaded today, was published in none of its past; the history says
// so in one sentence rather than printing nothing, and exits 0.
func TestHistoryFirstPublishedBackfill(t *testing.T) {
	env := map[string]string{"CONSENSUS_STORE": filepath.Join(t.TempDir(), "demo.db")}
	code, _, errOut := runApp(t, env, "demo")
	require.Equal(t, exitOK, code, errOut)
	sentence := "No row of BABA's history from 2025-06-01 to 2025-09-11 was published yet: the ledger first recorded BABA at 2026-11-24T12:00:00Z.\n"
	args := []string{"history", "BABA", "--from", "2025-06-01", "--to", "2025-09-11", "--first-published"}

	code, out, errOut := runApp(t, env, args...)
	assert.Equal(t, exitOK, code)
	assert.Equal(t, sentence, out)
	assert.Empty(t, errOut)

	// Scripts still get their format; the sentence goes to stderr.
	code, out, errOut = runApp(t, env, append(args, "--json")...)
	assert.Equal(t, exitOK, code)
	assert.Equal(t, "[]\n", out)
	assert.Equal(t, sentence, errOut)
	code, out, errOut = runApp(t, env, append(args, "--csv")...)
	assert.Equal(t, exitOK, code)
	assert.Equal(t, "instrument,currency,"+strings.Join(historyColumns, ",")+",restated\n", out)
	assert.Equal(t, sentence, errOut)

	// A chart of nothing is not drawn.
	file := filepath.Join(t.TempDir(), "c.svg")
	code, out, errOut = runApp(t, env, "chart", "BABA", "--from", "2025-06-01", "--to", "2025-09-11", "--first-published", "-o", file)
	assert.Equal(t, exitOK, code, errOut)
	assert.Equal(t, sentence, out)
	assert.NoFileExists(t, file)
}

// TestHistoryFirstPublishedRestated checks the live demo: the rows of 3 and
// 4 September as first published show the 1650 typo, are restated, and
// equal `show --as-of D --known-at D` for their D; the others equal today's.
func TestHistoryFirstPublishedRestated(t *testing.T) {
	env := liveDemoStore(t)
	code, out, errOut := runApp(t, env, "history", "BABA", "--from", "2025-09-01", "--to", "2025-09-06", "--first-published", "--json")
	require.Equal(t, exitOK, code, errOut)
	var rows []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(out), &rows))
	require.Len(t, rows, 6)

	code, out, errOut = runApp(t, env, "history", "BABA", "--from", "2025-09-01", "--to", "2025-09-06", "--json")
	require.Equal(t, exitOK, code, errOut)
	var today []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(out), &today))
	require.Len(t, today, 6)
	assert.NotContains(t, today[0], "restated", "the plain history's JSON is unchanged")

	var restated, highs []string
	for i, row := range rows {
		day := strings.Trim(string(row["as_of"]), `"`)[:10]
		highs = append(highs, string(row["high_target"]))
		if string(row["restated"]) == "true" {
			restated = append(restated, day)
		}
		code, out, errOut := runApp(t, env, "show", "BABA", "--as-of", day, "--known-at", day+"T23:59:59.999999999Z", "--json")
		require.Equal(t, exitOK, code, errOut)
		var shown map[string]json.RawMessage
		require.NoError(t, json.Unmarshal([]byte(out), &shown))
		first := maps(row, "restated")
		assert.Equal(t, shown, first, "row %s is show as of and known at that day", day)
		// Restated exactly where today's row differs, known_at aside.
		assert.Equal(t, string(row["restated"]) == "true", !assert.ObjectsAreEqual(maps(today[i], "known_at"), maps(first, "known_at")), day)
	}
	assert.Equal(t, []string{"2025-09-03", "2025-09-04"}, restated)
	assert.Equal(t, []string{"200", "200", "1650", "1650", "200", "200"}, highs)

	code, out, errOut = runApp(t, env, "history", "BABA", "--from", "2025-09-02", "--to", "2025-09-05", "--first-published")
	require.Equal(t, exitOK, code, errOut)
	// The typo adds (1650 - 165) / 17 = 87.35 to the mean target of the 3rd
	// and 4th: 251.41 against today's 164.06, 252.00 against 164.65.
	assert.Equal(t, ""+
		"       as of  analysts  buy  hold  sell  mean target   close  upside %       label  restated\n"+
		"  2025-09-02        17   16     1     0       162.59  135.00     20.44  Strong Buy          \n"+
		"  2025-09-03        17   16     1     0       251.41  135.00     86.23  Strong Buy         *\n"+
		"  2025-09-04        17   16     1     0       252.00  135.00     86.67  Strong Buy         *\n"+
		"  2025-09-05        17   16     1     0       165.53  141.50     16.98  Strong Buy          \n"+
		"* restated: the same row known at --known-at (default now) reads differently; history without --first-published shows it.\n", out)

	code, out, errOut = runApp(t, env, "history", "BABA", "--from", "2025-09-03", "--to", "2025-09-03", "--first-published", "--csv")
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, "instrument,currency,"+strings.Join(historyColumns, ",")+",restated\n"+
		"BABA,USD,2025-09-03T23:59:59.999999999Z,17,16,1,0,2,Strong Buy,17,251.41,163,1650,140,349.99,135,2025-08-29T23:59:59.999999999Z,86.23,true\n", out)

	file := filepath.Join(t.TempDir(), "c.svg")
	code, _, errOut = runApp(t, env, "chart", "BABA", "--from", "2025-09-01", "--to", "2025-09-06", "--first-published", "-o", file)
	require.Equal(t, exitOK, code, errOut)
	svg, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Contains(t, string(svg), "BABA analyst consensus (USD), 2025-09-01 to 2025-09-06, as first published")
	assert.Equal(t, 4, strings.Count(string(svg), `<rect class="restated"`)-1, "two shaded columns in each panel, besides the legend's swatch")
}

// maps returns m without the named keys.
func maps(m map[string]json.RawMessage, drop ...string) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		out[k] = v
	}
	for _, k := range drop {
		delete(out, k)
	}
	return out
}
