package serve_test

import (
	"bytes"
	"database/sql"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/consensus-ledger/consensus/serve"
)

// TestHealthReportsTampering changes one stored event behind the ledger's
// back: the next verification finds it, and the health check fails naming
// the event.
func TestHealthReportsTampering(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{config: func(c *serve.Config) { c.VerifyEvery = 50 * time.Millisecond }})
	require.Eventually(t, func() bool {
		return ts.get(t, "/healthz").status == http.StatusOK
	}, 5*time.Second, 10*time.Millisecond)

	// Raise Thursday's BABA close from 155.44 to 255.44 (the schema is in
	// eventstore/sqlite/migrations).
	db, err := sql.Open("sqlite", ts.path)
	require.NoError(t, err)
	defer db.Close()
	var seq int64
	var data []byte
	require.NoError(t, db.QueryRow(`SELECT seq, data FROM events WHERE stream = 'instrument-BABA' AND type = 'CloseRecorded' AND CAST(data AS TEXT) LIKE '%"155.44"%'`).Scan(&seq, &data))
	_, err = db.Exec(`UPDATE events SET data = ? WHERE seq = ?`, bytes.Replace(data, []byte(`"155.44"`), []byte(`"255.44"`), 1), seq)
	require.NoError(t, err)

	var res response
	require.Eventually(t, func() bool {
		res = ts.get(t, "/healthz")
		return res.status == http.StatusServiceUnavailable
	}, 5*time.Second, 20*time.Millisecond, "the health check fails once the chain is verified again")
	h := object(t, res.body)
	assert.Equal(t, "failing", h["status"])
	verify := h["verify"].(map[string]any)
	assert.Equal(t, "broken", verify["status"])
	assert.Contains(t, verify["problem"], "instrument-BABA")
	assert.Contains(t, verify["problem"], "does not match its hash")
	assert.Regexp(t, `consensus_store_errors_total\{op="verify"\} [1-9]`, ts.get(t, "/metrics").body)
}
