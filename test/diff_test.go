package test

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDiffNamesTheTyposRetraction is the worked example of `consensus diff`
// through the binary: on the demo, known when the 1650 typo was recorded
// (its retraction not yet) against known now, 1 to 5 September daily. Every
// changed mean, high and stddev names the retraction among its causes, and
// both values are what `show --known-at` prints at either time.
func TestDiffNamesTheTyposRetraction(t *testing.T) {
	skipShort(t, "runs the binary some 40 times")
	t.Parallel()
	c := newCLI(t)
	store := demoStore(t, c)
	var t1, now, retraction string
	for _, e := range logJSON(t, c, store, "BABA") {
		data := e["data"].(map[string]any)
		if e["type"] == "TargetRevised" && data["target"] == "1650" {
			t1, retraction = e["recorded_at"].(string), e["retracted_by"].(string)
		}
		now = e["recorded_at"].(string) // the last recorded time: nothing after it
	}
	require.NotEmpty(t, retraction)

	args := []string{"diff", "BABA", "--store", store, "--from-known", t1, "--to-known", now, "--from", "2025-09-01", "--to", "2025-09-05", "--every", "day"}
	rows := array(t, c.ok(t, append(args, "--json")...).stdout)
	targets := map[string]string{} // "as_of field" -> "before -> after"
	for _, r := range rows {
		asOf, field := r["as_of"].(string), r["field"].(string)
		for known, value := range map[string]any{t1: r["before"], now: r["after"]} {
			shown := showJSON(t, c, store, "BABA", "--as-of", asOf, "--known-at", known)
			assert.Equal(t, num(shown[field]), num(value), "%s %s known at %s", asOf, field, known)
		}
		if field != "mean_target" && field != "high_target" && field != "stddev_target" {
			continue
		}
		targets[asOf[:10]+" "+field] = num(r["before"]) + " -> " + num(r["after"])
		causes := r["causes"].([]any)
		require.NotEmpty(t, causes)
		first := causes[0].(map[string]any)
		assert.Equal(t, retraction, first["event_id"], "%s %s", asOf, field)
		assert.Equal(t, "EventRetracted", first["type"])
		assert.Equal(t, "2025-09-03T23:59:59.999999999Z", first["effective_at"])
	}
	assert.Equal(t, map[string]string{
		"2025-09-03 mean_target": "251.41 -> 164.06", "2025-09-03 high_target": "1650 -> 200", "2025-09-03 stddev_target": "349.99 -> 15.41",
		"2025-09-04 mean_target": "251.41 -> 164.65", "2025-09-04 high_target": "1650 -> 200", "2025-09-04 stddev_target": "349.99 -> 14.85",
		"2025-09-05 mean_target": "251.41 -> 165.53", "2025-09-05 high_target": "1650 -> 200", "2025-09-05 stddev_target": "349.99 -> 14.69",
	}, targets)

	// The CSV holds the same rows, causes in one cell; the text names them.
	records, err := csv.NewReader(strings.NewReader(c.ok(t, append(args, "--csv")...).stdout)).ReadAll()
	require.NoError(t, err)
	require.Len(t, records, len(rows)+1)
	assert.Equal(t, []string{"instrument", "as_of", "field", "before", "after", "causes"}, records[0])
	for i, rec := range records[1:] {
		before := rec[3]
		if before == "" {
			before = "null"
		}
		assert.Equal(t, []string{rows[i]["as_of"].(string), rows[i]["field"].(string), num(rows[i]["before"])}, []string{rec[1], rec[2], before})
		assert.Equal(t, len(rows[i]["causes"].([]any)), strings.Count(rec[5], ";")+1)
	}
	text := c.ok(t, args...).stdout
	assert.Contains(t, text, "BABA as of 2025-09-03T23:59:59.999999999Z\n")
	assert.Contains(t, text, "caused by EventRetracted "+retraction+", recorded ")

	// --all, known now, holds BABA's rows and those of 9988.HK (recorded
	// after BABA), in symbol order.
	all := array(t, c.ok(t, "diff", "--all", "--store", store, "--from-known", t1, "--from", "2025-09-01", "--to", "2025-09-05", "--json").stdout)
	require.Greater(t, len(all), len(rows))
	assert.Equal(t, "9988.HK", all[0]["instrument"])
	assert.Equal(t, "BABA", all[len(all)-1]["instrument"])
}
