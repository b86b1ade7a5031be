package serve_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
)

// The API's side of splits' inputs (issue 12, CONTRACT section 7): the
// events and import routes take split rows as the import does, and refuse
// bad ones in one sentence naming the field, writing nothing.

// splitRows is CONTRACT section 7's worked example as one batch: a target
// of 480 at a close of 400, then a 4:1 split and a close of 100.
const splitRows = `[
 {"type":"rating","instrument":"SPLT","analyst":"a@firm-a","rating":"buy","target":"480","currency":"USD","at":"2025-08-28"},
 {"type":"close","instrument":"SPLT","price":"400","currency":"USD","at":"2025-08-29"},
 {"type":"split","instrument":"SPLT","ratio":"4:1","at":"2025-09-01"},
 {"type":"close","instrument":"SPLT","price":100,"currency":"USD","at":"2025-09-01"}
]`

func TestPostEventsSplitAndItsRetraction(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{empty: true})
	res := ts.do(t, "POST", "/api/v1/events", writeToken, splitRows)
	require.Equal(t, http.StatusCreated, res.status, res.body)
	rows := results(t, res.body)
	require.Len(t, rows, 4)
	split := rows[2]
	assert.Equal(t, "written", split["status"])
	assert.Equal(t, "SplitRecorded", split["type"])
	assert.Equal(t, "SPLT", split["instrument"])
	splitID := split["event_id"].(string)

	const path = "/api/v1/instruments/SPLT/consensus?as_of=2025-09-01"
	requireFigures(t, object(t, ts.get(t, path).body), map[string]string{"mean_target": "120", "close": "100", "upside_pct": "20"})
	events := array(t, ts.get(t, "/api/v1/instruments/SPLT/events").body)
	require.Len(t, events, 4)
	assert.Equal(t, "SplitRecorded", events[2]["type"])
	assert.Equal(t, "2025-09-01T00:00:00Z", events[2]["effective_at"], "a bare ex-date is the start of its day")
	assert.Equal(t, map[string]any{"instrument": "SPLT", "ratio": "4:1", "effective_at": "2025-09-01T00:00:00Z"}, events[2]["data"])

	t.Run("the same split again is a duplicate", func(t *testing.T) {
		again := ts.do(t, "POST", "/api/v1/events", writeToken, `[{"type":"split","instrument":"SPLT","ratio":"4:1","at":"2025-09-01"}]`)
		require.Equal(t, http.StatusOK, again.status, again.body)
		assert.Equal(t, "duplicate", results(t, again.body)[0]["status"])
	})

	res = ts.do(t, "POST", "/api/v1/events", writeToken, `[{"type":"retract","event_id":"`+splitID+`","reason":"announced, then cancelled"}]`)
	require.Equal(t, http.StatusCreated, res.status, res.body)
	requireFigures(t, object(t, ts.get(t, path).body), map[string]string{"mean_target": "480", "close": "100", "upside_pct": "380"})
	events = array(t, ts.get(t, "/api/v1/instruments/SPLT/events").body)
	assert.Equal(t, results(t, res.body)[0]["event_id"], events[2]["retracted_by"])
}

func TestImportSplitRows(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{empty: true})
	jsonl := `{"type":"close","instrument":"SPLT","price":"400","currency":"USD","at":"2025-08-29"}` + "\n" +
		`{"type":"split","instrument":"SPLT","ratio":"4:1","at":"2025-09-01"}` + "\n"
	res := ts.doWith(t, "POST", "/api/v1/import", writeToken, jsonl, http.Header{"Content-Type": {"application/x-ndjson"}})
	require.Equal(t, http.StatusOK, res.status, res.body)
	assert.Equal(t, "2", text(object(t, res.body)["imported"]))

	csv := "type,instrument,price,currency,at,ratio\nclose,SPLT,100,USD,2025-09-01,\nsplit,SPLT,,,2025-09-03,3:2\n"
	res = ts.doWith(t, "POST", "/api/v1/import", writeToken, csv, http.Header{"Content-Type": {"text/csv"}})
	require.Equal(t, http.StatusOK, res.status, res.body)
	assert.Equal(t, "2", text(object(t, res.body)["imported"]))
	events := array(t, ts.get(t, "/api/v1/instruments/SPLT/events").body)
	require.Len(t, events, 4)
	assert.Equal(t, "3:2", events[3]["data"].(map[string]any)["ratio"])
	// The close of 1 September, 100, is before the 3:2 split of 3
	// September: on that day's basis it is 100 x 2/3, to 6 dp.
	requireFigures(t, object(t, ts.get(t, "/api/v1/instruments/SPLT/consensus?as_of=2025-09-03").body), map[string]string{"close": "66.666667"})
}

