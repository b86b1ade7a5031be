package chart

import (
	"math"

	"github.com/consensus-ledger/consensus/projections"
)

// drawTargets draws the target panel in box b: the high-low band of the
// price targets, the close and the mean target, over time, behind them the
// marks of restated rows. It returns the plot's box, for the split markers
// drawn across it.
func drawTargets(f *Figure, rows []projections.Consensus, marks []bool, x timeScale, b box) box {
	legend := targetLegend(rows)
	if marks != nil {
		legend = append(legend, restatedLegend)
	}
	p := plotBox(b, drawLegend(f, legend, b))
	drawMarks(f, rows, marks, x, p)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range rows {
		for _, d := range []*projections.Decimal{r.LowTarget, r.HighTarget, r.MeanTarget, r.Close} {
			if d != nil {
				v := d.Float64() // a position on the canvas, never a figure
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if lo > hi {
		drawNote(f, p, "No price targets or closes in this period.")
		drawTimeAxis(f, x, p)
		return p
	}
	y := drawValueAxis(f, lo, hi, 0, p)
	drawTimeAxis(f, x, p)

	for _, run := range runs(rows, func(r projections.Consensus) bool { return r.HighTarget != nil && r.LowTarget != nil }) {
		var top, bottom []Point
		for _, r := range run {
			top = append(top, Point{x.at(r.AsOf, p), y(r.HighTarget.Float64())})
			bottom = append(bottom, Point{x.at(r.AsOf, p), y(r.LowTarget.Float64())})
		}
		f.add(Area{Class: ClassBand, Points: append(widen(top), reversed(widen(bottom))...)})
	}
	drawSeries(f, rows, ClassClose, func(r projections.Consensus) *projections.Decimal { return r.Close }, x, y, p)
	drawSeries(f, rows, ClassMean, func(r projections.Consensus) *projections.Decimal { return r.MeanTarget }, x, y, p)
	return p
}

// targetLegend names the series, with the latest mean target and close
// exactly as the projections computed them.
func targetLegend(rows []projections.Consensus) []legendItem {
	mean, closing := "mean target", "close"
	if n := len(rows); n > 0 {
		last := rows[n-1]
		if last.MeanTarget != nil {
			mean += " " + last.MeanTarget.String()
		}
		if last.Close != nil {
			closing += " " + last.Close.String()
		}
		if last.Currency != "" {
			mean += " " + last.Currency
		}
	}
	return []legendItem{{ClassMean, mean}, {ClassBand, "high–low target"}, {ClassClose, closing}}
}

// drawSeries draws one figure of the rows as lines, broken where it is
// absent.
func drawSeries(f *Figure, rows []projections.Consensus, c Class, value func(projections.Consensus) *projections.Decimal,
	x timeScale, y func(float64) float64, p box) {
	for _, run := range runs(rows, func(r projections.Consensus) bool { return value(r) != nil }) {
		pts := make([]Point, len(run))
		for i, r := range run {
			pts[i] = Point{x.at(r.AsOf, p), y(value(r).Float64())}
		}
		f.add(Line{Class: c, Points: widen(pts)})
	}
}

// runs splits rows into the longest stretches where present holds.
func runs(rows []projections.Consensus, present func(projections.Consensus) bool) [][]projections.Consensus {
	var out [][]projections.Consensus
	start := -1
	for i, r := range rows {
		switch {
		case present(r) && start < 0:
			start = i
		case !present(r) && start >= 0:
			out = append(out, rows[start:i])
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, rows[start:])
	}
	return out
}

// widen makes a lone point a short horizontal stroke, so a value present
// on one day only still shows.
func widen(pts []Point) []Point {
	if len(pts) != 1 {
		return pts
	}
	return []Point{{pts[0].X - 2, pts[0].Y}, {pts[0].X + 2, pts[0].Y}}
}

func reversed(pts []Point) []Point {
	out := make([]Point, len(pts))
	for i, p := range pts {
		out[len(pts)-1-i] = p
	}
	return out
}
