package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/gen"
	"github.com/consensus-ledger/consensus/ledger"
	"github.com/consensus-ledger/consensus/projections"
)

// TestConsensusMatchesFullFold loads a generated history through the API the
// way backfills and live writers send it (out of order, in bursts recorded
// at different times, with retractions landing afterwards), asking
// questions all along so the server's read models are built, kept, extended
// and rebuilt as events land. At many random (as_of, known_at, window,
// explain) points, every answer must equal a full fold of the events as a
// second ledger reads them from the store.
func TestConsensusMatchesFullFold(t *testing.T) {
	t.Parallel()
	tick := ticking()
	ts := newServer(t, options{empty: true, clock: tick})
	ref := ledger.New(ts.store, ledger.WithClock(tick))
	rng := rand.New(rand.NewPCG(2026, 11))

	cfg := gen.Config{Instruments: 3, Analysts: 30, Years: 8, Seed: 9}
	if testing.Short() {
		// 2024 and 2025 only, still all later than the 2020 rating below,
		// which must rebuild the model; as many checks as the full run.
		cfg.Years = 2
	}
	lines := generated(t, cfg)
	third := len(lines) / 3
	// The newest third first, then the oldest, then the middle: each burst
	// is recorded later than the one before, about dates in any order.
	for _, part := range [][][]byte{lines[2*third:], lines[:third], lines[third : 2*third]} {
		importRows(t, ts, bytes.Join(part, nil))
		checkAnswers(t, ts, ref, rng, 8)
		retractSome(t, ts, ref, rng)
		checkAnswers(t, ts, ref, rng, 8)
	}
	instruments, err := ref.Instruments(context.Background())
	require.NoError(t, err)
	// A close after every event extends the read model in place; a rating
	// dated years back is folded before events already indexed, so the
	// model is rebuilt.
	for _, in := range instruments {
		post(t, ts, fmt.Sprintf(`[{"type":"close","instrument":%q,"price":"101.25","currency":%q,"at":"2026-01-05"}]`, in.Symbol, in.Currency))
	}
	checkAnswers(t, ts, ref, rng, 8)
	for _, in := range instruments {
		post(t, ts, fmt.Sprintf(`[{"type":"rating","instrument":%q,"analyst":"late@firm","rating":"sell","target":"3","currency":%q,"at":"2020-03-02"}]`,
			in.Symbol, in.Currency))
	}
	checkAnswers(t, ts, ref, rng, 40)
	checkAllAnswers(t, ts, ref, rng, 15)

	// Another process writes: the server sees it within its poll interval.
	sym := instruments[0].Symbol
	cmd, err := domain.Row{Type: domain.RowRating, Instrument: string(sym), Analyst: "other@process", Rating: "buy",
		Target: "500", Currency: string(instruments[0].Currency), At: "2025-12-30"}.Command(tick())
	require.NoError(t, err)
	_, err = ledger.New(ts.store, ledger.WithClock(tick)).Record(context.Background(), cmd, ledger.WriteOptions{RecordedBy: "cli"})
	require.NoError(t, err)
	values := url.Values{"as_of": {"2025-12-31"}}
	path := "/api/v1/instruments/" + string(sym) + "/consensus?" + values.Encode()
	history, err := ref.Load(context.Background(), sym)
	require.NoError(t, err)
	after := projections.Show(sym, history, projections.Query{AsOf: domain.EndOfDay(gen.DefaultEnd), KnownAt: tick(), Window: projections.DefaultWindow})
	require.Eventually(t, func() bool {
		return text(object(t, ts.get(t, path).body)["analysts"]) == strconv.Itoa(after.Analysts)
	}, 5*time.Second, 10*time.Millisecond, "the kept read model must follow the other process's event")
	res := ts.get(t, path)
	wanted, err := json.Marshal(projections.Show(sym, history, askedOf(t, values, res.body)))
	require.NoError(t, err)
	require.JSONEq(t, string(wanted), res.body)
	checkAnswers(t, ts, ref, rng, 8)
}

