package chart

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/projections"
)

// tick is one mark on an axis: where it goes and what it reads.
type tick struct {
	value float64
	label string
}

// maxTicks bounds any axis, whatever the data, so a degenerate range can
// never make a figure of millions of shapes.
const maxTicks = 24

// numberTicks chooses round values (1, 2 or 5 times a power of ten apart)
// covering [lo, hi] with about n steps, and returns them with the axis range
// they span. minStep is the smallest step allowed (1 for counts). Labels are
// exact decimal text, built from integers, so a tick reads "0.3", never
// "0.30000000000000004".
func numberTicks(lo, hi float64, n int, minStep float64) (ticks []tick, axisLo, axisHi float64) {
	if hi < lo {
		lo, hi = hi, lo
	}
	// Bounds closer than a billionth of their size (equal, or a rounding
	// error apart) are widened: ticks finer than that cannot be told apart
	// in float64.
	if hi-lo <= math.Max(math.Abs(lo), math.Abs(hi))*1e-9 {
		pad := math.Max(math.Abs(hi)*0.05, minStep)
		if pad == 0 {
			pad = 1
		}
		lo, hi = lo-pad, hi+pad
	}
	n = max(n, 1)
	raw := math.Max((hi-lo)/float64(n), minStep)
	exp := int(math.Floor(math.Log10(raw)))
	var mult int64
	switch f := raw / math.Pow10(exp); {
	case f <= 1:
		mult = 1
	case f <= 2:
		mult = 2
	case f <= 5:
		mult = 5
	default:
		mult, exp = 1, exp+1
	}
	step := float64(mult) * math.Pow10(exp)
	first := int64(math.Floor(lo / step))
	last := int64(math.Ceil(hi / step))
	if last <= first { // lo and hi a rounding error apart: keep one step of axis
		last = first + 1
	}
	if last-first > maxTicks { // only for absurd inputs; keep the figure small
		last = first + maxTicks
	}
	for k := first; k <= last; k++ {
		ticks = append(ticks, tick{value: float64(k) * step, label: decimalText(k*mult, exp)})
	}
	return ticks, float64(first) * step, float64(last) * step
}

// decimalText writes n x 10^exp exactly: decimalText(15, -1) is "1.5",
// decimalText(3, 2) is "300".
func decimalText(n int64, exp int) string {
	if n == 0 {
		return "0"
	}
	if exp >= 0 {
		return strconv.FormatInt(n, 10) + strings.Repeat("0", exp)
	}
	digits := strconv.FormatInt(n, 10)
	sign := ""
	if n < 0 {
		sign, digits = "-", digits[1:]
	}
	if len(digits) <= -exp {
		digits = strings.Repeat("0", -exp-len(digits)+1) + digits
	}
	cut := len(digits) + exp
	d, err := projections.ParseDecimal(sign + digits[:cut] + "." + digits[cut:])
	if err != nil { // cannot happen: the text is digits around one dot
		return sign + digits
	}
	return d.String()
}

// timeTick is one mark on the time axis.
type timeTick struct {
	at    time.Time
	label string
}

// timeTicks chooses at most about n marks between from and to: days, weeks,
// months or years, whichever unit gives enough room. Day marks sit at the
// end of their day, where a bare date puts the consensus rows.
func timeTicks(from, to time.Time, n int) []timeTick {
	from, to = from.UTC(), to.UTC()
	n = max(n, 2)
	days := to.Sub(from).Hours() / 24
	var out []timeTick
	switch {
	case days <= float64(n)*14:
		step := 1
		for _, s := range []int{1, 2, 7, 14} {
			step = s
			if days/float64(s) <= float64(n) {
				break
			}
		}
		t := domain.EndOfDay(from)
		if step >= 7 { // weekly marks fall on Mondays, as calendars print them
			for t.Weekday() != time.Monday {
				t = t.AddDate(0, 0, 1)
			}
		}
		for ; !t.After(to) && len(out) <= maxTicks; t = t.AddDate(0, 0, step) {
			out = append(out, timeTick{t, t.Format("Jan 2")})
		}
	case days <= float64(n)*365/2:
		step := 1
		for _, s := range []int{1, 2, 3, 6} {
			step = s
			if days/30.44/float64(s) <= float64(n) {
				break
			}
		}
		y, m, _ := from.Date()
		t := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
		if t.Before(from) {
			t = t.AddDate(0, 1, 0)
		}
		for int(t.Month()-1)%step != 0 {
			t = t.AddDate(0, 1, 0)
		}
		for ; !t.After(to) && len(out) <= maxTicks; t = t.AddDate(0, step, 0) {
			out = append(out, timeTick{t, t.Format("Jan 2006")})
		}
	default:
		step := 1
		for _, s := range []int{1, 2, 5, 10, 20, 50, 100} {
			step = s
			if days/365.25/float64(s) <= float64(n) {
				break
			}
		}
		y := from.Year() + 1
		for y%step != 0 {
			y++
		}
		for t := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC); !t.After(to) && len(out) <= maxTicks; t = t.AddDate(step, 0, 0) {
			out = append(out, timeTick{t, t.Format("2006")})
		}
	}
	return out
}
