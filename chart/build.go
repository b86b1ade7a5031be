package chart

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/consensus-ledger/consensus/projections"
)

// Panels selects what a figure shows.
type Panels int

// The panels of a consensus chart.
const (
	// TargetPanel is the mean price target with its high-low band, against
	// the close.
	TargetPanel Panels = 1 << iota
	// RatingPanel is the buy, hold and sell counts, stacked.
	RatingPanel
	// BothPanels stacks the target panel above the rating panel.
	BothPanels = TargetPanel | RatingPanel
)

// ParsePanels reads a panel name as the API's panel parameter spells it:
// "targets", "ratings" or "both".
func ParsePanels(name string) (Panels, bool) {
	switch name {
	case "targets":
		return TargetPanel, true
	case "ratings":
		return RatingPanel, true
	case "both":
		return BothPanels, true
	}
	return 0, false
}

// Options say how to draw a figure.
type Options struct {
	// Width and Height are the figure's size in pixels; zero means the
	// default. Sizes are clamped to [MinSize, MaxSize].
	Width, Height int
	// Title is drawn above the panels; empty draws none (the web page puts
	// its own heading beside the figure).
	Title string
	// Panels is what to draw; zero means BothPanels.
	Panels Panels
	// Restated marks rows as restated (rows of a first-published history
	// that read differently now), one entry per row, as
	// projections.PublishedHistory.Split gives them: a marked row's column
	// is shaded in every panel, and the legend says what the shade means.
	Restated []bool
	// Splits are the instrument's splits to mark on the time axis (those
	// outside the rows' range are left out). Nil marks the splits the rows
	// were adjusted for; values as published carry none, so a caller
	// drawing them passes the splits explicitly.
	Splits []projections.AppliedSplit
}

// box is a rectangle of the canvas.
type box struct{ x, y, w, h float64 }

// New draws the consensus rows of one instrument (as History returns them,
// in time order) as a figure.
func New(rows []projections.Consensus, opts Options) *Figure {
	w := clampSize(opts.Width, DefaultWidth)
	h := clampSize(opts.Height, DefaultHeight)
	panels := opts.Panels
	if panels == 0 {
		panels = BothPanels
	}
	marks := markedRows(rows, opts.Restated)
	splits := splitsInRange(rows, opts.Splits)
	f := &Figure{Width: w, Height: h, Title: opts.Title, Description: describe(rows, marks) + describeSplits(splits)}
	f.add(Rect{Class: ClassBackground, W: float64(w), H: float64(h)})
	area := box{0, 0, float64(w), float64(h)}
	if opts.Title != "" {
		f.add(Text{Class: ClassTitle, X: 16, Y: 24, Text: opts.Title})
		area.y, area.h = 34, area.h-34
	}
	x := newTimeScale(rows, plotBox(area, 1).w)
	var plots []box
	switch panels {
	case TargetPanel:
		plots = append(plots, drawTargets(f, rows, marks, x, area))
	case RatingPanel:
		plots = append(plots, drawRatings(f, rows, marks, x, area, true))
	default:
		top := area
		top.h = area.h * 0.62
		bottom := area
		bottom.y, bottom.h = area.y+top.h, area.h-top.h
		plots = append(plots, drawTargets(f, rows, marks, x, top), drawRatings(f, rows, marks, x, bottom, false))
	}
	drawSplits(f, splits, x, plots)
	return f
}

// markedRows is restated cut to the rows, or nil when no row is marked, so
// a plain history draws exactly as before.
func markedRows(rows []projections.Consensus, restated []bool) []bool {
	marks := restated[:min(len(restated), len(rows))]
	if !slices.Contains(marks, true) {
		return nil
	}
	return append(marks, make([]bool, len(rows)-len(marks))...)
}

// restatedLegend is the legend entry of the restated shade.
var restatedLegend = legendItem{ClassRestated, "restated since first published"}

// drawMarks shades the column of every marked row across plot p, behind
// whatever the panel draws next.
func drawMarks(f *Figure, rows []projections.Consensus, marks []bool, x timeScale, p box) {
	if marks == nil {
		return
	}
	width := columnWidth(rows, x, p)
	for i := range rows {
		if marks[i] {
			left, w := columnSpan(rows, i, x, p, width)
			f.add(Rect{Class: ClassRestated, X: left, Y: p.y, W: w, H: p.h})
		}
	}
}

func clampSize(v, def int) int {
	if v == 0 {
		return def
	}
	return min(max(v, MinSize), MaxSize)
}

// Margins of a panel's plot within its box: room for the legend above, the
// value labels on the left and the dates below.
const (
	marginLeft   = 58
	marginRight  = 16
	marginTop    = 30
	marginBottom = 24
)

// plotBox is the plot of a panel in box b whose legend takes legendRows
// rows (a narrow figure wraps its legend).
func plotBox(b box, legendRows int) box {
	top := marginTop + legendRowHeight*float64(max(legendRows, 1)-1)
	return box{b.x + marginLeft, b.y + top, max(b.w-marginLeft-marginRight, 10), max(b.h-top-marginBottom, 10)}
}

