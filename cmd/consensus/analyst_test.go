package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// trackRecordRows are the worked example of CONTRACT section 10 (the
// projections test TestTrackRecordWorkedExample): a buy that rose, a sell
// that rose, a target met within its year but not at its end, an open call,
// and a 2-for-1 split, so prices before it are halved on the basis of V.
const trackRecordRows = `{"type":"rating","instrument":"ABC","analyst":"a@x","firm":"Firm X","rating":"buy","currency":"USD","at":"2024-01-10"}
{"type":"rating","instrument":"ABC","analyst":"a@x","firm":"Firm X","rating":"sell","currency":"USD","at":"2024-02-01"}
{"type":"target","instrument":"ABC","analyst":"a@x","target":"150","currency":"USD","at":"2024-03-01"}
{"type":"close","instrument":"ABC","price":"100","currency":"USD","at":"2024-01-10"}
{"type":"close","instrument":"ABC","price":"104","currency":"USD","at":"2024-02-01"}
{"type":"close","instrument":"ABC","price":"110","currency":"USD","at":"2024-03-01"}
{"type":"close","instrument":"ABC","price":"155","currency":"USD","at":"2024-06-03"}
{"type":"split","instrument":"ABC","ratio":"2:1","at":"2024-09-02"}
{"type":"close","instrument":"ABC","price":"60","currency":"USD","at":"2025-01-09"}
{"type":"close","instrument":"ABC","price":"65","currency":"USD","at":"2025-01-31"}
{"type":"close","instrument":"ABC","price":"70","currency":"USD","at":"2025-02-28"}
{"type":"rating","instrument":"ABC","analyst":"b@y","rating":"hold","currency":"USD","at":"2024-01-10"}
{"type":"close","instrument":"DEF","price":"40","currency":"USD","at":"2025-06-02"}
{"type":"rating","instrument":"DEF","analyst":"a@x","rating":"strong_buy","target":"50","currency":"USD","at":"2025-06-02"}
`

func trackRecordStore(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "rows.jsonl")
	require.NoError(t, os.WriteFile(file, []byte(trackRecordRows), 0o600))
	env := map[string]string{"CONSENSUS_STORE": filepath.Join(dir, "t.db")}
	code, _, errOut := runApp(t, env, "import", file)
	require.Equal(t, exitOK, code, errOut)
	return env
}

func TestAnalystCommand(t *testing.T) {
	env := trackRecordStore(t)
	code, out, errOut := runApp(t, env, "analyst", "a@x", "--as-of", "2025-09-30", "--csv")
	require.Equal(t, exitOK, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 5)
	assert.Equal(t, "instrument,currency,type,event_id,rating,start,end,status,p0,p1,target,target_adjusted,met_at_end,met_within,error_pct,return_pct", lines[0])
	cut := func(line string) string { // without the event id
		f := strings.Split(line, ",")
		return strings.Join(append(f[:3:3], f[4:]...), ",")
	}
	assert.Equal(t, []string{
		"ABC,USD,rating,buy,2024-01-10T23:59:59.999999999Z,2025-01-09T23:59:59.999999999Z,closed,50,60,,,,,,20",
		"ABC,USD,rating,sell,2024-02-01T23:59:59.999999999Z,2025-01-31T23:59:59.999999999Z,closed,52,65,,,,,,-25",
		"ABC,USD,target,,2024-03-01T23:59:59.999999999Z,2025-03-01T23:59:59.999999999Z,closed,55,70,150,75,false,true,6.67,",
		"DEF,USD,rating,strong_buy,2025-06-02T23:59:59.999999999Z,2026-06-02T23:59:59.999999999Z,open,40,,50,50,,,,",
	}, []string{cut(lines[1]), cut(lines[2]), cut(lines[3]), cut(lines[4])})

	code, out, errOut = runApp(t, env, "analyst", "a@x", "--as-of", "2025-09-30", "--json")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, `"summary": {
    "analyst": "a@x",
    "firm": "Firm X",
    "calls": 4,
    "closed": 3,
    "scored_rating_calls": 2,
    "success_rate": 50,
    "avg_return_pct": -2.5,
    "scored_target_calls": 1,
    "accuracy": 100,
    "avg_error_pct": 6.67
  }`)

	code, _, errOut = runApp(t, env, "analyst", "a@y", "--as-of", "2025-09-30")
	assert.Equal(t, 1, code)
	assert.Equal(t, `consensus analyst: unknown analyst: "a@y" has no call as of 2025-09-30T23:59:59.999999999Z known at 2026-11-24T12:00:00Z; the closest with calls: "a@x", "b@y".`+"\n", errOut)
	code, _, errOut = runApp(t, env, "analyst", "a@x", "--as-of", "2023-12-31")
	assert.Equal(t, 1, code, "no call as of a date before the first")
	assert.Contains(t, errOut, `"a@x" has no call as of 2023-12-31`)
}

func TestAnalystsCommand(t *testing.T) {
	env := trackRecordStore(t)
	code, out, errOut := runApp(t, env, "analysts", "--as-of", "2025-09-30", "--csv")
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, "rank,analyst,firm,calls,closed,scored_rating_calls,success_rate,avg_return_pct,scored_target_calls,accuracy,avg_error_pct\n"+
		"1,a@x,Firm X,4,3,2,50,-2.5,1,100,6.67\n", out, "b@y's only call is a hold: no success rate to rank by")

	code, out, _ = runApp(t, env, "analysts", "--as-of", "2025-09-30", "--min-closed", "4", "--json")
	assert.Equal(t, exitOK, code)
	assert.Equal(t, "[]\n", out)
	code, out, _ = runApp(t, env, "analysts", "--as-of", "2025-09-30", "--firm", "Firm Y", "--json")
	assert.Equal(t, exitOK, code)
	assert.Equal(t, "[]\n", out)

	for _, bad := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"--min-closed", "-1"}, 1, `consensus analysts: min-closed "-1" must be 0 or more.`},
		{[]string{"--min-closed", "x"}, 1, `consensus analysts: min-closed "x" must be a whole number.`},
		{[]string{"--rank", "best"}, 1, `consensus analysts: rank "best" must be success, return or accuracy.`},
	} {
		code, out, errOut := runApp(t, env, append([]string{"analysts"}, bad.args...)...)
		assert.Equal(t, bad.code, code, bad.args)
		assert.Empty(t, out)
		assert.Equal(t, bad.err+"\n", errOut)
	}
}

func TestShowTop(t *testing.T) {
	env := trackRecordStore(t)
	for _, bad := range []struct{ top, err string }{
		{"0", `consensus show: top "0" must be 1 or more.`},
		{"-3", `consensus show: top "-3" must be 1 or more.`},
		{"ten", `consensus show: top "ten" must be a whole number.`},
	} {
		code, out, errOut := runApp(t, env, "show", "ABC", "--top", bad.top)
		assert.Equal(t, 1, code)
		assert.Empty(t, out)
		assert.Equal(t, bad.err+"\n", errOut)
	}
	// Nobody has five scored rating calls: the cut is empty, and --explain
	// says that all the (zero) ranked analysts are used.
	code, out, errOut := runApp(t, env, "show", "DEF", "--as-of", "2025-07-01", "--top", "10", "--explain")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "analysts  0: 0 buy")
	assert.Contains(t, out, "--top 10: only 0 analysts have at least 5 scored rating calls as of 2025-07-01T23:59:59.999999999Z; all of them are used:")
	assert.Contains(t, out, "not_top")
}
