package chart_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"image/color"
	"image/png"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/chart"
	"github.com/consensus-ledger/consensus/demo"
	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/ledger"
	"github.com/consensus-ledger/consensus/projections"
)

var now = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// demoRows is the demo's BABA history, daily, from June to Thursday 11
// September 2025.
func demoRows(t testing.TB, every projections.Every) []projections.Consensus {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "demo.db"), sqlite.Options{Now: func() time.Time { return now }})
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	l := ledger.New(store, ledger.WithClock(func() time.Time { return now }))
	_, err = demo.Load(context.Background(), l)
	require.NoError(t, err)
	from, _ := domain.ParseTime("from", "2025-06-01")
	to, _ := domain.ParseTime("to", "2025-09-11")
	rows, err := l.History(context.Background(), "BABA", from, to, every, projections.Query{KnownAt: now, Window: projections.DefaultWindow})
	require.NoError(t, err)
	return rows
}

func TestSVG(t *testing.T) {
	fig := chart.New(demoRows(t, projections.Day), chart.Options{Title: "BABA & friends <USD>"})
	var buf bytes.Buffer
	require.NoError(t, fig.WriteSVG(&buf))
	svg := buf.String()
	requireWellFormed(t, svg)
	assert.True(t, strings.HasPrefix(svg, `<svg xmlns="http://www.w3.org/2000/svg" width="960" height="600"`))
	assert.Contains(t, svg, "BABA &amp; friends &lt;USD&gt;", "text is escaped")
	assert.Contains(t, svg, "mean target 165.69 USD", "the latest mean target, exactly as computed")
	assert.Contains(t, svg, "close 155.44")
	assert.Contains(t, svg, "buy 17")
	assert.Contains(t, svg, "<desc id=\"d\">BABA consensus from 2025-06-01 to 2025-09-11: at the end 17 buy, 1 hold, 0 sell, mean target 165.69 USD, close 155.44, upside 6.59 %.</desc>")
	assert.Contains(t, svg, `class="band"`)
	assert.Contains(t, svg, `class="mean"`)
	assert.Less(t, buf.Len(), 60_000, "a compact file for a daily quarter")
}

func TestPNGMatchesTheFigure(t *testing.T) {
	fig := chart.New(demoRows(t, projections.Week), chart.Options{Width: 640, Height: 400})
	var buf bytes.Buffer
	require.NoError(t, fig.WritePNG(&buf, 2))
	img, err := png.Decode(&buf)
	require.NoError(t, err)
	require.Equal(t, 1280, img.Bounds().Dx(), "twice the figure's width")
	require.Equal(t, 800, img.Bounds().Dy())

	// Every point of the mean-target line is painted in the line's blue,
	// and every column's foot in its bucket's colour: the raster shows the
	// shapes the SVG describes, where it describes them.
	checked := 0
	for _, s := range fig.Shapes {
		switch s := s.(type) {
		case chart.Line:
			if s.Class != chart.ClassMean {
				continue
			}
			for _, p := range s.Points {
				assertNear(t, chart.StyleOf(chart.ClassMean).Stroke, img.At(int(p.X*2), int(p.Y*2)), "mean line at %v", p)
				checked++
			}
		case chart.Rect:
			if s.Class == chart.ClassBuy && s.W >= 2 && s.H >= 2 {
				assertNear(t, chart.StyleOf(chart.ClassBuy).Fill, img.At(int((s.X+s.W/2)*2), int((s.Y+s.H/2)*2)), "buy column %v", s)
				checked++
			}
		}
	}
	assert.Greater(t, checked, 20)
}

// assertNear checks a pixel is close to a colour (anti-aliasing and the
// band underneath may shift it a little).
func assertNear(t *testing.T, want color.NRGBA, got color.Color, msgAndArgs ...any) {
	t.Helper()
	r, g, b, _ := got.RGBA()
	d := func(x uint32, y uint8) int { return max(int(x>>8)-int(y), int(y)-int(x>>8)) }
	assert.LessOrEqual(t, max(d(r, want.R), d(g, want.G), d(b, want.B)), 40, msgAndArgs...)
}

func TestEmptyFigure(t *testing.T) {
	for _, rows := range [][]projections.Consensus{nil, {{Instrument: "X", Label: projections.LabelNoConsensus, AsOf: now}}} {
		fig := chart.New(rows, chart.Options{Width: 10, Height: 99999})
		assert.Equal(t, chart.MinSize, fig.Width, "sizes are clamped")
		assert.Equal(t, chart.MaxSize, fig.Height)
		var svg, img bytes.Buffer
		require.NoError(t, fig.WriteSVG(&svg))
		requireWellFormed(t, svg.String())
		assert.Contains(t, svg.String(), "No price targets or closes in this period.")
		require.NoError(t, fig.WritePNG(&img, 1))
	}
}

func TestPanels(t *testing.T) {
	rows := demoRows(t, projections.Week)
	var targets, ratings bytes.Buffer
	require.NoError(t, chart.New(rows, chart.Options{Panels: chart.TargetPanel}).WriteSVG(&targets))
	require.NoError(t, chart.New(rows, chart.Options{Panels: chart.RatingPanel}).WriteSVG(&ratings))
	assert.Contains(t, targets.String(), `class="mean"`)
	assert.NotContains(t, targets.String(), `class="buy"`)
	assert.Contains(t, ratings.String(), `class="buy"`)
	assert.NotContains(t, ratings.String(), `class="mean"`)
	for name, want := range map[string]chart.Panels{"targets": chart.TargetPanel, "ratings": chart.RatingPanel, "both": chart.BothPanels} {
		got, ok := chart.ParsePanels(name)
		assert.True(t, ok)
		assert.Equal(t, want, got)
	}
	_, ok := chart.ParsePanels("Both")
	assert.False(t, ok)
}

