package chart

import (
	"math"
	"strconv"

	"github.com/consensus-ledger/consensus/projections"
)

// drawRatings draws the rating panel in box b: for each row a column of its
// buy, hold and sell counts, stacked from the bottom, behind them the marks
// of restated rows (named in this legend when it is the only panel). It
// returns the plot's box, for the split markers drawn across it.
func drawRatings(f *Figure, rows []projections.Consensus, marks []bool, x timeScale, b box, alone bool) box {
	legend := ratingLegend(rows)
	if marks != nil && alone {
		legend = append(legend, restatedLegend)
	}
	p := plotBox(b, drawLegend(f, legend, b))
	drawMarks(f, rows, marks, x, p)
	most := 0
	for _, r := range rows {
		most = max(most, r.Buy+r.Hold+r.Sell)
	}
	if most == 0 {
		drawNote(f, p, "No active analysts in this period.")
		drawTimeAxis(f, x, p)
		return p
	}
	y := drawValueAxis(f, 0, float64(most), 1, p)
	drawTimeAxis(f, x, p)

	width := columnWidth(rows, x, p)
	for i, r := range rows {
		left, w := columnSpan(rows, i, x, p, width)
		base := 0
		for _, part := range []struct {
			class Class
			n     int
		}{{ClassBuy, r.Buy}, {ClassHold, r.Hold}, {ClassSell, r.Sell}} {
			if part.n == 0 {
				continue
			}
			top, bottom := y(float64(base+part.n)), y(float64(base))
			f.add(Rect{Class: part.class, X: left, Y: top, W: w, H: bottom - top})
			base += part.n
		}
	}
	return p
}

// columnWidth is the width of one row's column: most of the average room
// between rows (a last, partial period may sit closer to its neighbour), at
// least a pixel, and not so wide that a short history draws slabs.
func columnWidth(rows []projections.Consensus, x timeScale, p box) float64 {
	gap := p.w
	if n := len(rows); n > 1 {
		gap = (x.at(rows[n-1].AsOf, p) - x.at(rows[0].AsOf, p)) / float64(n-1)
	}
	return math.Max(1, math.Min(gap*0.75, 28))
}

// columnSpan is the left edge and width of row i's column. Every column is
// width wide and centred on its row, except the last when it sits closer to
// its neighbour than that allows: a history ending on a day that is no
// period end (a week's chart to a Wednesday) has its last row days after the
// row before, and a full-width column would overlap that row's. The last
// column then starts a pixel after its neighbour's and keeps its own right
// edge, so it is narrower and never covers another row.
func columnSpan(rows []projections.Consensus, i int, x timeScale, p box, width float64) (left, w float64) {
	cx := x.at(rows[i].AsOf, p)
	left, right := cx-width/2, cx+width/2
	if i > 0 && i == len(rows)-1 {
		neighbour := x.at(rows[i-1].AsOf, p) + width/2
		left = math.Max(left, neighbour+1)
		right = math.Max(right, left+1)
	}
	return left, right - left
}

// ratingLegend names the buckets, with the latest counts.
func ratingLegend(rows []projections.Consensus) []legendItem {
	items := []legendItem{{ClassBuy, "buy"}, {ClassHold, "hold"}, {ClassSell, "sell"}}
	if n := len(rows); n > 0 {
		last := rows[n-1]
		for i, count := range []int{last.Buy, last.Hold, last.Sell} {
			items[i].text += " " + strconv.Itoa(count)
		}
	}
	return items
}