// TestCacheBound runs a server whose bound on loaded events holds about one
// of four instruments at a time: asking about each in turn must let the
// others go, keep the loaded events within the bound, and answer exactly as
// a full fold: for one instrument and for all, from several clients at
// once, before and after a write.
func TestCacheBound(t *testing.T) {
	t.Parallel()
	var rows bytes.Buffer
	stats, err := gen.Generate(context.Background(), &rows, gen.Config{Instruments: 4, Analysts: 20, Years: 2, Seed: 3}, gen.JSONL)
	require.NoError(t, err)
	bound := int(stats.Rows()) / 3
	tick := ticking()
	ts := newServer(t, options{empty: true, clock: tick, cache: ledger.CacheBounds{MaxEvents: bound}})
	ref := ledger.New(ts.store, ledger.WithClock(tick))
	rng := rand.New(rand.NewPCG(7, 7))
	importRows(t, ts, rows.Bytes())

	instruments, err := ref.Instruments(context.Background())
	require.NoError(t, err)
	require.Len(t, instruments, 4)
	for _, in := range instruments {
		require.Less(t, int(in.Events), bound, "each instrument fits alone")
	}
	for round := range 3 {
		checkAnswers(t, ts, ref, rng, 3)
		m := cacheMetrics(t, ts)
		require.Equal(t, bound, m["consensus_cache_max_events"])
		require.LessOrEqual(t, m["consensus_cache_events"], bound, "round %d", round)
		require.LessOrEqual(t, m["consensus_cache_instruments"], 2, "round %d", round)
		require.Positive(t, m["consensus_cache_evictions_total"], "round %d", round)
	}
	checkAllAnswers(t, ts, ref, rng, 3)
	require.LessOrEqual(t, cacheMetrics(t, ts)["consensus_cache_events"], bound, "the question about all folds what does not fit once")
	checkConcurrentAnswers(t, ts, ref, 4, 8)
	require.LessOrEqual(t, cacheMetrics(t, ts)["consensus_cache_events"], bound)

	retractSome(t, ts, ref, rng)
	checkAnswers(t, ts, ref, rng, 3)
	checkAllAnswers(t, ts, ref, rng, 3)
	require.LessOrEqual(t, cacheMetrics(t, ts)["consensus_cache_events"], bound)
}

// ticking is a clock that moves on a millisecond at every reading, from the
// pinned now: every write is recorded at a time of its own, so questions
// known at different times see different events.
func ticking() func() time.Time {
	var mu sync.Mutex
	at := now
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		at = at.Add(time.Millisecond)
		return at
	}
}

// generated is a generated history in JSON Lines, one row a line.
func generated(t *testing.T, cfg gen.Config) [][]byte {
	t.Helper()
	var file bytes.Buffer
	_, err := gen.Generate(context.Background(), &file, cfg, gen.JSONL)
	require.NoError(t, err)
	return bytes.SplitAfter(file.Bytes(), []byte("\n"))
}

// importRows sends rows to POST /api/v1/import. Some may be rejected (a
// revision sent before the rating it revises), as long as some are written.
func importRows(t *testing.T, ts *testServer, jsonl []byte) {
	t.Helper()
	res := ts.doWith(t, "POST", "/api/v1/import", writeToken, string(jsonl), http.Header{"Content-Type": {"application/x-ndjson"}})
	require.Contains(t, []int{http.StatusOK, http.StatusUnprocessableEntity}, res.status, res.body)
	require.NotEqual(t, "0", text(object(t, res.body)["imported"]), res.body)
}

