package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostileCase is one request a hostile or broken client might send, and
// the refusal it must get.
type hostileCase struct {
	name   string
	method string
	path   string
	token  string
	header http.Header
	body   []byte
	status int
	// field is the error's field ("" for null); rowField, for a refused
	// POST /api/v1/events batch, is the field its first row's result names.
	field, rowField string
}

// hostileRow is a valid rating row with one field replaced, as JSON.
func hostileRow(field, value string) []byte {
	row := map[string]string{"type": "rating", "instrument": "BABA", "analyst": "h.ostile@firm", "rating": "sell",
		"target": "1", "currency": "USD", "at": "2025-09-12"}
	row[field] = value
	b, err := json.Marshal([]map[string]string{row})
	if err != nil {
		panic(err)
	}
	return b
}

// hostileRaw is a rating row whose analyst is the given raw JSON string
// content, for bytes json.Marshal would escape or repair.
func hostileRaw(analystJSON string) []byte {
	return []byte(`[{"type":"rating","instrument":"BABA","analyst":"` + analystJSON +
		`","rating":"sell","currency":"USD","at":"2025-09-12"}]`)
}

// hostileCases are refused requests: each must be answered with its status
// and the JSON error envelope, and must write nothing.
func hostileCases() []hostileCase {
	valid := hostileRow("analyst", "h.ostile@firm")
	var many bytes.Buffer
	many.WriteString("[")
	for range 1001 {
		many.WriteString(`{"type":"close"},`)
	}
	many.WriteString(`{}]`)
	return []hostileCase{
		// Tokens.
		{name: "no token", method: "GET", path: "/api/v1/instruments", status: 401},
		{name: "unknown token", method: "GET", path: "/api/v1/instruments", token: "not-a-token-of-this-server-0123", status: 401},
		{name: "token in other case", method: "GET", path: "/api/v1/instruments", token: strings.ToUpper(apiReadToken), status: 401},
		{name: "basic scheme", method: "GET", path: "/api/v1/instruments", header: http.Header{"Authorization": {"Basic " + apiReadToken}}, status: 401},
		{name: "empty bearer", method: "GET", path: "/api/v1/instruments", header: http.Header{"Authorization": {"Bearer "}}, status: 401},
		{name: "token in the query", method: "GET", path: "/api/v1/instruments?token=" + apiWriteToken, status: 401},
		{name: "no token writes", method: "POST", path: "/api/v1/events", body: valid, status: 401},
		{name: "unknown token writes", method: "POST", path: "/api/v1/events", token: apiWriteToken + "x", body: valid, status: 401},
		{name: "read token writes", method: "POST", path: "/api/v1/events", token: apiReadToken, body: valid, status: 403},
		{name: "read token imports", method: "POST", path: "/api/v1/import", token: apiReadToken,
			body: []byte(`{"type":"close","instrument":"BABA","price":"1","currency":"USD","at":"2025-09-12"}` + "\n"), status: 403},

		// Bodies.
		{name: "body over 1 MiB", method: "POST", path: "/api/v1/events", token: apiWriteToken,
			body: append(append([]byte("["), bytes.Repeat(append(valid[1:len(valid)-1], ','), (1<<20)/len(valid)+1)...), valid[1:]...), status: 413},
		{name: "more than 1000 rows", method: "POST", path: "/api/v1/events", token: apiWriteToken, body: many.Bytes(), status: 413},
		{name: "not JSON", method: "POST", path: "/api/v1/events", token: apiWriteToken, body: []byte("type=rating&instrument=BABA"), status: 400},
		{name: "an object, not an array", method: "POST", path: "/api/v1/events", token: apiWriteToken, body: valid[1 : len(valid)-1], status: 400},
		{name: "unclosed array", method: "POST", path: "/api/v1/events", token: apiWriteToken, body: valid[:len(valid)-1], status: 400},
		{name: "a valid array and trailing data", method: "POST", path: "/api/v1/events", token: apiWriteToken,
			body: append(append([]byte{}, valid...), "[{}]"...), status: 400},
		{name: "empty array", method: "POST", path: "/api/v1/events", token: apiWriteToken, body: []byte("[]"), status: 400},
		{name: "empty body", method: "POST", path: "/api/v1/events", token: apiWriteToken, status: 400},
		{name: "nested 100000 deep", method: "POST", path: "/api/v1/events", token: apiWriteToken,
			body: []byte(strings.Repeat("[", 100000) + strings.Repeat("]", 100000)), status: 400},
		{name: "byte order mark", method: "POST", path: "/api/v1/events", token: apiWriteToken, body: append([]byte("\xEF\xBB\xBF"), valid...), status: 400},
		{name: "row not an object", method: "POST", path: "/api/v1/events", token: apiWriteToken, body: []byte(`[1]`), status: 422},
		{name: "value of a wrong type", method: "POST", path: "/api/v1/events", token: apiWriteToken,
			body: []byte(`[{"type":"rating","instrument":["BABA"]}]`), status: 422, rowField: "instrument"},
		{name: "unknown key", method: "POST", path: "/api/v1/events", token: apiWriteToken,
			body: []byte(`[{"type":"close","instrument":"BABA","price":"1","currency":"USD","at":"2025-09-12","drop":"events"}]`), status: 422, rowField: "drop"},
		{name: "key given twice", method: "POST", path: "/api/v1/events", token: apiWriteToken,
			body: []byte(`[{"type":"close","instrument":"BABA","instrument":"9988.HK","price":"1","currency":"USD","at":"2025-09-12"}]`), status: 422, rowField: "instrument"},
		{name: "huge exponent", method: "POST", path: "/api/v1/events", token: apiWriteToken,
			body: []byte(`[{"type":"close","instrument":"BABA","price":1e999999999,"currency":"USD","at":"2025-09-12"}]`), status: 422, rowField: "price"},
		{name: "import of binary garbage", method: "POST", path: "/api/v1/import", token: apiWriteToken,
			header: http.Header{"Content-Type": {"application/x-ndjson"}}, body: []byte("\x00\xff\xfe\x01garbage\n\x1f\x8b\x08"), status: 422},
		{name: "import of a CSV without a type column", method: "POST", path: "/api/v1/import", token: apiWriteToken,
			header: http.Header{"Content-Type": {"text/csv"}}, body: []byte("instrument;DROP TABLE events\nBABA,1\n"), status: 400},

		// Symbols and parameters that look like SQL or paths.
		{name: "SQL symbol in the path", method: "GET", path: "/api/v1/instruments/'%3B%20DROP%20TABLE%20events%3B--/consensus",
			token: apiReadToken, status: 400, field: "symbol"},
		{name: "encoded dot-dot symbol", method: "GET", path: "/api/v1/instruments/%2e%2e%2f%2e%2e%2fetc%2fpasswd/events",
			token: apiReadToken, status: 400, field: "symbol"},
		{name: "encoded traversal of the assets", method: "GET", path: "/assets/..%2f..%2fgo.mod", status: 404},
		{name: "encoded traversal at the root", method: "GET", path: "/%2e%2e%2f%2e%2e%2fetc%2fpasswd", status: 404},
		{name: "SQL in a time parameter", method: "GET", path: "/api/v1/instruments/BABA/consensus?as_of=2025-09-11%27%20OR%20%271%27%3D%271",
			token: apiReadToken, status: 400, field: "as_of"},
		{name: "import name with a control character", method: "POST", path: "/api/v1/import?name=..%2F..%2Fetc%2Fpasswd%00", token: apiWriteToken,
			body: []byte(`{"type":"close","instrument":"BABA","price":"1","currency":"USD","at":"2025-09-12"}` + "\n"), status: 400, field: "name"},
		{name: "SQL instrument", method: "POST", path: "/api/v1/events", token: apiWriteToken,
			body: hostileRow("instrument", "'; DROP TABLE events;--"), status: 422, rowField: "instrument"},
		{name: "path instrument", method: "POST", path: "/api/v1/events", token: apiWriteToken,
			body: hostileRow("instrument", "../../etc/passwd"), status: 422, rowField: "instrument"},
		{name: "encoded path instrument", method: "POST", path: "/api/v1/events", token: apiWriteToken,
			body: hostileRow("instrument", "%2e%2e%2f"), status: 422, rowField: "instrument"},
		{name: "SQL currency", method: "POST", path: "/api/v1/events", token: apiWriteToken,
			body: hostileRow("currency", "US'); DROP TABLE streams;--"), status: 422, rowField: "currency"},

		// Unicode tricks in analyst ids (1 to 100 printable characters,
		// CONTRACT 1) and firm names.
		{name: "right-to-left override", method: "POST", path: "/api/v1/events", token: apiWriteToken,
			body: hostileRow("analyst", "j.smith\u202E@firm-a"), status: 422, rowField: "analyst"},
		{name: "zero-width joiner", method: "POST", path: "/api/v1/events", token: apiWriteToken,
			body: hostileRow("analyst", "j.smi\u200Dth@firm-a"), status: 422, rowField: "analyst"},
		{name: "zero-width space", method: "POST", path: "/api/v1/events", token: apiWriteToken,
			body: hostileRow("analyst", "j.smith@firm-a\u200B"), status: 422, rowField: "analyst"},
		{name: "byte order mark inside", method: "POST", path: "/api/v1/events", token: apiWriteToken,
			body: hostileRow("analyst", "\uFEFFj.smith@firm-a"), status: 422, rowField: "analyst"},
		{name: "no-break space", method: "POST", path: "/api/v1/events", token: apiWriteToken,
			body: hostileRow("analyst", "j.smith\u00A0@firm-a"), status: 422, rowField: "analyst"},
		{name: "line separator", method: "POST", path: "/api/v1/events", token: apiWriteToken,
			body: hostileRow("analyst", "j.smith\u2028@firm-a"), status: 422, rowField: "analyst"},
		{name: "NUL", method: "POST", path: "/api/v1/events", token: apiWriteToken,
			body: hostileRaw(`j.smith\u0000@firm-a`), status: 422, rowField: "analyst"},
		{name: "invalid UTF-8", method: "POST", path: "/api/v1/events", token: apiWriteToken,
			body: hostileRaw("j.smith\xff\xfe@firm-a"), status: 422, rowField: "analyst"},
		{name: "lone surrogate escape", method: "POST", path: "/api/v1/events", token: apiWriteToken,
			body: hostileRaw(`j.smith\ud800@firm-a`), status: 422, rowField: "analyst"},
		{name: "101 characters", method: "POST", path: "/api/v1/events", token: apiWriteToken,
			body: hostileRow("analyst", strings.Repeat("é", 101)), status: 422, rowField: "analyst"},
		{name: "leading space", method: "POST", path: "/api/v1/events", token: apiWriteToken,
			body: hostileRow("analyst", " j.smith@firm-a"), status: 422, rowField: "analyst"},
		{name: "right-to-left override in the firm", method: "POST", path: "/api/v1/events", token: apiWriteToken,
			body: hostileRow("firm", "Firm\u202EA"), status: 422, rowField: "firm"},

		// Methods.
		{name: "DELETE the events", method: "DELETE", path: "/api/v1/events", token: apiWriteToken, status: 405},
		{name: "PUT an instrument's events", method: "PUT", path: "/api/v1/instruments/BABA/events", token: apiWriteToken, body: valid, status: 405},
	}
}

