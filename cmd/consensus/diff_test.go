package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/projections"
)

// TestDiffRefusesBadInput checks that each bad diff command line is one
// sentence naming the flag and value, with the exit status of the flag
// errors of history, and prints nothing.
func TestDiffRefusesBadInput(t *testing.T) {
	store := filepath.Join(t.TempDir(), "demo.db")
	env := map[string]string{"CONSENSUS_STORE": store}
	code, _, errOut := runApp(t, env, "demo")
	require.Equal(t, exitOK, code, errOut)

	grid := []string{"--from", "2025-09-01", "--to", "2025-09-05"}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{append([]string{"diff", "BABA"}, grid...), exitUsage,
			"consensus diff: missing required flag --from-known; run 'consensus help diff' for usage.\n"},
		{append([]string{"diff", "BABA", "--from-known", "2026-11-02", "--to-known", "2026-11-01"}, grid...), 1,
			"consensus diff: from-known \"2026-11-02\" is after --to-known 2026-11-01.\n"},
		{append([]string{"diff", "BABA", "--from-known", "2026-11-25"}, grid...), 1,
			"consensus diff: from-known \"2026-11-25\" is after --to-known now (2026-11-24T12:00:00Z).\n"},
		{[]string{"diff", "BABA", "--from-known", "2026-11-01", "--from", "1800-01-01", "--to", "2025-09-05"}, 1,
			"consensus diff: history from 1800-01-01 to 2025-09-05 every day is 82,428 rows; the limit is 50,000: ask for every week or month, or a shorter range.\n"},
		{append([]string{"diff", "BABA", "--from-known", "yesterday"}, grid...), 1,
			"consensus diff: from-known \"yesterday\" is not a date (YYYY-MM-DD) or RFC 3339 time.\n"},
		{append([]string{"diff", "--all", "BABA", "--from-known", "2026-11-01"}, grid...), exitUsage,
			"consensus diff: --all takes no SYMBOL; run 'consensus help diff' for usage.\n"},
		{append([]string{"diff", "NOPE", "--from-known", "2026-11-01"}, grid...), 1,
			"consensus diff: unknown instrument: NOPE has no events.\n"},
	} {
		code, out, errOut := runApp(t, env, tc.args...)
		assert.Equal(t, tc.code, code, "%v: %s", tc.args, errOut)
		assert.Equal(t, tc.msg, errOut, "%v", tc.args)
		assert.Empty(t, out, "%v", tc.args)
	}
}

// TestDiffOfNothingPrintsNoRows checks the three outputs of a diff in which
// nothing differs: an empty JSON array, the CSV header alone, one line of
// text; exit status 0 each time.
func TestDiffOfNothingPrintsNoRows(t *testing.T) {
	store := filepath.Join(t.TempDir(), "demo.db")
	env := map[string]string{"CONSENSUS_STORE": store}
	code, _, errOut := runApp(t, env, "demo")
	require.Equal(t, exitOK, code, errOut)
	args := []string{"diff", "BABA", "--from-known", "2026-11-24T12:00:00Z", "--from", "2025-09-01", "--to", "2025-09-05"}
	for flag, want := range map[string]string{
		"--json": "[]\n",
		"--csv":  "instrument,as_of,field,before,after,causes\n",
		"":       "nothing changed\n",
	} {
		withFlag := append([]string(nil), args...)
		if flag != "" {
			withFlag = append(withFlag, flag)
		}
		code, out, errOut := runApp(t, env, withFlag...)
		assert.Equal(t, exitOK, code, errOut)
		assert.Equal(t, want, out, flag)
	}
	code, out, errOut := runApp(t, env, "diff", "--all", "--from-known", "2026-11-24T12:00:00Z", "--from", "2025-09-01", "--to", "2025-09-05", "--json")
	assert.Equal(t, exitOK, code, errOut)
	assert.Equal(t, "[]\n", out)
}

