package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSplitCommand records a split at the command line and reads it back
// through log: the bare ex-date is the START of its day (CONTRACT section
// 7), the text log shows the ratio where other events show a price, and
// log --json carries it as data.ratio.
func TestSplitCommand(t *testing.T) {
	store := filepath.Join(t.TempDir(), "split.db")
	env := map[string]string{"CONSENSUS_STORE": store, "CONSENSUS_USER": "tester"}
	code, _, errOut := runApp(t, env, "close", "BABA", "--price", "400", "--currency", "USD", "--at", "2025-08-29")
	require.Equal(t, exitOK, code, errOut)

	code, out, errOut := runApp(t, env, "split", "BABA", "--ratio", "4:1", "--at", "2025-09-01", "--json")
	require.Equal(t, exitOK, code, errOut)
	var receipt map[string]string
	require.NoError(t, json.Unmarshal([]byte(out), &receipt))
	assert.Equal(t, "2026-11-24T12:00:00Z", receipt["recorded_at"], "--json prints the receipt as other writing commands do")
	id := receipt["event_id"]
	require.Len(t, id, 36)

	code, out, errOut = runApp(t, env, "log", "BABA")
	require.Equal(t, exitOK, code, errOut)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 3)
	assert.Equal(t, []string{"1", id, "SplitRecorded", "2025-09-01T00:00:00Z", "2026-11-24T12:00:00Z", "-", "split", "4:1"},
		strings.Fields(lines[2]))

	code, out, errOut = runApp(t, env, "log", "BABA", "--json")
	require.Equal(t, exitOK, code, errOut)
	var log []struct {
		Type         string          `json:"type"`
		EventID      string          `json:"event_id"`
		RecordedBy   string          `json:"recorded_by"`
		Data         json.RawMessage `json:"data"`
		RatingAction *string         `json:"rating_action"`
		TargetAction *string         `json:"target_action"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &log))
	require.Len(t, log, 2)
	split := log[1]
	assert.Equal(t, "SplitRecorded", split.Type)
	assert.Equal(t, id, split.EventID)
	assert.Equal(t, "tester", split.RecordedBy)
	assert.JSONEq(t, `{"instrument":"BABA","ratio":"4:1","effective_at":"2025-09-01T00:00:00Z"}`, string(split.Data))
	assert.Nil(t, split.RatingAction, "a split is no analyst's activity")
	assert.Nil(t, split.TargetAction)

	// log --chain still prints one line per event, the split's data as
	// stored (hex of its canonical JSON).
	code, out, errOut = runApp(t, env, "log", "BABA", "--chain")
	require.Equal(t, exitOK, code, errOut)
	chain := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, chain, 2)
	fields := strings.Split(chain[1], "\t")
	assert.Equal(t, []string{"1", "2", id, "SplitRecorded", "2025-09-01T00:00:00Z", "2026-11-24T12:00:00Z"}, fields[:6])

	// The split adjusts the close from the ex-date on: 400 on the old basis
	// is 100 on the new.
	code, out, errOut = runApp(t, env, "show", "BABA", "--as-of", "2025-09-01", "--json")
	require.Equal(t, exitOK, code, errOut)
	var show map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(out), &show))
	assert.Equal(t, "100", string(show["close"]))
}

// TestSplitHelp checks that split's --at says START of the day, unlike
// every other writing command's, and hides the flags a split refuses.
func TestSplitHelp(t *testing.T) {
	code, out, _ := runApp(t, nil, "help", "split")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "Usage: consensus split SYMBOL --ratio N:M --at D\n")
	assert.Contains(t, out, "the START of that day")
	assert.NotContains(t, out, "end of that day")
	assert.NotContains(t, out, "--currency")
	code, out, _ = runApp(t, nil, "help")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "  split        Records a stock split")
}