func TestAutoEvery(t *testing.T) {
	day := func(s string) time.Time { d, _ := domain.ParseTime("d", s); return d }
	assert.Equal(t, projections.Day, chart.AutoEvery(day("2025-06-01"), day("2025-09-11")))
	assert.Equal(t, projections.Week, chart.AutoEvery(day("2024-06-01"), day("2025-09-11")))
	assert.Equal(t, projections.Month, chart.AutoEvery(day("2015-06-01"), day("2025-09-11")))
}

func requireWellFormed(t *testing.T, doc string) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(doc))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		require.NoError(t, err)
	}
}

// TestRestatedMarks draws the demo's first-published history, recorded live
// (demo.LoadLive): the 1650 typo shown on 3 and 4 September marks those two
// columns in both panels, in the SVG and in the PNG, and the legend and the
// description say what the shade means.
func TestRestatedMarks(t *testing.T) {
	var clock time.Time
	clockNow := func() time.Time { return clock }
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "live.db"), sqlite.Options{Now: clockNow})
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	l := ledger.New(store, ledger.WithClock(clockNow))
	_, err = demo.LoadLive(context.Background(), l, func(at time.Time) { clock = at })
	require.NoError(t, err)
	from, _ := domain.ParseTime("from", "2025-08-25")
	to, _ := domain.ParseTime("to", "2025-09-11")
	h, err := l.FirstPublished(context.Background(), "BABA", from, to, projections.Day,
		projections.Query{KnownAt: now, Window: projections.DefaultWindow})
	require.NoError(t, err)
	rows, restated := h.Split()
	var marked []time.Time
	for i, r := range rows {
		if restated[i] {
			marked = append(marked, r.AsOf)
		}
	}
	require.Equal(t, []time.Time{when(t, "2025-09-03"), when(t, "2025-09-04")}, marked)

	fig := chart.New(rows, chart.Options{Width: 640, Height: 400, Restated: restated})
	var marks []chart.Rect
	for _, s := range fig.Shapes {
		if r, ok := s.(chart.Rect); ok && r.Class == chart.ClassRestated {
			marks = append(marks, r)
		}
	}
	require.Len(t, marks, 5, "the legend's swatch, then two columns in each panel")
	assert.Contains(t, fig.Description, " 2 of 18 rows, shaded, read differently now than when first published.")

	var svg bytes.Buffer
	require.NoError(t, fig.WriteSVG(&svg))
	requireWellFormed(t, svg.String())
	assert.Contains(t, svg.String(), "restated since first published")
	assert.Contains(t, svg.String(), ".restated{fill:rgba(245,158,11,0.349)}")
	var plain bytes.Buffer
	require.NoError(t, chart.New(rows, chart.Options{Width: 640, Height: 400}).WriteSVG(&plain))
	assert.NotContains(t, plain.String(), "restated", "no marks unless asked")

	var img bytes.Buffer
	require.NoError(t, fig.WritePNG(&img, 1))
	decoded, err := png.Decode(&img)
	require.NoError(t, err)
	// Amber at 35 % over white, near the top of the targets panel's marks.
	shade := color.NRGBA{0xfb, 0xdd, 0xaa, 0xff}
	for _, m := range marks[1:3] {
		assertNear(t, shade, decoded.At(int(m.X+m.W/2), int(m.Y+5)), "mark %v", m)
	}
}

func when(t *testing.T, date string) time.Time {
	at, err := domain.ParseTime("at", date)
	require.NoError(t, err)
	return at
}

// TestLastColumnDoesNotOverlap: a weekly chart to a day that is no week's
// end (Monday 8 September 2025) has its last row a day after the row
// before; its column is narrower than the others and starts after its
// neighbour's ends, where it used to be as wide and cover most of it.
func TestLastColumnDoesNotOverlap(t *testing.T) {
	weeks := demoRows(t, projections.Week)
	require.Equal(t, "2025-09-07", weeks[len(weeks)-2].AsOf.Format(time.DateOnly), "the last week's end")
	var monday projections.Consensus
	for _, r := range demoRows(t, projections.Day) {
		if r.AsOf.Format(time.DateOnly) == "2025-09-08" {
			monday = r
		}
	}
	rows := append(weeks[:len(weeks)-1:len(weeks)-1], monday) // the weekly history to Monday 8 September
	fig := chart.New(rows, chart.Options{Panels: chart.RatingPanel})
	// The buy part of each column (every row of this history has buyers),
	// after the legend's swatch.
	var columns []chart.Rect
	for _, s := range fig.Shapes {
		if r, ok := s.(chart.Rect); ok && r.Class == chart.ClassBuy {
			columns = append(columns, r)
		}
	}
	require.Len(t, columns, 1+len(rows))
	columns = columns[1:]
	n := len(columns)
	for i := 1; i < n; i++ {
		assert.Greater(t, columns[i].X, columns[i-1].X+columns[i-1].W, "column %d starts after column %d ends", i, i-1)
	}
	assert.InDelta(t, 28, columns[n-2].W, 1e-9, "full weeks have columns of the widest width")
	assert.InDelta(t, columns[n-2].X+columns[n-2].W+1, columns[n-1].X, 1e-9, "the last starts a pixel after its neighbour")
	// The plot's 858 px between its insets span 99 days, 8.67 px a day: the
	// last column keeps its own right edge, 14 px right of its row, and
	// starts a pixel after its neighbour's, 14 px right of the row before.
	assert.InDelta(t, 858.0/99-1, columns[n-1].W, 1e-9, "a day's room less a pixel")
}
