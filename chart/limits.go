package chart

import (
	"fmt"
	"time"

	"github.com/consensus-ledger/consensus/projections"
)

// The bounds of a figure: its size in pixels, the size of a PNG drawn from
// it, and its points. They bound the memory and time one chart may take,
// on the command line and in the server alike.
const (
	// DefaultWidth and DefaultHeight are a figure's size when none is given.
	DefaultWidth  = 960
	DefaultHeight = 600
	// MinSize and MaxSize bound an SVG figure's width and height.
	MinSize = 200
	MaxSize = 4000
	// MaxPNGSize bounds a PNG figure's width and height: a PNG is drawn at
	// twice its size, so its largest is 4000 by 4000 pixels (64 MB as an
	// image in memory).
	MaxPNGSize = MaxSize / 2
	// MaxRasterPixels bounds what Raster paints, whatever the scale.
	MaxRasterPixels = MaxSize * MaxSize
	// MaxPoints bounds the rows one figure draws: one a pixel of the widest
	// figure. A longer range is drawn weekly or monthly (AutoEvery never
	// asks for more than about 160).
	MaxPoints = 4000
)

// CheckSize refuses a width or height outside the bounds of a figure,
// naming it as the caller's user knows it (name, such as "--width" or
// "width"); png applies the tighter bound of a PNG.
func CheckSize(name string, pixels int, png bool) error {
	most, what := MaxSize, "a chart"
	if png {
		most, what = MaxPNGSize, "a PNG chart (drawn at twice its size)"
	}
	if pixels < MinSize || pixels > most {
		return fmt.Errorf("%s %d is out of range: %s takes %d to %d pixels", name, pixels, what, MinSize, most)
	}
	return nil
}

// CheckPoints refuses a range that would draw more than MaxPoints rows,
// counted without computing them. name is the period's parameter as the
// caller's user gives it ("--every", "every").
func CheckPoints(from, to time.Time, every projections.Every, name string) error {
	if n := projections.CountRows(from, to, every, MaxPoints); n > MaxPoints {
		return fmt.Errorf("%s %s from %s to %s draws more than %d points; use a longer %s or a shorter range",
			name, every, from.UTC().Format(time.DateOnly), to.UTC().Format(time.DateOnly), MaxPoints, name)
	}
	return nil
}
