package serve_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/serve"
)

// gauge reads one series of /metrics.
func gauge(t *testing.T, ts *testServer, name string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(ts.do(t, "GET", "/metrics", readToken, "").body) // /metrics needs a reader when tokens are set
	require.NotNil(t, m, "no %s in /metrics", name)
	v, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	return v
}

// holdImport starts an import whose body never ends until release is
// called: it holds the import slot and an expensive one meanwhile.
func holdImport(t *testing.T, ts *testServer) (release func() response) {
	t.Helper()
	body, send := io.Pipe()
	req, err := http.NewRequest("POST", ts.URL+"/api/v1/import", body)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+writeToken)
	req.Header.Set("Content-Type", "application/x-ndjson")
	done := make(chan response, 1)
	go func() {
		res, err := ts.Client().Do(req)
		if err != nil {
			done <- response{}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		done <- response{status: res.StatusCode, header: res.Header, body: string(b)}
	}()
	_, err = send.Write([]byte(`{"type":"close","instrument":"HELD","price":"1","currency":"USD","at":"2025-01-02"}` + "\n"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return gauge(t, ts, "consensus_expensive_requests") == 1 },
		5*time.Second, 10*time.Millisecond, "the import holds an expensive slot")
	t.Cleanup(func() { send.Close() })
	return func() response {
		require.NoError(t, send.Close())
		select {
		case res := <-done:
			return res
		case <-time.After(10 * time.Second):
			t.Fatal("the held import did not finish")
		}
		return response{}
	}
}

// TestExpensiveRequestsAreBounded: beyond --max-expensive, a history, a
// chart, a log, the list of instruments and the answer about all of them
// are refused at once with 503, Retry-After and one sentence, while a
// single consensus, a write and the health check go on; once the slot is
// free they are answered again.
func TestExpensiveRequestsAreBounded(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{config: func(c *serve.Config) { c.MaxExpensive = 1 }})
	assert.Equal(t, 1.0, gauge(t, ts, "consensus_expensive_max_requests"))
	release := holdImport(t, ts)

	expensive := []string{
		"/api/v1/instruments/BABA/history?from=2025-08-01&to=2025-09-12",
		"/api/v1/instruments/BABA/chart.svg?from=2025-06-01&to=2025-09-11",
		"/api/v1/instruments/BABA/events",
		"/api/v1/instruments",
		"/api/v1/consensus?as_of=2025-09-11",
		"/api/v1/actions?from=2025-09-01&to=2025-09-30",
	}
	for _, path := range expensive {
		res := ts.get(t, path)
		requireError(t, res, http.StatusServiceUnavailable, "")
		assert.Equal(t, "1", res.header.Get("Retry-After"), path)
		assert.Equal(t, "the server is busy: 1 expensive requests (histories, charts, logs, lists of every instrument, imports) "+
			"are running, the most it runs at once; retry in a second.", object(t, res.body)["error"], path)
	}
	assert.Equal(t, float64(len(expensive)), gauge(t, ts, "consensus_expensive_refused_total"))

	res := ts.get(t, "/api/v1/instruments/BABA/consensus?as_of=2025-09-11")
	require.Equal(t, http.StatusOK, res.status, "a single consensus is never held back: %s", res.body)
	requireFigures(t, object(t, res.body), thursday)
	post(t, ts, `[{"type":"close","instrument":"BABA","price":"150","currency":"USD","at":"2025-09-15"}]`)
	assert.Equal(t, http.StatusOK, ts.do(t, "GET", "/healthz", "", "").status)

	second := ts.doWith(t, "POST", "/api/v1/import", writeToken, "", http.Header{"Content-Type": {"application/x-ndjson"}})
	requireError(t, second, http.StatusServiceUnavailable, "")
	assert.Equal(t, "10", second.header.Get("Retry-After"))
	assert.Equal(t, "another import is running, and the server runs one at a time; retry when it has finished.", object(t, second.body)["error"])

	held := release()
	require.Equal(t, http.StatusOK, held.status, held.body)
	assert.Equal(t, 0.0, gauge(t, ts, "consensus_expensive_requests"), "the slot is free again")
	for _, path := range expensive {
		assert.Equal(t, http.StatusOK, ts.get(t, path).status, path)
	}
}

