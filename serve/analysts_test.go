package serve_test

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/projections"
)

// The analysts API answers what `analyst` and `analysts` print, and top=N
// what `show --top N` does; bad parameters are a 400 naming the field.
func TestAnalystsAPI(t *testing.T) {
	t.Parallel()
	ts := newServer(t, options{})
	ctx := context.Background()

	explain := object(t, ts.get(t, "/api/v1/instruments/BABA/consensus?as_of=2025-09-12&explain=true").body)
	first := explain["explain"].([]any)[0].(map[string]any)["analyst"].(string)
	asOf, err := domain.ParseTime("as_of", "2025-09-12")
	require.NoError(t, err)

	res := ts.get(t, "/api/v1/analysts/"+url.PathEscape(first)+"?as_of=2025-09-12&known_at=2026-11-24T12:00:00Z")
	require.Equal(t, 200, res.status, res.body)
	report, err := ts.ledger.Analyst(ctx, domain.Analyst(first), asOf, now)
	require.NoError(t, err)
	want, err := json.Marshal(report)
	require.NoError(t, err)
	assert.JSONEq(t, string(want), res.body)
	assert.Equal(t, first, object(t, res.body)["summary"].(map[string]any)["analyst"])

	res = ts.get(t, "/api/v1/analysts?as_of=2025-09-12&rank=return&known_at=2026-11-24T12:00:00Z")
	require.Equal(t, 200, res.status, res.body)
	rec, err := ts.ledger.TrackRecords(ctx, asOf, now)
	require.NoError(t, err)
	assert.Equal(t, len(rec.Rank(projections.RankReturn, projections.RankFilter{})), len(array(t, res.body)))

	requireError(t, ts.get(t, "/api/v1/analysts/nobody@nowhere"), 404, "analyst")
	requireError(t, ts.get(t, "/api/v1/analysts?min_closed=-1"), 400, "min_closed")
	requireError(t, ts.get(t, "/api/v1/analysts?rank=best"), 400, "rank")
	requireError(t, ts.get(t, "/api/v1/instruments/BABA/consensus?top=0"), 400, "top")
	requireError(t, ts.get(t, "/api/v1/consensus?top=x"), 400, "top")

	// The demo's calls are days old at most: nobody has a scored call, so
	// the cut is empty and no analyst counts.
	res = ts.get(t, "/api/v1/instruments/BABA/consensus?as_of=2025-09-12&top=3")
	require.Equal(t, 200, res.status, res.body)
	got := object(t, res.body)
	assert.Equal(t, json.Number("0"), got["analysts"])
	assert.Equal(t, map[string]any{"n": json.Number("3"), "ranked": json.Number("0"), "as_of": "2025-09-12T23:59:59.999999999Z", "analysts": []any{}}, got["top"])
	res = ts.get(t, "/api/v1/instruments/BABA/history?from=2025-09-10&to=2025-09-12&top=3")
	require.Equal(t, 200, res.status, res.body)
	assert.Len(t, array(t, res.body), 3)
}
