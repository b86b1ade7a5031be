package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/errkind"
)

// TestExitStatusesComeFromTheErrorTable: each sort of failure a command
// meets exits with its kind's status from errkind, and says so in one
// sentence on stderr, nothing on stdout.
func TestExitStatusesComeFromTheErrorTable(t *testing.T) {
	store := filepath.Join(t.TempDir(), "ledger.db")
	env := map[string]string{"CONSENSUS_STORE": store}
	code, _, errOut := runApp(t, env, "demo")
	require.Equal(t, exitOK, code, errOut)
	badFile := filepath.Join(t.TempDir(), "bad.jsonl")
	require.NoError(t, os.WriteFile(badFile, []byte(`{"type":"rating"}`+"\n"), 0o600))

	for _, tc := range []struct {
		name string
		args []string
		kind errkind.Kind
		says string
	}{
		{"usage", []string{"show"}, errkind.Usage, "consensus show: missing SYMBOL argument; run 'consensus help show' for usage.\n"},
		{"invalid", []string{"rate", "BABA", "--analyst", "a", "--rating", "buy", "--target", "-1", "--currency", "USD", "--at", "2025-09-12"}, errkind.Invalid, "consensus rate: target "},
		{"not found", []string{"show", "NOPE"}, errkind.NotFound, "consensus show: "},
		// import prints its rejects row by row, then exits through errSilent.
		{"rows rejected", []string{"import", badFile}, errkind.Invalid, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runApp(t, env, tc.args...)
			assert.Equal(t, tc.kind.Exit(), code, errOut)
			assert.True(t, strings.HasPrefix(errOut, tc.says), errOut)
			if tc.says == "" {
				return
			}
			assert.Empty(t, out)
			if tc.kind != errkind.Usage {
				assert.True(t, strings.HasSuffix(errOut, ".\n"), "one sentence: %q", errOut)
				assert.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %q", errOut)
			}
		})
	}
}