// TestEventStreamsAreBounded: beyond --max-streams a stream is refused with
// 503 while health, reads and writes go on, and a client that leaves frees
// its slot.
func TestEventStreamsAreBounded(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{config: func(c *serve.Config) { c.MaxStreams = 2 }})
	assert.Equal(t, 2.0, gauge(t, ts, "consensus_event_stream_max_clients"))
	first := openStream(t, ts, "", "")
	ctx, leave := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/v1/events/stream", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+readToken)
	second, err := ts.Client().Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, second.StatusCode)

	res := ts.get(t, "/api/v1/events/stream")
	requireError(t, res, http.StatusServiceUnavailable, "")
	assert.Equal(t, "10", res.header.Get("Retry-After"))
	assert.Equal(t, "the server already serves 2 event streams, the most it serves at once (serve --max-streams); retry later.",
		object(t, res.body)["error"])
	assert.Equal(t, 1.0, gauge(t, ts, "consensus_event_stream_refused_total"))

	assert.Equal(t, http.StatusOK, ts.do(t, "GET", "/healthz", "", "").status)
	assert.Equal(t, http.StatusOK, ts.get(t, "/api/v1/instruments/BABA/consensus?as_of=2025-09-11").status)
	post(t, ts, `[{"type":"close","instrument":"BABA","price":"150","currency":"USD","at":"2025-09-15"}]`)
	assert.Equal(t, "150", text(next(t, first).data["data"].(map[string]any)["price"]), "the streams admitted still follow")

	leave()
	second.Body.Close()
	require.Eventually(t, func() bool { return gauge(t, ts, "consensus_event_stream_clients") == 1 },
		5*time.Second, 10*time.Millisecond, "the slot of a client that left is freed")
	openStream(t, ts, "", "") // requires 200
}

// TestAnswerCacheIsBoundedByBytes: answers about many dates stay within the
// byte bound, least recently used let go, and /metrics shows both.
func TestAnswerCacheIsBoundedByBytes(t *testing.T) {
	t.Parallel()
	const bound = 16 << 10
	ts := newServer(t, options{config: func(c *serve.Config) { c.MaxCacheBytes = bound }})
	assert.Equal(t, float64(bound), gauge(t, ts, "consensus_answer_cache_max_bytes"))
	var first string
	for day := 1; day <= 60; day++ {
		at := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, day).Format(time.DateOnly)
		for _, path := range []string{"/api/v1/consensus?as_of=" + at, "/api/v1/instruments/BABA/consensus?explain=true&as_of=" + at} {
			res := ts.get(t, path)
			require.Equal(t, http.StatusOK, res.status, res.body)
			if first == "" {
				first = res.body
			}
		}
		require.LessOrEqual(t, gauge(t, ts, "consensus_answer_cache_bytes"), float64(bound), "day %d", day)
	}
	assert.Positive(t, gauge(t, ts, "consensus_answer_cache_evictions_total"))
	assert.Positive(t, gauge(t, ts, "consensus_answer_cache_answers"))
	// An answer let go is computed again, the same.
	res := ts.get(t, "/api/v1/consensus?as_of=2025-07-02")
	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, array(t, first), array(t, res.body))
}

// TestChartBoundsAPI: the chart route refuses sizes and point counts
// beyond the figure's bounds with one sentence naming the parameter.
func TestChartBoundsAPI(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	res := ts.get(t, "/api/v1/instruments/BABA/chart.svg?from=2025-06-01&to=2025-09-11&width=4001")
	requireError(t, res, http.StatusBadRequest, "width")
	assert.Equal(t, "width 4001 is out of range: a chart takes 200 to 4000 pixels.", object(t, res.body)["error"])
	res = ts.get(t, "/api/v1/instruments/BABA/chart.svg?from=2000-01-01&to=2025-09-11&every=day")
	requireError(t, res, http.StatusBadRequest, "every")
	assert.Equal(t, "every day from 2000-01-01 to 2025-09-11 draws more than 4000 points; use a longer every or a shorter range.",
		object(t, res.body)["error"])
	res = ts.get(t, "/api/v1/instruments/BABA/chart.svg?from=1900-01-01&to=2025-09-11&width=4000&height=4000")
	require.Equal(t, http.StatusOK, res.status, "auto chooses months: %s", res.body)
}
