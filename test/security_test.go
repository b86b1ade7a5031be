package test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// securityGet sends a GET with an optional token and Host, and returns the
// status and body.
func securityGet(t *testing.T, url, token, host string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), "GET", url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if host != "" {
		req.Host = host
	}
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(body)
}

// TestServeReloadsTokensWithoutRestart: SIGHUP reloads the token file and
// no longer stops the server; an edited file is taken on its own within
// seconds; a removed token is refused from then on; a file made invalid
// keeps the last good tokens, and the log says why.
func TestServeReloadsTokensWithoutRestart(t *testing.T) {
	skipShort(t, "over 2 s (3 s in a full run on the loaded 2-core machine)")
	t.Parallel()
	c := newCLI(t)
	store := demoStore(t, c)
	tokens := filepath.Join(t.TempDir(), "tokens")
	const (
		keep   = "e2e-keep-token-0123456789"
		leaver = "e2e-gone-token-AAAAAAAAAA"
		joiner = "e2e-gone-token-BBBBBBBBBB" // as long as leaver: the file keeps its size
	)
	require.NoError(t, os.WriteFile(tokens, []byte(keep+" read keeper\n"+leaver+" read leaver\n"), 0o600))
	s := startServe(t, c, "--store", store, "--tokens", tokens)
	instruments := s.url + "/api/v1/instruments"
	code, _ := securityGet(t, instruments, leaver, "")
	require.Equal(t, http.StatusOK, code)

	// Swap the leaver for the joiner with the file's size, time and inode
	// unchanged, so that only SIGHUP can make the server read it again.
	before, err := os.Stat(tokens)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(tokens, []byte(keep+" read keeper\n"+joiner+" read joiner\n"), 0o600))
	require.NoError(t, os.Chtimes(tokens, before.ModTime(), before.ModTime()))
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGHUP))
	require.Eventually(t, func() bool {
		code, _ := securityGet(t, instruments, joiner, "")
		return code == http.StatusOK
	}, 10*time.Second, 50*time.Millisecond, "SIGHUP reloads the token file")
	code, body := securityGet(t, instruments, leaver, "")
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.Equal(t, `{"error":"the token is not one this server knows.","field":null}`, strings.TrimSpace(body))

	// An edit is seen without a signal.
	require.NoError(t, os.WriteFile(tokens, []byte(joiner+" read joiner\n"), 0o600))
	require.Eventually(t, func() bool {
		code, _ := securityGet(t, instruments, keep, "")
		return code == http.StatusUnauthorized
	}, 10*time.Second, 50*time.Millisecond, "the edited file is reloaded by itself")

	// A broken file keeps the last good set.
	require.NoError(t, os.WriteFile(tokens, []byte(keep+" read\n"), 0o600))
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGHUP))
	time.Sleep(1500 * time.Millisecond)
	code, _ = securityGet(t, instruments, joiner, "")
	assert.Equal(t, http.StatusOK, code, "the last good tokens stay")
	code, _ = securityGet(t, instruments, keep, "")
	assert.Equal(t, http.StatusUnauthorized, code)

	s.stop(t, syscall.SIGTERM)
	assert.Equal(t, 0, s.code, "still running until SIGTERM, then a graceful stop: %s", s.stderr)
	log := s.stderr.String()
	assert.Contains(t, log, `msg="reloading the token file on request"`)
	assert.Contains(t, log, `msg="token file not reloaded; the last good tokens stay in force" file=`+tokens+
		` reason="token file line 1: must read `+"`TOKEN ROLE NAME`"+` (role read or write)"`)
	assert.NotContains(t, log, keep, "a token is never logged")
}

// TestServeAnswersOnlyLoopbackHostsWithoutTokens: without a token file the
// server refuses a request for another Host (a DNS-rebinding page's) with
// 421 and one sentence, and serves localhost, loopback addresses and names
// given with --allow-host.
func TestServeAnswersOnlyLoopbackHostsWithoutTokens(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	store := demoStore(t, c)
	s := startServe(t, c, "--store", store, "--allow-host", "ledger.internal")
	port := s.url[strings.LastIndexByte(s.url, ':')+1:]

	code, body := securityGet(t, s.url+"/api/v1/instruments", "", "evil.example:"+port)
	assert.Equal(t, http.StatusMisdirectedRequest, code)
	assert.Equal(t, `{"error":"this server answers only requests for localhost, 127.0.0.1 or [::1] without a token file, `+
		`not for the Host \"evil.example:`+port+`\"; serve --allow-host NAME adds a name.","field":null}`, strings.TrimSpace(body))
	code, _ = securityGet(t, s.url+"/", "", "evil.example")
	assert.Equal(t, http.StatusMisdirectedRequest, code, "the page too")

	for _, host := range []string{"localhost:" + port, "127.0.0.1:" + port, "ledger.internal:" + port} {
		code, body = securityGet(t, s.url+"/api/v1/instruments", "", host)
		assert.Equal(t, http.StatusOK, code, "Host %s: %s", host, body)
	}

	tokens := apiTokenFile(t)
	r := c.run(t, "serve", "--store", store, "--tokens", tokens, "--allow-host", "ledger.internal")
	assert.Equal(t, usage, r.code)
	assertOneCleanLine(t, r.stderr)
	assert.Contains(t, r.stderr, "--allow-host applies only without --tokens")
	r = c.run(t, "serve", "--store", store, "--allow-host", "ledger.internal:8080")
	assert.Equal(t, usage, r.code)
	assert.Equal(t, `consensus serve: --allow-host "ledger.internal:8080" is not a host name or address without a port, such as ledger.internal; `+
		"run 'consensus help serve' for usage.\n", r.stderr)
}

