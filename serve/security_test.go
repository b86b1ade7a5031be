package serve_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/serve"
)

// TestHostCheckWithoutTokens: a server without tokens answers only
// requests for localhost or a loopback address (any port), and names
// allowed explicitly; any other Host, as a DNS-rebinding page would send,
// gets 421 with one sentence, on every path.
func TestHostCheckWithoutTokens(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{noTokens: true, config: func(c *serve.Config) { c.AllowedHosts = []string{"Ledger.Internal"} }})
	addr := ts.Listener.Addr().String()
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	for _, host := range []string{"localhost:" + port, "LOCALHOST", "127.0.0.1:" + port, "127.0.0.2:9", "[::1]:" + port, "[::1]",
		"ledger.internal:8080", "ledger.internal"} {
		res := ts.doWith(t, "GET", "/api/v1/instruments", "", "", http.Header{"Host": {host}})
		assert.Equal(t, http.StatusOK, res.status, "Host %s: %s", host, res.body)
	}
	for _, path := range []string{"/api/v1/instruments", "/healthz", "/metrics", "/", "/nothing-here"} {
		for _, host := range []string{"evil.example", "evil.example:" + port, "localhost.evil.example", "127.0.0.1.nip.io:" + port} {
			res := ts.doWith(t, "GET", path, "", "", http.Header{"Host": {host}})
			requireError(t, res, http.StatusMisdirectedRequest, "")
			assert.Equal(t, `this server answers only requests for localhost, 127.0.0.1 or [::1] without a token file, not for the Host "`+host+
				`"; serve --allow-host NAME adds a name.`, object(t, res.body)["error"], "%s %s", host, path)
		}
	}
	assert.Contains(t, ts.get(t, "/metrics").body, `consensus_http_requests_total{code="421",method="GET",route="misdirected"} 20`)
}

// TestAnyHostWithTokens: with tokens, any Host is answered,
// since every read needs a token a rebinding page does not have.
func TestAnyHostWithTokens(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	res := ts.doWith(t, "GET", "/api/v1/instruments", readToken, "", http.Header{"Host": {"ledger.example.com"}})
	assert.Equal(t, http.StatusOK, res.status, res.body)
	res = ts.doWith(t, "GET", "/api/v1/instruments", "", "", http.Header{"Host": {"ledger.example.com"}})
	requireError(t, res, http.StatusUnauthorized, "")
}

func TestCheckAllowedHosts(t *testing.T) {
	assert.NoError(t, serve.CheckAllowedHosts([]string{"ledger.internal", "10.0.0.5", "fd00::1", "my_host"}, false))
	for _, bad := range []string{"ledger.internal:8080", "http://ledger", "", "[::1]", "a b"} {
		assert.Error(t, serve.CheckAllowedHosts([]string{bad}, false), bad)
	}
	err := serve.CheckAllowedHosts([]string{"ledger.internal"}, true)
	require.Error(t, err)
	assert.Equal(t, "--allow-host applies only without --tokens: with a token file every Host is answered, and reads need a token", err.Error())
}

// TestHealthAndMetricsNeedAReaderWithTokens: with tokens, the health check
// tells a caller without a token its status alone (a load balancer needs no
// more), a reader everything; the metrics need a read token.
func TestHealthAndMetricsNeedAReaderWithTokens(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	res := ts.do(t, "GET", "/healthz", "", "")
	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, `{"status":"ok"}`, strings.TrimSpace(res.body))
	requireError(t, ts.do(t, "GET", "/healthz", "not-a-token-0123456789", ""), http.StatusUnauthorized, "")
	full := object(t, ts.get(t, "/healthz").body)
	assert.Equal(t, true, full["following"])
	assert.Contains(t, full, "verify")

	requireError(t, ts.do(t, "GET", "/metrics", "", ""), http.StatusUnauthorized, "")
	res = ts.get(t, "/metrics")
	assert.Equal(t, http.StatusOK, res.status)
	assert.Contains(t, res.body, "consensus_cache_instruments")

	// Without tokens (loopback only), both stay as they were.
	open := newServer(t, options{noTokens: true})
	assert.Contains(t, object(t, open.do(t, "GET", "/healthz", "", "").body), "verify")
	assert.Equal(t, http.StatusOK, open.do(t, "GET", "/metrics", "", "").status)
}

// writeTokens writes a token file of the given lines with the given mode.
func writeTokens(t *testing.T, path string, mode os.FileMode, lines ...string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
	require.NoError(t, os.Chmod(path, mode))
}

// TestTokenFileModes: a token file others may write is refused in one
// sentence that says how to fix it; one others may read is served with a
// warning.
func TestTokenFileModes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens")
	for _, mode := range []os.FileMode{0o664, 0o646, 0o620, 0o777} {
		writeTokens(t, path, mode, readToken+" read dashboard")
		_, err := serve.OpenTokenFile(path, nil)
		require.Error(t, err, "mode %o", mode)
		assert.Equal(t, fmt.Sprintf("the token file is writable by group or others (mode %04o); run chmod 600 %s", mode, path), err.Error())
		_, err = serve.ReadTokenFile(path)
		assert.Error(t, err, "one rule for every reader of a token file")
	}
	var log syncBuffer
	writeTokens(t, path, 0o644, readToken+" read dashboard")
	f, err := serve.OpenTokenFile(path, slog.New(slog.NewTextHandler(&log, nil)))
	require.NoError(t, err)
	assert.Equal(t, 1, f.Tokens().Len())
	assert.Contains(t, log.String(), `level=WARN msg="other users may read the token file (mode 0644); run chmod 600 `+path+`"`)
}