// retractSome retracts a random event of each instrument through the API,
// as a client correcting a feed error would.
func retractSome(t *testing.T, ts *testServer, ref *ledger.Ledger, rng *rand.Rand) {
	t.Helper()
	ctx := context.Background()
	instruments, err := ref.Instruments(ctx)
	require.NoError(t, err)
	for _, in := range instruments {
		history, err := ref.Load(ctx, in.Symbol)
		require.NoError(t, err)
		target := history[rng.IntN(len(history))]
		if target.Event.Type() == domain.TypeEventRetracted {
			continue
		}
		res := ts.do(t, "POST", "/api/v1/events", writeToken,
			fmt.Sprintf(`[{"type":"retract","instrument":%q,"event_id":%q,"reason":"test correction"}]`, in.Symbol, target.ID))
		// Refused when already retracted: the answers must agree all the same.
		require.Contains(t, []int{http.StatusCreated, http.StatusUnprocessableEntity}, res.status, res.body)
	}
}

// checkAnswers asks n random questions about each instrument and compares
// each answer with a full fold of the events the reference ledger reads.
func checkAnswers(t *testing.T, ts *testServer, ref *ledger.Ledger, rng *rand.Rand, n int) {
	t.Helper()
	ctx := context.Background()
	instruments, err := ref.Instruments(ctx)
	require.NoError(t, err)
	for _, in := range instruments {
		history, err := ref.Load(ctx, in.Symbol)
		require.NoError(t, err)
		for range n {
			values := question(rng, history)
			if rng.IntN(2) == 0 {
				values.Set("explain", "true")
			}
			path := "/api/v1/instruments/" + url.PathEscape(string(in.Symbol)) + "/consensus?" + values.Encode()
			res := ts.get(t, path)
			require.Equal(t, http.StatusOK, res.status, "%s: %s", path, res.body)
			q := askedOf(t, values, res.body)
			wanted, err := json.Marshal(projections.Show(in.Symbol, history, q))
			require.NoError(t, err)
			require.JSONEq(t, string(wanted), res.body, path)
		}
	}
}

