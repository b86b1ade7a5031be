package test

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// served is a running `consensus serve`.
type served struct {
	url    string
	cmd    *exec.Cmd
	stderr *strings.Builder
	done   chan struct{}
	code   int
}

var listening = regexp.MustCompile(`listening on (http://\S+) `)

// startServe starts `consensus serve --addr 127.0.0.1:0` with the given
// flags, waits until it listens and stops it (SIGTERM) when the test ends.
func startServe(t *testing.T, c *cli, flags ...string) *served {
	t.Helper()
	cmd, _, _ := c.command(append([]string{"serve", "--addr", "127.0.0.1:0", "--poll", "50ms"}, flags...)...)
	cmd.Stdout = nil
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	s := &served{cmd: cmd, stderr: &strings.Builder{}, done: make(chan struct{})}
	cmd.Stderr = s.stderr
	require.NoError(t, cmd.Start())
	lines := bufio.NewReader(stdout)
	first := make(chan string, 1)
	go func() {
		line, _ := lines.ReadString('\n')
		first <- line
		io.Copy(io.Discard, lines)
	}()
	go func() {
		err := cmd.Wait()
		if exit, ok := err.(*exec.ExitError); ok {
			s.code = exit.ExitCode()
		}
		close(s.done)
	}()
	select {
	case line := <-first:
		m := listening.FindStringSubmatch(line)
		require.NotNil(t, m, "serve's first line names its address: %q (stderr: %s)", line, s.stderr)
		s.url = m[1]
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("serve did not start: %s", s.stderr)
	}
	t.Cleanup(func() { s.stop(t, syscall.SIGTERM) })
	return s
}

// stop signals the server and waits for it to exit.
func (s *served) stop(t *testing.T, sig os.Signal) {
	t.Helper()
	select {
	case <-s.done:
		return
	default:
	}
	require.NoError(t, s.cmd.Process.Signal(sig))
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		t.Fatal("serve did not stop within 15 s of a signal")
	}
}

func (s *served) get(t *testing.T, path string) (int, string) {
	t.Helper()
	return s.getWith(t, path, "")
}

// getWith is get with a bearer token, when token is not empty: a server
// with a token file serves /metrics only to a reader.
func (s *served) getWith(t *testing.T, path, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", s.url+path, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(body)
}

// TestServeAnswersAsTheCommandLine: the API's consensus, history and log
// are the command line's JSON, value for value.
func TestServeAnswersAsTheCommandLine(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	store := demoStore(t, c)
	s := startServe(t, c, "--store", store)

	code, body := s.get(t, "/api/v1/instruments/BABA/consensus?as_of=2025-09-11&known_at=2026-01-01")
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, showJSON(t, c, store, "BABA", "--as-of", "2025-09-11", "--known-at", "2026-01-01"), object(t, body))

	code, body = s.get(t, "/api/v1/instruments/BABA/history?from=2025-08-01&to=2025-09-12&every=week&known_at=2026-01-01")
	require.Equal(t, http.StatusOK, code, body)
	cliHistory := array(t, c.ok(t, "history", "BABA", "--from", "2025-08-01", "--to", "2025-09-12", "--every", "week",
		"--known-at", "2026-01-01", "--json", "--store", store).stdout)
	assert.Equal(t, cliHistory, array(t, body))

	code, body = s.get(t, "/api/v1/instruments/BABA/events")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, logJSON(t, c, store, "BABA"), array(t, body))

	code, body = s.get(t, "/api/v1/instruments")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, array(t, c.ok(t, "instruments", "--json", "--store", store).stdout), array(t, body))

	s.stop(t, syscall.SIGTERM)
	assert.Equal(t, 0, s.code, "a graceful stop: %s", s.stderr)
}

