package chart_test

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/chart"
	"github.com/consensus-ledger/consensus/projections"
)

// splitRows are five daily rows, 8 to 12 March 2025, of an instrument split
// 4:1 on 10 March, with the prices as published: a close of 400 and a
// mean target of 480 before the split, 100 and 120 from its ex-date on.
func splitRows(t *testing.T) ([]projections.Consensus, projections.AppliedSplit) {
	dec := func(s string) *projections.Decimal {
		d, err := projections.ParseDecimal(s)
		require.NoError(t, err)
		return &d
	}
	split := projections.AppliedSplit{EventID: uuid.MustParse("0193a0f6-0000-7000-8000-000000000001"), Ratio: "4:1",
		EffectiveAt: time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)}
	var rows []projections.Consensus
	for day := 8; day <= 12; day++ {
		r := projections.Consensus{Instrument: "SPLT", Currency: "USD", AsOf: time.Date(2025, 3, day, 23, 59, 59, 999999999, time.UTC),
			Label: projections.LabelNoConsensus, Close: dec("400"), MeanTarget: dec("480"), Splits: []projections.AppliedSplit{}}
		if day >= 10 {
			r.Close, r.MeanTarget = dec("100"), dec("120")
		}
		rows = append(rows, r)
	}
	return rows, split
}

// The chart marks a split on the time axis: a dashed vertical line at its
// ex-date across every panel, labelled with the ratio in the first, in the
// SVG and in the PNG, and says so in its description.
func TestSplitMarker(t *testing.T) {
	rows, split := splitRows(t)
	fig := chart.New(rows, chart.Options{Panels: chart.TargetPanel, Splits: []projections.AppliedSplit{split}})
	var buf bytes.Buffer
	require.NoError(t, fig.WriteSVG(&buf))
	svg := buf.String()
	requireWellFormed(t, svg)
	// The plot runs from x 58 to 944 with an inset of 14 and from y 30 to
	// 576; the ex-date, 00:00 on 10 March, is a quarter of the way from the
	// first row (end of 8 March) to the last (end of 12 March), plus one
	// nanosecond: 72 + 858/4 = 286.5.
	assert.Equal(t, 1, strings.Count(svg, `<polyline class="split" points="286.5,30 286.5,576"/>`), svg)
	assert.Equal(t, 1, strings.Count(svg, `<text class="split-text" x="289.5" y="41">4:1</text>`))
	assert.Contains(t, svg, ".split{fill:none;stroke:#b45309;stroke-width:1;stroke-dasharray:4;stroke-linecap:butt}")
	assert.True(t, strings.HasSuffix(fig.Description, " Splits: 4:1 on 2025-03-10."), fig.Description)

	// Both panels: a line across each, one label.
	both := chart.New(rows, chart.Options{Splits: []projections.AppliedSplit{split}})
	lines, labels := 0, 0
	for _, s := range both.Shapes {
		switch s := s.(type) {
		case chart.Line:
			if s.Class == chart.ClassSplit {
				lines++
				assert.Equal(t, s.Points[0].X, s.Points[1].X, "vertical")
			}
		case chart.Text:
			if s.Class == chart.ClassSplitText {
				labels++
				assert.Equal(t, "4:1", s.Text)
			}
		}
	}
	assert.Equal(t, 2, lines)
	assert.Equal(t, 1, labels)

	// The PNG paints the dashes and leaves the gaps: at twice the size, the
	// first dash covers y 30 to 34 and the first gap 34 to 38.
	buf.Reset()
	require.NoError(t, fig.WritePNG(&buf, 2))
	img, err := png.Decode(&buf)
	require.NoError(t, err)
	orange := chart.StyleOf(chart.ClassSplit).Stroke
	assertNear(t, orange, img.At(573, 64), "in the first dash")
	r, g, b, _ := img.At(573, 72).RGBA()
	assert.Equal(t, [3]uint32{0xffff, 0xffff, 0xffff}, [3]uint32{r, g, b}, "in the first gap: the background")
}

// Without explicit splits, a chart marks those its rows were adjusted for;
// a split at or before the first row, or after the last, is not marked.
func TestSplitMarkerFromRowsAndRange(t *testing.T) {
	rows, split := splitRows(t)
	for i := range rows {
		rows[i].Splits = []projections.AppliedSplit{split}
	}
	count := func(fig *chart.Figure) int {
		n := 0
		for _, s := range fig.Shapes {
			if l, ok := s.(chart.Line); ok && l.Class == chart.ClassSplit {
				n++
			}
		}
		return n
	}
	assert.Equal(t, 1, count(chart.New(rows, chart.Options{Panels: chart.TargetPanel})), "the rows' split")
	assert.Equal(t, 0, count(chart.New(rows[2:], chart.Options{Panels: chart.TargetPanel})), "the first row is on the ex-date: nothing changes within the series")
	assert.Equal(t, 0, count(chart.New(rows[:2], chart.Options{Panels: chart.TargetPanel, Splits: []projections.AppliedSplit{split}})), "after the last row")
	assert.Equal(t, 0, count(chart.New(rows, chart.Options{Panels: chart.TargetPanel, Splits: []projections.AppliedSplit{}})), "an explicit empty list marks none")

	// A split by the last row, at the right edge, is labelled on the left of
	// its line, inside the plot.
	rows[4].Splits = []projections.AppliedSplit{{EventID: uuid.New(), Ratio: "1:10", EffectiveAt: rows[4].AsOf}}
	var buf bytes.Buffer
	require.NoError(t, chart.New(rows, chart.Options{Panels: chart.TargetPanel}).WriteSVG(&buf))
	assert.Contains(t, buf.String(), `<polyline class="split" points="930,30 930,576"/><text class="split-text" x="927" y="41" text-anchor="end">1:10</text>`)
}
