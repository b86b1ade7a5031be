package test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKnownAtSeesThePastAfterACorrection records a consensus, notes the
// transaction time T of the last write, then retracts a rating and records
// the corrected one. Asked with --known-at T the ledger still gives the old
// answer; asked without, the corrected one.
func TestKnownAtSeesThePastAfterACorrection(t *testing.T) {
	skipShort(t, "over 2 s (2 s in a full run on the loaded 2-core machine)")
	t.Parallel()
	store := newStore(t)
	c := newCLI(t).withEnv("CONSENSUS_STORE=" + store) // this test names its store through the environment
	c.ok(t, "rate", "TEST", "--analyst", "a.one@firm-a", "--firm", "Firm A", "--rating", "buy", "--target", "100", "--currency", "USD", "--at", "2025-09-01")
	wrong := object(t, c.ok(t, "rate", "TEST", "--analyst", "b.two@firm-b", "--rating", "hold", "--target", "120", "--currency", "USD", "--at", "2025-09-01", "--json").stdout)
	last := object(t, c.ok(t, "close", "TEST", "--price", "100", "--currency", "USD", "--at", "2025-09-02", "--json").stdout)
	known, ok := last["recorded_at"].(string)
	require.True(t, ok, "a write with --json prints recorded_at: %v", last)
	_, err := time.Parse(time.RFC3339Nano, known)
	require.NoError(t, err, "recorded_at is RFC 3339")

	wrongID := wrong["event_id"].(string)
	r := c.ok(t, "retract", wrongID, "--reason", "b.two upgraded to buy 140, keyed as hold 120")
	retraction := r.stdout
	require.Regexp(t, `^[0-9a-f-]{36}\n$`, retraction, "a write prints the new event's id")
	c.ok(t, "rate", "TEST", "--analyst", "b.two@firm-b", "--rating", "buy", "--target", "140", "--currency", "USD", "--at", "2025-09-01")

	asOf := []string{"--as-of", "2025-09-05"}
	before := object(t, c.ok(t, append([]string{"show", "TEST", "--json", "--known-at", known}, asOf...)...).stdout)
	assertFigures(t, before, figures{
		"instrument": "TEST", "currency": "USD", "analysts": "2", "buy": "1", "hold": "1", "sell": "0",
		"targets": "2", "mean_target": "110", "close": "100", "upside_pct": "10",
	})
	now := object(t, c.ok(t, append([]string{"show", "TEST", "--json"}, asOf...)...).stdout)
	assertFigures(t, now, figures{
		"instrument": "TEST", "currency": "USD", "analysts": "2", "buy": "2", "hold": "0", "sell": "0",
		"targets": "2", "mean_target": "120", "close": "100", "upside_pct": "20", "label": "Strong Buy",
	})

	// history answers with the same knowledge time too.
	rows := array(t, c.ok(t, "history", "TEST", "--from", "2025-09-05", "--to", "2025-09-05", "--known-at", known, "--json").stdout)
	require.Len(t, rows, 1)
	assertFigures(t, rows[0], figures{"buy": "1", "hold": "1", "mean_target": "110"})

	// Nothing was deleted: the log still holds the wrong rating, marked.
	events := logJSON(t, c, store, "TEST")
	require.Len(t, events, 5)
	assert.Equal(t, wrongID, events[1]["event_id"])
	assert.NotNil(t, events[1]["retracted_by"])
	assert.Equal(t, "EventRetracted", events[3]["type"])
	assert.Equal(t, "ok: 5 events in 1 streams\nchain version 1: 0 events, chain version 2: 5 events\n", c.ok(t, "verify").stdout)
}

// TestBackfillValidatesAsOfTheEffectiveTime checks that a revision is judged
// against the history at its own effective time: before the analyst's
// rating it is refused, after it accepted.
func TestBackfillValidatesAsOfTheEffectiveTime(t *testing.T) {
	skipShort(t, "over 2 s (4 s in a full run on the loaded 2-core machine)")
	t.Parallel()
	c := newCLI(t)
	store := newStore(t)
	c.ok(t, "rate", "TEST", "--analyst", "a.one@firm-a", "--rating", "outperform", "--target", "100", "--currency", "USD", "--at", "2025-09-01", "--store", store)
	before := snapshot(t, c, store)

	r := c.run(t, "revise", "TEST", "--analyst", "a.one@firm-a", "--target", "90", "--currency", "USD", "--at", "2025-08-01", "--store", store)
	assert.Equal(t, 1, r.code, "a revision before the analyst's rating is refused")
	assert.Empty(t, r.stdout)
	assertOneCleanLine(t, r.stderr)
	assert.Contains(t, r.stderr, "a.one@firm-a")
	assert.Equal(t, before, snapshot(t, c, store), "a refused revision writes nothing")

	r = c.run(t, "withdraw", "TEST", "--analyst", "a.one@firm-a", "--at", "2025-08-01", "--store", store)
	assert.Equal(t, 1, r.code, "a withdrawal before the analyst's rating is refused")
	assert.Equal(t, before, snapshot(t, c, store))

	c.ok(t, "revise", "TEST", "--analyst", "a.one@firm-a", "--target", "110", "--currency", "USD", "--at", "2025-09-02", "--store", store)
	events := logJSON(t, c, store, "TEST")
	require.Len(t, events, 2)
	assert.Equal(t, "TargetRevised", events[1]["type"])
	assert.Equal(t, "1", num(events[1]["version"]))

	// A backfilled rating earlier than the first one is accepted, and a
	// revision between the two is then valid too.
	c.ok(t, "rate", "TEST", "--analyst", "a.one@firm-a", "--rating", "hold", "--target", "80", "--currency", "USD", "--at", "2025-07-01", "--store", store)
	c.ok(t, "revise", "TEST", "--analyst", "a.one@firm-a", "--target", "85", "--currency", "USD", "--at", "2025-08-01", "--store", store)
	assert.Len(t, logJSON(t, c, store, "TEST"), 4)

	got := showJSON(t, c, store, "TEST", "--as-of", "2025-08-15")
	assertFigures(t, got, figures{"analysts": "1", "hold": "1", "mean_target": "85"})
	got = showJSON(t, c, store, "TEST", "--as-of", "2025-09-03")
	assertFigures(t, got, figures{"analysts": "1", "buy": "1", "mean_target": "110"})
	assert.Equal(t, "ok: 4 events in 1 streams\nchain version 1: 0 events, chain version 2: 4 events\n", c.ok(t, "verify", "--store", store).stdout)
}
