// Package chart draws the consensus of one instrument over time: the mean
// price target with its high-low band against the close, and the buy, hold
// and sell counts. The web page of `consensus serve` and `consensus chart`
// draw the same figures, because both go through this package.
//
// A chart is built once as a Figure, a list of shapes in pixel coordinates,
// and then written as SVG or rasterised to PNG. Figures come from the
// ledger's exact decimals; they are turned into floats only to place shapes
// on the canvas, and every number printed on a chart (the latest mean
// target, close and counts) is the exact text the projections computed.
package chart

import "image/color"

// Point is a position on the canvas, in pixels from the top left.
type Point struct{ X, Y float64 }

// Class names what a shape depicts. Each class has one Style, which both
// renderers apply, so the SVG and the PNG look the same.
type Class string

// The classes of a consensus chart.
const (
	ClassBackground Class = "bg"
	ClassGrid       Class = "grid"
	ClassAxisText   Class = "axis"
	ClassTitle      Class = "title"
	ClassNote       Class = "note"
	ClassBand       Class = "band"
	ClassMean       Class = "mean"
	ClassClose      Class = "close"
	ClassBuy        Class = "buy"
	ClassHold       Class = "hold"
	ClassSell       Class = "sell"
	ClassLegendText Class = "legend"
	// ClassRestated shades the column of a row of a first-published
	// history that reads differently now (Options.Restated).
	ClassRestated  Class = "restated"
	ClassSplit     Class = "split"      // a split's marker on the time axis
	ClassSplitText Class = "split-text" // its ratio
)

// Style is how a class is painted: a fill, a stroke or text.
type Style struct {
	Fill        color.NRGBA // zero alpha: no fill
	Stroke      color.NRGBA // zero alpha: no stroke
	StrokeWidth float64
	// Dash is the length of the dashes of a dashed stroke, and of the gaps
	// between them, in pixels; zero strokes a solid line.
	Dash     float64
	FontSize float64 // text only
	Bold     bool    // text only
}

// styles is the palette. The colours are the ones aggregators use (green
// for buy, red for sell) with enough contrast to print in grey scale.
var styles = map[Class]Style{
	ClassBackground: {Fill: rgb(0xff, 0xff, 0xff)},
	ClassGrid:       {Stroke: rgb(0xe5, 0xe7, 0xeb), StrokeWidth: 1},
	ClassAxisText:   {Fill: rgb(0x4b, 0x55, 0x63), FontSize: 11},
	ClassTitle:      {Fill: rgb(0x11, 0x18, 0x27), FontSize: 15, Bold: true},
	ClassNote:       {Fill: rgb(0x6b, 0x72, 0x80), FontSize: 13},
	ClassBand:       {Fill: color.NRGBA{0x25, 0x63, 0xeb, 0x2e}},
	ClassMean:       {Stroke: rgb(0x25, 0x63, 0xeb), StrokeWidth: 2},
	ClassClose:      {Stroke: rgb(0x11, 0x18, 0x27), StrokeWidth: 1.5},
	ClassBuy:        {Fill: rgb(0x16, 0xa3, 0x4a)},
	ClassHold:       {Fill: rgb(0x9c, 0xa3, 0xaf)},
	ClassSell:       {Fill: rgb(0xdc, 0x26, 0x26)},
	ClassLegendText: {Fill: rgb(0x37, 0x41, 0x51), FontSize: 12},
	// Amber, translucent: it sits behind the series and must not hide them.
	ClassRestated:   {Fill: color.NRGBA{0xf5, 0x9e, 0x0b, 0x59}},
	ClassSplit:      {Stroke: rgb(0xb4, 0x53, 0x09), StrokeWidth: 1, Dash: 4},
	ClassSplitText:  {Fill: rgb(0xb4, 0x53, 0x09), FontSize: 11, Bold: true},
	ClassMarker:     {Fill: rgb(0xd9, 0x77, 0x06)},
	ClassMarkerText: {Fill: rgb(0x7c, 0x2d, 0x12), FontSize: 10},
}

func rgb(r, g, b uint8) color.NRGBA { return color.NRGBA{r, g, b, 0xff} }

// StyleOf returns the style of a class.
func StyleOf(c Class) Style { return styles[c] }

// Anchor is where a text's position lies along its width.
type Anchor int

// The anchors of a text.
const (
	Start Anchor = iota
	Middle
	End
)

// Shape is one thing drawn on a figure: a Rect, a Line (a polyline), an
// Area (a filled polygon) or a Text.
type Shape interface{ class() Class }

// Rect is a filled rectangle.
type Rect struct {
	Class      Class
	X, Y, W, H float64
}

// Line is a polyline, stroked.
type Line struct {
	Class  Class
	Points []Point
}

// Area is a closed polygon, filled.
type Area struct {
	Class  Class
	Points []Point
}

// Text is one line of text; Y is its baseline.
type Text struct {
	Class  Class
	X, Y   float64
	Anchor Anchor
	Text   string
}

func (r Rect) class() Class { return r.Class }
func (l Line) class() Class { return l.Class }
func (a Area) class() Class { return a.Class }
func (t Text) class() Class { return t.Class }

// Figure is a finished chart: its size, its shapes in painting order, and a
// one-sentence description for screen readers and file metadata.
type Figure struct {
	Width, Height int
	Title         string
	Description   string
	Shapes        []Shape
}

func (f *Figure) add(s ...Shape) { f.Shapes = append(f.Shapes, s...) }