// TestServeWritesAsTheTokensName: writes through the API are kept with the
// token's name as recorded_by, and the command line sees them.
func TestServeWritesAsTheTokensName(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	store := demoStore(t, c)
	tokens := filepath.Join(t.TempDir(), "tokens")
	require.NoError(t, os.WriteFile(tokens, []byte("e2e-write-token-0123456789 write Nightly Import\n"), 0o600))
	s := startServe(t, c, "--store", store, "--tokens", tokens)

	req, err := http.NewRequest("POST", s.url+"/api/v1/events",
		strings.NewReader(`[{"type":"rating","instrument":"BABA","analyst":"e2e@firm","rating":"sell","target":"120","currency":"USD","at":"2025-09-12"}]`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer e2e-write-token-0123456789")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusCreated, res.StatusCode)

	events := logJSON(t, c, store, "BABA")
	last := events[len(events)-1]
	assert.Equal(t, "Nightly Import", last["recorded_by"])
	assert.Equal(t, "api", last["source"])
	assertFigures(t, showJSON(t, c, store, "BABA", "--as-of", "2025-09-12"), figures{"sell": "1", "analysts": "19"})

	code, _ := s.get(t, "/api/v1/instruments")
	assert.Equal(t, http.StatusUnauthorized, code, "with a token file, reading needs a token too")
	s.stop(t, syscall.SIGINT)
	assert.Equal(t, 0, s.code, "SIGINT stops it gracefully too: %s", s.stderr)
}

func TestServeRefusals(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	store := demoStore(t, c)

	r := c.run(t, "serve", "--addr", "0.0.0.0:0", "--store", store)
	assert.Equal(t, usage, r.code, "no token file: loopback only")
	assertOneCleanLine(t, r.stderr)
	assert.Contains(t, r.stderr, "--tokens")

	bad := filepath.Join(t.TempDir(), "tokens")
	require.NoError(t, os.WriteFile(bad, []byte("short write someone\n"), 0o600))
	r = c.run(t, "serve", "--tokens", bad, "--store", store)
	assert.Equal(t, refused, r.code)
	assertOneCleanLine(t, r.stderr)
	assert.Contains(t, r.stderr, "line 1")

	missing := filepath.Join(t.TempDir(), "none.db")
	r = c.run(t, "serve", "--addr", "127.0.0.1:0", "--store", missing)
	assert.Equal(t, refused, r.code, "a read-only server needs a ledger")
	assertOneCleanLine(t, r.stderr)
	assertNoFile(t, missing)

	r = c.run(t, "serve", "extra", "--store", store)
	assert.Equal(t, usage, r.code)

	for _, n := range []string{"0", "-2", "many"} {
		r = c.run(t, "serve", "--max-cached-events", n, "--store", store)
		assert.Equal(t, usage, r.code, "--max-cached-events %s", n)
		assertOneCleanLine(t, r.stderr)
		assert.Contains(t, r.stderr, "--max-cached-events")
	}
}

// TestServeCacheBoundFlag: --max-cached-events bounds the events the server
// keeps loaded, and /metrics shows the bound beside the cache's size, so an
// operator can size it.
func TestServeCacheBoundFlag(t *testing.T) {
	skipShort(t, "fills the cache of two real servers; serve's TestCacheBound keeps the bound in the quick loop")
	t.Parallel()
	c := newCLI(t)
	store := demoStore(t, c)
	s := startServe(t, c, "--store", store, "--max-cached-events", "5")

	for _, sym := range []string{"BABA", "9988.HK", "BABA"} {
		code, body := s.get(t, "/api/v1/instruments/"+sym+"/consensus?as_of=2025-09-11")
		require.Equal(t, http.StatusOK, code, body)
	}
	code, body := s.get(t, "/metrics")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "\nconsensus_cache_max_events 5\n")
	assert.Regexp(t, `\nconsensus_cache_instruments 1\n`, body, "each instrument is larger than the bound, so it is kept alone")
	assert.Regexp(t, `\nconsensus_cache_evictions_total [1-9]`, body)
	s.stop(t, syscall.SIGTERM)

	s = startServe(t, c, "--store", store, "--max-cached-events", "-1")
	code, body = s.get(t, "/metrics")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "\nconsensus_cache_max_events +Inf\n")
	s.stop(t, syscall.SIGTERM)
}