// hostileServer is a demo store served with the test tokens.
func hostileServer(t *testing.T) (*cli, string, *served) {
	t.Helper()
	c := newCLI(t)
	store := demoStore(t, c)
	return c, store, startServe(t, c, "--store", store, "--tokens", apiTokenFile(t))
}

// hostileSend sends one case's request, without following redirects.
func hostileSend(t *testing.T, base string, tc hostileCase) *http.Response {
	t.Helper()
	req, err := http.NewRequest(tc.method, base+tc.path, bytes.NewReader(tc.body))
	require.NoError(t, err)
	for k, v := range tc.header {
		req.Header[k] = v
	}
	if tc.token != "" {
		req.Header.Set("Authorization", "Bearer "+tc.token)
	}
	client := &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	require.NoError(t, err)
	return res
}

// hostileAssertJSONError checks an error answer: its status, the JSON envelope
// {"error": one sentence, "field": name or null}, and no trace of the
// server's insides or of a token.
func hostileAssertJSONError(t *testing.T, res *http.Response, body []byte, status int, field string) map[string]any {
	t.Helper()
	require.Equal(t, status, res.StatusCode, "body: %.300s", body)
	assert.Contains(t, res.Header.Get("Content-Type"), "application/json")
	var m map[string]any
	require.NoError(t, json.Unmarshal(body, &m), "a JSON error: %.300s", body)
	msg, _ := m["error"].(string)
	assert.True(t, msg != "" && strings.HasSuffix(msg, "."), "one sentence ending in a full stop: %q", msg)
	assert.NotContains(t, msg, "\n")
	got, present := m["field"]
	assert.True(t, present, "the field key is always present: %.300s", body)
	if field == "" {
		assert.Nil(t, got, "field")
	} else {
		assert.Equal(t, field, got, "field")
	}
	for _, leak := range []string{"goroutine", ".go:", "panic", "sqlite", "SQL logic", apiWriteToken, apiReadToken} {
		assert.NotContains(t, string(body), leak)
	}
	return m
}