// legendRowHeight is the height of one row of a legend.
const legendRowHeight = 18

// timeScale places the rows' points in time along the x axis, inset from
// the plot's edges by half a column so the first and last columns of the
// rating panel stay inside it (both panels share the inset, so their
// points line up).
type timeScale struct {
	from, to time.Time
	inset    float64
}

func newTimeScale(rows []projections.Consensus, plotWidth float64) timeScale {
	if len(rows) == 0 {
		return timeScale{}
	}
	inset := math.Min(14, plotWidth/float64(2*len(rows)))
	return timeScale{rows[0].AsOf, rows[len(rows)-1].AsOf, inset}
}

// at is the x coordinate of t within plot p.
func (s timeScale) at(t time.Time, p box) float64 {
	span := s.to.Sub(s.from)
	if span <= 0 {
		return p.x + p.w/2
	}
	return p.x + s.inset + (p.w-2*s.inset)*float64(t.Sub(s.from))/float64(span)
}

// drawTimeAxis writes the date labels under plot p.
func drawTimeAxis(f *Figure, s timeScale, p box) {
	if s.from.IsZero() {
		return
	}
	for _, t := range timeTicks(s.from, s.to, int(p.w/90)) {
		x := s.at(t.at, p)
		f.add(Line{Class: ClassGrid, Points: []Point{{x, p.y + p.h}, {x, p.y + p.h + 4}}})
		f.add(Text{Class: ClassAxisText, X: x, Y: p.y + p.h + 17, Anchor: Middle, Text: t.label})
	}
}

// drawValueAxis writes horizontal grid lines with their labels and returns
// the function placing a value on plot p.
func drawValueAxis(f *Figure, lo, hi float64, minStep float64, p box) func(float64) float64 {
	ticks, axisLo, axisHi := numberTicks(lo, hi, max(int(p.h/48), 2), minStep)
	y := func(v float64) float64 { return p.y + p.h - p.h*(v-axisLo)/(axisHi-axisLo) }
	for _, t := range ticks {
		ty := y(t.value)
		f.add(Line{Class: ClassGrid, Points: []Point{{p.x, ty}, {p.x + p.w, ty}}})
		f.add(Text{Class: ClassAxisText, X: p.x - 6, Y: ty + 4, Anchor: End, Text: t.label})
	}
	return y
}

// legendItem is one entry of a panel's legend: a swatch and its words.
type legendItem struct {
	class Class
	text  string
}

// drawLegend writes the legend along the top of box b, in as many rows as
// the width needs, and returns the number of rows.
func drawLegend(f *Figure, items []legendItem, b box) int {
	x, y, rows := b.x+marginLeft, b.y+18, 1
	for _, it := range items {
		w := 18 + textWidth(ClassLegendText, it.text) + 16
		if x+w > b.x+b.w && x > b.x+marginLeft {
			x, y, rows = b.x+marginLeft, y+legendRowHeight, rows+1
		}
		switch StyleOf(it.class).Stroke.A {
		case 0:
			f.add(Rect{Class: it.class, X: x, Y: y - 9, W: 12, H: 10})
		default:
			f.add(Line{Class: it.class, Points: []Point{{x, y - 4}, {x + 12, y - 4}}})
		}
		f.add(Text{Class: ClassLegendText, X: x + 17, Y: y, Text: it.text})
		x += w
	}
	return rows
}

// drawNote writes a sentence in the middle of plot p, for a panel with
// nothing to draw.
func drawNote(f *Figure, p box, text string) {
	f.add(Text{Class: ClassNote, X: p.x + p.w/2, Y: p.y + p.h/2, Anchor: Middle, Text: text})
}

// describe sums the figure up in one sentence, from the last row, with the
// exact figures, and says how many rows are marked restated.
func describe(rows []projections.Consensus, marks []bool) string {
	if len(rows) == 0 {
		return "No consensus rows to chart."
	}
	first, last := rows[0], rows[len(rows)-1]
	var b strings.Builder
	fmt.Fprintf(&b, "%s consensus from %s to %s", last.Instrument, first.AsOf.Format(time.DateOnly), last.AsOf.Format(time.DateOnly))
	fmt.Fprintf(&b, ": at the end %d buy, %d hold, %d sell", last.Buy, last.Hold, last.Sell)
	if last.MeanTarget != nil {
		fmt.Fprintf(&b, ", mean target %s %s", last.MeanTarget, last.Currency)
	}
	if last.Close != nil {
		fmt.Fprintf(&b, ", close %s", last.Close)
	}
	if last.UpsidePct != nil {
		fmt.Fprintf(&b, ", upside %s %%", last.UpsidePct)
	}
	b.WriteString(".")
	if n := count(marks); n > 0 {
		fmt.Fprintf(&b, " %d of %d rows, shaded, read differently now than when first published.", n, len(rows))
	}
	return b.String()
}

func count(marks []bool) int {
	n := 0
	for _, m := range marks {
		if m {
			n++
		}
	}
	return n
}
