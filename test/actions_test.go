package test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLogActions: `log --json` carries every event's rating_action and
// target_action (CONTRACT section 8); a rating backfilled before an
// initiation turns it into an upgrade, and `log --known-at` before the
// backfill still shows the initiation. The text log has an action column,
// and `show --explain --json` the actions of the events it names.
func TestLogActions(t *testing.T) {
	t.Parallel()
	store := newStore(t)
	c := newCLI(t).withEnv("CONSENSUS_STORE=" + store)
	first := object(t, c.ok(t, "rate", "ACT", "--analyst", "a@x", "--rating", "buy", "--target", "150", "--currency", "USD", "--at", "2025-06-01", "--json").stdout)
	revision := object(t, c.ok(t, "revise", "ACT", "--analyst", "a@x", "--target", "140", "--currency", "USD", "--at", "2025-07-01", "--json").stdout)
	c.ok(t, "close", "ACT", "--price", "120", "--currency", "USD", "--at", "2025-07-02")
	known := revision["recorded_at"].(string)
	backfill := object(t, c.ok(t, "rate", "ACT", "--analyst", "a@x", "--rating", "hold", "--target", "160", "--currency", "USD", "--at", "2025-03-01", "--json").stdout)

	actions := func(log []map[string]any) map[string][2]any {
		out := map[string][2]any{}
		for _, e := range log {
			require.Contains(t, e, "rating_action", "every line has both fields")
			require.Contains(t, e, "target_action")
			out[e["event_id"].(string)] = [2]any{e["rating_action"], e["target_action"]}
		}
		return out
	}
	now := actions(logJSON(t, c, store, "ACT"))
	require.Len(t, now, 4)
	assert.Equal(t, [2]any{"initiation", "set"}, now[backfill["event_id"].(string)])
	assert.Equal(t, [2]any{"upgrade", "cut"}, now[first["event_id"].(string)], "hold 160 to buy 150")
	assert.Equal(t, [2]any{nil, "cut"}, now[revision["event_id"].(string)])

	then := actions(array(t, c.ok(t, "log", "ACT", "--json", "--known-at", known).stdout))
	require.Len(t, then, 2, "only what was recorded by then")
	assert.Equal(t, [2]any{"initiation", "set"}, then[first["event_id"].(string)], "before the backfill")
	assert.Equal(t, [2]any{nil, "cut"}, then[revision["event_id"].(string)])

	text := c.ok(t, "log", "ACT").stdout
	lines := strings.Split(strings.TrimSpace(text), "\n")
	require.Len(t, lines, 5)
	assert.Contains(t, lines[0], "action")
	assert.Contains(t, lines[1], "upgrade/cut")
	assert.Contains(t, lines[2], "-/cut")
	assert.Regexp(t, `CloseRecorded .* - +close 120 USD`, lines[3])
	assert.Contains(t, lines[4], "initiation/set")
	assert.Equal(t, 2, c.run(t, "log", "ACT", "--chain", "--known-at", known).code)
	assert.Equal(t, 1, c.run(t, "log", "ACT", "--known-at", "yesterday").code)

	explain := object(t, c.ok(t, "show", "ACT", "--as-of", "2025-07-02", "--explain", "--json").stdout)["explain"].([]any)
	require.Len(t, explain, 1)
	row := explain[0].(map[string]any)
	assert.Equal(t, "upgrade", row["rating_action"])
	assert.Equal(t, "cut", row["target_action"])
}

// TestExplainTextActions: the text of `show --explain` has an action column,
// the actions of the rating and target events each row names, as known at
// the question's knowledge time. The worked example: a target keyed as 1650
// instead of 165, a revision to 170 recorded after it (a cut, against the
// typo), then the typo's retraction (the same revision is now a raise,
// against 140). Known before the retraction, the row says so.
func TestExplainTextActions(t *testing.T) {
	t.Parallel()
	store := newStore(t)
	c := newCLI(t).withEnv("CONSENSUS_STORE=" + store)
	rating := object(t, c.ok(t, "rate", "TYPO", "--analyst", "p.rossi@lagoon-capital", "--rating", "buy", "--target", "140", "--currency", "USD", "--at", "2025-07-15", "--json").stdout)
	typo := object(t, c.ok(t, "revise", "TYPO", "--analyst", "p.rossi@lagoon-capital", "--target", "1650", "--currency", "USD", "--at", "2025-09-03", "--json").stdout)
	revision := object(t, c.ok(t, "revise", "TYPO", "--analyst", "p.rossi@lagoon-capital", "--target", "170", "--currency", "USD", "--at", "2025-09-09", "--json").stdout)
	known := revision["recorded_at"].(string)
	c.ok(t, "retract", typo["event_id"].(string), "--reason", "typo: 1650 keyed instead of 165")

	row := func(out string) string {
		t.Helper()
		lines := strings.Split(out, "\n")
		for i, line := range lines {
			if strings.HasPrefix(line, "analysts:") {
				require.Greater(t, len(lines), i+2, out)
				assert.Regexp(t, `^  analyst +firm +status +rating +target +action +rating event +reason$`, lines[i+1])
				return lines[i+2]
			}
		}
		t.Fatalf("no analysts table in %s", out)
		return ""
	}
	then := row(c.ok(t, "show", "TYPO", "--as-of", "2025-09-10", "--known-at", known, "--explain").stdout)
	assert.Regexp(t, `^  p\.rossi@lagoon-capital +counted +buy +170\.00 +initiation/cut +`+rating["event_id"].(string)+` `, then, "against the typo, as known before its retraction")
	now := row(c.ok(t, "show", "TYPO", "--as-of", "2025-09-10", "--explain").stdout)
	assert.Regexp(t, `^  p\.rossi@lagoon-capital +counted +buy +170\.00 +initiation/raised +`+rating["event_id"].(string)+` `, now, "against 140 once the typo is retracted")

	// The JSON and the log say the same at both times.
	for _, k := range []struct{ at, want string }{{known, "cut"}, {"", "raised"}} {
		args := []string{"show", "TYPO", "--as-of", "2025-09-10", "--explain", "--json"}
		logArgs := []string{"log", "TYPO", "--json"}
		if k.at != "" {
			args, logArgs = append(args, "--known-at", k.at), append(logArgs, "--known-at", k.at)
		}
		explain := object(t, c.ok(t, args...).stdout)["explain"].([]any)[0].(map[string]any)
		assert.Equal(t, "initiation", explain["rating_action"])
		assert.Equal(t, k.want, explain["target_action"])
		for _, e := range array(t, c.ok(t, logArgs...).stdout) {
			if e["event_id"] == revision["event_id"] {
				assert.Equal(t, k.want, e["target_action"], "log known at %q", k.at)
			}
		}
	}
}
