package chart_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/chart"
)

// TestPriceChartMarkers: a price chart draws the closes as one line and a
// labelled diamond per marker, on the close it was published against, in
// the SVG and the PNG alike.
func TestPriceChartMarkers(t *testing.T) {
	d := func(s string) time.Time { v, _ := time.Parse(time.DateOnly, s); return v }
	s := chart.PriceSeries{From: d("2025-06-20"), To: d("2025-09-12"), Currency: "USD",
		Closes:  []chart.PriceClose{{d("2025-06-20"), 112_600_000}, {d("2025-08-29"), 135_000_000}, {d("2025-09-12"), 152_980_000}},
		Markers: []chart.PriceMarker{{d("2025-06-20"), 112_600_000, "2025-06-20 buy 150"}, {d("2025-09-01"), 135_000_000, "2025-09-01 buy 175"}}}
	fig := chart.NewPrice(s, chart.Options{Title: "BABA price"})
	var lines, diamonds int
	var labels []string
	for _, sh := range fig.Shapes {
		switch sh := sh.(type) {
		case chart.Line:
			if sh.Class == chart.ClassClose && len(sh.Points) == 3 {
				lines++
			}
		case chart.Area:
			if sh.Class == chart.ClassMarker {
				diamonds++
			}
		case chart.Text:
			if sh.Class == chart.ClassMarkerText {
				labels = append(labels, sh.Text)
			}
		}
	}
	assert.Equal(t, 1, lines, "one line through the three closes")
	assert.Equal(t, 2, diamonds)
	assert.Equal(t, []string{"2025-06-20 buy 150", "2025-09-01 buy 175"}, labels)
	assert.Equal(t, "3 closes from 2025-06-20 to 2025-09-12 with 2 rating and target changes marked.", fig.Description)

	var svg bytes.Buffer
	require.NoError(t, fig.WriteSVG(&svg))
	assert.Contains(t, svg.String(), `>2025-09-01 buy 175</text>`)
	var png bytes.Buffer
	require.NoError(t, fig.WritePNG(&png, 1))
	assert.Equal(t, "\x89PNG", png.String()[:4])
}
