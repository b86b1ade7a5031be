package serve_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/demo"
	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/ledger"
	"github.com/consensus-ledger/consensus/serve"
)

// now is the pinned clock of every test ledger: the contract's example
// knowledge time, after the demo's September 2025.
var now = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

// The tokens of the test token file.
const (
	writeToken = "write-token-0123456789abcdef"
	readToken  = "read-token-0123456789abcdef"
	tokenFile  = "# the test clients\n" + writeToken + " write importer bot\n" + readToken + " read dashboard\n"
)

// testServer is a server over a store of its own, loaded with the demo.
type testServer struct {
	*httptest.Server
	srv    *serve.Server
	ledger *ledger.Ledger
	store  eventstore.Store // the ledger's store
	path   string           // the store file
}

// options adjust a test server's configuration.
type options struct {
	noTokens bool // serve without a token file: read-only
	config   func(*serve.Config)
	empty    bool // do not load the demo
	live     bool // load the demo as recorded live (demo.LoadLive)
	// clock replaces the pinned clock, for the store's recorded times and
	// the ledger's now alike.
	clock func() time.Time
	// cache bounds the ledger's cache of instruments; zero means its
	// defaults.
	cache ledger.CacheBounds
}

// newServer starts a server on loopback over a fresh demo store, with the
// test token file unless opts say otherwise, and stops it when the test
// ends.
func newServer(t testing.TB, opts options) *testServer {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ledger.db")
	tick := clock
	if opts.clock != nil {
		tick = opts.clock
	}
	// With the pinned clock the demo store is the same bytes every time,
	// so it is copied from the one loaded first; another clock, or the
	// live demo, records other times, so the demo is loaded anew.
	copied := !opts.empty && !opts.live && opts.clock == nil
	if copied {
		copyDemoStore(t, path)
	}
	var loading time.Time // while the live demo loads: when each step is recorded
	if opts.live {
		base := tick
		tick = func() time.Time {
			if !loading.IsZero() {
				return loading
			}
			return base()
		}
	}
	store, err := sqlite.Open(path, sqlite.Options{Now: tick})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, store.Close()) })
	l := ledger.New(store, ledger.WithClock(tick), ledger.WithCache(opts.cache))
	switch {
	case opts.live:
		_, err = demo.LoadLive(context.Background(), l, func(at time.Time) { loading = at })
		require.NoError(t, err)
		loading = time.Time{} // before the server starts reading the clock
	case !opts.empty && !copied:
		_, err = demo.Load(context.Background(), l)
		require.NoError(t, err)
	}
	cfg := serve.Config{Ledger: l, Store: store, PollInterval: 20 * time.Millisecond}
	if !opts.noTokens {
		cfg.Tokens, err = serve.ParseTokens(strings.NewReader(tokenFile))
		require.NoError(t, err)
	}
	if opts.config != nil {
		opts.config(&cfg)
	}
	srv, err := serve.New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { srv.Run(ctx) })
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		cancel()
		wg.Wait()
	})
	ts := &testServer{Server: hs, srv: srv, ledger: l, store: store, path: path}
	ts.waitFollowing(t)
	return ts
}

// demoTemplate is a store holding the demo loaded under the pinned clock,
// made once per test binary: some fifty servers start from a copy of it
// instead of each loading the demo's 68 events again (0.2 s apiece on the
// loaded 2-core machine). TestMain removes its directory.
var demoTemplate struct {
	once sync.Once
	dir  string // the temporary directory holding it
	path string
	err  error
}

// copyDemoStore writes a copy of the demo template to path, making the
// template first if no test has yet.
func copyDemoStore(t testing.TB, path string) {
	t.Helper()
	demoTemplate.once.Do(func() { demoTemplate.err = makeDemoTemplate() })
	require.NoError(t, demoTemplate.err, "load the demo into the template store")
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(demoTemplate.path + suffix)
		if errors.Is(err, os.ErrNotExist) && suffix != "" {
			continue
		}
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path+suffix, b, 0o644))
	}
}

