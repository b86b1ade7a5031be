package chart

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestNumberTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi, minStep float64
		n               int
		labels          []string
	}{
		{0, 18, 1, 4, []string{"0", "5", "10", "15", "20"}},
		{95, 200, 0, 5, []string{"50", "100", "150", "200"}},
		{95, 200, 0, 8, []string{"80", "100", "120", "140", "160", "180", "200"}},
		{0.1, 0.35, 0, 5, []string{"0.1", "0.15", "0.2", "0.25", "0.3", "0.35"}},
		{0, 1, 1, 10, []string{"0", "1"}},
		{150, 150, 0, 4, []string{"140", "145", "150", "155", "160"}},
		{0, 0, 1, 4, []string{"-1", "0", "1"}},
		{999_999_990, 1_000_000_000, 0, 2, []string{"999999990", "999999995", "1000000000"}},
		{-3.1, 6.59, 0, 4, []string{"-5", "0", "5", "10"}},
	} {
		ticks, lo, hi := numberTicks(c.lo, c.hi, c.n, c.minStep)
		var labels []string
		for _, tk := range ticks {
			labels = append(labels, tk.label)
		}
		assert.Equal(t, c.labels, labels, "%v..%v", c.lo, c.hi)
		assert.LessOrEqual(t, lo, c.lo)
		assert.GreaterOrEqual(t, hi, c.hi)
	}
	ticks, _, _ := numberTicks(0, 1e300, 1000000, 0)
	assert.LessOrEqual(t, len(ticks), maxTicks+1, "bounded whatever the input")
}

func TestDecimalText(t *testing.T) {
	for _, c := range []struct {
		n    int64
		exp  int
		want string
	}{{15, -1, "1.5"}, {150, -1, "15"}, {3, 2, "300"}, {0, 5, "0"}, {-5, -3, "-0.005"}, {7, -2, "0.07"}, {-20, 0, "-20"}} {
		assert.Equal(t, c.want, decimalText(c.n, c.exp), "%d e%d", c.n, c.exp)
	}
}

func TestTimeTicks(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	for _, c := range []struct {
		from, to string
		first    string
	}{
		{"2025-09-01", "2025-09-12", "Sep 1"},
		{"2025-06-01", "2025-09-12", "Jun 2"},
		{"2024-01-15", "2025-09-12", "Apr 2024"},
		{"2005-01-01", "2025-09-12", "2010"},
		{"1900-01-01", "2025-09-12", "1920"},
	} {
		ticks := timeTicks(day(c.from), day(c.to), 8)
		if assert.NotEmpty(t, ticks, c.from) {
			assert.Equal(t, c.first, ticks[0].label, c.from)
		}
		assert.LessOrEqual(t, len(ticks), 9, c.from)
		for i, tk := range ticks {
			assert.False(t, tk.at.Before(day(c.from)) || tk.at.After(day(c.to).Add(24*time.Hour)), "%s in range", tk.label)
			if i > 0 {
				assert.True(t, tk.at.After(ticks[i-1].at))
			}
		}
	}
}