// diffFixture is diff rows of three instruments over two as_ofs each, with
// cells that CSV must quote (commas, quotes, a line end, a leading space)
// and JSON must escape, and causes shared by the rows of an as_of and
// repeated across as_ofs.
func diffFixture() [][]projections.DiffRow {
	day := func(d int) time.Time { return time.Date(2025, 12, d, 23, 59, 59, 999999999, time.UTC) }
	cause := func(n byte, typ string, d int) projections.Cause {
		return projections.Cause{EventID: uuid.UUID{n}, Type: typ, RecordedAt: day(d).Add(time.Hour), EffectiveAt: day(d)}
	}
	odd := []projections.Cause{cause(1, "RatingAdded", 1), cause(2, `Odd "type", with a comma`, 2)}
	var all [][]projections.DiffRow
	for k, sym := range []string{"AAA", "B,B", " CC"} {
		before := []projections.Consensus{{Instrument: sym, AsOf: day(1), Label: "Hold"}, {Instrument: sym, AsOf: day(2), Label: "Hold", Analysts: 1}}
		after := []projections.Consensus{{Instrument: sym, AsOf: day(1), Label: "Strong, \"Buy\""}, {Instrument: sym, AsOf: day(2), Label: "x\ny", Analysts: 2 + k}}
		rows := projections.Diff(before, after)
		for i := range rows {
			rows[i].Causes = odd[:1+min(i, 1)]
			if k == 2 {
				rows[i].Causes = []projections.Cause{cause(3, " leading space", 1)}
			}
		}
		all = append(all, rows)
	}

	return all
}

// TestDiffCSVEncodesEveryCellAsEncodingCSV checks that diff's CSV rows,
// whose causes cell is encoded once per as_of and copied into each row,
// are the bytes encoding/csv writes for each row whole: cells with commas,
// quotes, line ends or a leading space quoted, over several instruments
// and as_ofs, and a cause repeated across as_ofs written the same way.
func TestDiffCSVEncodesEveryCellAsEncodingCSV(t *testing.T) {
	all := diffFixture()
	var want bytes.Buffer
	plain := csv.NewWriter(&want)
	require.NoError(t, plain.Write(diffColumns))
	for _, rows := range all {
		for _, r := range rows {
			var cell []string
			for _, x := range r.Causes {
				cell = append(cell, x.EventID.String()+" "+x.Type+" "+domain.FormatTime(x.RecordedAt)+" "+domain.FormatTime(x.EffectiveAt))
			}
			require.NoError(t, plain.Write([]string{r.Instrument, domain.FormatTime(r.AsOf), r.Field, r.Before.String(), r.After.String(), strings.Join(cell, "; ")}))
		}
	}
	plain.Flush()

	var got bytes.Buffer
	out := bufio.NewWriter(&got)
	w := newDiffCSV(out)
	require.NoError(t, w.begin())
	for _, rows := range all {
		require.NoError(t, w.rows(rows))
	}
	require.NoError(t, w.end())
	require.Greater(t, strings.Count(got.String(), `"`), 10, "cells were quoted")
	require.Equal(t, want.String(), got.String())
}

// TestDiffJSONPrintsWhatWriteJSONPrints checks that diff's JSON rows, whose
// causes are encoded once per as_of and put in place, are the bytes
// writeJSON prints for every row in one array, and [] for none.
func TestDiffJSONPrintsWhatWriteJSONPrints(t *testing.T) {
	var flat []projections.DiffRow
	all := diffFixture()
	for _, rows := range all {
		flat = append(flat, rows...)
	}
	flat[0].Causes = []projections.Cause{} // an as_of of its own without causes
	flat[0].AsOf = flat[0].AsOf.Add(-time.Hour)
	all[0] = append([]projections.DiffRow{flat[0]}, all[0][1:]...)
	var want bytes.Buffer
	require.NoError(t, writeJSON(&want, flat))

	var got bytes.Buffer
	w := &diffJSON{w: &got}
	require.NoError(t, w.begin())
	for _, rows := range all {
		require.NoError(t, w.rows(rows))
	}
	require.NoError(t, w.end())
	require.Contains(t, got.String(), `\"type\"`, "causes are escaped")
	require.Equal(t, want.String(), got.String())

	got.Reset()
	w = &diffJSON{w: &got}
	require.NoError(t, w.begin())
	require.NoError(t, w.end())
	require.Equal(t, "[]\n", got.String())
}
