package serve_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/serve"
)

// logLength is the number of BABA events the server lists.
func logLength(t *testing.T, ts *testServer, symbol string) int {
	t.Helper()
	res := ts.get(t, "/api/v1/instruments/"+symbol+"/events")
	if res.status == http.StatusNotFound {
		return 0
	}
	require.Equal(t, http.StatusOK, res.status, res.body)
	return len(array(t, res.body))
}

// results decodes the per-row results of an answer to POST /events.
func results(t *testing.T, body string) []map[string]any {
	t.Helper()
	var answer struct {
		Results []map[string]any `json:"results"`
	}
	decode(t, body, &answer)
	return answer.Results
}

func TestPostEvents(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	// The revision comes first in the array, but judged as an import judges
	// a file, it follows the rating it revises.
	batch := `[
	 {"type":"target","instrument":"BABA","analyst":"z.new@firm-z","target":175,"currency":"USD","at":"2025-09-15"},
	 {"type":"rating","instrument":"baba","analyst":"z.new@firm-z","firm":"Firm Z","rating":"outperform","target":"170.5","currency":"usd","at":"2025-09-14","source":"desk"},
	 {"type":"close","instrument":"9988.HK","price":"151.2","currency":"HKD","at":"2025-09-15"}
	]`
	before := logLength(t, ts, "BABA")

	res := ts.do(t, "POST", "/api/v1/events", writeToken, batch)
	require.Equal(t, http.StatusCreated, res.status, res.body)
	rows := results(t, res.body)
	require.Len(t, rows, 3)
	for i, r := range rows {
		assert.Equal(t, "written", r["status"], "row %d", i)
		assert.Equal(t, text(i), text(r["index"]))
		assert.NotNil(t, r["event_id"])
		assert.NotNil(t, r["recorded_at"])
		assert.Nil(t, r["error"])
	}
	assert.Equal(t, "TargetRevised", rows[0]["type"])
	assert.Equal(t, "BABA", rows[1]["instrument"])
	assert.Equal(t, before+2, logLength(t, ts, "BABA"))

	events := array(t, ts.get(t, "/api/v1/instruments/BABA/events").body)
	last := events[len(events)-1]
	assert.Equal(t, "importer bot", last["recorded_by"], "the token's name is kept as recorded_by")
	assert.Equal(t, rows[0]["event_id"], last["event_id"], "the revision is appended after the rating")
	assert.Equal(t, "desk", events[len(events)-2]["source"])
	assert.Equal(t, "api", last["source"], "the default source")

	t.Run("the same batch again writes nothing", func(t *testing.T) {
		again := ts.do(t, "POST", "/api/v1/events", writeToken, batch)
		require.Equal(t, http.StatusOK, again.status, again.body)
		for _, r := range results(t, again.body) {
			assert.Equal(t, "duplicate", r["status"])
		}
		assert.Equal(t, before+2, logLength(t, ts, "BABA"))
	})
}

func TestPostEventsAllOrNothing(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	before := logLength(t, ts, "BABA")
	res := ts.do(t, "POST", "/api/v1/events", writeToken, `[
	 {"type":"rating","instrument":"BABA","analyst":"ok@firm","rating":"buy","currency":"USD","at":"2025-09-14"},
	 {"type":"rating","instrument":"BABA","analyst":"bad@firm","rating":"buy","target":"12,5","currency":"USD","at":"2025-09-14"},
	 {"type":"target","instrument":"BABA","analyst":"nobody@firm","target":"100","currency":"USD","at":"2025-09-14"},
	 {"type":"close","instrument":"BABA","price":"150","currency":"EUR","at":"2025-09-14"},
	 {"type":"rating","instrument":"BABA","analyst":"x@firm","rating":"buy","currency":"USD","at":"2025-09-14","colour":"red"}
	]`)
	requireError(t, res, http.StatusUnprocessableEntity, "")
	rows := results(t, res.body)
	require.Len(t, rows, 5)
	assert.Equal(t, "valid", rows[0]["status"], "valid, but not written")
	for i, field := range map[int]string{1: "target", 2: "analyst", 3: "currency", 4: "colour"} {
		assert.Equal(t, "refused", rows[i]["status"], "row %d", i)
		assert.Equal(t, field, rows[i]["field"], "row %d", i)
		assert.NotEmpty(t, rows[i]["error"], "row %d", i)
	}
	assert.Contains(t, rows[2]["error"], "holds no rating")
	assert.Equal(t, before, logLength(t, ts, "BABA"), "nothing was written")
}