// hostileAssertUnchanged checks the store is byte for byte the snapshot
// taken before, describing a difference by its event counts rather than
// printing both whole.
func hostileAssertUnchanged(t *testing.T, c *cli, store, before string) {
	t.Helper()
	if after := snapshot(t, c, store); after != before {
		t.Errorf("the store changed: %d events before, %d after", strings.Count(before, `"event_id"`), strings.Count(after, `"event_id"`))
	}
}

// hostileAssertHealthy checks GET /healthz answers 200 with status ok.
func hostileAssertHealthy(t *testing.T, base string) {
	t.Helper()
	status, body, err := apiDo(context.Background(), http.DefaultClient, "GET", base+"/healthz", "", nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status, "healthz: %s", body)
	assert.Contains(t, string(body), `"status":"ok"`)
}

// TestHostileRequestsAreRefused sends requests with missing, invalid and
// read-only tokens, oversized and malformed bodies, SQL- and path-looking
// symbols and parameters, and analyst ids with invisible or invalid
// characters. Each gets its status and the JSON error envelope, the store
// is byte for byte what it was (events, order and times), it verifies, and
// the server is healthy afterwards.
func TestHostileRequestsAreRefused(t *testing.T) {
	skipShort(t, "hostile clients and inputs")
	t.Parallel()
	c, store, s := hostileServer(t)
	before := snapshot(t, c, store)

	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			res := hostileSend(t, s.url, tc)
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			m := hostileAssertJSONError(t, res, body, tc.status, tc.field)
			switch tc.status {
			case http.StatusUnauthorized:
				assert.Equal(t, `Bearer realm="consensus"`, res.Header.Get("WWW-Authenticate"))
			case http.StatusMethodNotAllowed:
				assert.NotEmpty(t, res.Header.Get("Allow"))
			}
			if tc.rowField != "" {
				results, _ := m["results"].([]any)
				require.Len(t, results, 1, "one result per row: %s", body)
				row := results[0].(map[string]any)
				assert.Equal(t, "refused", row["status"])
				assert.Equal(t, tc.rowField, row["field"], "the row's field: %s", body)
				assert.Zero(t, m["written"], "nothing written")
			}
		})
	}

	hostileAssertUnchanged(t, c, store, before)
	relVerifiedEvents(t, c, store)
	hostileAssertHealthy(t, s.url)
}

