package test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The helpers here are shared by the crash, concurrency, load and hostile
// input tests, which all drive a real `consensus serve` over HTTP the way a
// client program would, and then check the store with the command line.

// The tokens of apiTokenFile.
const (
	apiWriteToken = "reliability-write-token-0123456789"
	apiReadToken  = "reliability-read-token-0123456789"
	apiWriterName = "reliability writer"
)

// apiTokenFile writes a token file granting apiWriteToken write access and
// apiReadToken read access. Its mode is 0600 so that serve has nothing to
// warn about on stderr.
func apiTokenFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tokens")
	content := apiWriteToken + " write " + apiWriterName + "\n" + apiReadToken + " read reliability reader\n"
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// apiHTTPClient is a client for many concurrent requests to one loopback
// server: it keeps a connection per worker instead of opening one per
// request (which would run out of ephemeral ports under load), and bounds
// every request so that no test can hang on a stuck server.
func apiHTTPClient(conns int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = conns
	tr.MaxIdleConnsPerHost = conns
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// apiRow is one import row as POST /api/v1/events takes it (CONTRACT 5).
type apiRow map[string]string

// apiAnswer is the answer to POST /api/v1/events, and to its refusal,
// which has the same counts and results plus the error sentence.
type apiAnswer struct {
	Error      string         `json:"error"`
	Written    int            `json:"written"`
	Duplicates int            `json:"duplicates"`
	Refused    int            `json:"refused"`
	Results    []apiRowResult `json:"results"`
}

// apiRowResult is one row's result in an apiAnswer.
type apiRowResult struct {
	Index   int     `json:"index"`
	Status  string  `json:"status"`
	EventID *string `json:"event_id"`
	Field   *string `json:"field"`
	Error   *string `json:"error"`
}

// apiDo sends one request with an optional bearer token and returns the
// status and body; err is a transport failure (no answer at all).
func apiDo(ctx context.Context, client *http.Client, method, url, token string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, err
	}
	return res.StatusCode, b, nil
}

// apiPost sends rows to POST /api/v1/events with the write token. The
// answer is decoded when it is JSON; err is a transport failure only.
func apiPost(ctx context.Context, client *http.Client, base string, rows []apiRow) (int, apiAnswer, string, error) {
	body, err := json.Marshal(rows)
	if err != nil {
		return 0, apiAnswer{}, "", err
	}
	status, b, err := apiDo(ctx, client, "POST", base+"/api/v1/events", apiWriteToken, body)
	if err != nil {
		return 0, apiAnswer{}, "", err
	}
	var a apiAnswer
	_ = json.Unmarshal(b, &a) // a body that is not the answer fails apiAcknowledged
	return status, a, string(b), nil
}

// apiAcknowledged returns the ids an answer confirms as stored: a 200 or
// 201 whose every row is written (now) or duplicate (stored before, by an
// earlier send whose answer was lost), under the id it was sent with. An
// answer that says anything else is an error, so that nothing counts as
// acknowledged by accident.
func apiAcknowledged(rows []apiRow, status int, a apiAnswer, body string) (ids []string, duplicates int, err error) {
	if status != http.StatusOK && status != http.StatusCreated {
		return nil, 0, fmt.Errorf("status %d: %s", status, body)
	}
	if len(a.Results) != len(rows) {
		return nil, 0, fmt.Errorf("%d results for %d rows: %s", len(a.Results), len(rows), body)
	}
	for i, r := range a.Results {
		id := rows[i]["id"]
		switch {
		case r.Index != i:
			return nil, 0, fmt.Errorf("result %d has index %d: %s", i, r.Index, body)
		case r.EventID == nil || *r.EventID != id:
			return nil, 0, fmt.Errorf("row %d was sent with id %s, answered with another: %s", i, id, body)
		case r.Status == "duplicate":
			duplicates++
		case r.Status != "written":
			return nil, 0, fmt.Errorf("row %d is %q in a 2xx answer: %s", i, r.Status, body)
		}
		ids = append(ids, id)
	}
	if a.Written+a.Duplicates != len(rows) {
		return nil, 0, fmt.Errorf("written %d + duplicates %d is not %d rows: %s", a.Written, a.Duplicates, len(rows), body)
	}
	return ids, duplicates, nil
}

// relStoreEvents returns every event of a store, the `log --json` objects of
// every instrument in turn; none when the store holds no events yet.
func relStoreEvents(t testing.TB, c *cli, store string) []map[string]any {
	t.Helper()
	if relNotStarted(t, store) {
		return nil
	}
	r := c.run(t, "instruments", "--json", "--store", store)
	if r.code == refused && strings.Contains(r.stderr, "no ledger") {
		return nil // initialised, but killed before its first event landed
	}
	require.Equal(t, 0, r.code, "instruments: %s", r.stderr)
	var all []map[string]any
	for _, in := range array(t, r.stdout) {
		all = append(all, logJSON(t, c, store, in["instrument"].(string))...)
	}
	return all
}

// relStoreIDs counts how often each event id is stored.
func relStoreIDs(t testing.TB, c *cli, store string) map[string]int {
	t.Helper()
	ids := map[string]int{}
	for _, e := range relStoreEvents(t, c, store) {
		ids[e["event_id"].(string)]++
	}
	return ids
}

var relVerifiedLine = regexp.MustCompile(`^ok: ([0-9]+) events in ([0-9]+) streams\nchain version 1: [0-9]+ events, chain version 2: [0-9]+ events\n$`)

// relVerifiedEvents runs `consensus verify`, requires every hash chain to
// check out and returns the number of events; 0 for a store not started.
func relVerifiedEvents(t testing.TB, c *cli, store string) int {
	t.Helper()
	if relNotStarted(t, store) {
		return 0
	}
	out := c.ok(t, "verify", "--store", store).stdout
	m := relVerifiedLine.FindStringSubmatch(out)
	require.NotNil(t, m, "verify: %q", out)
	n, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	return n
}

// relNotStarted reports whether a store file is missing or empty: a process
// killed before SQLite wrote the file's first page leaves it so. Writers
// initialise such a file; readers call it "not a consensus ledger".
func relNotStarted(t testing.TB, store string) bool {
	t.Helper()
	st, err := os.Stat(store)
	if errors.Is(err, os.ErrNotExist) {
		return true
	}
	require.NoError(t, err)
	return st.Size() == 0
}

// relVmRSS is the resident set size of a process in KiB, from
// /proc/PID/status; 0 where there is no /proc.
func relVmRSS(t testing.TB, pid int) int64 { return relProcStatusKiB(t, pid, "VmRSS") }

// relVmHWM is the peak resident set size of a process in KiB so far.
func relVmHWM(t testing.TB, pid int) int64 { return relProcStatusKiB(t, pid, "VmHWM") }

func relProcStatusKiB(t testing.TB, pid int, key string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			require.NoError(t, err, "%s line %q", key, line)
			return kb
		}
	}
	t.Fatalf("no %s in /proc/%d/status", key, pid)
	return 0
}

// relEnvInt reads a positive whole number from the environment, or def when
// the variable is unset; longer runs of the reliability tests are asked
// for this way (see docs/reliability.md).
func relEnvInt(t testing.TB, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	require.NoError(t, err, "%s=%q is not a whole number", name, s)
	require.Positive(t, n, "%s must be positive", name)
	return n
}
