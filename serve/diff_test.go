package serve_test

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/demo"
	"github.com/consensus-ledger/consensus/domain"
)

// TestDiff asks the API what changed BABA's consensus from just before the
// 1650 typo's retraction was recorded to now: the figures the typo had
// falsified, each naming the retraction, with both values equal to the
// consensus endpoint's at either knowledge time.
func TestDiff(t *testing.T) {
	t.Parallel()
	// A clock that moves a millisecond at every reading, so every demo
	// event has its own recorded time and one can be known without the next.
	var mu sync.Mutex
	tick := now.Add(-time.Hour)
	ts := newServer(t, options{clock: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		tick = tick.Add(time.Millisecond)
		return tick
	}})
	events, err := ts.ledger.Load(context.Background(), "BABA")
	require.NoError(t, err)
	typoID, retractionID := demo.Step{Key: "baba-rossi-typo"}.ID(), demo.Step{Key: "baba-rossi-typo-retraction"}.ID()
	var t1, t2 string
	for _, r := range events {
		switch r.ID {
		case typoID:
			t1 = domain.FormatTime(r.RecordedAt)
		case retractionID:
			t2 = domain.FormatTime(r.RecordedAt)
		}
	}
	require.NotEmpty(t, t1)
	// Up to the retraction alone: the typo's figures change, and nothing else.
	res := ts.get(t, "/api/v1/instruments/BABA/diff?from=2025-09-02&to=2025-09-03&from_known="+url.QueryEscape(t1)+"&to_known="+url.QueryEscape(t2))
	require.Equal(t, http.StatusOK, res.status, res.body)
	rows := array(t, res.body)
	type change struct{ asOf, field, before, after string }
	var got []change
	for _, r := range rows {
		got = append(got, change{text(r["as_of"]), text(r["field"]), text(r["before"]), text(r["after"])})
		causes := r["causes"].([]any)
		require.Len(t, causes, 1)
		assert.Equal(t, map[string]any{"event_id": retractionID.String(), "type": "EventRetracted", "recorded_at": t2,
			"effective_at": "2025-09-03T23:59:59.999999999Z"}, causes[0])
	}
	// Without the typo and before the corrected 165 is recorded, Rossi's
	// target is his 140 of July again: 17 targets whose sum falls by
	// 1650 - 140 = 1510, so the mean by 1510 / 17 = 88.82.
	assert.Equal(t, []change{
		{"2025-09-03T23:59:59.999999999Z", "mean_target", "251.41", "162.59"},
		{"2025-09-03T23:59:59.999999999Z", "median_target", "163", "160"},
		{"2025-09-03T23:59:59.999999999Z", "high_target", "1650", "200"},
		{"2025-09-03T23:59:59.999999999Z", "stddev_target", "349.99", "16.41"},
	}, got)
	for _, c := range got {
		for known, want := range map[string]string{t1: c.before, t2: c.after} {
			shown := object(t, ts.get(t, "/api/v1/instruments/BABA/consensus?as_of="+url.QueryEscape(c.asOf)+"&known_at="+url.QueryEscape(known)).body)
			assert.Equal(t, want, text(shown[c.field]), "%s known at %s", c.field, known)
		}
	}

	nothing := ts.get(t, "/api/v1/instruments/BABA/diff?from=2025-09-01&to=2025-09-05&from_known="+url.QueryEscape(t2)+"&to_known="+url.QueryEscape(t2))
	require.Equal(t, http.StatusOK, nothing.status)
	assert.Equal(t, "[]\n", nothing.body)

	for _, c := range []struct{ name, query, field, msg string }{
		{"from_known missing", "from=2025-09-01&to=2025-09-05", "from_known", "query parameter from_known is required (a date or RFC 3339 time)."},
		{"from_known after to_known", "from=2025-09-01&to=2025-09-05&from_known=2026-01-02&to_known=2026-01-01", "from_known",
			`from_known "2026-01-02" is after to_known "2026-01-01".`},
		{"from_known after now", "from=2025-09-01&to=2025-09-05&from_known=2099-01-01", "from_known", ""},
		{"bad to_known", "from=2025-09-01&to=2025-09-05&from_known=2026-01-01&to_known=soon", "to_known",
			`to_known "soon" is not a date (YYYY-MM-DD) or RFC 3339 time.`},
		{"too many rows", "from=1900-01-01&to=2099-12-31&from_known=2026-01-01", "from", ""},
		{"known_at is not a diff parameter", "from=2025-09-01&to=2025-09-05&from_known=2026-01-01&known_at=2026-01-01", "known_at", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := ts.get(t, "/api/v1/instruments/BABA/diff?"+c.query)
			requireError(t, res, http.StatusBadRequest, c.field)
			if c.msg != "" {
				assert.Equal(t, c.msg, object(t, res.body)["error"])
			}
		})
	}
	requireError(t, ts.get(t, "/api/v1/instruments/NOPE/diff?from=2025-09-01&to=2025-09-05&from_known=2026-01-01"), http.StatusNotFound, "symbol")
}
