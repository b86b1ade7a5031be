package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// splitStore imports CONTRACT section 7's worked example: a target of 480
// published at a close of 400, a 4-for-1 split on 10 March 2025, and a
// close of 100 on its ex-date.
func splitStore(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	rows := filepath.Join(dir, "rows.jsonl")
	require.NoError(t, os.WriteFile(rows, []byte(strings.Join([]string{
		`{"type":"rating","instrument":"SPLT","analyst":"a@firm","rating":"buy","target":"480","currency":"USD","at":"2025-03-03"}`,
		`{"type":"close","instrument":"SPLT","price":"400","currency":"USD","at":"2025-03-07"}`,
		`{"type":"split","instrument":"SPLT","ratio":"4:1","at":"2025-03-10"}`,
		`{"type":"close","instrument":"SPLT","price":"100","currency":"USD","at":"2025-03-10"}`,
	}, "\n")+"\n"), 0o600))
	env := map[string]string{"CONSENSUS_STORE": filepath.Join(dir, "splits.db")}
	code, _, errOut := runApp(t, env, "import", rows)
	require.Equal(t, exitOK, code, errOut)
	return env
}

func TestShowSplitAdjusted(t *testing.T) {
	env := splitStore(t)
	code, out, errOut := runApp(t, env, "show", "SPLT", "--as-of", "2025-03-10", "--explain")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "  targets   1: mean 120.00, median 120.00, high 120.00, low 120.00, stddev 0.00\n")
	assert.Contains(t, out, "  close     100.00 USD on 2025-03-10T23:59:59.999999999Z\n")
	assert.Contains(t, out, "  upside    20.00 %\n")
	assert.Contains(t, out, "  adjusted for splits: 4:1 on 2025-03-10\n")
	assert.Contains(t, out, "480.00 x 1/4 = 120.00", "explain: as published, the factor, adjusted")

	code, out, errOut = runApp(t, env, "show", "SPLT", "--as-of", "2025-03-10", "--explain", "--unadjusted")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "  targets   1: mean 480.00,")
	assert.Contains(t, out, "  upside    380.00 %\n")
	assert.Contains(t, out, "  prices and targets as published, not adjusted for splits\n")
	assert.NotContains(t, out, " x 1/4")

	code, out, errOut = runApp(t, env, "show", "SPLT", "--as-of", "2025-03-10", "--unadjusted", "--json")
	require.Equal(t, exitOK, code, errOut)
	var c struct {
		MeanTarget json.Number `json:"mean_target"`
		Adjusted   bool        `json:"adjusted"`
		Splits     []any       `json:"splits"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &c))
	assert.Equal(t, "480", c.MeanTarget.String())
	assert.False(t, c.Adjusted)
	assert.Empty(t, c.Splits)

	// show --all answers as show does, adjusted or not.
	code, out, errOut = runApp(t, env, "show", "--all", "--as-of", "2025-03-10", "--csv")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "SPLT,USD,2025-03-10T23:59:59.999999999Z,1,1,0,0,2,Strong Buy,1,120,120,120,120,0,100,2025-03-10T23:59:59.999999999Z,20\n")
	code, out, errOut = runApp(t, env, "show", "--all", "--as-of", "2025-03-10", "--csv", "--unadjusted")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "SPLT,USD,2025-03-10T23:59:59.999999999Z,1,1,0,0,2,Strong Buy,1,480,480,480,480,0,100,2025-03-10T23:59:59.999999999Z,380\n")
}

func TestHistorySplitBasis(t *testing.T) {
	env := splitStore(t)
	args := []string{"history", "SPLT", "--from", "2025-03-08", "--to", "2025-03-10", "--csv"}
	column := func(out, name string) []string {
		lines := strings.Split(strings.TrimSpace(out), "\n")
		at := -1
		for i, h := range strings.Split(lines[0], ",") {
			if h == name {
				at = i
			}
		}
		require.GreaterOrEqual(t, at, 0, "column %s", name)
		var got []string
		for _, l := range lines[1:] {
			got = append(got, strings.Split(l, ",")[at])
		}
		return got
	}
	for _, tc := range []struct {
		flags        []string
		means, close []string
	}{
		{nil, []string{"120", "120", "120"}, []string{"100", "100", "100"}},
		{[]string{"--basis", "last"}, []string{"120", "120", "120"}, []string{"100", "100", "100"}},
		{[]string{"--basis", "each"}, []string{"480", "480", "120"}, []string{"400", "400", "100"}},
		{[]string{"--basis", "EACH"}, []string{"480", "480", "120"}, []string{"400", "400", "100"}},
		{[]string{"--unadjusted"}, []string{"480", "480", "480"}, []string{"400", "400", "100"}},
	} {
		code, out, errOut := runApp(t, env, append(args, tc.flags...)...)
		require.Equal(t, exitOK, code, errOut)
		assert.Equal(t, tc.means, column(out, "mean_target"), "%v", tc.flags)
		assert.Equal(t, tc.close, column(out, "close"), "%v", tc.flags)
	}

	code, out, errOut := runApp(t, env, "history", "SPLT", "--from", "2025-03-08", "--to", "2025-03-10")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "adjusted for splits (every row on the basis of 2025-03-10): 4:1 on 2025-03-10\n")

	for _, cmd := range [][]string{
		{"history", "SPLT", "--from", "2025-03-08", "--to", "2025-03-10", "--basis", "first"},
		{"chart", "SPLT", "--from", "2025-03-08", "--to", "2025-03-10", "-o", filepath.Join(t.TempDir(), "c.svg"), "--basis", "none"},
	} {
		code, out, errOut = runApp(t, env, cmd...)
		assert.Equal(t, exitUsage, code)
		assert.Empty(t, out)
		assert.Equal(t, "consensus "+cmd[0]+": --basis \""+cmd[len(cmd)-1]+"\" is not a valid basis: must be last or each; run 'consensus help "+cmd[0]+"' for usage.\n", errOut)
	}
	code, _, errOut = runApp(t, env, "show", "SPLT", "--basis", "each")
	assert.Equal(t, exitUsage, code, "show's basis is its as_of")
	assert.Contains(t, errOut, `unknown flag "--basis"`)
}

func TestChartMarksSplits(t *testing.T) {
	env := splitStore(t)
	for _, flags := range [][]string{nil, {"--unadjusted"}, {"--basis", "each"}} {
		out := filepath.Join(t.TempDir(), "c.svg")
		code, _, errOut := runApp(t, env, append([]string{"chart", "SPLT", "--from", "2025-03-01", "--to", "2025-03-20", "-o", out}, flags...)...)
		require.Equal(t, exitOK, code, errOut)
		svg, err := os.ReadFile(out)
		require.NoError(t, err)
		assert.Equal(t, 2, strings.Count(string(svg), `<polyline class="split"`), "%v: a marker across both panels", flags)
		assert.Contains(t, string(svg), `">4:1</text>`, "%v", flags)
		assert.Contains(t, string(svg), "Splits: 4:1 on 2025-03-10.</desc>", "%v", flags)
	}
}
