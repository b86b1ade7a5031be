package serve_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/ledger"
	"github.com/consensus-ledger/consensus/projections"
)

// The figures FACTS.md requires of the demo, as the API must print them.
var (
	thursday = map[string]string{"instrument": "BABA", "currency": "USD", "analysts": "18", "buy": "17", "hold": "1",
		"sell": "0", "label": "Strong Buy", "mean_target": "165.69", "close": "155.44", "upside_pct": "6.59",
		"as_of": "2025-09-11T23:59:59.999999999Z", "known_at": "2026-11-24T12:00:00Z", "window_days": "90"}
	friday = map[string]string{"close": "152.98", "upside_pct": "8.31"}
)

func requireFigures(t *testing.T, got map[string]any, want map[string]string) {
	t.Helper()
	for k, v := range want {
		assert.Equal(t, v, text(got[k]), "field %s", k)
	}
}

func TestInstruments(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	res := ts.get(t, "/api/v1/instruments")
	require.Equal(t, http.StatusOK, res.status, res.body)
	list := array(t, res.body)
	require.Len(t, list, 2)
	assert.Equal(t, "9988.HK", list[0]["instrument"])
	assert.Equal(t, "HKD", list[0]["currency"])
	assert.Equal(t, "BABA", list[1]["instrument"])
	assert.ElementsMatch(t, []string{"instrument", "currency", "events", "last_recorded_at"}, keys(list[1]), "the shape of instruments --json")

	requireError(t, ts.get(t, "/api/v1/instruments?all=1"), http.StatusBadRequest, "all")
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestConsensus(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})

	t.Run("the facts, as show --json", func(t *testing.T) {
		res := ts.get(t, "/api/v1/instruments/BABA/consensus?as_of=2025-09-11")
		require.Equal(t, http.StatusOK, res.status, res.body)
		got := object(t, res.body)
		requireFigures(t, got, thursday)
		want, err := ts.ledger.Show(context.Background(), "BABA", projections.Query{AsOf: endOf("2025-09-11"), KnownAt: now, Window: projections.DefaultWindow})
		require.NoError(t, err)
		assert.JSONEq(t, mustJSON(t, want), res.body, "the same answer as the ledger's, key for key")
		assert.NotContains(t, got, "explain", "explain only when asked")

		requireFigures(t, object(t, ts.get(t, "/api/v1/instruments/baba/consensus?as_of=2025-09-12").body), friday)
		requireFigures(t, object(t, ts.get(t, "/api/v1/instruments/BABA/consensus?as_of=2025-09-12T15:00:00Z").body),
			map[string]string{"close": "155.44", "upside_pct": "6.59"})
	})

	t.Run("explain lists who counts and why, with event ids", func(t *testing.T) {
		got := object(t, ts.get(t, "/api/v1/instruments/BABA/consensus?as_of=2025-09-11&explain=true").body)
		list, ok := got["explain"].([]any)
		require.True(t, ok, "an explain array")
		statuses := map[string]int{}
		for _, e := range list {
			entry := e.(map[string]any)
			statuses[entry["status"].(string)]++
			if entry["status"] == projections.StatusCounted {
				assert.NotNil(t, entry["rating_event_id"])
			}
		}
		assert.Equal(t, 18, statuses[projections.StatusCounted])
		assert.Positive(t, statuses[projections.StatusStale]+statuses[projections.StatusWithdrawn], "the demo has a stale or withdrawn analyst")
		assert.NotContains(t, object(t, ts.get(t, "/api/v1/instruments/BABA/consensus?as_of=2025-09-11&explain=false").body), "explain")
	})

	t.Run("known_at answers what the ledger knew then", func(t *testing.T) {
		got := object(t, ts.get(t, "/api/v1/instruments/BABA/consensus?as_of=2025-09-11&known_at=2020-01-01").body)
		assert.Equal(t, "0", text(got["analysts"]))
		assert.Equal(t, projections.LabelNoConsensus, got["label"])
		assert.Equal(t, "2020-01-01T23:59:59.999999999Z", got["known_at"])
	})

	t.Run("window", func(t *testing.T) {
		got := object(t, ts.get(t, "/api/v1/instruments/BABA/consensus?as_of=2025-09-11&window=0d").body)
		assert.Equal(t, "0", text(got["window_days"]))
	})

	t.Run("as of now", func(t *testing.T) {
		got := object(t, ts.get(t, "/api/v1/instruments/BABA/consensus").body)
		assert.Equal(t, "2026-11-24T12:00:00Z", got["as_of"], "the ledger's clock")
	})

	for _, c := range []struct {
		name, path, field string
		status            int
	}{
		{"bad as_of", "/api/v1/instruments/BABA/consensus?as_of=2025-13-01", "as_of", 400},
		{"bad known_at", "/api/v1/instruments/BABA/consensus?known_at=yesterday", "known_at", 400},
		{"bad window", "/api/v1/instruments/BABA/consensus?window=90", "window", 400},
		{"bad explain", "/api/v1/instruments/BABA/consensus?explain=maybe", "explain", 400},
		{"misspelt parameter", "/api/v1/instruments/BABA/consensus?asof=2025-09-11", "asof", 400},
		{"parameter twice", "/api/v1/instruments/BABA/consensus?as_of=2025-09-11&as_of=2025-09-12", "as_of", 400},
		{"bad symbol", "/api/v1/instruments/BA$BA/consensus", "symbol", 400},
		{"long symbol", "/api/v1/instruments/" + strings.Repeat("A", 21) + "/consensus", "symbol", 400},
		{"unknown instrument", "/api/v1/instruments/NOPE/consensus", "symbol", 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			requireError(t, ts.get(t, c.path), c.status, c.field)
		})
	}
}

