package test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// skipShort skips a slow test under -short, saying why, so that
// `go test -short ./...` stays the quick loop; the full suite (CI) runs it.
func skipShort(t *testing.T, why string) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipped under -short: " + why)
	}
}

// result is what one run of the binary produced.
type result struct {
	code           int
	stdout, stderr string
}

// cli runs the binary in its own scratch working directory, with an
// environment cleared of every CONSENSUS_ variable so that neither the
// developer's store nor identity leaks into a test.
type cli struct {
	dir string
	env []string
}

func newCLI(t testing.TB) *cli {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CONSENSUS_") {
			env = append(env, kv)
		}
	}
	return &cli{dir: t.TempDir(), env: append(env, "CONSENSUS_USER=e2e")}
}

// withEnv returns a cli that also sets the given KEY=VALUE pairs.
func (c *cli) withEnv(kv ...string) *cli {
	env := append(append([]string(nil), c.env...), kv...)
	return &cli{dir: c.dir, env: env}
}

// command prepares one run without starting it.
func (c *cli) command(args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	sourcesRead.Do(func() {
		if err := readSources(".."); err != nil {
			panic(fmt.Sprintf("read the sources: %v", err))
		}
	})
	cmd := exec.Command(bin, args...)
	cmd.Dir = c.dir
	cmd.Env = c.env
	cmd.Stdin = nil
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

// run runs the binary to completion and returns its exit status and output.
func (c *cli) run(t testing.TB, args ...string) result {
	t.Helper()
	cmd, stdout, stderr := c.command(args...)
	return finish(t, cmd.Run(), stdout, stderr)
}

// finish turns the error of a finished command into a result.
func finish(t testing.TB, err error, stdout, stderr *bytes.Buffer) result {
	t.Helper()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		require.NoError(t, err, "run %s", bin)
	}
	return r
}

// ok runs the binary and requires exit status 0.
func (c *cli) ok(t testing.TB, args ...string) result {
	t.Helper()
	r := c.run(t, args...)
	require.Equal(t, 0, r.code, "consensus %s\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.stdout, r.stderr)
	return r
}

// newStore returns the path of a store that does not exist yet.
func newStore(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "ledger.db")
}

// demoStore loads the Alibaba scenario into a new store and returns its path.
func demoStore(t testing.TB, c *cli) string {
	t.Helper()
	store := newStore(t)
	r := c.ok(t, "demo", "--store", store)
	require.Regexp(t, `[1-9][0-9]* events written, 0 already present`, r.stdout)
	return store
}

// object decodes one JSON object, keeping numbers as their exact text.
func object(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	decodeJSON(t, s, &m)
	return m
}

// array decodes a JSON array of objects, keeping numbers as their exact text.
func array(t testing.TB, s string) []map[string]any {
	t.Helper()
	var a []map[string]any
	decodeJSON(t, s, &a)
	return a
}

func decodeJSON(t testing.TB, s string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	require.NoError(t, dec.Decode(v), "decode JSON: %s", s)
	_, err := dec.Token()
	require.ErrorIs(t, err, io.EOF, "trailing data after the JSON value: %s", s)
}

// num is a JSON number exactly as the binary printed it, "null" for null,
// and a marker for anything that is not a number, so that figures are
// compared as text and never as binary floats.
func num(v any) string {
	switch v := v.(type) {
	case json.Number:
		return v.String()
	case nil:
		return "null"
	}
	return "<not a number>"
}

// showJSON runs `show SYMBOL --json` with the given flags.
func showJSON(t testing.TB, c *cli, store, symbol string, flags ...string) map[string]any {
	t.Helper()
	args := append([]string{"show", symbol, "--json", "--store", store}, flags...)
	return object(t, c.ok(t, args...).stdout)
}

// logJSON returns `log SYMBOL --json`.
func logJSON(t testing.TB, c *cli, store, symbol string) []map[string]any {
	t.Helper()
	return array(t, c.ok(t, "log", symbol, "--json", "--store", store).stdout)
}

// snapshot is everything the store answers about its events: the
// instruments and the full log of each, byte for byte. Two equal snapshots
// mean nothing was written in between.
func snapshot(t testing.TB, c *cli, store string) string {
	t.Helper()
	list := c.ok(t, "instruments", "--json", "--store", store).stdout
	var sb strings.Builder
	sb.WriteString(list)
	for _, in := range array(t, list) {
		sb.WriteString(c.ok(t, "log", in["instrument"].(string), "--json", "--store", store).stdout)
	}
	return sb.String()
}

// copyStore copies a closed store (its file and any write-ahead log) to a
// new path, so that each test of a refusal starts from the same history
// without rebuilding it.
func copyStore(t testing.TB, from string) string {
	t.Helper()
	to := newStore(t)
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(from + suffix)
		if errors.Is(err, os.ErrNotExist) && suffix != "" {
			continue
		}
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(to+suffix, b, 0o644))
	}
	return to
}

// assertNoFile checks that path and SQLite's companion files do not exist.
func assertNoFile(t testing.TB, path string) {
	t.Helper()
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		_, err := os.Stat(p)
		assert.ErrorIs(t, err, os.ErrNotExist, "%s should not exist", p)
	}
}

// assertOneCleanLine checks that stderr is exactly one line without any
// trace of a panic or stack trace.
func assertOneCleanLine(t testing.TB, stderr string) {
	t.Helper()
	line := strings.TrimSuffix(stderr, "\n")
	assert.NotEmpty(t, line, "stderr should say what is wrong")
	assert.NotContains(t, line, "\n", "stderr should be exactly one line: %q", stderr)
	for _, trace := range []string{"goroutine", "panic", ".go:"} {
		assert.NotContains(t, stderr, trace, "stderr should hold no stack trace")
	}
}

// dirEntries lists the names in dir.
func dirEntries(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names
}