// TestTokenFileReloads: a running server takes a changed token file on
// its own within seconds, and on Reload at once; a removed token is refused
// from then on; a file that becomes invalid, writable by others or
// unreadable keeps the last good set and logs why, once.
func TestTokenFileReloads(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short: waits for the token file's reloads (about 3 s)")
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens")
	writeTokens(t, path, 0o600, writeToken+" write importer bot", readToken+" read dashboard")
	var log syncBuffer
	logger := slog.New(slog.NewTextHandler(&log, nil))
	tf, err := serve.OpenTokenFile(path, logger)
	require.NoError(t, err)
	reload := make(chan os.Signal, 1)
	ts := newServer(t, options{config: func(c *serve.Config) {
		c.Tokens, c.TokenFile, c.Reload, c.Logger = nil, tf, reload, logger
	}})
	require.Equal(t, http.StatusOK, ts.get(t, "/api/v1/instruments").status)

	// The dashboard's token is revoked by editing the file.
	writeTokens(t, path, 0o600, writeToken+" write importer bot")
	require.Eventually(t, func() bool {
		return ts.get(t, "/api/v1/instruments").status == http.StatusUnauthorized
	}, 5*time.Second, 50*time.Millisecond, "the change is seen by polling")
	assert.Equal(t, http.StatusOK, ts.do(t, "GET", "/api/v1/instruments", writeToken, "").status)

	// Broken files keep the last good set.
	for _, broken := range []struct {
		write  func()
		reason string
	}{
		{func() { writeTokens(t, path, 0o600, "short read dashboard") }, "token file line 1: the token is shorter than 16 characters"},
		{func() { writeTokens(t, path, 0o666, readToken+" read dashboard") }, "the token file is writable by group or others (mode 0666); run chmod 600 " + path},
		{func() { require.NoError(t, os.Remove(path)) }, "cannot read the token file: open " + path + ": no such file or directory"},
	} {
		broken.write()
		assert.Error(t, tf.Reload())
		require.Eventually(t, func() bool { return strings.Contains(log.String(), broken.reason) }, 5*time.Second, 50*time.Millisecond)
		assert.Equal(t, http.StatusOK, ts.do(t, "GET", "/api/v1/instruments", writeToken, "").status, "the last good set stays: %s", broken.reason)
		assert.Equal(t, http.StatusUnauthorized, ts.get(t, "/api/v1/instruments").status)
	}
	time.Sleep(2 * serve.TokenPollInterval)
	assert.Equal(t, 1, strings.Count(log.String(), "no such file or directory"), "a lasting failure is logged once: %s", log.String())

	// A reload on request, e.g. SIGHUP, restores the dashboard.
	writeTokens(t, path, 0o600, writeToken+" write importer bot", readToken+" read dashboard")
	reload <- os.Interrupt
	require.Eventually(t, func() bool {
		return ts.get(t, "/api/v1/instruments").status == http.StatusOK
	}, 5*time.Second, 20*time.Millisecond)
	assert.Contains(t, log.String(), `msg="token file reloaded"`)
}

// TestTokenReloadIsAtomic: requests during reloads between two sets are
// judged by one set or the other, never by none: a token in both sets is
// never refused.
func TestTokenReloadIsAtomic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens")
	writeTokens(t, path, 0o600, readToken+" read dashboard", writeToken+" write importer bot")
	tf, err := serve.OpenTokenFile(path, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	// Each new file is renamed over the old one, as editors save, so that
	// every reload reads a whole file.
	next := filepath.Join(dir, "tokens.new")
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			extra := "alternate-token-0123456789 read other"
			if i%2 == 0 {
				writeTokens(t, next, 0o600, readToken+" read dashboard", extra)
			} else {
				writeTokens(t, next, 0o600, extra, readToken+" read dashboard", writeToken+" write importer bot")
			}
			require.NoError(t, os.Rename(next, path))
			require.NoError(t, tf.Reload())
		}
	})
	for range 2000 {
		p, ok := tf.Tokens().Lookup(readToken)
		require.True(t, ok)
		require.Equal(t, "dashboard", p.Name)
	}
	cancel()
	wg.Wait()
}

// TestRevokedTokenEndsItsEventStream: an event stream opened with a token
// that is then revoked ends at the next event, rather than when its client
// disconnects.
func TestRevokedTokenEndsItsEventStream(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens")
	writeTokens(t, path, 0o600, writeToken+" write importer bot", readToken+" read dashboard")
	tf, err := serve.OpenTokenFile(path, nil)
	require.NoError(t, err)
	ts := newServer(t, options{config: func(c *serve.Config) { c.Tokens, c.TokenFile = nil, tf }})
	events := openStream(t, ts, "", "")
	post(t, ts, `[{"type":"close","instrument":"BABA","price":"150","currency":"USD","at":"2025-09-15"}]`)
	next(t, events)

	writeTokens(t, path, 0o600, writeToken+" write importer bot")
	require.NoError(t, tf.Reload())
	post(t, ts, `[{"type":"close","instrument":"BABA","price":"151","currency":"USD","at":"2025-09-16"}]`)
	select {
	case ev, ok := <-events:
		assert.False(t, ok, "the stream ends instead of sending %v", ev)
	case <-time.After(5 * time.Second):
		t.Fatal("the stream of a revoked token is still open")
	}
}
