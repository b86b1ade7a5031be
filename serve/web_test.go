package serve_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// firstLoadBudget is the most the instrument page may transfer on its first
// load (the serve issue's figure).
const firstLoadBudget = 200 << 10

func TestPage(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	for _, path := range []string{"/", "/instruments/BABA", "/instruments/BABA?as_of=2025-09-11&utm_source=mail"} {
		res := ts.do(t, "GET", path, "", "")
		require.Equal(t, http.StatusOK, res.status, path)
		assert.Equal(t, "text/html; charset=utf-8", res.header.Get("Content-Type"))
		assert.Contains(t, res.header.Get("Content-Security-Policy"), "default-src 'self'")
		assert.Contains(t, res.body, `<script src="/assets/app.js" defer></script>`)
		assert.NotContains(t, res.body, "http://", "nothing loaded from elsewhere")
		assert.NotContains(t, res.body, "https://")
	}
	js := ts.do(t, "GET", "/assets/app.js", "", "")
	require.Equal(t, http.StatusOK, js.status)
	assert.Equal(t, "text/javascript; charset=utf-8", js.header.Get("Content-Type"))
	css := ts.do(t, "GET", "/assets/app.css", "", "")
	assert.Equal(t, "text/css; charset=utf-8", css.header.Get("Content-Type"))

	t.Run("revalidation", func(t *testing.T) {
		etag := js.header.Get("ETag")
		require.NotEmpty(t, etag)
		res := ts.doWith(t, "GET", "/assets/app.js", "", "", http.Header{"If-None-Match": {etag}})
		assert.Equal(t, http.StatusNotModified, res.status)
		assert.Empty(t, res.body)
	})
	requireError(t, ts.do(t, "GET", "/assets/nothing.js", "", ""), http.StatusNotFound, "")
	requireError(t, ts.do(t, "GET", "/assets/index.html", "", ""), http.StatusNotFound, "")
}

// TestFirstLoadBudget adds up what a browser transfers to show the BABA
// page: the page, its script and style sheet, the consensus with explain,
// and the two charts, compressed as a browser asks for them. The browser
// test measures the same in Chromium; this one runs without it.
func TestFirstLoadBudget(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{noTokens: true})
	chart := "from=2025-03-11&to=2025-09-11"
	total := 0
	for _, path := range []string{
		"/instruments/BABA?as_of=2025-09-11",
		"/assets/app.js",
		"/assets/app.css",
		"/api/v1/instruments/BABA/consensus?as_of=2025-09-11&explain=true",
		"/api/v1/instruments/BABA/chart.svg?panel=targets&height=380&" + chart,
		"/api/v1/instruments/BABA/chart.svg?panel=ratings&height=220&" + chart,
	} {
		n, plain := transferred(t, ts, path)
		t.Logf("%-75s %6d bytes (%d uncompressed)", path, n, plain)
		total += n
	}
	t.Logf("total %d bytes of a budget of %d", total, firstLoadBudget)
	assert.Less(t, total, firstLoadBudget)
}

// transferred is the size of a response body as sent with gzip allowed,
// and its size uncompressed.
func transferred(t *testing.T, ts *testServer, path string) (sent, plain int) {
	t.Helper()
	req, err := http.NewRequest("GET", ts.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Accept-Encoding", "gzip")
	tr := &http.Transport{DisableCompression: true}
	res, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s: %s", path, body)
	plain = len(body)
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		require.NoError(t, err)
		unzipped, err := io.ReadAll(zr)
		require.NoError(t, err)
		plain = len(unzipped)
	}
	return len(body), plain
}

func TestUnrouted(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	requireError(t, ts.get(t, "/api/v2/instruments"), http.StatusNotFound, "")
	requireError(t, ts.get(t, "/favicon.ico"), http.StatusNotFound, "")
	res := ts.do(t, "DELETE", "/api/v1/instruments", writeToken, "")
	requireError(t, res, http.StatusMethodNotAllowed, "")
	assert.Contains(t, res.header.Get("Allow"), "GET")
	requireError(t, ts.do(t, "GET", "/api/v1/events", writeToken, ""), http.StatusMethodNotAllowed, "")
}

func TestHealth(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	require.Eventually(t, func() bool {
		res := ts.get(t, "/healthz")
		h := object(t, res.body)
		return res.status == http.StatusOK && h["verify"].(map[string]any)["status"] == "ok"
	}, 10*time.Second, 20*time.Millisecond, "the first verification finishes")
	h := object(t, ts.get(t, "/healthz").body)
	assert.Equal(t, "ok", h["status"])
	assert.Equal(t, true, h["following"])
	verify := h["verify"].(map[string]any)
	assert.Equal(t, "68", text(verify["events"]), "the demo's events")
	assert.Nil(t, verify["problem"])
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	ts.get(t, "/api/v1/instruments")
	ts.get(t, "/api/v1/instruments/NOPE/consensus")
	post(t, ts, `[{"type":"close","instrument":"BABA","price":"150","currency":"USD","at":"2025-09-15"}]`)
	res := ts.get(t, "/metrics")
	require.Equal(t, http.StatusOK, res.status)
	assert.Contains(t, res.header.Get("Content-Type"), "text/plain")
	for _, want := range []string{
		`consensus_http_requests_total{code="200",method="GET",route="/api/v1/instruments"} 1`,
		`consensus_http_requests_total{code="404",method="GET",route="/api/v1/instruments/{symbol}/consensus"} 1`,
		`consensus_http_request_duration_seconds_bucket{route="/api/v1/instruments",le="+Inf"} 1`,
		`consensus_events_appended_total{via="events"} 1`,
		`consensus_events_appended_total{via="import"} 0`,
		`consensus_store_errors_total{op="read"} 0`,
		`consensus_event_stream_clients 0`,
		`go_goroutines`,
	} {
		assert.Contains(t, res.body, want)
	}
	assert.Regexp(t, regexp.MustCompile(`(?m)^# TYPE consensus_http_request_duration_seconds histogram$`), res.body)
}
