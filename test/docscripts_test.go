package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// docsScript extracts the ```sh block that follows the marker
// "<!-- script: NAME -->" in docs/events.md, so the scripts the docs show
// are the ones tested.
func docsScript(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "events.md"))
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(b), "<!-- script: "+name+" -->\n```sh\n")
	require.True(t, ok, "docs/events.md has no script %s", name)
	script, _, ok := strings.Cut(rest, "\n```\n")
	require.True(t, ok, "script %s is not closed", name)
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(script+"\n"), 0o644))
	return path
}

// needTools skips the test, saying why, when a tool the docs' scripts use
// is not installed.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed, so the docs' script cannot be run here (install it in CI: apt-get install coreutils openssl)", tool)
		}
	}
}

// runScript runs a shell script in dir with input on stdin.
func runScript(t *testing.T, dir, input string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("sh", args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestDocsChainScript runs the docs' POSIX shell script on the ledger's own
// `log --chain` output: a stream of version-1 events (written by the
// release before chain version 2) followed by a version-2 one. It must
// recompute every hash, and fail on an altered byte.
func TestDocsChainScript(t *testing.T) {
	skipShort(t, "over 2 s (15 s in a full run on the loaded 2-core machine)")
	t.Parallel()
	needTools(t, "sh", "awk", "sha256sum", "cut")
	c := newCLI(t)
	store := oldLedger(t)
	c.ok(t, "close", "9988.HK", "--price", "150", "--currency", "HKD", "--at", "2025-09-15", "--store", store)
	chain := c.ok(t, "log", "9988.HK", "--chain", "--store", store).stdout
	script := docsScript(t, "rehash.sh")

	out, err := runScript(t, t.TempDir(), chain, script)
	require.NoError(t, err, out)
	assert.Equal(t, "ok: 12 hashes recomputed\n", out)

	// One metadata byte of the version-2 event changed: its hash fails.
	lines := strings.SplitAfter(chain, "\n")
	fields := strings.Split(strings.TrimSuffix(lines[11], "\n"), "\t")
	require.Len(t, fields, 10)
	fields[9] = strings.Replace(fields[9], "22", "23", 1)
	lines[11] = strings.Join(fields, "\t") + "\n"
	out, err = runScript(t, t.TempDir(), strings.Join(lines, ""), script)
	assert.Error(t, err)
	assert.Contains(t, out, "event 11 ("+fields[2]+"): computed ")
}

// TestDocsCheckpointScript runs the docs' openssl script on a checkpoint
// the ledger wrote: it verifies with the signer's public key and fails
// with another key or an altered count.
func TestDocsCheckpointScript(t *testing.T) {
	skipShort(t, "over 2 s (3 s in a full run on the loaded 2-core machine)")
	t.Parallel()
	needTools(t, "sh", "sed", "awk", "sha256sum", "cut", "openssl")
	c := newCLI(t)
	store := demoStore(t, c)
	dir := t.TempDir()
	key, other, cpt := filepath.Join(dir, "key"), filepath.Join(dir, "other"), filepath.Join(dir, "cp.json")
	c.ok(t, "keygen", "-o", key)
	c.ok(t, "keygen", "-o", other)
	c.ok(t, "checkpoint", "--key", key, "-o", cpt, "--store", store)
	script := docsScript(t, "verify-checkpoint.sh")

	out, err := runScript(t, dir, "", script, cpt, key+".pub")
	require.NoError(t, err, out)
	assert.Equal(t, "Signature Verified Successfully\n", out)

	out, err = runScript(t, dir, "", script, cpt, other+".pub")
	assert.Error(t, err, "another key: %s", out)
	assert.Contains(t, out, "Signature Verification Failure")

	b, err := os.ReadFile(cpt)
	require.NoError(t, err)
	altered := filepath.Join(dir, "altered.json")
	require.NoError(t, os.WriteFile(altered, []byte(strings.Replace(string(b), `"events": 57`, `"events": 56`, 1)), 0o644))
	out, err = runScript(t, dir, "", script, altered, key+".pub")
	assert.Error(t, err)
	assert.Contains(t, out, "does not match the streams")
}
