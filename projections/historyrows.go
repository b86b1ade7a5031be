package projections

import (
	"fmt"
	"strconv"
	"time"

	"github.com/consensus-ledger/consensus/domain"
)

// HistoryRows is the number of rows History gives for a range before its
// bound: one per period end in [from, to], and one at to when to is not a
// period end; none when to is before from. It is computed rather than
// counted, so a range of thousands of years costs nothing to judge.
func HistoryRows(from, to time.Time, every Every) int {
	from, to = from.UTC(), to.UTC()
	if to.Before(from) {
		return 0
	}
	first := firstPeriodEnd(from, every)
	ends := 0 // period ends in [first, to]
	if !first.After(to) {
		switch every {
		case Month:
			// Every month from first's to the one before to's ends before
			// to; to's own month ends at to or after it.
			ends = monthNumber(to) - monthNumber(first)
			if monthEnd(to).Equal(to) {
				ends++
			}
		default:
			step := int64(24 * 60 * 60)
			if every == Week {
				step *= 7
			}
			// The k-th end is first plus k steps, at first's nanosecond:
			// count the whole steps from first that stay at or before to.
			span := to.Unix() - first.Unix()
			if to.Nanosecond() < first.Nanosecond() {
				span--
			}
			ends = int(span/step) + 1
		}
	}
	if ends > 0 && firstPeriodEnd(to, every).Equal(to) {
		return ends // the last period end is to itself
	}
	return ends + 1
}

// monthNumber counts months from year 0, so two months' difference is a
// subtraction.
func monthNumber(t time.Time) int { return t.Year()*12 + int(t.Month()) - 1 }

// HistoryTooLongError is returned by CheckHistoryRange when a history would
// have more rows than MaxHistoryRows. The command line and the API refuse
// such a request before computing anything, rather than return the first
// MaxHistoryRows rows as if they were all.
type HistoryTooLongError struct {
	From, To time.Time
	Every    Every
	Rows     int // the rows the range would have
}

func (e *HistoryTooLongError) Error() string {
	advice := "every week or month, or a shorter range"
	switch e.Every {
	case Week:
		advice = "every month, or a shorter range"
	case Month:
		advice = "a shorter range"
	}
	return fmt.Sprintf("history from %s to %s every %s is %s rows; the limit is %s: ask for %s",
		formatBound(e.From), formatBound(e.To), e.Every, groupThousands(e.Rows), groupThousands(MaxHistoryRows), advice)
}

// CheckHistoryRange refuses a history or chart with more rows than
// MaxHistoryRows, with a *HistoryTooLongError. Every caller that takes a
// range from a user (history, chart, the API) asks it before computing.
func CheckHistoryRange(from, to time.Time, every Every) error {
	if n := HistoryRows(from, to, every); n > MaxHistoryRows {
		return &HistoryTooLongError{From: from.UTC(), To: to.UTC(), Every: every, Rows: n}
	}
	return nil
}

// formatBound writes a range's bound as it was most likely given: a bare
// date for the end of a day, else the full time.
func formatBound(t time.Time) string {
	if t.Equal(domain.EndOfDay(t)) {
		return t.Format("2006-01-02")
	}
	return domain.FormatTime(t)
}

// groupThousands writes n with commas between groups of three digits, as
// the contract writes large counts (50,000).
func groupThousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + groupThousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
