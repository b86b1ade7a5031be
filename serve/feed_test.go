package serve_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/ledger"
)

// feedServer is the demo recorded a millisecond apart per event, so that
// there is a moment between any two of them.
func feedServer(t *testing.T) *testServer {
	t.Helper()
	var mu sync.Mutex
	at := now
	return newServer(t, options{clock: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		at = at.Add(time.Millisecond)
		return at
	}})
}

// feedRows reads the feed's rows as "instrument effective analyst type
// rating rating_action target previous_target target_action", null as "-".
func feedRows(t *testing.T, answer map[string]any) []string {
	t.Helper()
	var out []string
	for _, a := range answer["actions"].([]any) {
		row := a.(map[string]any)
		line := ""
		for i, k := range []string{"instrument", "effective_at", "analyst", "type", "rating", "rating_action", "target", "previous_target", "target_action"} {
			v := "-"
			if row[k] != nil {
				v = text(row[k])
			}
			if k == "effective_at" {
				v = v[:10]
			}
			if i > 0 {
				line += " "
			}
			line += v
		}
		out = append(out, line)
	}
	return out
}

// TestActionsFeed: every instrument's rating changes of a period, newest
// first, with the target compared from and to, and the limit cutting the
// oldest.
func TestActionsFeed(t *testing.T) {
	t.Parallel()
	ts := feedServer(t)
	res := ts.get(t, "/api/v1/actions?from=2025-08-29&to=2025-09-10")
	require.Equal(t, http.StatusOK, res.status, res.body)
	got := object(t, res.body)
	assert.Equal(t, "2025-08-29T00:00:00Z", got["from"], "a bare from is the start of its day")
	assert.Equal(t, "2025-09-10T23:59:59.999999999Z", got["to"])
	assert.Equal(t, json.Number("200"), got["limit"])
	assert.Equal(t, json.Number("16"), got["total"])
	rows := feedRows(t, got)
	assert.Equal(t, []string{
		"BABA 2025-09-10 a.schmidt@rheinland TargetRevised - - 166 150 raised",
		"BABA 2025-09-08 f.silva@atlantico RatingAdded buy initiation 152.42 - set",
	}, rows[:2])
	assert.Contains(t, rows, "BABA 2025-08-29 d.kim@hanriver RatingAdded buy upgrade 168 130 raised", "neutral 130 to buy 168")
	assert.Contains(t, rows, "BABA 2025-08-29 n.ahmed@crescent-capital RatingAdded hold reiteration 140 120 raised")
	assert.Contains(t, rows, "9988.HK 2025-09-05 c.li@jade-harbour TargetRevised - - 175 160 raised", "every instrument")
	assert.Contains(t, rows, "BABA 2025-09-03 p.rossi@lagoon-capital TargetRevised - - 165 140 raised", "the retracted 1650 is not known now")
	assert.Len(t, rows, 16)
	var previous map[string]any
	for _, a := range got["actions"].([]any) {
		row := a.(map[string]any)
		if previous != nil {
			// Newest first: by effective time, then recorded time.
			pe, e := text(previous["effective_at"]), text(row["effective_at"])
			require.GreaterOrEqual(t, pe, e)
			if pe == e {
				require.GreaterOrEqual(t, text(previous["recorded_at"]), text(row["recorded_at"]))
			}
		}
		previous = row
	}
	first := got["actions"].([]any)[0].(map[string]any)
	assert.Equal(t, "Rheinland Research", first["firm"], "a revision names the firm of the analyst's rating")
	assert.Equal(t, "USD", first["currency"])
	require.NotNil(t, first["previous_target_event_id"])
	kim := ts.get(t, "/api/v1/actions?from=2025-08-29&to=2025-08-29").body
	assert.Contains(t, kim, `"analyst":"d.kim@hanriver","firm":"Hanriver Investment"`)
	assert.Contains(t, kim, `"rating":"buy","broker_rating":"buy","rating_action":"upgrade","target":168,"previous_target":130,`, "figures are bare numbers")

	withdrawal := object(t, ts.get(t, "/api/v1/actions?from=2025-08-15&to=2025-08-15").body)
	assert.Equal(t, []string{"BABA 2025-08-15 o.berg@fjord-securities RatingWithdrawn - coverage_dropped - - -"}, feedRows(t, withdrawal))

	year := object(t, ts.get(t, "/api/v1/actions?from=2025-01-01&to=2025-12-31").body)
	assert.Equal(t, json.Number("39"), year["total"])
	cut := object(t, ts.get(t, "/api/v1/actions?from=2025-01-01&to=2025-12-31&limit=3").body)
	assert.Equal(t, json.Number("39"), cut["total"], "the total counts the period, not the answer")
	assert.Equal(t, feedRows(t, year)[:3], feedRows(t, cut), "the limit keeps the newest")
	assert.Equal(t, "BABA 2025-03-10 v.ivanova@ural-capital RatingAdded sell initiation 95 - set", feedRows(t, year)[38], "the oldest last")
}

