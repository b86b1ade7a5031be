package serve_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQueryThatDoesNotParse: a query string that does not decode whole is
// refused with a 400 naming the parameter, on every route, where Go's
// url.Values would drop the bad pair and answer another question (known_at
// "T%" dropped: the consensus known now, with a 200).
func TestQueryThatDoesNotParse(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	const consensus = "/api/v1/instruments/BABA/consensus?"
	const notEncoded = `: a % must be followed by two hex digits (write a % itself as %25).`
	for _, c := range []struct {
		name, path, field, msg string
	}{
		{"bad escape in a value", consensus + "as_of=2025-09-11&known_at=T%",
			"known_at", `query parameter known_at "T%" is not URL-encoded` + notEncoded},
		{"bad escape in the middle of a value", consensus + "as_of=2025-09-11&known_at=2020-01-01%zz",
			"known_at", `query parameter known_at "2020-01-01%zz" is not URL-encoded` + notEncoded},
		{"bad escape in a name", consensus + "as_of=2025-09-11&kn%zzown_at=2020-01-01",
			"kn%zzown_at", `query parameter name "kn%zzown_at" is not URL-encoded` + notEncoded},
		{"a semicolon between parameters", consensus + "as_of=2025-09-11;known_at=2020-01-01",
			"as_of", `query parameter "as_of=2025-09-11;known_at=2020-01-01" holds a ";": separate parameters with "&", and write a ";" in a value as %3B.`},
		{"a pair without a name", consensus + "as_of=2025-09-11&=2020-01-01",
			"", `query parameter "=2020-01-01" has no name.`},
		{"the same parameter with two values", consensus + "as_of=2025-09-11&as_of=2025-09-12",
			"as_of", `query parameter as_of is given 2 times; give it once.`},
		{"history", "/api/v1/instruments/BABA/history?from=2025-09-01&to=2025-09-12%",
			"to", `query parameter to "2025-09-12%" is not URL-encoded` + notEncoded},
		{"chart", "/api/v1/instruments/BABA/chart.svg?from=2025-09-01&to=2025-09-12&width=800;",
			"width", `query parameter "width=800;" holds a ";": separate parameters with "&", and write a ";" in a value as %3B.`},
		{"all instruments", "/api/v1/consensus?known_at=%", "known_at", `query parameter known_at "%" is not URL-encoded` + notEncoded},
		{"the page", "/?as_of=2025-09-11%", "as_of", `query parameter as_of "2025-09-11%" is not URL-encoded` + notEncoded},
		// An event stream that took the dropped pair for "every instrument"
		// would answer for as long as the client listens: the client's
		// timeout ends the test then.
		{"event stream", "/api/v1/events/stream?instrument=BABA%2", "instrument", `query parameter instrument "BABA%2" is not URL-encoded` + notEncoded},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			res := ts.doContext(ctx, t, "GET", c.path, readToken, "", nil)
			requireError(t, res, http.StatusBadRequest, c.field)
			assert.Equal(t, c.msg, object(t, res.body)["error"])
		})
	}

	// What does parse is answered: empty pairs carry nothing, and an
	// escaped "%" or ";" is part of its value.
	for _, path := range []string{
		consensus + "as_of=2025-09-11&",
		consensus + "&as_of=2025-09-11&&window=90d",
		consensus + "as_of=2025-09-11T23%3A59%3A59Z",
	} {
		res := ts.get(t, path)
		require.Equal(t, http.StatusOK, res.status, "%s: %s", path, res.body)
		assert.Equal(t, "18", text(object(t, res.body)["analysts"]), path)
	}
	res := ts.get(t, consensus+"as_of=2025-09-11&known_at=T%25")
	requireError(t, res, http.StatusBadRequest, "known_at")
	assert.Contains(t, object(t, res.body)["error"], `known_at "T%" `, "the decoded value, refused by the time parser")
}

// TestEchoedValuesAreBounded: a 60 KB value is refused in a short message
// that echoes its start and says how long it was, wherever it is echoed.
func TestEchoedValuesAreBounded(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	huge := strings.Repeat("9", 60_000)
	for _, c := range []struct{ path, field, start string }{
		{"/api/v1/instruments/BABA/consensus?as_of=" + huge, "as_of", `as_of "`},
		{"/api/v1/instruments/BABA/consensus?explain=" + huge, "explain", `explain "`},
		{"/api/v1/instruments/BABA/chart.svg?from=2025-09-01&to=2025-09-12&panel=" + huge, "panel", `panel "`},
		{"/api/v1/instruments/BABA/history?from=2025-09-01&to=" + huge, "to", `to "`},
		{"/api/v1/instruments/" + huge + "/consensus", "symbol", `symbol "`},
		{"/api/v1/nothing/" + huge, "", `there is nothing at "/api/v1/nothing/`},
	} {
		res := ts.get(t, c.path)
		require.Less(t, res.status, 500, res.body)
		requireError(t, res, res.status, c.field)
		msg := object(t, res.body)["error"].(string)
		assert.True(t, strings.HasPrefix(msg, c.start), "%s", msg)
		assert.Contains(t, msg, `"… (`, "the value is cut with an ellipsis")
		assert.Less(t, len(res.body), 400, "%.200s: %s", c.path, res.body)
	}
	res := ts.get(t, "/api/v1/instruments/BABA/consensus?as_of="+huge)
	assert.Equal(t, `as_of "`+strings.Repeat("9", 64)+`"… (60000 characters) is not a date (YYYY-MM-DD) or RFC 3339 time.`,
		object(t, res.body)["error"])
}