// makeDemoTemplate loads the demo into a new store the way newServer would,
// and closes it so its file is complete.
func makeDemoTemplate() error {
	dir, err := os.MkdirTemp("", "serve-demo-")
	if err != nil {
		return err
	}
	demoTemplate.dir, demoTemplate.path = dir, filepath.Join(dir, "ledger.db")
	store, err := sqlite.Open(demoTemplate.path, sqlite.Options{Now: clock})
	if err != nil {
		return err
	}
	_, err = demo.Load(context.Background(), ledger.New(store, ledger.WithClock(clock)))
	return errors.Join(err, store.Close())
}

// waitFollowing waits until the server follows the store, so events land
// in the stream and the cache from now on.
func (ts *testServer) waitFollowing(t testing.TB) {
	t.Helper()
	require.Eventually(t, func() bool {
		var h struct{ Following bool }
		res := ts.get(t, "/healthz")
		return json.Unmarshal([]byte(res.body), &h) == nil && h.Following
	}, 5*time.Second, 10*time.Millisecond, "the server does not follow the store")
}

// response is what one request got.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request with an optional bearer token and body.
func (ts *testServer) do(t testing.TB, method, path, token, body string) response {
	t.Helper()
	return ts.doWith(t, method, path, token, body, nil)
}

func (ts *testServer) doWith(t testing.TB, method, path, token, body string, header http.Header) response {
	t.Helper()
	return ts.doContext(context.Background(), t, method, path, token, body, header)
}

// doContext is doWith under ctx, for a request that might not end.
func (ts *testServer) doContext(ctx context.Context, t testing.TB, method, path, token, body string, header http.Header) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, ts.URL+path, rd)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	if host := header.Get("Host"); host != "" {
		req.Host = host // the client sends req.Host, not the header
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := ts.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

// get is a GET with the read token.
func (ts *testServer) get(t testing.TB, path string) response {
	t.Helper()
	return ts.do(t, "GET", path, readToken, "")
}

// decode reads a JSON answer keeping numbers as their exact text.
func decode(t testing.TB, body string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	require.NoError(t, dec.Decode(v), "decode %s", body)
}

func object(t testing.TB, body string) map[string]any {
	t.Helper()
	var m map[string]any
	decode(t, body, &m)
	return m
}

func array(t testing.TB, body string) []map[string]any {
	t.Helper()
	var a []map[string]any
	decode(t, body, &a)
	return a
}

// text is a JSON value as text: a number's digits, a string, or "null".
func text(v any) string {
	switch v := v.(type) {
	case json.Number:
		return v.String()
	case string:
		return v
	case nil:
		return "null"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// requireError checks an error answer: the status, the JSON shape
// {"error", "field"} with the field expected ("" for null), and no trace of
// the server's insides.
func requireError(t testing.TB, res response, status int, field string) {
	t.Helper()
	require.Equal(t, status, res.status, "body: %s", res.body)
	require.Contains(t, res.header.Get("Content-Type"), "application/json")
	m := object(t, res.body)
	msg, ok := m["error"].(string)
	require.True(t, ok && msg != "", "an error sentence: %s", res.body)
	require.True(t, strings.HasSuffix(msg, "."), "one sentence ending in a full stop: %q", msg)
	require.NotContains(t, res.body, "goroutine")
	require.NotContains(t, res.body, ".go:")
	got, present := m["field"]
	require.True(t, present, "the field key is always present: %s", res.body)
	if field == "" {
		require.Nil(t, got, "no field: %s", res.body)
	} else {
		require.Equal(t, field, got, "field: %s", res.body)
	}
}

// closeCommand is the command recording a close.
func closeCommand(t testing.TB, symbol, price, at string) domain.Command {
	t.Helper()
	cmd, err := domain.Row{Type: domain.RowClose, Instrument: symbol, Price: price, Currency: "USD", At: at}.Command(now)
	require.NoError(t, err)
	return cmd
}