// TestActionsFeedKnownAt: as known at a time, the feed is the ledger's
// knowledge then: the demo's 1650 typo, known just before its retraction,
// was a raise from 140; events recorded later are not there.
func TestActionsFeedKnownAt(t *testing.T) {
	t.Parallel()
	ts := feedServer(t)
	var typo, retraction map[string]any
	for _, e := range array(t, ts.get(t, "/api/v1/instruments/BABA/events").body) {
		if e["retracted_by"] != nil {
			typo = e
		}
		if e["type"] == "EventRetracted" {
			retraction = e
		}
	}
	require.NotNil(t, typo)
	require.NotNil(t, retraction)
	recorded, err := time.Parse(time.RFC3339Nano, retraction["recorded_at"].(string))
	require.NoError(t, err)
	before := domain.FormatTime(recorded.Add(-time.Nanosecond))
	then := object(t, ts.get(t, "/api/v1/actions?from=2025-09-03&to=2025-09-03&known_at="+url.QueryEscape(before)).body)
	assert.Equal(t, before, then["known_at"])
	assert.Equal(t, []string{"BABA 2025-09-03 p.rossi@lagoon-capital TargetRevised - - 1650 140 raised"}, feedRows(t, then))
	assert.Equal(t, typo["event_id"], then["actions"].([]any)[0].(map[string]any)["event_id"])
	at := object(t, ts.get(t, "/api/v1/actions?from=2025-09-03&to=2025-09-03&known_at="+url.QueryEscape(retraction["recorded_at"].(string))).body)
	assert.Empty(t, feedRows(t, at), "retracted, and the right target not yet recorded")
	known := object(t, ts.get(t, "/api/v1/actions?from=2025-09-03&to=2025-09-03").body)
	assert.Equal(t, []string{"BABA 2025-09-03 p.rossi@lagoon-capital TargetRevised - - 165 140 raised"}, feedRows(t, known))

	// Before the demo's first event was recorded, the ledger knew nothing.
	empty := object(t, ts.get(t, "/api/v1/actions?from=2025-01-01&to=2025-12-31&known_at=2026-11-24T12:00:00Z").body)
	assert.Equal(t, json.Number("0"), empty["total"])
	assert.Equal(t, []any{}, empty["actions"])
}

// TestActionsFeedSplit: a target compared across a split is compared with
// the held target on the new event's basis, and the feed shows that
// adjusted value, 6 dp (CONTRACT sections 7 and 8).
func TestActionsFeedSplit(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	ctx := context.Background()
	for _, row := range []domain.Row{
		{Type: domain.RowSplit, Instrument: "BABA", Ratio: "3:1", At: "2025-09-11"},
		{Type: domain.RowTarget, Instrument: "BABA", Analyst: "a.schmidt@rheinland", Target: "56", Currency: "USD", At: "2025-09-12"},
		{Type: domain.RowTarget, Instrument: "BABA", Analyst: "a.schmidt@rheinland", Target: "56", Currency: "USD", At: "2025-09-15"},
	} {
		cmd, err := row.Command(now)
		require.NoError(t, err)
		_, err = ts.ledger.Record(ctx, cmd, ledger.WriteOptions{Source: "test"})
		require.NoError(t, err)
	}
	got := object(t, ts.get(t, "/api/v1/actions?from=2025-09-10&to=2025-09-15").body)
	assert.Equal(t, []string{
		"BABA 2025-09-15 a.schmidt@rheinland TargetRevised - - 56 56 maintained",
		"BABA 2025-09-12 a.schmidt@rheinland TargetRevised - - 56 55.333333 raised",
		"BABA 2025-09-10 a.schmidt@rheinland TargetRevised - - 166 150 raised",
	}, feedRows(t, got), "166 before the 3:1 split is 55.333333 after it")
}

// TestActionsFeedBounds: the period, the limit and the times are checked
// before anything is read, each refusal naming its parameter.
func TestActionsFeedBounds(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	for query, field := range map[string]string{
		"to=2025-09-30":                                 "from",
		"from=2025-09-01":                               "to",
		"from=2025-09-30&to=2025-09-01":                 "to",
		"from=2025-01-01&to=2026-01-02":                 "from", // 367 days
		"from=2025-13-01&to=2025-12-31":                 "from",
		"from=2025-01-01&to=yesterday":                  "to",
		"from=2025-01-01&to=2025-12-31&known_at=never":  "known_at",
		"from=2025-01-01&to=2025-12-31&limit=0":         "limit",
		"from=2025-01-01&to=2025-12-31&limit=2001":      "limit",
		"from=2025-01-01&to=2025-12-31&limit=ten":       "limit",
		"from=2025-01-01&to=2025-12-31&as_of=2025-09-1": "as_of",
	} {
		requireError(t, ts.get(t, "/api/v1/actions?"+query), http.StatusBadRequest, field)
	}
	res := ts.get(t, "/api/v1/actions?from=2025-01-01&to=2026-01-01&limit=2000")
	require.Equal(t, http.StatusOK, res.status, "366 days, both ends included: %s", res.body)
	assert.Equal(t, json.Number("2000"), object(t, res.body)["limit"])
	assert.Equal(t, "from \"2025-01-01\" to \"2026-01-02\" spans more than 366 days; ask for at most 366 days at a time.",
		object(t, ts.get(t, "/api/v1/actions?from=2025-01-01&to=2026-01-02").body)["error"])
}
