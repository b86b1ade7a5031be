package test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestHugeValuesAreEchoedShort: a pasted 60 KB value is refused in one short
// line that echoes its first 64 characters and its length, whether a
// domain parser, a flag parser or the argument check refuses it.
func TestHugeValuesAreEchoedShort(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	store := demoStore(t, c)
	huge := strings.Repeat("9", 60_000)
	cut := `"` + strings.Repeat("9", 64) + `"… (60000 characters)`
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"a time", []string{"show", "BABA", "--as-of", huge}, refused,
			"consensus show: as-of " + cut + " is not a date (YYYY-MM-DD) or RFC 3339 time.\n"},
		{"an analyst", []string{"rate", "BABA", "--analyst", huge, "--rating", "buy", "--currency", "USD", "--at", "2025-09-01"}, refused,
			"consensus rate: analyst " + cut + " must be at most 100 characters.\n"},
		{"a number flag", []string{"chart", "BABA", "--from", "2025-09-01", "--to", "2025-09-12", "-o", "x.svg", "--width", huge}, usage,
			"consensus chart: --width " + cut + " is not a valid int; run 'consensus help chart' for usage.\n"},
		{"an unknown flag", []string{"show", "BABA", "--" + huge}, usage,
			`consensus show: unknown flag "--` + strings.Repeat("9", 62) + `"… (60002 characters); run 'consensus help show' for usage.` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := c.run(t, append(tc.args, "--store", store)...)
			assert.Equal(t, tc.code, r.code)
			assert.Empty(t, r.stdout)
			assert.Equal(t, tc.want, r.stderr)
		})
	}
	r := c.run(t, huge)
	assert.Equal(t, usage, r.code)
	assert.Equal(t, "consensus: unknown command "+cut+"; run 'consensus help' for the list.\n", r.stderr)
}