// checkConcurrentAnswers asks n random questions from each of several
// clients at once, so instruments are loaded, shared and let go while
// others are being answered, then checks every answer.
func checkConcurrentAnswers(t *testing.T, ts *testServer, ref *ledger.Ledger, clients, n int) {
	t.Helper()
	ctx := context.Background()
	instruments, err := ref.Instruments(ctx)
	require.NoError(t, err)
	histories := map[domain.Symbol][]domain.Recorded{}
	for _, in := range instruments {
		histories[in.Symbol], err = ref.Load(ctx, in.Symbol)
		require.NoError(t, err)
	}
	type asked struct {
		sym    domain.Symbol
		values url.Values
		status int
		body   string
	}
	got := make([][]asked, clients)
	var g errgroup.Group
	for c := range clients {
		g.Go(func() error {
			rng := rand.New(rand.NewPCG(uint64(c), 99))
			for range n {
				sym := instruments[rng.IntN(len(instruments))].Symbol
				values := question(rng, histories[sym])
				req, err := http.NewRequest("GET", ts.URL+"/api/v1/instruments/"+url.PathEscape(string(sym))+"/consensus?"+values.Encode(), nil)
				if err != nil {
					return err
				}
				req.Header.Set("Authorization", "Bearer "+readToken)
				res, err := ts.Client().Do(req)
				if err != nil {
					return err
				}
				body, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil {
					return err
				}
				got[c] = append(got[c], asked{sym, values, res.StatusCode, string(body)})
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())
	for _, a := range slices.Concat(got...) {
		require.Equal(t, http.StatusOK, a.status, a.body)
		wanted, err := json.Marshal(projections.Show(a.sym, histories[a.sym], askedOf(t, a.values, a.body)))
		require.NoError(t, err)
		require.JSONEq(t, string(wanted), a.body, "%s %s", a.sym, a.values.Encode())
	}
}

// checkAllAnswers asks n random questions about every instrument at once.
func checkAllAnswers(t *testing.T, ts *testServer, ref *ledger.Ledger, rng *rand.Rand, n int) {
	t.Helper()
	ctx := context.Background()
	instruments, err := ref.Instruments(ctx)
	require.NoError(t, err)
	histories := make([][]domain.Recorded, len(instruments))
	var all []domain.Recorded
	for i, in := range instruments {
		histories[i], err = ref.Load(ctx, in.Symbol)
		require.NoError(t, err)
		all = append(all, histories[i]...)
	}
	for range n {
		values := question(rng, all)
		path := "/api/v1/consensus?" + values.Encode()
		res := ts.get(t, path)
		require.Equal(t, http.StatusOK, res.status, "%s: %s", path, res.body)
		var rows []json.RawMessage
		require.NoError(t, json.Unmarshal([]byte(res.body), &rows))
		require.Len(t, rows, len(instruments), path)
		q := askedOf(t, values, string(rows[0]))
		wanted := make([]projections.Consensus, len(instruments))
		for i, in := range instruments {
			wanted[i] = projections.Show(in.Symbol, histories[i], q)
		}
		b, err := json.Marshal(wanted)
		require.NoError(t, err)
		require.JSONEq(t, string(b), res.body, path)
	}
}

// question is a random as_of, known_at and window near the history's own
// times, where "at or before" matters most; either time is sometimes left
// out, to default to the server's now.
func question(rng *rand.Rand, history []domain.Recorded) url.Values {
	values := url.Values{}
	if rng.IntN(8) > 0 {
		values.Set("as_of", near(rng, history[rng.IntN(len(history))].Event.Effective()).Format(time.RFC3339Nano))
	}
	if rng.IntN(4) > 0 {
		values.Set("known_at", near(rng, history[rng.IntN(len(history))].RecordedAt).Format(time.RFC3339Nano))
	}
	if w := rng.IntN(4); w > 0 {
		values.Set("window", []string{"90d", "0d", "30d"}[w-1])
	}
	return values
}

// near is t, or just before it, or some hours either side.
func near(rng *rand.Rand, t time.Time) time.Time {
	switch rng.IntN(4) {
	case 0:
		return t
	case 1:
		return t.Add(-time.Microsecond)
	case 2:
		return t.Add(time.Duration(rng.IntN(240)) * time.Hour)
	}
	return t.Add(-time.Duration(rng.IntN(240)) * time.Hour)
}

// askedOf is the question a request asked: its parameters, with the times
// it left out read from the answer (the server's now when it answered).
func askedOf(t *testing.T, values url.Values, answer string) projections.Query {
	t.Helper()
	var times struct {
		AsOf    time.Time `json:"as_of"`
		KnownAt time.Time `json:"known_at"`
	}
	require.NoError(t, json.Unmarshal([]byte(answer), &times))
	q := projections.Query{AsOf: times.AsOf, KnownAt: times.KnownAt, Window: projections.DefaultWindow, Explain: values.Get("explain") == "true"}
	var err error
	if values.Has("as_of") {
		q.AsOf, err = domain.ParseTime("as_of", values.Get("as_of"))
		require.NoError(t, err)
	}
	if values.Has("known_at") {
		q.KnownAt, err = domain.ParseTime("known_at", values.Get("known_at"))
		require.NoError(t, err)
	}
	if values.Has("window") {
		q.Window, err = projections.ParseWindow(values.Get("window"))
		require.NoError(t, err)
	}
	return q
}

// cacheMetrics reads the cache's series from GET /metrics.
func cacheMetrics(t *testing.T, ts *testServer) map[string]int {
	t.Helper()
	body := ts.get(t, "/metrics").body
	out := map[string]int{}
	for _, m := range regexp.MustCompile(`(?m)^(consensus_cache_\w+) (\S+)$`).FindAllStringSubmatch(body, -1) {
		v, err := strconv.ParseFloat(m[2], 64)
		require.NoError(t, err, m[0])
		out[m[1]] = int(v)
	}
	require.Len(t, out, 6, "the cache's series: %v", out)
	return out
}