// TestPostEventsRefusesBadSplits: every bad split row of issue 12 is 422
// with the field at fault and a sentence naming the value, and nothing is
// written.
func TestPostEventsRefusesBadSplits(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	before := logLength(t, ts, "BABA")
	for _, tc := range []struct {
		name, row, field, says string
	}{
		{"1:1", `"ratio":"1:1","at":"2025-09-01"`, "ratio", `ratio "1:1" changes nothing: N and M must differ`},
		{"0:1", `"ratio":"0:1","at":"2025-09-01"`, "ratio", `ratio "0:1" must name at least 1 share on each side`},
		{"4:0", `"ratio":"4:0","at":"2025-09-01"`, "ratio", `ratio "4:0" must name at least 1 share on each side`},
		{"4/1", `"ratio":"4/1","at":"2025-09-01"`, "ratio", `ratio "4/1" must be N:M with whole numbers`},
		{"4:1.5", `"ratio":"4:1.5","at":"2025-09-01"`, "ratio", `ratio "4:1.5" must be N:M with whole numbers`},
		{"negative", `"ratio":"-4:1","at":"2025-09-01"`, "ratio", `ratio "-4:1" must be N:M with whole numbers`},
		{"a number", `"ratio":4,"at":"2025-09-01"`, "ratio", `ratio "4" must be N:M with whole numbers`},
		{"over 1,000,000", `"ratio":"1:1000001","at":"2025-09-01"`, "ratio", `ratio "1:1000001" must name at most 1000000 shares on each side`},
		{"missing", `"at":"2025-09-01"`, "ratio", `ratio is required`},
		{"unknown date format", `"ratio":"4:1","at":"1 Sep 2025"`, "at", `at "1 Sep 2025" `},
		{"with a currency", `"ratio":"4:1","at":"2025-09-01","currency":"USD"`, "currency", `currency "USD" is not a field of a split (a split has instrument, ratio and at)`},
		{"with a target", `"ratio":"4:1","at":"2025-09-01","target":"100"`, "target", `target "100" is not a field of a split (a split has instrument, ratio and at)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := ts.do(t, "POST", "/api/v1/events", writeToken, `[{"type":"split","instrument":"BABA",`+tc.row+`}]`)
			requireError(t, res, http.StatusUnprocessableEntity, "")
			rows := results(t, res.body)
			require.Len(t, rows, 1)
			assert.Equal(t, "refused", rows[0]["status"])
			assert.Equal(t, tc.field, rows[0]["field"])
			assert.Contains(t, rows[0]["error"], tc.says)
			assert.Equal(t, before, logLength(t, ts, "BABA"), "nothing written")
		})
	}
}

// TestNewerVersionIs501: a ledger holding an event of a type this version
// does not know answers 501 with a sentence saying so, not a 500.
func TestNewerVersionIs501(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{empty: true})
	res := ts.do(t, "POST", "/api/v1/events", writeToken, `[{"type":"close","instrument":"NEWR","price":"10","currency":"USD","at":"2025-09-01"}]`)
	require.Equal(t, http.StatusCreated, res.status, res.body)
	_, err := ts.store.Append(context.Background(), "instrument-NEWR", eventstore.Version(0), []eventstore.EventData{{
		ID: uuid.MustParse("0b8a3c5e-0000-4000-8000-00000000f0f1"), Type: "DividendRecorded",
		Data:        []byte(`{"instrument":"NEWR","amount":"0.25","effective_at":"2025-09-02T00:00:00Z"}`),
		Metadata:    []byte(`{"recorded_by":"a newer consensus","source":"test"}`),
		EffectiveAt: time.Date(2025, 9, 2, 0, 0, 0, 0, time.UTC),
	}})
	require.NoError(t, err)
	for _, path := range []string{"/api/v1/instruments/NEWR/consensus", "/api/v1/instruments/NEWR/events"} {
		res := ts.get(t, path)
		requireError(t, res, http.StatusNotImplemented, "")
		assert.Equal(t, "the ledger holds events written by a newer version of consensus; this server must be upgraded to read them.",
			object(t, res.body)["error"], path)
	}
}
