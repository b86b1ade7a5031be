package chart_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/chart"
	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/projections"
)

func TestCheckSize(t *testing.T) {
	for _, tc := range []struct {
		pixels int
		png    bool
		want   string
	}{
		{200, false, ""},
		{4000, false, ""},
		{2000, true, ""},
		{199, false, "--width 199 is out of range: a chart takes 200 to 4000 pixels"},
		{4001, false, "--width 4001 is out of range: a chart takes 200 to 4000 pixels"},
		{2001, true, "--width 2001 is out of range: a PNG chart (drawn at twice its size) takes 200 to 2000 pixels"},
	} {
		err := chart.CheckSize("--width", tc.pixels, tc.png)
		if tc.want == "" {
			assert.NoError(t, err, "%d png=%t", tc.pixels, tc.png)
		} else {
			assert.EqualError(t, err, tc.want)
		}
	}
}

func TestCheckPoints(t *testing.T) {
	day := func(s string) time.Time { d, err := domain.ParseTime("d", s); require.NoError(t, err); return d }
	// 4000 daily points end on the 4000th day; one more day is refused.
	from := day("2000-01-01")
	last := from.AddDate(0, 0, chart.MaxPoints-1)
	assert.NoError(t, chart.CheckPoints(from, last, projections.Day, "every"))
	assert.EqualError(t, chart.CheckPoints(from, last.AddDate(0, 0, 1), projections.Day, "every"),
		"every day from 2000-01-01 to 2010-12-14 draws more than 4000 points; use a longer every or a shorter range")
	assert.NoError(t, chart.CheckPoints(day("1900-01-01"), day("2026-01-01"), projections.Month, "every"))
	assert.Error(t, chart.CheckPoints(day("1900-01-01"), day("2026-01-01"), projections.Week, "every"))
	// The count is History's own.
	assert.Equal(t, chart.MaxPoints, projections.CountRows(from, last, projections.Day, chart.MaxPoints))
}

// TestRasterRefusesHugeScale: the raster's own bound holds whatever the
// caller asks, so no scale can make it allocate gigabytes.
func TestRasterRefusesHugeScale(t *testing.T) {
	fig := chart.New(nil, chart.Options{Width: chart.MaxSize, Height: chart.MaxSize})
	var buf bytes.Buffer
	assert.EqualError(t, fig.WritePNG(&buf, 2), "a 8000x8000 raster is larger than the limit of 16000000 pixels")
	assert.Zero(t, buf.Len())
}
