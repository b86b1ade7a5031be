package serve_test

import (
	"compress/gzip"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateMetrics = flag.Bool("update-metrics", false, "rewrite testdata/metrics.golden from this build's /metrics")

// sampleLine splits a sample line into its series (name and labels) and value.
var sampleLine = regexp.MustCompile(`^([a-z_]+(?:\{.*\})?) (\S+)$`)

// exposedShape is what a scraper and its dashboards depend on in a /metrics
// answer: every HELP and TYPE line, every series, and the values that do
// not follow the clock or the runtime (the consensus_ series other than
// latencies and the polled /healthz).
func exposedShape(t *testing.T, body string) string {
	t.Helper()
	var b strings.Builder
	for line := range strings.Lines(body) {
		line = strings.TrimSuffix(line, "\n")
		if strings.HasPrefix(line, "# ") {
			b.WriteString(line + "\n")
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		require.NotNil(t, m, "not a sample line: %q", line)
		value := m[2]
		if !strings.HasPrefix(m[1], "consensus_") || strings.HasPrefix(m[1], "consensus_http_request_duration_seconds") ||
			strings.Contains(m[1], `route="/healthz"`) { // newServer polls it until the server follows the store
			value = "V"
		}
		b.WriteString(m[1] + " " + value + "\n")
	}
	return b.String()
}

// TestMetricsExpositionUnchanged holds /metrics to what the Prometheus
// client library served before it was replaced by serve/exposition (issue
// 17): testdata/metrics.golden was written by that client for the same
// requests. Names, types, help texts, labels, the order of the lines and
// the counts must stay, or dashboards and alerts break.
func TestMetricsExpositionUnchanged(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	ts.get(t, "/api/v1/instruments")
	ts.get(t, "/api/v1/instruments/NOPE/consensus")
	ts.get(t, "/api/v1/instruments/BABA/consensus?as_of=2025-09-11")
	ts.get(t, "/nothing-here")
	post(t, ts, `[{"type":"close","instrument":"BABA","price":"150","currency":"USD","at":"2025-09-15"}]`)

	res := ts.get(t, "/metrics")
	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "text/plain; version=0.0.4; charset=utf-8; escaping=underscores", res.header.Get("Content-Type"))
	got := exposedShape(t, res.body)
	golden := filepath.Join("testdata", "metrics.golden")
	if *updateMetrics {
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	sameLines(t, string(want), got)

	// Prometheus asks for gzip; the answer is the same text compressed (and
	// now counts the scrape above).
	res = ts.doWith(t, "GET", "/metrics", readToken, "", http.Header{"Accept-Encoding": {"gzip"}})
	require.Equal(t, "gzip", res.header.Get("Content-Encoding"))
	zr, err := gzip.NewReader(strings.NewReader(res.body))
	require.NoError(t, err)
	plain, err := io.ReadAll(zr)
	require.NoError(t, err)
	var again strings.Builder
	for line := range strings.Lines(exposedShape(t, string(plain))) {
		if !strings.Contains(line, `route="/metrics"`) {
			again.WriteString(line)
		}
	}
	sameLines(t, string(want), again.String())
}

// sameLines fails at the first line where got differs from want, naming
// both, rather than printing two 200-line texts.
func sameLines(t *testing.T, want, got string) {
	t.Helper()
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range min(len(w), len(g)) {
		if w[i] != g[i] {
			t.Fatalf("/metrics line %d:\n got  %s\n want %s", i+1, g[i], w[i])
		}
	}
	require.Equal(t, len(w), len(g), "/metrics lines")
}
