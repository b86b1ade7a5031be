package test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// docsBlock returns the fenced block that follows the marker "<!-- KIND:
// NAME -->" in docs/methodology.md.
func docsBlock(t *testing.T, kind, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "methodology.md"))
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(b), "<!-- "+kind+": "+name+" -->\n```")
	require.True(t, ok, "docs/methodology.md has no %s %s", kind, name)
	_, rest, _ = strings.Cut(rest, "\n") // the fence's language
	block, _, ok := strings.Cut(rest, "\n```\n")
	require.True(t, ok, "%s %s is not closed", kind, name)
	return block
}

// TestDocsSplitsExample runs the commands of docs/methodology.md's stock
// split example, exactly as the page shows them, through the binary, and
// checks that every output line the page shows is printed, in order. A
// "..." in a line of the page stands for what changes from run to run (the
// known-at time, now).
func TestDocsSplitsExample(t *testing.T) {
	skipShort(t, "runs the binary ten times, about 3 s on the loaded 2-core machine")
	t.Parallel()
	c := newCLI(t)
	require.NoError(t, os.WriteFile(filepath.Join(c.dir, "splt.jsonl"), []byte(docsBlock(t, "file", "splt.jsonl")+"\n"), 0o600))

	transcript := docsBlock(t, "transcript", "splits")
	commands := 0
	for _, part := range strings.Split("\n"+transcript, "\n$ ")[1:] {
		command, shown, _ := strings.Cut(part, "\n")
		args := strings.Fields(command)
		require.Equal(t, "consensus", args[0], "the page shows only consensus commands: %s", command)
		out := c.ok(t, args[1:]...).stdout
		assertLinesInOrder(t, strings.TrimRight(shown, "\n"), out, command)
		commands++
	}
	require.Equal(t, 8, commands)

	// The figures the page states in words, from the JSON.
	adjusted := showJSON(t, c, filepath.Join(c.dir, "s.db"), "SPLT", "--as-of", "2025-03-10")
	assert.Equal(t, []string{"120", "100", "20"}, []string{num(adjusted["mean_target"]), num(adjusted["close"]), num(adjusted["upside_pct"])})
	assert.Equal(t, true, adjusted["adjusted"])
	assert.Equal(t, []any{map[string]any{"event_id": "322aa803-6d7a-53e6-988d-24bff5abbbf8", "ratio": "4:1", "effective_at": "2025-03-10T00:00:00Z"}}, adjusted["splits"])
	published := showJSON(t, c, filepath.Join(c.dir, "s.db"), "SPLT", "--as-of", "2025-03-10", "--unadjusted")
	assert.Equal(t, []string{"480", "100", "380"}, []string{num(published["mean_target"]), num(published["close"]), num(published["upside_pct"])})
	assert.Equal(t, false, published["adjusted"])
	assert.Equal(t, []any{}, published["splits"])

	// The chart the last command wrote marks the split.
	svg, err := os.ReadFile(filepath.Join(c.dir, "splt.svg"))
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(svg), `<polyline class="split"`), "a dashed line across both panels")
	assert.Contains(t, string(svg), `">4:1</text>`)
}

// assertLinesInOrder checks that every line of want appears in got, in
// order; "..." in a line of want matches any text.
func assertLinesInOrder(t *testing.T, want, got, command string) {
	t.Helper()
	lines := strings.Split(got, "\n")
	at := 0
	for _, w := range strings.Split(want, "\n") {
		if w == "" {
			continue
		}
		parts := strings.Split(w, "...")
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		re := regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
		for at < len(lines) && !re.MatchString(lines[at]) {
			at++
		}
		if !assert.Less(t, at, len(lines), "%s: the page shows %q, which the output lacks (in this order):\n%s", command, w, got) {
			return
		}
		at++
	}
}