// TestHostileNetHTTPRefusals covers refusals net/http gives before the
// server's handler runs, so they are its plain text, not the API's JSON:
// a header block over the server's 64 KiB limit, and a path with dot-dot
// segments, which is redirected to its cleaned form (whose answer is then
// the API's JSON 404).
func TestHostileNetHTTPRefusals(t *testing.T) {
	skipShort(t, "hostile clients and inputs")
	t.Parallel()
	c, store, s := hostileServer(t)
	before := snapshot(t, c, store)

	res := hostileSend(t, s.url, hostileCase{method: "POST", path: "/api/v1/events",
		header: http.Header{"Authorization": {"Bearer " + strings.Repeat("x", 70<<10)}}, body: hostileRow("analyst", "big@header")})
	res.Body.Close()
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, res.StatusCode)

	res = hostileSend(t, s.url, hostileCase{method: "GET", path: "/api/v1/instruments/../../../../etc/passwd", token: apiReadToken})
	res.Body.Close()
	require.Contains(t, []int{http.StatusMovedPermanently, http.StatusTemporaryRedirect}, res.StatusCode)
	location := res.Header.Get("Location")
	assert.Equal(t, "/etc/passwd", location, "the cleaned path stays under the server's root")
	res = hostileSend(t, s.url, hostileCase{method: "GET", path: location, token: apiReadToken})
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	hostileAssertJSONError(t, res, body, http.StatusNotFound, "")
	assert.NotContains(t, string(body), "root:", "no file of the machine is served")

	hostileAssertUnchanged(t, c, store, before)
	hostileAssertHealthy(t, s.url)
}

