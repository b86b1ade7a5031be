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
)

// TestEventsActions: the events answer carries each event's actions as
// `log --json` does, and with known_at the log as it stood then: the demo's
// 1650 typo, known just before its retraction, was a raise.
func TestEventsActions(t *testing.T) {
	t.Parallel()
	// Each event recorded a millisecond after the one before, so there is
	// a moment between the typo and its retraction.
	var mu sync.Mutex
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	ts := newServer(t, options{clock: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Millisecond)
		return now
	}})
	events := array(t, ts.get(t, "/api/v1/instruments/BABA/events").body)
	entries, err := ts.ledger.Log(context.Background(), "BABA")
	require.NoError(t, err)
	require.Len(t, events, len(entries))
	var typo map[string]any
	for i, e := range events {
		want := entries[i].Actions
		assert.Equal(t, nullable(string(want.Rating)), e["rating_action"], "event %v", e["event_id"])
		assert.Equal(t, nullable(string(want.Target)), e["target_action"], "event %v", e["event_id"])
		if e["retracted_by"] != nil {
			typo = e
		}
	}
	require.NotNil(t, typo)
	assert.Nil(t, typo["rating_action"])
	assert.Nil(t, typo["target_action"], "a retracted event has no actions as known now")

	res := ts.get(t, "/api/v1/instruments/BABA/events?known_at="+url.QueryEscape(typo["recorded_at"].(string)))
	require.Equal(t, http.StatusOK, res.status, res.body)
	then := array(t, res.body)
	last := then[len(then)-1]
	assert.Equal(t, typo["event_id"], last["event_id"], "known then, the log ends with the typo")
	assert.Nil(t, last["retracted_by"])
	assert.Equal(t, "raised", last["target_action"])

	requireError(t, ts.get(t, "/api/v1/instruments/BABA/events?known_at=yesterday"), http.StatusBadRequest, "known_at")
}

// TestExplainActions: every explained analyst carries the actions of the
// events its row names.
func TestExplainActions(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	got := object(t, ts.get(t, "/api/v1/instruments/BABA/consensus?as_of=2025-09-11&explain=true").body)
	rows := map[string]map[string]any{}
	for _, r := range got["explain"].([]any) {
		row := r.(map[string]any)
		rows[row["analyst"].(string)] = row
	}
	for analyst, want := range map[string][2]any{
		"d.kim@hanriver":            {"upgrade", "raised"},     // neutral 130 -> buy 168, one event
		"b.oconnor@liffey-partners": {"upgrade", "raised"},     // the 08-01 upgrade; the target since revised to 155
		"f.silva@atlantico":         {"initiation", "set"},     //
		"o.berg@fjord-securities":   {"initiation", "set"},     // withdrawn: the rating that was withdrawn
		"n.ahmed@crescent-capital":  {"reiteration", "raised"}, //
	} {
		require.Contains(t, rows, analyst)
		assert.Equal(t, want[0], rows[analyst]["rating_action"], analyst)
		assert.Equal(t, want[1], rows[analyst]["target_action"], analyst)
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