func endOf(date string) time.Time {
	t, err := domain.ParseTime("date", date)
	if err != nil {
		panic(err)
	}
	return t
}

// TestConsensusFollowsNewEvents checks that answers, cached or not, change
// as soon as an event lands: at once when written through the server, and
// within the poll interval when another process writes to the store.
func TestConsensusFollowsNewEvents(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	path := "/api/v1/instruments/BABA/consensus?as_of=2025-09-11"
	before := object(t, ts.get(t, path).body)
	require.Equal(t, "18", text(before["analysts"]))
	require.Equal(t, "18", text(object(t, ts.get(t, path).body)["analysts"]), "asked again (cached)")

	// Another writer: a second ledger on the same store, as a command-line
	// process would be.
	other := ledger.New(ts.store, ledger.WithClock(clock))
	cmd, err := domain.Row{Type: domain.RowRating, Instrument: "BABA", Analyst: "new@firm", Rating: "sell",
		Target: "120", Currency: "USD", At: "2025-09-10"}.Command(now)
	require.NoError(t, err)
	_, err = other.Record(context.Background(), cmd, ledger.WriteOptions{RecordedBy: "cli"})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return text(object(t, ts.get(t, path).body)["analysts"]) == "19"
	}, 5*time.Second, 10*time.Millisecond, "the cached answer must follow the other writer's event")

	// Through the server: seen by the very next request.
	res := ts.do(t, "POST", "/api/v1/events", writeToken,
		`[{"type":"rating","instrument":"BABA","analyst":"newer@firm","rating":"hold","currency":"USD","at":"2025-09-10"}]`)
	require.Equal(t, http.StatusCreated, res.status, res.body)
	assert.Equal(t, "20", text(object(t, ts.get(t, path).body)["analysts"]))
}

func TestAllConsensus(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	res := ts.get(t, "/api/v1/consensus?as_of=2025-09-11")
	require.Equal(t, http.StatusOK, res.status, res.body)
	rows := array(t, res.body)
	require.Len(t, rows, 2)
	assert.Equal(t, "9988.HK", rows[0]["instrument"])
	requireFigures(t, rows[1], thursday)
	requireFigures(t, array(t, ts.get(t, "/api/v1/consensus?as_of=2025-09-11").body)[1], thursday) // cached
	requireError(t, ts.get(t, "/api/v1/consensus?explain=true"), http.StatusBadRequest, "explain")
}

