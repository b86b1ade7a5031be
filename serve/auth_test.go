package serve_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// request is one call to every route, as the auth tests make it.
type request struct {
	method, path, body string
	write              bool // needs the write role
	public             bool // needs no token
	status             bool // answers without a token, refuses an unknown one
}

// everyRoute calls each route once with a body or parameters it accepts.
var everyRoute = []request{
	{method: "GET", path: "/api/v1/instruments"},
	{method: "GET", path: "/api/v1/consensus?as_of=2025-09-11"},
	{method: "GET", path: "/api/v1/instruments/BABA/consensus?as_of=2025-09-11"},
	{method: "GET", path: "/api/v1/instruments/BABA/history?from=2025-09-01&to=2025-09-12"},
	{method: "GET", path: "/api/v1/instruments/BABA/events"},
	{method: "GET", path: "/api/v1/instruments/BABA/chart.svg?from=2025-09-01&to=2025-09-12"},
	{method: "POST", path: "/api/v1/events", write: true,
		body: `[{"type":"close","instrument":"AUTH","price":"1","currency":"USD","at":"2025-09-12"}]`},
	{method: "POST", path: "/api/v1/import", write: true,
		body: `{"type":"close","instrument":"AUTH","price":"2","currency":"USD","at":"2025-09-13"}` + "\n"},
	{method: "GET", path: "/api/v1/openapi.json", public: true},
	{method: "GET", path: "/healthz", status: true},
	{method: "GET", path: "/metrics"},
	{method: "GET", path: "/", public: true},
	{method: "GET", path: "/instruments/BABA", public: true},
	{method: "GET", path: "/assets/app.js", public: true},
}

// TestAccess calls every route as every kind of caller of a server with a
// token file.
func TestAccess(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	for _, r := range everyRoute {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			// Reads are harmless to repeat; writes are idempotent (content ids).
			noToken := denied(r, http.StatusUnauthorized, http.StatusUnauthorized)
			if r.status {
				noToken = 0 // the health check's status is for anyone
			}
			for _, c := range []struct {
				who, token string
				want       int
			}{
				{"no token", "", noToken},
				{"an unknown token", "not-a-token-0123456789", denied(r, http.StatusUnauthorized, http.StatusUnauthorized)},
				{"a read token", readToken, denied(r, 0, http.StatusForbidden)},
				{"a write token", writeToken, 0},
			} {
				res := ts.do(t, r.method, r.path, c.token, r.body)
				if c.want != 0 {
					requireError(t, res, c.want, "")
					if c.want == http.StatusUnauthorized {
						assert.Equal(t, `Bearer realm="consensus"`, res.header.Get("WWW-Authenticate"))
					}
					continue
				}
				assert.Contains(t, []int{http.StatusOK, http.StatusCreated}, res.status, "%s: %s", c.who, res.body)
			}
		})
	}
	t.Run("a malformed header", func(t *testing.T) {
		res := ts.doWith(t, "GET", "/api/v1/instruments", "", "", http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}})
		requireError(t, res, http.StatusUnauthorized, "")
		res = ts.doWith(t, "GET", "/api/v1/instruments", "", "", http.Header{"Authorization": {"bearer " + readToken}})
		assert.Equal(t, http.StatusOK, res.status, "the scheme is case-insensitive")
	})
}

// denied is the status a caller gets: forRead on a read route, forWrite on a
// write route, 0 (allowed) on a public route.
func denied(r request, forRead, forWrite int) int {
	switch {
	case r.public:
		return 0
	case r.write:
		return forWrite
	}
	return forRead
}

// TestWithoutTokenFile: a server without a token file answers reads from
// anyone and refuses every write.
func TestWithoutTokenFile(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{noTokens: true})
	for _, r := range everyRoute {
		res := ts.do(t, r.method, r.path, "", r.body)
		if r.write {
			requireError(t, res, http.StatusForbidden, "")
			assert.Contains(t, res.body, "--tokens")
			continue
		}
		assert.Equal(t, http.StatusOK, res.status, "%s %s: %s", r.method, r.path, res.body)
	}
	res := ts.do(t, "GET", "/api/v1/instruments", "any-token-at-all-0123", "")
	require.Equal(t, http.StatusOK, res.status, "tokens are not looked at")
}