func TestPostEventsRetractionInTheSameBatch(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	const id = "0b8a3c5e-0000-4000-8000-000000000001"
	res := ts.do(t, "POST", "/api/v1/events", writeToken, `[
	 {"type":"retract","instrument":"BABA","event_id":"`+id+`","reason":"keyed twice"},
	 {"type":"close","instrument":"BABA","price":"1550","currency":"USD","at":"2025-09-13","id":"`+id+`"}
	]`)
	require.Equal(t, http.StatusCreated, res.status, res.body)
	rows := results(t, res.body)
	assert.Equal(t, id, rows[1]["event_id"], "the explicit id is kept")
	events := array(t, ts.get(t, "/api/v1/instruments/BABA/events").body)
	var retractedBy any
	for _, e := range events {
		if e["event_id"] == id {
			retractedBy = e["retracted_by"]
		}
	}
	assert.Equal(t, rows[0]["event_id"], retractedBy)
}

func TestPostEventsIDConflict(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	demoID := array(t, ts.get(t, "/api/v1/instruments/BABA/events").body)[0]["event_id"].(string)
	res := ts.do(t, "POST", "/api/v1/events", writeToken,
		`[{"type":"close","instrument":"BABA","price":"1","currency":"USD","at":"2025-09-13","id":"`+demoID+`"}]`)
	requireError(t, res, http.StatusConflict, "")
	assert.Equal(t, "id", results(t, res.body)[0]["field"])
}

func TestPostEventsBadBodies(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{config: func(c *serve.Config) { c.MaxBodyBytes = 64 << 10 }})
	row := `{"type":"close","instrument":"BABA","price":"150","currency":"USD","at":"2025-09-13"}`
	tooMany := "[" + strings.TrimSuffix(strings.Repeat(row+",", serve.MaxEventRows+1), ",") + "]"
	for _, c := range []struct {
		name, body string
		status     int
	}{
		{"not JSON", `{"type":`, 400},
		{"an object, not an array", row, 400},
		{"empty array", `[]`, 400},
		{"empty body", ``, 400},
		{"unclosed array", `[` + row, 400},
		{"two arrays", `[` + row + `][]`, 400},
		{"too many rows", tooMany, 413},
		{"too large", `[{"type":"close","reason":"` + strings.Repeat("x", 70<<10) + `"}]`, 413},
	} {
		t.Run(c.name, func(t *testing.T) {
			requireError(t, ts.do(t, "POST", "/api/v1/events", writeToken, c.body), c.status, "")
		})
	}
	t.Run("rows that are not objects or have odd values", func(t *testing.T) {
		// Read as the import reads the same objects on lines of a file
		// (backfill.ArrayReader), in its words.
		res := ts.do(t, "POST", "/api/v1/events", writeToken, `[1, {"type":true}, {"type":"close","type":"close"}, {"type":"close","id":"nope"}, {"id":"nope"}]`)
		requireError(t, res, http.StatusUnprocessableEntity, "")
		rows := results(t, res.body)
		require.Len(t, rows, 5)
		assert.Nil(t, rows[0]["field"])
		assert.Equal(t, "the row is not a JSON object.", rows[0]["error"])
		assert.Equal(t, "type", rows[1]["field"])
		assert.Equal(t, "type is true or false; give a string or a number.", rows[1]["error"])
		assert.Equal(t, "type", rows[2]["field"])
		assert.Equal(t, "type is given twice.", rows[2]["error"])
		assert.Equal(t, "id", rows[3]["field"])
		assert.Equal(t, `id is not a UUID: "nope".`, rows[3]["error"])
		assert.Equal(t, "type", rows[4]["field"], "the type is read first, as the import does")
		assert.Equal(t, "type is required.", rows[4]["error"])
	})
}

