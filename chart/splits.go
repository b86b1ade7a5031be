package chart

import (
	"slices"
	"strings"
	"time"

	"github.com/consensus-ledger/consensus/projections"
)

// splitsInRange are the splits a figure marks: opts' splits, or when it
// names none the splits the rows were adjusted for, effective after the
// first row and by the last (CONTRACT section 7): where the share basis
// changes within the series. A split at or before the first row changes
// nothing the figure shows. Each split appears once, in time order.
func splitsInRange(rows []projections.Consensus, given []projections.AppliedSplit) []projections.AppliedSplit {
	if len(rows) == 0 {
		return nil
	}
	from, to := rows[0].AsOf, rows[len(rows)-1].AsOf
	candidates := given
	if candidates == nil {
		for _, r := range rows {
			candidates = append(candidates, r.Splits...)
		}
	}
	var out []projections.AppliedSplit
	for _, s := range candidates {
		if from.Before(s.EffectiveAt) && !s.EffectiveAt.After(to) &&
			!slices.ContainsFunc(out, func(x projections.AppliedSplit) bool { return x.EventID == s.EventID }) {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b projections.AppliedSplit) int { return a.EffectiveAt.Compare(b.EffectiveAt) })
	return out
}

// drawSplits marks each split on the time axis of every plot: a vertical
// dashed line at its ex-date, labelled with its ratio ("4:1") at the top
// of the first plot, so a jump in the close or the targets (unadjusted, or
// on each row's own basis) is seen to be a split and not a move.
func drawSplits(f *Figure, splits []projections.AppliedSplit, x timeScale, plots []box) {
	for _, s := range splits {
		for i, p := range plots {
			sx := min(max(x.at(s.EffectiveAt, p), p.x), p.x+p.w)
			f.add(Line{Class: ClassSplit, Points: []Point{{sx, p.y}, {sx, p.y + p.h}}})
			if i == 0 {
				label := Text{Class: ClassSplitText, X: sx + 3, Y: p.y + 11, Text: s.Ratio}
				if label.X+textWidth(ClassSplitText, s.Ratio) > p.x+p.w { // near the right edge: on the left of the line
					label.X, label.Anchor = sx-3, End
				}
				f.add(label)
			}
		}
	}
}

// describeSplits is the sentence the figure's description adds for its
// split markers: "Splits: 4:1 on 2025-03-10."
func describeSplits(splits []projections.AppliedSplit) string {
	if len(splits) == 0 {
		return ""
	}
	parts := make([]string, len(splits))
	for i, s := range splits {
		parts[i] = s.Ratio + " on " + s.EffectiveAt.UTC().Format(time.DateOnly)
	}
	return " Splits: " + strings.Join(parts, ", ") + "."
}
