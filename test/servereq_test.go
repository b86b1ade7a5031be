package test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServeRequestHandling runs `consensus serve` and sends what clients
// send: a query string that does not decode, a gzip-compressed import, and
// an import whose client goes away halfway.
func TestServeRequestHandling(t *testing.T) {
	skipShort(t, "over 2 s (6 s in a full run on the loaded 2-core machine)")
	t.Parallel()
	c := newCLI(t)
	store := demoStore(t, c)
	s := startServe(t, c, "--store", store, "--tokens", apiTokenFile(t))
	client := apiHTTPClient(1)
	send := func(method, path string, header http.Header, body []byte) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(method, s.url+path, bytes.NewReader(body))
		require.NoError(t, err)
		if header != nil {
			req.Header = header.Clone()
		}
		req.Header.Set("Authorization", "Bearer "+apiWriteToken)
		res, err := client.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, object(t, string(b))
	}

	// A known_at that does not decode is refused, not dropped for "now".
	status, got := send("GET", "/api/v1/instruments/BABA/consensus?as_of=2025-09-11&known_at=2020-01-01%", nil, nil)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, `query parameter known_at "2020-01-01%" is not URL-encoded: a % must be followed by two hex digits (write a % itself as %25).`, got["error"])
	assert.Equal(t, "known_at", got["field"])

	// A backfill client's gzip body is imported as its rows.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	fmt.Fprintln(zw, `{"type":"close","instrument":"BABA","price":"150.10","currency":"USD","at":"2025-09-13"}`)
	require.NoError(t, zw.Close())
	status, got = send("POST", "/api/v1/import", http.Header{"Content-Encoding": {"gzip"}, "Content-Type": {"application/x-ndjson"}}, gz.Bytes())
	require.Equal(t, http.StatusOK, status, "%v", got)
	assert.Equal(t, "1", num(got["imported"]))
	status, got = send("POST", "/api/v1/import", http.Header{"Content-Encoding": {"br"}}, []byte("{}"))
	assert.Equal(t, http.StatusUnsupportedMediaType, status)
	assert.Equal(t, "Content-Encoding", got["field"])

	// A client that hangs up halfway through an import body is no server
	// error: the log says so at INFO, and nothing was written.
	before := snapshot(t, c, store)
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	require.NoError(t, err)
	_, err = fmt.Fprintf(conn, "POST /api/v1/import HTTP/1.1\r\nHost: consensus.test\r\nAuthorization: Bearer %s\r\n"+
		"Content-Length: 1000\r\n\r\n{\"type\":\"close\",\"instrument\":\"BABA\",", apiWriteToken)
	require.NoError(t, err)
	time.Sleep(200 * time.Millisecond)
	require.NoError(t, conn.Close())
	const counted = `consensus_http_requests_total{code="499",method="POST",route="/api/v1/import"} 1`
	require.Eventually(t, func() bool {
		_, body := s.getWith(t, "/metrics", apiReadToken)
		return strings.Contains(body, counted)
	}, 5*time.Second, 50*time.Millisecond, "the request is counted as the client's going away")
	_, metrics := s.getWith(t, "/metrics", apiReadToken)
	assert.Contains(t, metrics, "\nconsensus_store_errors_total{op=\"write\"} 0\n")
	assert.Equal(t, before, snapshot(t, c, store))
	s.stop(t, syscall.SIGTERM) // stderr is read once the process is done with it
	assert.NotContains(t, s.stderr.String(), "level=ERROR")
	assert.Contains(t, s.stderr.String(), `level=INFO msg="client went away" method=POST path=/api/v1/import`)
}
