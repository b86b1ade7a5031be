package serve_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDisclosuresRoutes: the firms and the worked example of issue 14 over
// the API, as JSON, CSV and PDF, and the refusals with their fields.
func TestDisclosuresRoutes(t *testing.T) {
	ts := newServer(t, options{})

	firms := array(t, ts.get(t, "/api/v1/firms").body)
	require.Len(t, firms, 22, "the demo names 22 firms")
	assert.Equal(t, "Alpenbank Equities", text(firms[0]["firm"]))
	assert.Equal(t, "2", text(firms[0]["instruments"]))

	base := "/api/v1/firms/Meridian%20Capital/disclosures?as_of=2025-09-12&known_at=2026-11-25"
	res := ts.get(t, base)
	require.Equal(t, 200, res.status, res.body)
	rep := object(t, res.body)
	dist := rep["distribution"].(map[string]any)
	assert.Equal(t, []string{"1", "1", "100.00", "0.00", "0.00"},
		[]string{text(dist["instruments"]), text(dist["buy"]), text(dist["buy_pct"]), text(dist["hold_pct"]), text(dist["sell_pct"])})
	recs := rep["recommendations"].([]any)
	require.Len(t, recs, 2)
	second := recs[1].(map[string]any)
	assert.Equal(t, []string{"175", "raised", "135", "2025-08-29T23:59:59.999999999Z", "152.98"},
		[]string{text(second["target"]), text(second["target_action"]), text(second["close_at_publication"]),
			text(second["close_at_publication_at"]), text(second["close_as_of"])})

	csv := ts.get(t, base+"&format=csv")
	require.Equal(t, 200, csv.status, csv.body)
	assert.Equal(t, "text/csv; charset=utf-8", csv.header.Get("Content-Type"))
	assert.Equal(t, 1+3+1+2, strings.Count(csv.body, "\n"), "header, three buckets, one holding, two recommendations")

	pdf := ts.get(t, base+"&format=pdf")
	require.Equal(t, 200, pdf.status, pdf.body)
	assert.Equal(t, "application/pdf", pdf.header.Get("Content-Type"))
	assert.True(t, strings.HasPrefix(pdf.body, "%PDF-1."))
	again := ts.get(t, base+"&format=pdf")
	assert.True(t, bytes.Equal([]byte(pdf.body), []byte(again.body)), "the same question, the same PDF")

	requireError(t, ts.get(t, "/api/v1/firms/Meridian%20Capitol/disclosures"), 404, "firm")
	assert.Contains(t, ts.get(t, "/api/v1/firms/Meridian%20Capitol/disclosures").body, `closest known: \"Meridian Capital\"`)
	requireError(t, ts.get(t, base+"&months=0"), 400, "months")
	requireError(t, ts.get(t, base+"&months=121"), 400, "months")
	requireError(t, ts.get(t, base+"&months=x"), 400, "months")
	requireError(t, ts.get(t, base+"&format=docx"), 400, "format")
}