// TestHostileLookingNamesAreKeptVerbatim: analyst ids are any 1 to 100
// printable characters (CONTRACT 1), so ids that look like SQL, paths or
// markup, and homoglyphs of another analyst's id, are valid. They are
// written as given (normalised to NFC, which composes a combining accent
// and folds no homoglyph), read back byte for byte, and counted as the
// distinct analysts they are; the store's tables are intact and verify.
func TestHostileLookingNamesAreKeptVerbatim(t *testing.T) {
	skipShort(t, "hostile clients and inputs")
	t.Parallel()
	c, store, s := hostileServer(t)
	before := relVerifiedEvents(t, c, store)
	names := []string{
		"'; DROP TABLE events;--",
		"../../etc/passwd",
		"%2e%2e%2f",
		"<script>alert(1)</script>",
		"a.smith@firm",       // Latin a
		"\u0430.smith@firm",  // Cyrillic a: looks the same, is another analyst
		"e\u0301.smith@firm", // a combining accent is a printable mark
	}
	// As stored: the same, but the decomposed é in NFC (CONTRACT 1).
	want := slices.Clone(names)
	want[len(want)-1] = "\u00e9.smith@firm"
	var rows []apiRow
	for i, name := range names {
		rows = append(rows, apiRow{"type": "rating", "instrument": "HOST", "analyst": name, "rating": "buy",
			"target": fmt.Sprintf("%d", 100+i), "currency": "USD", "at": "2025-09-12", "id": fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1)})
	}
	status, answer, body, err := apiPost(context.Background(), apiHTTPClient(1), s.url, rows)
	require.NoError(t, err)
	_, _, err = apiAcknowledged(rows, status, answer, body)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, status)

	var stored []string
	for _, e := range logJSON(t, c, store, "HOST") {
		stored = append(stored, e["data"].(map[string]any)["analyst"].(string))
	}
	assert.Equal(t, want, stored, "stored byte for byte (in NFC), in order")
	got := showJSON(t, c, store, "HOST", "--as-of", "2025-09-12")
	assert.Equal(t, fmt.Sprint(len(names)), num(got["analysts"]), "homoglyphs are distinct analysts")
	assert.Equal(t, before+len(names), relVerifiedEvents(t, c, store), "both tables intact: only the new events were added")
	// The API's explanation names them as stored (JSON-escaped, so markup
	// stays text).
	status, page, err := apiDo(context.Background(), http.DefaultClient, "GET",
		s.url+"/api/v1/instruments/HOST/consensus?as_of=2025-09-12&explain=true", apiReadToken, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "%s", page)
	assert.NotContains(t, string(page), "<script>")
	var explained any
	require.NoError(t, json.Unmarshal(page, &explained))
	texts := map[string]bool{}
	hostileStrings(explained, texts)
	for _, name := range want {
		assert.True(t, texts[name], "the explanation names %q", name)
	}
	hostileAssertHealthy(t, s.url)
}

// hostileStrings collects every string in a decoded JSON value.
func hostileStrings(v any, into map[string]bool) {
	switch v := v.(type) {
	case string:
		into[v] = true
	case []any:
		for _, x := range v {
			hostileStrings(x, into)
		}
	case map[string]any:
		for _, x := range v {
			hostileStrings(x, into)
		}
	}
}

