package serve_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/ledger"
	"github.com/consensus-ledger/consensus/serve"
)

// sse is one server-sent event.
type sse struct {
	id   string
	data map[string]any
}

// openStream connects to the event stream and returns its events as they
// arrive; the channel closes when the stream ends.
func openStream(t *testing.T, ts *testServer, query, lastID string) <-chan sse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/v1/events/stream"+query, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+readToken)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := ts.Client().Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/event-stream; charset=utf-8", res.Header.Get("Content-Type"))
	out := make(chan sse, 100)
	go func() {
		defer close(out)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var ev sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				_ = json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev.data)
			case line == "" && ev.data != nil:
				out <- ev
				ev = sse{}
			}
		}
	}()
	return out
}

func next(t *testing.T, events <-chan sse) sse {
	t.Helper()
	select {
	case ev, ok := <-events:
		require.True(t, ok, "the stream ended")
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
	return sse{}
}

func post(t *testing.T, ts *testServer, rows string) []map[string]any {
	t.Helper()
	res := ts.do(t, "POST", "/api/v1/events", writeToken, rows)
	require.Equal(t, http.StatusCreated, res.status, res.body)
	return results(t, res.body)
}

func TestEventStream(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	all := openStream(t, ts, "", "")
	onlyHK := openStream(t, ts, "?instrument=9988.hk", "")

	written := post(t, ts, `[{"type":"close","instrument":"BABA","price":"150.5","currency":"USD","at":"2025-09-15"}]`)
	ev := next(t, all)
	assert.Equal(t, "BABA", ev.data["instrument"])
	assert.Equal(t, written[0]["event_id"], ev.data["event_id"])
	assert.Equal(t, "CloseRecorded", ev.data["type"])
	assert.Equal(t, "importer bot", ev.data["recorded_by"])
	assert.Equal(t, "150.5", ev.data["data"].(map[string]any)["price"])
	firstID := ev.id
	require.NotEmpty(t, firstID)

	post(t, ts, `[{"type":"close","instrument":"9988.HK","price":"151","currency":"HKD","at":"2025-09-15"}]`)
	hk := next(t, onlyHK)
	assert.Equal(t, "9988.HK", hk.data["instrument"], "the filtered stream skipped BABA's event")
	assert.Equal(t, "9988.HK", next(t, all).data["instrument"])

	t.Run("resuming with Last-Event-ID sends what was missed", func(t *testing.T) {
		resumed := openStream(t, ts, "", firstID)
		assert.Equal(t, "9988.HK", next(t, resumed).data["instrument"], "the event after firstID, read from the store")
		post(t, ts, `[{"type":"close","instrument":"BABA","price":"149","currency":"USD","at":"2025-09-16"}]`)
		assert.Equal(t, "149", next(t, resumed).data["data"].(map[string]any)["price"], "then live events")
	})

	requireError(t, ts.doWith(t, "GET", "/api/v1/events/stream", readToken, "", http.Header{"Last-Event-ID": {"yesterday"}}),
		http.StatusBadRequest, "Last-Event-ID")
	requireError(t, ts.get(t, "/api/v1/events/stream?instrument=$$$"), http.StatusBadRequest, "instrument")
}

// TestEventStreamSeesOtherWriters: events written by another process on
// the same store file reach the stream through the poll.
func TestEventStreamSeesOtherWriters(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	events := openStream(t, ts, "?instrument=BABA", "")
	store, err := sqlite.Open(ts.path, sqlite.Options{Now: clock})
	require.NoError(t, err)
	defer store.Close()
	other := ledger.New(store, ledger.WithClock(clock))
	cmd := closeCommand(t, "BABA", "148", "2025-09-17")
	receipt, err := other.Record(context.Background(), cmd, ledger.WriteOptions{RecordedBy: "cli:someone"})
	require.NoError(t, err)
	ev := next(t, events)
	assert.Equal(t, receipt.EventID.String(), ev.data["event_id"])
	assert.Equal(t, "cli:someone", ev.data["recorded_by"])
}

// TestGracefulShutdown: Serve returns once its context is cancelled, ending
// open event streams rather than waiting for them.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	srv, err := serve.New(serve.Config{Ledger: ts.ledger, Store: ts.store, PollInterval: 20 * time.Millisecond})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var served error
	wg.Go(func() { served = srv.Serve(ctx, ln) })

	url := "http://" + ln.Addr().String()
	require.Eventually(t, func() bool {
		res, err := http.Get(url + "/healthz")
		if err != nil {
			return false
		}
		defer res.Body.Close()
		var h struct{ Following bool }
		return json.NewDecoder(res.Body).Decode(&h) == nil && h.Following
	}, 5*time.Second, 10*time.Millisecond, "the server starts and follows the store")
	res, err := http.Get(url + "/api/v1/events/stream")
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)

	began := time.Now()
	cancel()
	wg.Wait()
	assert.NoError(t, served)
	assert.Less(t, time.Since(began), serve.ShutdownGrace, "the open stream did not hold the shutdown up")
	_, err = http.Get(url + "/healthz")
	assert.Error(t, err, "no longer listening")
}

