package test

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHistoryOverTheLimitIsRefused: a history or chart with more rows than
// the limit is refused up front, with the row count and the limit, by the
// command line (exit 1, nothing on stdout, no file written) and by the API
// (400) alike, instead of being cut at the limit with success.
func TestHistoryOverTheLimitIsRefused(t *testing.T) {
	skipShort(t, "asks three ways for a 50,001-row history")
	t.Parallel()
	c := newCLI(t)
	store := demoStore(t, c)
	const msg = "history from 1900-01-01 to 2036-11-23 every day is 50,001 rows; the limit is 50,000: ask for every week or month, or a shorter range."

	r := c.run(t, "history", "BABA", "--from", "1900-01-01", "--to", "2036-11-23", "--json", "--store", store)
	assert.Equal(t, refused, r.code)
	assert.Empty(t, r.stdout)
	assert.Equal(t, "consensus history: "+msg+"\n", r.stderr)

	out := filepath.Join(t.TempDir(), "chart.svg")
	r = c.run(t, "chart", "BABA", "--from", "1900-01-01", "--to", "2036-11-23", "--every", "day", "-o", out, "--store", store)
	assert.Equal(t, refused, r.code)
	assert.Equal(t, "consensus chart: "+msg+"\n", r.stderr)
	assertNoFile(t, out)

	s := startServe(t, c, "--store", store)
	code, body := s.get(t, "/api/v1/instruments/BABA/history?from=1900-01-01&to=2036-11-23")
	require.Equal(t, http.StatusBadRequest, code, body)
	assert.Equal(t, msg, object(t, body)["error"])
	assert.Equal(t, "from", object(t, body)["field"])
}