func TestHistory(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	res := ts.get(t, "/api/v1/instruments/BABA/history?from=2025-09-08&to=2025-09-12")
	require.Equal(t, http.StatusOK, res.status, res.body)
	rows := array(t, res.body)
	require.Len(t, rows, 5, "one row per day")
	requireFigures(t, rows[3], thursday)
	requireFigures(t, rows[4], friday)

	weekly := array(t, ts.get(t, "/api/v1/instruments/BABA/history?from=2025-06-01&to=2025-09-12&every=week").body)
	assert.Len(t, weekly, 16, "15 Sundays and the last day")

	for _, c := range []struct {
		name, query, field string
	}{
		{"from missing", "to=2025-09-12", "from"},
		{"to missing", "from=2025-09-12", "to"},
		{"to before from", "from=2025-09-12&to=2025-09-01", "to"},
		{"bad every", "from=2025-09-01&to=2025-09-12&every=year", "every"},
		{"too many days", "from=1900-01-01&to=2099-12-31", "from"},
		{"as_of is not a history parameter", "from=2025-09-01&to=2025-09-12&as_of=2025-09-01", "as_of"},
	} {
		t.Run(c.name, func(t *testing.T) {
			requireError(t, ts.get(t, "/api/v1/instruments/BABA/history?"+c.query), http.StatusBadRequest, c.field)
		})
	}
	requireError(t, ts.get(t, "/api/v1/instruments/NOPE/history?from=2025-09-01&to=2025-09-12"), http.StatusNotFound, "symbol")
}

// TestHistoryFirstPublished is `history --first-published` over the API:
// on the demo recorded live, the rows of 3 and 4 September showed the 1650
// typo and are restated; the chart shades their columns; the plain history
// has no "restated"; and the flag is judged as every flag parameter is.
func TestHistoryFirstPublished(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{live: true})
	res := ts.get(t, "/api/v1/instruments/BABA/history?from=2025-09-02&to=2025-09-05&first_published=true")
	require.Equal(t, http.StatusOK, res.status, res.body)
	rows := array(t, res.body)
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%s %s %s %v", text(r["as_of"])[:10], text(r["known_at"]), text(r["high_target"]), r["restated"]))
	}
	assert.Equal(t, []string{
		"2025-09-02 2025-09-02T23:59:59.999999999Z 200 false",
		"2025-09-03 2025-09-03T23:59:59.999999999Z 1650 true",
		"2025-09-04 2025-09-04T23:59:59.999999999Z 1650 true",
		"2025-09-05 2025-09-05T23:59:59.999999999Z 200 false",
	}, got)
	assert.Len(t, rows[0], 23, "the contract row's 22 keys (with adjusted and splits) and restated")

	plain := array(t, ts.get(t, "/api/v1/instruments/BABA/history?from=2025-09-02&to=2025-09-05&first_published=false").body)
	require.Len(t, plain, 4)
	assert.NotContains(t, plain[1], "restated")
	assert.Equal(t, "200", text(plain[1]["high_target"]))

	svg := ts.get(t, "/api/v1/instruments/BABA/chart.svg?from=2025-09-01&to=2025-09-06&first_published=1")
	require.Equal(t, http.StatusOK, svg.status, svg.body)
	assert.Equal(t, 5, strings.Count(svg.body, `<rect class="restated"`), "two columns in each panel and the legend's swatch")
	assert.NotContains(t, ts.get(t, "/api/v1/instruments/BABA/chart.svg?from=2025-09-01&to=2025-09-06").body, "restated")

	requireError(t, ts.get(t, "/api/v1/instruments/BABA/history?from=2025-09-02&to=2025-09-05&first_published=yes"), http.StatusBadRequest, "first_published")
	requireError(t, ts.get(t, "/api/v1/instruments/BABA/chart.svg?from=2025-09-02&to=2025-09-05&first_published=2"), http.StatusBadRequest, "first_published")

	// A backfill has no first-published past: an empty array.
	backfilled := newServer(t, options{})
	res = backfilled.get(t, "/api/v1/instruments/BABA/history?from=2025-09-02&to=2025-09-05&first_published")
	require.Equal(t, http.StatusOK, res.status, res.body)
	assert.Equal(t, "[]\n", res.body)
}