// TestEventStreamActions: each event the stream sends carries its
// rating_action and target_action as known when it was recorded, the same
// as `log --known-at` its recorded_at; null for a close or a retraction. The
// worked example on BABA: p.rossi (buy, 165 since the demo's correction)
// keys 1650 instead of 170, then 170 (a cut, against the typo, as the
// stream says at once), the typo is retracted, and 175 is a raise against
// 170. A client resuming from the first event is sent the same actions,
// while the events answer now calls the 170 a raise against 165.
func TestEventStreamActions(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{clock: ticking()})
	events := openStream(t, ts, "?instrument=BABA", "")
	analyst := `"instrument":"BABA","analyst":"p.rossi@lagoon-capital","currency":"USD"`
	typo := post(t, ts, `[{"type":"target",`+analyst+`,"target":"1650","at":"2025-09-10"}]`)[0]["event_id"].(string)
	post(t, ts, `[{"type":"target",`+analyst+`,"target":"170","at":"2025-09-11"}]`)
	post(t, ts, `[{"type":"retract","event_id":"`+typo+`","reason":"typo: 1650 keyed instead of 170"}]`)
	post(t, ts, `[{"type":"target",`+analyst+`,"target":"175","at":"2025-09-12"},`+
		`{"type":"rating",`+analyst+`,"rating":"hold","target":"150","at":"2025-09-15"},`+
		`{"type":"close","instrument":"BABA","price":"150.5","currency":"USD","at":"2025-09-15"}]`)

	want := [][3]any{ // type, rating_action, target_action
		{"TargetRevised", nil, "raised"}, // 165 -> 1650
		{"TargetRevised", nil, "cut"},    // 1650 -> 170, as known then
		{"EventRetracted", nil, nil},
		{"TargetRevised", nil, "raised"},    // 170 -> 175
		{"RatingAdded", "downgrade", "cut"}, // buy 175 -> hold 150
		{"CloseRecorded", nil, nil},
	}
	var first string
	got := func(events <-chan sse) [][3]any {
		var out [][3]any
		for range want {
			ev := next(t, events)
			if first == "" {
				first = ev.id
			}
			require.Contains(t, ev.data, "rating_action", "every event has both keys")
			require.Contains(t, ev.data, "target_action")
			out = append(out, [3]any{ev.data["type"], ev.data["rating_action"], ev.data["target_action"]})
		}
		return out
	}
	assert.Equal(t, want, got(events))

	// Resuming from just before the first (the store's positions are
	// whole numbers): the same events, the same actions.
	pos, err := strconv.ParseUint(first, 10, 64)
	require.NoError(t, err)
	resumed := openStream(t, ts, "?instrument=BABA", strconv.FormatUint(pos-1, 10))
	assert.Equal(t, want, got(resumed), "caught up from the store")

	now := array(t, ts.get(t, "/api/v1/instruments/BABA/events").body)
	for _, e := range now {
		if e["type"] == "TargetRevised" && e["data"].(map[string]any)["target"] == "170" {
			assert.Equal(t, "raised", e["target_action"], "as known now: 165 -> 170")
		}
	}
}
