package chart

import (
	"fmt"
	"math"
	"time"

	"github.com/consensus-ledger/consensus/domain"
)

// The classes of a price chart (FINRA Rule 2241(c)(5)): the closes as a
// line, and a marker with its label at every rating or target change.
const (
	ClassMarker     Class = "marker"
	ClassMarkerText Class = "markertext"
)

// PriceClose is one close of a price chart, exactly as recorded.
type PriceClose struct {
	At    time.Time
	Price domain.Money
}

// PriceMarker is one labelled change on a price chart: placed at its time,
// on the close at that time (Price, zero when there was none yet: the
// marker then sits on the plot's bottom edge).
type PriceMarker struct {
	At    time.Time
	Price domain.Money
	Label string // such as "2025-06-20 buy 150"
}

// PriceSeries is what a price chart shows: the closes of one instrument
// between From and To, and the markers in that period.
type PriceSeries struct {
	From, To time.Time
	Closes   []PriceClose  // in time order
	Markers  []PriceMarker // in time order
	Currency string
}

// markerRows is how many rows the labels of markers are staggered over, so
// that labels of changes a few days apart do not print over each other.
const markerRows = 4

// NewPrice draws a price chart: the closes as a line over [From, To] and a
// diamond on the line at every marker, labelled above the plot in one of
// markerRows rows with a thin line down to its diamond. Amounts become
// floats only to be placed; the labels are the callers' exact text.
func NewPrice(s PriceSeries, opts Options) *Figure {
	w := clampSize(opts.Width, DefaultWidth)
	h := clampSize(opts.Height, DefaultHeight)
	f := &Figure{Width: w, Height: h, Title: opts.Title,
		Description: fmt.Sprintf("%d closes from %s to %s with %d rating and target changes marked.",
			len(s.Closes), s.From.UTC().Format(time.DateOnly), s.To.UTC().Format(time.DateOnly), len(s.Markers))}
	f.add(Rect{Class: ClassBackground, W: float64(w), H: float64(h)})
	area := box{0, 0, float64(w), float64(h)}
	if opts.Title != "" {
		f.add(Text{Class: ClassTitle, X: 16, Y: 24, Text: opts.Title})
		area.y, area.h = 34, area.h-34
	}
	closing := "close"
	if s.Currency != "" {
		closing += " (" + s.Currency + ")"
	}
	legend := []legendItem{{ClassClose, closing}, {ClassMarker, "rating or target change"}}
	p := plotBox(area, drawLegend(f, legend, area))
	const labelBand = markerRows * 13
	p.y, p.h = p.y+labelBand, max(p.h-labelBand, 10)
	x := timeScale{from: s.From, to: s.To, inset: 6}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range s.Closes {
		v := money(c.Price)
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	drawTimeAxis(f, x, p)
	if lo > hi {
		drawNote(f, p, "No closes in this period.")
		lo, hi = 0, 1
	}
	y := drawValueAxis(f, lo, hi, 0, p)
	if len(s.Closes) > 0 {
		pts := make([]Point, len(s.Closes))
		for i, c := range s.Closes {
			pts[i] = Point{x.at(c.At, p), y(money(c.Price))}
		}
		f.add(Line{Class: ClassClose, Points: widen(pts)})
	}
	for i, m := range s.Markers {
		mx, my := x.at(m.At, p), p.y+p.h
		if m.Price > 0 {
			my = y(money(m.Price))
		}
		ly := p.y - labelBand + 10 + float64(i%markerRows)*13
		f.add(Line{Class: ClassGrid, Points: []Point{{mx, ly + 2}, {mx, my}}})
		f.add(Area{Class: ClassMarker, Points: []Point{{mx, my - 5}, {mx + 5, my}, {mx, my + 5}, {mx - 5, my}}})
		anchor := Middle
		switch {
		case mx-p.x < 60:
			anchor = Start
		case p.x+p.w-mx < 60:
			anchor = End
		}
		f.add(Text{Class: ClassMarkerText, X: mx, Y: ly, Anchor: anchor, Text: m.Label})
	}
	return f
}

// money is an amount as a float, to place it on the canvas only.
func money(m domain.Money) float64 { return float64(m.Micros()) / domain.MoneyScale }
