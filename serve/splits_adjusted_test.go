package serve_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/ledger"
)

// splitServer serves CONTRACT section 7's worked example: a target of 480
// published at a close of 400, a 4-for-1 split on 10 March 2025, and a
// close of 100 on its ex-date.
func splitServer(t *testing.T) *testServer {
	t.Helper()
	ts := newServer(t, options{empty: true})
	for _, row := range []domain.Row{
		{Type: domain.RowRating, Instrument: "SPLT", Analyst: "a@firm", Rating: "buy", Target: "480", Currency: "USD", At: "2025-03-03"},
		{Type: domain.RowClose, Instrument: "SPLT", Price: "400", Currency: "USD", At: "2025-03-07"},
		{Type: "split", Instrument: "SPLT", Ratio: "4:1", At: "2025-03-10"},
		{Type: domain.RowClose, Instrument: "SPLT", Price: "100", Currency: "USD", At: "2025-03-10"},
	} {
		cmd, err := row.Command(now)
		require.NoError(t, err, "%+v", row)
		_, err = ts.ledger.Record(context.Background(), cmd, ledger.WriteOptions{RecordedBy: "test"})
		require.NoError(t, err)
	}
	return ts
}

// Adjusted and unadjusted answers of one point are both right asked one
// after the other, again and again: the answer cache keys on adjusted.
func TestConsensusAdjustedAndNot(t *testing.T) {
	t.Parallel()
	ts := splitServer(t)
	for range 2 { // the second round comes from the cache
		for _, tc := range []struct {
			query, mean, close, upside, adjusted, splits string
		}{
			{"", "120", "100", "20", "true", `[{"effective_at":"2025-03-10T00:00:00Z","event_id":`},
			{"&adjusted=false", "480", "100", "380", "false", `[]`},
			{"&adjusted=true", "120", "100", "20", "true", `[{"effective_at":"2025-03-10T00:00:00Z","event_id":`},
			{"&adjusted=0", "480", "100", "380", "false", `[]`},
		} {
			res := ts.get(t, "/api/v1/instruments/SPLT/consensus?as_of=2025-03-10&explain=true"+tc.query)
			require.Equal(t, http.StatusOK, res.status, res.body)
			c := object(t, res.body)
			assert.Equal(t, []string{tc.mean, tc.close, tc.upside, tc.adjusted}, []string{text(c["mean_target"]), text(c["close"]), text(c["upside_pct"]), text(c["adjusted"])}, tc.query)
			assert.True(t, strings.HasPrefix(text(c["splits"]), tc.splits), "%s: %s", tc.query, text(c["splits"]))
			explain := c["explain"].([]any)[0].(map[string]any)
			assert.Equal(t, "480", text(explain["target"]), "as published")
			if tc.adjusted == "true" {
				assert.Equal(t, []string{"1/4", "120"}, []string{text(explain["target_factor"]), text(explain["adjusted_target"])})
			} else {
				assert.Equal(t, []string{"1", "480"}, []string{text(explain["target_factor"]), text(explain["adjusted_target"])})
			}

			all := ts.get(t, "/api/v1/consensus?as_of=2025-03-10"+tc.query)
			require.Equal(t, http.StatusOK, all.status, all.body)
			rows := array(t, all.body)
			require.Len(t, rows, 1)
			assert.Equal(t, []string{tc.mean, tc.close, tc.upside, tc.adjusted}, []string{text(rows[0]["mean_target"]), text(rows[0]["close"]), text(rows[0]["upside_pct"]), text(rows[0]["adjusted"])}, tc.query)
		}
	}
}

// history and chart.svg take adjusted and basis: one basis, the last
// row's, by default; each row its own with basis=each; prices as
// published with adjusted=false. The chart marks the split either way.
func TestHistoryAndChartBasis(t *testing.T) {
	t.Parallel()
	ts := splitServer(t)
	for _, tc := range []struct {
		query         string
		means, closes string
	}{
		{"", "120 120 120", "100 100 100"},
		{"&basis=last", "120 120 120", "100 100 100"},
		{"&basis=each", "480 480 120", "400 400 100"},
		{"&adjusted=false", "480 480 480", "400 400 100"},
		{"&adjusted=false&basis=each", "480 480 480", "400 400 100"},
	} {
		res := ts.get(t, "/api/v1/instruments/SPLT/history?from=2025-03-08&to=2025-03-10"+tc.query)
		require.Equal(t, http.StatusOK, res.status, res.body)
		var means, closes []string
		for _, r := range array(t, res.body) {
			means, closes = append(means, text(r["mean_target"])), append(closes, text(r["close"]))
		}
		assert.Equal(t, tc.means, strings.Join(means, " "), tc.query)
		assert.Equal(t, tc.closes, strings.Join(closes, " "), tc.query)

		svg := ts.get(t, "/api/v1/instruments/SPLT/chart.svg?from=2025-03-01&to=2025-03-20"+tc.query)
		require.Equal(t, http.StatusOK, svg.status, svg.body)
		assert.Equal(t, 2, strings.Count(svg.body, `<polyline class="split"`), "%s: a marker across both panels", tc.query)
		assert.Contains(t, svg.body, `">4:1</text>`, tc.query)
	}
}

func TestAdjustmentParametersRefused(t *testing.T) {
	t.Parallel()
	ts := splitServer(t)
	for _, tc := range []struct {
		path, field, message string
	}{
		{"/api/v1/instruments/SPLT/consensus?adjusted=maybe", "adjusted", `adjusted "maybe" must be true or false.`},
		{"/api/v1/consensus?adjusted=no", "adjusted", `adjusted "no" must be true or false.`},
		{"/api/v1/instruments/SPLT/history?from=2025-03-08&to=2025-03-10&basis=first", "basis", `basis "first" must be last or each.`},
		{"/api/v1/instruments/SPLT/chart.svg?from=2025-03-08&to=2025-03-10&basis=", "basis", `basis must be last or each.`},
		{"/api/v1/instruments/SPLT/consensus?basis=each", "basis", `unknown query parameter "basis"; this endpoint takes as_of, known_at, window, explain, top, adjusted.`},
	} {
		res := ts.get(t, tc.path)
		requireError(t, res, http.StatusBadRequest, tc.field)
		assert.Equal(t, tc.message, object(t, res.body)["error"], tc.path)
	}
}
