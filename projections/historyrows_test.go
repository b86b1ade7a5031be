package projections_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/projections"
)

// TestHistoryRowsMatchesHistory: the computed row count is the number of
// rows History gives, for random ranges of every period with bounds at
// bare dates, at period ends and at any nanosecond.
func TestHistoryRowsMatchesHistory(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 6))
	base := time.Date(2023, 12, 25, 0, 0, 0, 0, time.UTC)
	instant := func() time.Time {
		at := base.Add(time.Duration(rng.Int64N(int64(3 * 365 * 24 * time.Hour))))
		switch rng.IntN(3) {
		case 0:
			at = at.Truncate(24 * time.Hour).Add(24*time.Hour - 1) // a bare date: the end of its day
		case 1:
			at = at.Truncate(24 * time.Hour)
		}
		return at
	}
	for i := range 3000 {
		from := instant()
		to := from.Add(time.Duration(rng.Int64N(int64(400 * 24 * time.Hour))))
		switch rng.IntN(4) {
		case 0:
			to = from
		case 1:
			to = instant() // sometimes before from
		}
		every := projections.Every(i % 3)
		rows := projections.History("X", nil, from, to, every, projections.Query{KnownAt: to})
		require.Equal(t, len(rows), projections.HistoryRows(from, to, every), "from %s to %s every %s", from, to, every)
	}
}

func TestCheckHistoryRange(t *testing.T) {
	day := func(s string) time.Time {
		d, err := time.Parse("2006-01-02", s)
		require.NoError(t, err)
		return d.Add(24*time.Hour - 1)
	}
	// 1900-01-01 plus 49,999 days is 2036-11-22: exactly the limit.
	assert.NoError(t, projections.CheckHistoryRange(day("1900-01-01"), day("2036-11-22"), projections.Day))
	err := projections.CheckHistoryRange(day("1900-01-01"), day("2036-11-23"), projections.Day)
	assert.EqualError(t, err, "history from 1900-01-01 to 2036-11-23 every day is 50,001 rows; the limit is 50,000: ask for every week or month, or a shorter range")
	var long *projections.HistoryTooLongError
	require.ErrorAs(t, err, &long)
	assert.Equal(t, 50_001, long.Rows)

	// 521,722 Sundays from 0001-01-07 to 9999-12-26, and the Friday at the end.
	err = projections.CheckHistoryRange(day("0001-01-01"), day("9999-12-31"), projections.Week)
	assert.EqualError(t, err, "history from 0001-01-01 to 9999-12-31 every week is 521,723 rows; the limit is 50,000: ask for every month, or a shorter range")
	err = projections.CheckHistoryRange(day("0001-01-01"), time.Date(9999, 6, 1, 12, 0, 0, 0, time.UTC), projections.Month)
	assert.EqualError(t, err, "history from 0001-01-01 to 9999-06-01T12:00:00Z every month is 119,982 rows; the limit is 50,000: ask for a shorter range")
	assert.NoError(t, projections.CheckHistoryRange(day("1900-01-01"), day("2099-12-31"), projections.Week))
}