// TestHostileSourceWithNULIsRefused: a row's source is free text, but a NUL
// byte is not text. `consensus import` and POST /api/v1/import refuse a row
// holding one ("is not text (invalid UTF-8 or NUL bytes)"); POST
// /api/v1/events must refuse it too rather than store it.
func TestHostileSourceWithNULIsRefused(t *testing.T) {
	skipShort(t, "hostile clients and inputs")
	t.Parallel()
	c, store, s := hostileServer(t)
	before := snapshot(t, c, store)
	res := hostileSend(t, s.url, hostileCase{method: "POST", path: "/api/v1/events", token: apiWriteToken,
		body: []byte(`[{"type":"rating","instrument":"BABA","analyst":"n.ul@firm","rating":"sell","currency":"USD","at":"2025-09-12","source":"feed\u0000x"}]`)})
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "%s", body)
	hostileAssertUnchanged(t, c, store, before)
}

// hostileSlowClient opens a connection and sends a request's header one
// byte at a time, every gap, until the server closes the connection; it
// returns how long that took and whatever the server sent.
func hostileSlowClient(addr string, gap, limit time.Duration) (time.Duration, string, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, "", err
	}
	defer conn.Close()
	began := time.Now()
	closed := make(chan string, 1)
	go func() {
		got, _ := io.ReadAll(conn) // until the server closes, or the deadline below
		closed <- string(got)
	}()
	header := "GET /api/v1/instruments HTTP/1.1\r\nHost: consensus.test\r\nAuthorization: Bearer " + apiReadToken + "\r\nX-Slow: " +
		strings.Repeat("z", 1000) + "\r\n\r\n"
	_ = conn.SetDeadline(began.Add(limit))
	for i := 0; ; i++ {
		select {
		case got := <-closed:
			return time.Since(began), got, nil
		case <-time.After(gap):
		}
		// A write after the server closed may fail; the reader then
		// returns, and the select above ends the loop.
		_, _ = conn.Write([]byte{header[i%len(header)]})
		if time.Since(began) > limit {
			return time.Since(began), "", fmt.Errorf("still open after %s", limit)
		}
	}
}

// TestHostileSlowClientsAreCutOff opens many connections that send their
// headers a byte at a time, slower than the server's 5 s header timeout
// allows: each is cut off within the timeout (with some slack for a busy
// machine) and never answered, while the server keeps answering other
// clients promptly.
func TestHostileSlowClientsAreCutOff(t *testing.T) {
	skipShort(t, "hostile clients and inputs")
	t.Parallel()
	c, store, s := hostileServer(t)
	before := snapshot(t, c, store)
	addr := strings.TrimPrefix(s.url, "http://")

	const slow = 20
	const headerTimeout, slack = 5 * time.Second, 5 * time.Second
	type outcome struct {
		took time.Duration
		got  string
		err  error
	}
	outcomes := make([]outcome, slow)
	var wg sync.WaitGroup
	for i := range outcomes {
		wg.Go(func() {
			took, got, err := hostileSlowClient(addr, 200*time.Millisecond, headerTimeout+slack)
			outcomes[i] = outcome{took, got, err}
		})
	}
	// Meanwhile, others are served as usual.
	client := apiHTTPClient(1)
	var slowest time.Duration
	for range 20 {
		began := time.Now()
		status, body, err := apiDo(context.Background(), client, "GET", s.url+"/api/v1/instruments/BABA/consensus?as_of=2025-09-11", apiReadToken, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status, "%s", body)
		slowest = max(slowest, time.Since(began))
		time.Sleep(200 * time.Millisecond)
	}
	wg.Wait()
	for i, o := range outcomes {
		require.NoError(t, o.err, "slow client %d", i)
		assert.Less(t, o.took, headerTimeout+slack, "slow client %d is cut off", i)
		assert.GreaterOrEqual(t, o.took, headerTimeout-time.Second, "slow client %d is cut off by the header timeout, not before", i)
		assert.NotContains(t, o.got, "200 OK", "slow client %d gets no answer", i)
	}
	assert.Less(t, slowest, 2*time.Second, "the other clients are answered promptly meanwhile")
	hostileAssertUnchanged(t, c, store, before)
	hostileAssertHealthy(t, s.url)
	first, last := outcomes[0].took, outcomes[0].took
	for _, o := range outcomes {
		first, last = min(first, o.took), max(last, o.took)
	}
	t.Logf("%d slow clients cut off after %s to %s; other requests took at most %s meanwhile",
		slow, first.Round(time.Millisecond), last.Round(time.Millisecond), slowest.Round(time.Millisecond))
}
