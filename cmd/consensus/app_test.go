package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pinned is the clock of the in-process tests.
var pinned = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// runApp runs one command line in-process with a pinned clock and no
// environment, and returns its exit status and output.
func runApp(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	a := newApp(&stdout, &stderr, func(k string) string { return env[k] }, func() time.Time { return pinned })
	code := a.run(context.Background(), args)
	return code, stdout.String(), stderr.String()
}

func TestHelpAndUsage(t *testing.T) {
	code, out, _ := runApp(t, nil)
	assert.Equal(t, exitUsage, code, "no command is a usage error")
	assert.Contains(t, out, "Commands:")

	code, out, _ = runApp(t, nil, "help", "rate")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "--analyst")

	code, _, errOut := runApp(t, nil, "frobnicate")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, `unknown command "frobnicate"`)

	code, _, errOut = runApp(t, nil, "show", "BABA", "--bogus")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "--bogus")
}

// TestShowJSONMatchesTheContract checks the exact shape of show --json for
// the reference scenario, with both times defaulting to the pinned now.
func TestShowJSONMatchesTheContract(t *testing.T) {
	store := filepath.Join(t.TempDir(), "demo.db")
	env := map[string]string{"CONSENSUS_STORE": store}
	code, _, errOut := runApp(t, env, "demo")
	require.Equal(t, exitOK, code, errOut)

	code, out, errOut := runApp(t, env, "show", "BABA", "--as-of", "2025-09-11", "--json")
	require.Equal(t, exitOK, code, errOut)
	var got map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	want := map[string]string{
		"instrument": `"BABA"`, "currency": `"USD"`, "as_of": `"2025-09-11T23:59:59.999999999Z"`,
		"known_at": `"2026-11-24T12:00:00Z"`, "window_days": `90`, "analysts": `18`, "buy": `17`, "hold": `1`,
		"sell": `0`, "mean_rating": `2`, "label": `"Strong Buy"`, "targets": `18`, "mean_target": `165.69`,
		"median_target": `165`, "high_target": `200`, "low_target": `140`, "stddev_target": `14.14`,
		"close": `155.44`, "close_at": `"2025-09-11T23:59:59.999999999Z"`, "upside_pct": `6.59`,
		"adjusted": `true`, "splits": `[]`, // CONTRACT section 7
	}
	assert.Len(t, got, len(want), "no field more or less than the contract's")
	for field, value := range want {
		assert.Equal(t, value, string(got[field]), field)
	}
}
