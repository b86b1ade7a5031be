package chart

import (
	"time"

	"github.com/consensus-ledger/consensus/projections"
)

// AutoEvery chooses the period of a chart's rows for a date range so that a
// chart holds between a few and about 160 columns: days up to four months,
// weeks up to three years, months beyond. Fewer rows also keep a chart
// small enough for the web page's budget.
func AutoEvery(from, to time.Time) projections.Every {
	switch days := to.Sub(from).Hours() / 24; {
	case days <= 122:
		return projections.Day
	case days <= 3*366:
		return projections.Week
	}
	return projections.Month
}