// TestServeHealthAndMetricsWithTokens: with a token file, /healthz tells a
// caller without a token its status and nothing else, and /metrics needs a
// read token.
func TestServeHealthAndMetricsWithTokens(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	store := demoStore(t, c)
	s := startServe(t, c, "--store", store, "--tokens", apiTokenFile(t))

	code, body := securityGet(t, s.url+"/healthz", "", "")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, `{"status":"ok"}`, strings.TrimSpace(body))
	code, body = securityGet(t, s.url+"/healthz", apiReadToken, "")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"verify":`)

	code, body = securityGet(t, s.url+"/metrics", "", "")
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.Equal(t, `{"error":"this server needs a token: send the header Authorization: Bearer TOKEN.","field":null}`, strings.TrimSpace(body))
	code, body = securityGet(t, s.url+"/metrics", apiReadToken, "")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "consensus_http_requests_total")
}

// TestServeRefusesAWritableTokenFile: a token file group or others may
// write is refused, as ssh refuses such a key, saying how to fix it.
func TestServeRefusesAWritableTokenFile(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	store := demoStore(t, c)
	tokens := apiTokenFile(t)
	require.NoError(t, os.Chmod(tokens, 0o664))
	r := c.run(t, "serve", "--addr", "127.0.0.1:0", "--store", store, "--tokens", tokens)
	assert.Equal(t, refused, r.code)
	assert.Equal(t, "consensus serve: --tokens "+tokens+": the token file is writable by group or others (mode 0664); run chmod 600 "+tokens+".\n", r.stderr)
	assert.Empty(t, r.stdout, "it never listened")
}

// TestServeRefusesAStoreThatDoesNotExist: a mistyped store path is refused
// rather than served as a new empty ledger, unless --create asks for one.
func TestServeRefusesAStoreThatDoesNotExist(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	tokens := apiTokenFile(t)
	missing := newStore(t)
	r := c.run(t, "serve", "--addr", "127.0.0.1:0", "--store", missing, "--tokens", tokens)
	assert.Equal(t, refused, r.code)
	assert.Equal(t, "consensus serve: store "+missing+" does not exist; pass --create to serve a new empty ledger.\n", r.stderr)
	assertNoFile(t, missing)

	r = c.run(t, "serve", "--addr", "127.0.0.1:0", "--store", missing, "--create")
	assert.Equal(t, usage, r.code)
	assertOneCleanLine(t, r.stderr)
	assert.Contains(t, r.stderr, "--create needs --tokens FILE")
	assertNoFile(t, missing)

	s := startServe(t, c, "--store", "sqlite:"+missing, "--tokens", tokens, "--create")
	code, body := securityGet(t, s.url+"/api/v1/instruments", apiReadToken, "")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "[]", strings.TrimSpace(body))
	_, err := os.Stat(missing)
	assert.NoError(t, err, "--create made the store")
}

// TestConnectionStringsNeverShowThePassword: a password holding / ? @ #
// and : is hidden whole in the error, a port above 65535 is refused rather
// than wrapped round, and thousands of hosts make one short line.
func TestConnectionStringsNeverShowThePassword(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	r := c.run(t, "show", "BABA", "--store", "esdb://admin:p/a?s@s#w:rd@localhost:2113")
	assert.Equal(t, refused, r.code)
	assert.Equal(t, "consensus show: connection string esdb://***@localhost:2113: the user name or password holds a character that must be "+
		"percent-encoded (/ as %2F, ? as %3F, # as %23, % as %25, a space as %20), or give them in CONSENSUS_ESDB_USERNAME and CONSENSUS_ESDB_PASSWORD instead.\n", r.stderr)

	r = c.run(t, "instruments", "--store", "kurrentdb://admin:secret@localhost:67648?tls=false")
	assert.Equal(t, refused, r.code)
	assert.Equal(t, `consensus instruments: connection string kurrentdb://***@localhost:67648?tls=false: host localhost has port "67648"; a port is a number from 1 to 65535.`+"\n", r.stderr)

	r = c.run(t, "instruments", "--store", "esdb://admin:secret@"+strings.Repeat("node.example.com:2113,", 5000)+"n:1")
	assert.Equal(t, refused, r.code)
	assertOneCleanLine(t, r.stderr)
	assert.Less(t, len(r.stderr), 400, r.stderr)
	assert.Contains(t, r.stderr, "it lists 5001 hosts; at most 64 are allowed")
	assert.NotContains(t, r.stderr, "secret")
}
