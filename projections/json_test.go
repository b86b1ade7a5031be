package projections_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/projections"
)

// knownAtExample is the known_at of the example in CONTRACT section 4.
var knownAtExample = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func TestConsensusJSON(t *testing.T) {
	r := babaHistory(t)
	c := projections.Show("BABA", r.events, projections.Query{AsOf: when(t, "2025-09-11"), KnownAt: knownAtExample, Window: projections.DefaultWindow})
	got, err := json.Marshal(c)
	require.NoError(t, err)
	// The field names and their order are those of CONTRACT section 4;
	// figures are numbers, not strings.
	assert.Equal(t, `{"instrument":"BABA","currency":"USD","as_of":"2025-09-11T23:59:59.999999999Z",`+
		`"known_at":"2026-11-24T12:00:00Z","window_days":90,"analysts":18,"buy":17,"hold":1,`+
		`"sell":0,"mean_rating":1.94,"label":"Strong Buy","targets":18,"mean_target":165.69,`+
		`"median_target":165,"high_target":200,"low_target":140,"stddev_target":14.14,`+
		`"close":155.44,"close_at":"2025-09-11T23:59:59.999999999Z","upside_pct":6.59,"adjusted":true,"splits":[]}`, string(got))

	var back projections.Consensus
	require.NoError(t, json.Unmarshal(got, &back))
	assert.Equal(t, c, back, "the JSON reads back to the same consensus")
}

func TestConsensusJSONNulls(t *testing.T) {
	q := projections.Query{AsOf: when(t, "2025-09-11"), KnownAt: knownAtExample, Window: 0}
	got, err := json.Marshal(projections.Show("NONE", nil, q))
	require.NoError(t, err)
	assert.Equal(t, `{"instrument":"NONE","currency":"","as_of":"2025-09-11T23:59:59.999999999Z",`+
		`"known_at":"2026-11-24T12:00:00Z","window_days":0,"analysts":0,"buy":0,"hold":0,`+
		`"sell":0,"mean_rating":null,"label":"No Consensus","targets":0,"mean_target":null,`+
		`"median_target":null,"high_target":null,"low_target":null,"stddev_target":null,`+
		`"close":null,"close_at":null,"upside_pct":null,"adjusted":true,"splits":[]}`, string(got))
}

func TestExplainJSON(t *testing.T) {
	l := newLedger(t, "EXP", "USD")
	rating := l.rateWithFirm("j.smith@firm-a", "Firm A", "outperform", "", "2025-09-01T14:30:00Z")
	skipped := l.withdraw("k.doe@firm-b", "2025-09-02")
	q := projections.Query{AsOf: when(t, "2025-09-11"), KnownAt: later, Window: projections.DefaultWindow, Explain: true}
	c := projections.Show(l.sym, l.events, q)
	got, err := json.Marshal(c.Explain)
	require.NoError(t, err)
	assert.Equal(t, `[{"analyst":"j.smith@firm-a","firm":"Firm A","rating":"buy","broker_rating":"outperform",`+
		`"target":null,"target_factor":null,"adjusted_target":null,"rating_event_id":"`+rating.String()+`","target_event_id":null,`+
		`"rating_action":"initiation","target_action":null,"last_active":"2025-09-01T14:30:00Z","status":"counted",`+
		`"reason":"counted: buy since 2025-09-01T14:30:00Z, no target","notes":[]},`+
		`{"analyst":"k.doe@firm-b","firm":"","rating":"","broker_rating":"","target":null,"target_factor":null,"adjusted_target":null,`+
		`"rating_event_id":null,"target_event_id":null,"rating_action":null,"target_action":null,"last_active":null,"status":"no_rating",`+
		`"reason":"no_rating: holds no rating; its only events were skipped or retracted (see notes)",`+
		`"notes":["event `+skipped.String()+` (RatingWithdrawn, 2025-09-02): withdrawal skipped: no rating held at its effective time"]}]`, string(got))

	q.Explain = false
	got, err = json.Marshal(projections.Show(l.sym, l.events, q))
	require.NoError(t, err)
	assert.NotContains(t, string(got), "explain", "explain is left out unless asked for")
}

func TestDecimal(t *testing.T) {
	for text, want := range map[string]string{
		"165.69": "165.69", "165.690": "165.69", "007": "7", "0.000001": "0.000001", "-3.10": "-3.1",
		"-0": "0", "-0.00": "0", "0": "0", "123456789012345678901234567890.5": "123456789012345678901234567890.5",
	} {
		d, err := projections.ParseDecimal(text)
		require.NoError(t, err, text)
		assert.Equal(t, want, d.String(), text)
		b, err := json.Marshal(d)
		require.NoError(t, err)
		assert.Equal(t, want, string(b))
	}
	for _, bad := range []string{"", "-", ".5", "5.", "1e3", "+1", " 1", "1,5", `"1.5"`, "0x10", "1.2.3", "--1"} {
		_, err := projections.ParseDecimal(bad)
		assert.Error(t, err, "%q", bad)
		if bad != " 1" { // JSON allows spaces around a value
			var d projections.Decimal
			assert.Error(t, json.Unmarshal([]byte(bad), &d), "%q", bad)
		}
	}
	var zero projections.Decimal
	assert.Equal(t, "0", zero.String())
	require.NoError(t, json.Unmarshal([]byte("null"), &zero), "null leaves a Decimal unchanged, as encoding/json expects")
	assert.Equal(t, "0", zero.String())
	d, err := projections.ParseDecimal("165.69")
	require.NoError(t, err)
	assert.InDelta(t, 165.69, d.Float64(), 1e-12)
}