func TestImport(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	jsonl := strings.Join([]string{
		`{"type":"rating","instrument":"NEW","analyst":"a@firm","rating":"buy","target":"10","currency":"EUR","at":"2025-01-02"}`,
		`{"type":"target","instrument":"NEW","analyst":"a@firm","target":"11","currency":"EUR","at":"2025-02-03"}`,
		`{"type":"target","instrument":"NEW","analyst":"b@firm","target":"11","currency":"EUR","at":"2025-02-03"}`,
		`{"type":"close","instrument":"NEW","price":"9.5","currency":"EUR","at":"2025-02-03"}`,
	}, "\n") + "\n"

	t.Run("dry run writes nothing", func(t *testing.T) {
		res := ts.doWith(t, "POST", "/api/v1/import?dry_run=true", writeToken, jsonl, http.Header{"Content-Type": {"application/x-ndjson"}})
		requireError(t, res, http.StatusUnprocessableEntity, "")
		got := object(t, res.body)
		assert.Equal(t, true, got["dry_run"])
		assert.Equal(t, "3", text(got["imported"]))
		assert.Equal(t, 0, logLength(t, ts, "NEW"))
	})

	res := ts.doWith(t, "POST", "/api/v1/import?name=new.jsonl", writeToken, jsonl, http.Header{"Content-Type": {"application/x-ndjson"}})
	requireError(t, res, http.StatusUnprocessableEntity, "")
	got := object(t, res.body)
	assert.Equal(t, "3", text(got["imported"]))
	assert.Equal(t, "1", text(got["rejected"]))
	rejects := got["rejects"].([]any)
	require.Len(t, rejects, 1)
	reject := rejects[0].(map[string]any)
	assert.Equal(t, "3", text(reject["line"]), "the contract's --rejects line format")
	assert.Equal(t, "analyst", reject["field"])
	assert.Equal(t, 3, logLength(t, ts, "NEW"))
	events := array(t, ts.get(t, "/api/v1/instruments/NEW/events").body)
	assert.Equal(t, "importer bot", events[0]["recorded_by"])
	assert.Equal(t, "import:new.jsonl:1", events[0]["source"])
	requireFigures(t, object(t, ts.get(t, "/api/v1/instruments/NEW/consensus?as_of=2025-02-03").body),
		map[string]string{"mean_target": "11", "close": "9.5"})

	t.Run("CSV, sent again: every row a duplicate", func(t *testing.T) {
		csv := "type,instrument,analyst,rating,target,currency,at\nrating,NEW,a@firm,buy,10,EUR,2025-01-02\n"
		res := ts.doWith(t, "POST", "/api/v1/import", writeToken, csv, http.Header{"Content-Type": {"text/csv"}})
		require.Equal(t, http.StatusOK, res.status, res.body)
		got := object(t, res.body)
		assert.Equal(t, "0", text(got["imported"]))
		assert.Equal(t, "1", text(got["duplicates"]))
	})
	t.Run("format from the first byte", func(t *testing.T) {
		res := ts.do(t, "POST", "/api/v1/import", writeToken, jsonl)
		require.Equal(t, http.StatusUnprocessableEntity, res.status, res.body)
		assert.Equal(t, "3", text(object(t, res.body)["duplicates"]))
	})
	t.Run("empty body", func(t *testing.T) {
		res := ts.do(t, "POST", "/api/v1/import", writeToken, "")
		require.Equal(t, http.StatusOK, res.status, res.body)
		assert.Equal(t, "0", text(object(t, res.body)["imported"]))
	})
	t.Run("a CSV header without type", func(t *testing.T) {
		requireError(t, ts.doWith(t, "POST", "/api/v1/import", writeToken, "instrument,at\nBABA,2025-01-01\n",
			http.Header{"Content-Type": {"text/csv"}}), http.StatusBadRequest, "")
	})
	t.Run("a JSON array", func(t *testing.T) {
		requireError(t, ts.do(t, "POST", "/api/v1/import", writeToken, `[{"type":"close"}]`), http.StatusBadRequest, "")
	})
	t.Run("bad parameters", func(t *testing.T) {
		requireError(t, ts.do(t, "POST", "/api/v1/import?dry_run=perhaps", writeToken, jsonl), http.StatusBadRequest, "dry_run")
		requireError(t, ts.do(t, "POST", "/api/v1/import?name=", writeToken, jsonl), http.StatusBadRequest, "name")
	})
}

func TestImportTooLarge(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{config: func(c *serve.Config) { c.MaxImportBytes = 4 << 10 }})
	var b strings.Builder
	for i := 0; b.Len() < 8<<10; i++ {
		fmt.Fprintf(&b, `{"type":"close","instrument":"BIG","price":"%d","currency":"USD","at":"2025-01-01T00:%02d:%02dZ"}`+"\n", i+1, i/60%60, i%60)
	}
	requireError(t, ts.do(t, "POST", "/api/v1/import", writeToken, b.String()), http.StatusRequestEntityTooLarge, "")
	assert.Equal(t, 0, logLength(t, ts, "BIG"), "nothing written: the body is read in full before anything is applied")
}

// TestPostEventsRefusesHiddenText: a source with characters a terminal
// would act on is refused like any other bad field, naming it.
func TestPostEventsRefusesHiddenText(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	before := logLength(t, ts, "BABA")
	res := ts.do(t, "POST", "/api/v1/events", writeToken,
		`[{"type":"close","instrument":"BABA","price":"150","currency":"USD","at":"2025-09-14","source":"feed\u001b]0;owned\u0007"}]`)
	requireError(t, res, http.StatusUnprocessableEntity, "")
	rows := results(t, res.body)
	require.Len(t, rows, 1)
	assert.Equal(t, "source", rows[0]["field"])
	assert.Equal(t, before, logLength(t, ts, "BABA"), "nothing was written")
}
