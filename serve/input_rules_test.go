package serve_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// POST /api/v1/events judges a retraction without instrument as the import
// does: it belongs to the retracted event's instrument, stored or a row of
// the same batch.
func TestPostEventsRetractionWithoutInstrument(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	stored := array(t, ts.get(t, "/api/v1/instruments/BABA/events").body)[0]["event_id"].(string)
	const inBatch = "0b8a3c5e-0000-4000-8000-000000000002"
	unknown := uuid.NewString()

	res := ts.do(t, "POST", "/api/v1/events", writeToken, `[
	 {"type":"retract","event_id":"`+unknown+`","reason":"nowhere"}
	]`)
	requireError(t, res, http.StatusUnprocessableEntity, "")
	rows := results(t, res.body)
	assert.Equal(t, "event_id", rows[0]["field"])
	// The import's words for the same row (domain.RefuseUnplaced).
	assert.Equal(t, `event_id "`+unknown+`" is not an event of this ledger or of this file.`, rows[0]["error"])

	batch := `[
	 {"type":"retract","event_id":"` + stored + `","reason":"wrong analyst"},
	 {"type":"retract","event_id":"` + inBatch + `","reason":"keyed twice"},
	 {"type":"close","instrument":"9988.HK","price":"150","currency":"HKD","at":"2025-09-13","id":"` + inBatch + `"}
	]`
	res = ts.do(t, "POST", "/api/v1/events", writeToken, batch)
	require.Equal(t, http.StatusCreated, res.status, res.body)
	rows = results(t, res.body)
	assert.Equal(t, "BABA", rows[0]["instrument"])
	assert.Equal(t, "9988.HK", rows[1]["instrument"])

	again := ts.do(t, "POST", "/api/v1/events", writeToken, batch)
	require.Equal(t, http.StatusOK, again.status, again.body)
	for _, r := range results(t, again.body) {
		assert.Equal(t, "duplicate", r["status"], "the same rows again")
	}

	res = ts.do(t, "POST", "/api/v1/events", writeToken, `[{"type":"retract","event_id":"`+stored+`","reason":"reworded"}]`)
	requireError(t, res, http.StatusUnprocessableEntity, "")
	rows = results(t, res.body)
	assert.Contains(t, rows[0]["error"], `event_id "`+stored+`" was already retracted by `)
}

// A request fixes a new instrument's currency by its first row that states
// one, in the array's order, not by the earliest effective.
func TestPostEventsCurrencyIsFixedByTheFirstRow(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	res := ts.do(t, "POST", "/api/v1/events", writeToken, `[
	 {"type":"close","instrument":"NEWCO","price":"155.44","currency":"USD","at":"2025-09-11"},
	 {"type":"close","instrument":"NEWCO","price":"140","currency":"EUR","at":"2025-09-01"}
	]`)
	requireError(t, res, http.StatusUnprocessableEntity, "")
	rows := results(t, res.body)
	assert.Equal(t, "valid", rows[0]["status"])
	assert.Equal(t, "currency", rows[1]["field"])
	assert.Equal(t, `currency "EUR" differs from NEWCO's currency USD.`, rows[1]["error"])
}

// A symbol must start with a letter or digit on every path: "." and ".."
// could never be named in a URL, so none may be recorded.
func TestSymbolsMustStartWithALetterOrDigit(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	res := ts.get(t, "/api/v1/instruments/-2-3/consensus")
	requireError(t, res, http.StatusBadRequest, "symbol")
	assert.Equal(t, `symbol "-2-3" must start with a letter or digit.`, object(t, res.body)["error"])

	res = ts.do(t, "POST", "/api/v1/events", writeToken,
		`[{"type":"close","instrument":"..","price":"1","currency":"USD","at":"2025-09-01"}]`)
	requireError(t, res, http.StatusUnprocessableEntity, "")
	rows := results(t, res.body)
	assert.Equal(t, "instrument", rows[0]["field"])
	assert.Equal(t, `instrument ".." must start with a letter or digit.`, rows[0]["error"])
}
