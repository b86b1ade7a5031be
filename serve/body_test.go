package serve_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/serve"
)

// syncBuffer is a log the server writes from many goroutines while the test
// reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// importHead is the start of an import request of a declared length.
func importHead(length int) string {
	return fmt.Sprintf("POST /api/v1/import HTTP/1.1\r\nHost: consensus.test\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/x-ndjson\r\nContent-Length: %d\r\n\r\n", writeToken, length)
}

// rawAnswer reads the status line of the answer on conn, or fails after
// limit.
func rawAnswer(t *testing.T, conn net.Conn, limit time.Duration) string {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(limit)))
	line, err := bufio.NewReader(conn).ReadString('\n')
	require.NoError(t, err, "no answer within %s", limit)
	return strings.TrimSpace(line)
}

const idleBound = 300 * time.Millisecond

// TestSlowImportBodyIsCutOff: an import body that stalls, or trickles a
// byte at a time without ever pausing long, is answered 408 within the
// bound instead of holding the only import slot for the import's hour; the
// next import is then taken at once.
func TestSlowImportBodyIsCutOff(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{config: func(c *serve.Config) { c.BodyIdleTimeout = idleBound }})
	row := `{"type":"close","instrument":"BABA","price":"150","currency":"USD","at":"2025-09-13"}` + "\n"
	for _, c := range []struct {
		name string
		send func(conn net.Conn)
	}{
		{"a few bytes, then nothing", func(conn net.Conn) { _, _ = conn.Write([]byte(row[:10])) }},
		{"a byte every 100 ms", func(conn net.Conn) {
			for i := range 50 {
				if _, err := conn.Write([]byte{row[i]}); err != nil {
					return // cut off
				}
				time.Sleep(100 * time.Millisecond)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", ts.Listener.Addr().String())
			require.NoError(t, err)
			defer conn.Close()
			began := time.Now()
			_, err = conn.Write([]byte(importHead(len(row))))
			require.NoError(t, err)
			go c.send(conn)
			assert.Equal(t, "HTTP/1.1 408 Request Timeout", rawAnswer(t, conn, 10*time.Second))
			took := time.Since(began)
			assert.GreaterOrEqual(t, took, idleBound)
			assert.Less(t, took, idleBound+2*time.Second, "cut off at the bound, with slack for a busy machine")

			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			res := ts.doContext(ctx, t, "POST", "/api/v1/import", writeToken, row, nil)
			require.Equal(t, http.StatusOK, res.status, "the import slot is free again: %s", res.body)
		})
	}

	// The answer, read by a client that waits for it.
	res := ts.doWith(t, "POST", "/api/v1/events", writeToken, "", nil) // warm: nothing slow here
	requireError(t, res, http.StatusBadRequest, "")
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte(importHead(len(row)) + row[:10]))
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	answer, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer answer.Body.Close()
	var body bytes.Buffer
	_, _ = body.ReadFrom(answer.Body)
	requireError(t, response{status: answer.StatusCode, header: answer.Header, body: body.String()}, http.StatusRequestTimeout, "")
	assert.Regexp(t, `^\{"error":"the request body arrived too slowly \(10 bytes in [0-9.]+m?s\): a body may pause for at most 300ms and must average 16384 bytes a second; send it again\.","field":null\}`, body.String())
}

// TestClientGoneMidImportIsNoServerError: a client that closes its
// connection halfway through an import body is logged as gone, at info
// level, and counted under 499, not as a server fault.
func TestClientGoneMidImportIsNoServerError(t *testing.T) {
	t.Parallel()
	var log syncBuffer
	ts := newServer(t, options{config: func(c *serve.Config) { c.Logger = slog.New(slog.NewTextHandler(&log, nil)) }})
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	require.NoError(t, err)
	_, err = conn.Write([]byte(importHead(1000) + `{"type":"close","instrument":"BABA","price":"150",`))
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond) // the server is reading the body
	require.NoError(t, conn.Close())

	const counted = `consensus_http_requests_total{code="499",method="POST",route="/api/v1/import"} 1`
	require.Eventually(t, func() bool { return strings.Contains(ts.get(t, "/metrics").body, counted) },
		5*time.Second, 20*time.Millisecond, "the request is counted as the client's going away")
	metrics := ts.get(t, "/metrics").body
	assert.Contains(t, metrics, "\nconsensus_store_errors_total{op=\"write\"} 0\n")
	assert.NotContains(t, metrics, `code="500"`)
	assert.NotContains(t, log.String(), "level=ERROR")
	assert.Contains(t, log.String(), `level=INFO msg="client went away" method=POST path=/api/v1/import`)
}

func gzipped(t *testing.T, text string) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, err := zw.Write([]byte(text))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return b.String()
}

// TestCompressedBodies: a gzip body is read as its content, under the same
// bound on its decompressed size as a plain one; another encoding is a 415
// naming it, never "must be a JSON array".
func TestCompressedBodies(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{config: func(c *serve.Config) { c.MaxBodyBytes = 4 << 10; c.MaxImportBytes = 4 << 10 }})
	gz := http.Header{"Content-Encoding": {"gzip"}}
	rows := `[{"type":"close","instrument":"BABA","price":"150","currency":"USD","at":"2025-09-13"}]`
	res := ts.doWith(t, "POST", "/api/v1/events", writeToken, gzipped(t, rows), gz)
	require.Equal(t, http.StatusCreated, res.status, res.body)

	line := `{"type":"close","instrument":"BABA","price":"151","currency":"USD","at":"2025-09-14"}` + "\n"
	res = ts.doWith(t, "POST", "/api/v1/import", writeToken, gzipped(t, line), http.Header{"Content-Encoding": {"gzip"}, "Content-Type": {"application/x-ndjson"}})
	require.Equal(t, http.StatusOK, res.status, res.body)
	assert.Equal(t, "1", text(object(t, res.body)["imported"]))

	// The bound is on what a body decompresses to.
	bodies := map[string]string{"/api/v1/events": rows[:len(rows)-1] + "," + rows[1:], "/api/v1/import": line + line}
	for path, body := range bodies {
		// Spaces after the first row: 64 KiB of them compress to a few
		// hundred bytes.
		i := strings.IndexByte(body, '}') + 1
		bomb := gzipped(t, body[:i]+strings.Repeat(" ", 64<<10)+body[i:])
		require.Less(t, len(bomb), 4<<10)
		requireError(t, ts.doWith(t, "POST", path, writeToken, bomb, gz), http.StatusRequestEntityTooLarge, "")
		res = ts.doWith(t, "POST", path, writeToken, "not gzip at all", gz)
		requireError(t, res, http.StatusBadRequest, "Content-Encoding")
		assert.Equal(t, "the body is not valid gzip (gzip: invalid header).", object(t, res.body)["error"])
		res = ts.doWith(t, "POST", path, writeToken, gzipped(t, body)[:40], gz) // cut short
		requireError(t, res, http.StatusBadRequest, "Content-Encoding")
		for _, enc := range []string{"br", "deflate", "gzip, gzip"} {
			res = ts.doWith(t, "POST", path, writeToken, rows, http.Header{"Content-Encoding": {enc}})
			requireError(t, res, http.StatusUnsupportedMediaType, "Content-Encoding")
			assert.Equal(t, `Content-Encoding "`+enc+`" is not supported: send the body as it is, or compressed once with gzip.`, object(t, res.body)["error"])
		}
	}
	res = ts.doWith(t, "POST", "/api/v1/events", writeToken, rows, http.Header{"Content-Encoding": {"identity"}})
	require.Equal(t, http.StatusOK, res.status, "identity is plain: %s", res.body)
}