// TestHistoryOverTheLimit: a history or chart one row over the limit is
// refused, saying how many rows it would have, rather than cut to the
// limit with a 200.
func TestHistoryOverTheLimit(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	const over = "from=1900-01-01&to=2036-11-23&every=day"
	for _, path := range []string{"/api/v1/instruments/BABA/history?" + over, "/api/v1/instruments/BABA/chart.svg?" + over} {
		res := ts.get(t, path)
		requireError(t, res, http.StatusBadRequest, "from")
		assert.Equal(t, "history from 1900-01-01 to 2036-11-23 every day is 50,001 rows; the limit is 50,000: ask for every week or month, or a shorter range.",
			object(t, res.body)["error"], path)
	}
	res := ts.get(t, "/api/v1/instruments/BABA/history?from=1900-01-01&to=2036-11-23&every=month")
	require.Equal(t, http.StatusOK, res.status, res.body)
	assert.Len(t, array(t, res.body), 1643, "every month of the range, and its last day")
}

func TestEventsLog(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	res := ts.get(t, "/api/v1/instruments/BABA/events")
	require.Equal(t, http.StatusOK, res.status, res.body)
	events := array(t, res.body)
	entries, err := ts.ledger.Log(context.Background(), "BABA")
	require.NoError(t, err)
	require.Len(t, events, len(entries))
	retracted := 0
	for i, e := range events {
		assert.Equal(t, entries[i].Event.ID.String(), e["event_id"])
		assert.Equal(t, "demo", e["recorded_by"])
		if e["retracted_by"] != nil {
			retracted++
		}
	}
	assert.Equal(t, 1, retracted, "the demo's typo is marked retracted")
	assert.ElementsMatch(t, []string{"version", "event_id", "type", "effective_at", "recorded_at", "recorded_by", "source", "data", "retracted_by",
		"rating_action", "target_action"}, keys(events[0]), "the shape of log --json")
	requireError(t, ts.get(t, "/api/v1/instruments/NOPE/events"), http.StatusNotFound, "symbol")
}

func TestChart(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	res := ts.get(t, "/api/v1/instruments/BABA/chart.svg?from=2025-06-01&to=2025-09-11")
	require.Equal(t, http.StatusOK, res.status, res.body)
	assert.Equal(t, "image/svg+xml", res.header.Get("Content-Type"))
	requireWellFormedXML(t, res.body)
	assert.Contains(t, res.body, "mean target 165.69 USD", "the latest mean target, exactly")
	assert.Contains(t, res.body, "buy 17")

	targets := ts.get(t, "/api/v1/instruments/BABA/chart.svg?from=2025-06-01&to=2025-09-11&panel=targets&width=400&height=300")
	require.Equal(t, http.StatusOK, targets.status)
	assert.Contains(t, targets.body, `width="400" height="300"`)
	assert.NotContains(t, targets.body, "buy 17", "the target panel alone")

	for _, c := range []struct{ query, field string }{
		{"from=2025-06-01&to=2025-09-11&panel=pie", "panel"},
		{"from=2025-06-01&to=2025-09-11&width=10", "width"},
		{"from=2025-06-01&to=2025-09-11&height=big", "height"},
		{"to=2025-09-11", "from"},
	} {
		requireError(t, ts.get(t, "/api/v1/instruments/BABA/chart.svg?"+c.query), http.StatusBadRequest, c.field)
	}
}

func requireWellFormedXML(t *testing.T, doc string) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(doc))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		require.NoError(t, err, "the SVG is well-formed XML")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// TestStoreFailure: when the store cannot be read, the answer is a 500 that
// says nothing of the server's insides, the fault is counted, and the health
// check fails.
func TestStoreFailure(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	require.NoError(t, ts.store.Close())
	res := ts.get(t, "/api/v1/instruments/NEVERASKED/consensus?as_of=2025-09-11")
	requireError(t, res, http.StatusInternalServerError, "")
	assert.Equal(t, "internal error; the server's log has the details.", object(t, res.body)["error"])
	assert.NotContains(t, res.body, "sql")
	assert.NotEmpty(t, res.header.Get("X-Request-Id"), "the id to find the fault in the log")
	assert.Equal(t, http.StatusServiceUnavailable, ts.do(t, "GET", "/healthz", "", "").status)
	assert.Regexp(t, `consensus_store_errors_total\{op="read"\} [1-9]`, ts.get(t, "/metrics").body)
}
