package projections

import (
	"strconv"
	"strings"
	"time"

	"github.com/consensus-ledger/consensus/domain"
)

// Every is the period of a consensus history: one row per day, per ISO week
// (ending Sunday) or per calendar month, each taken at the end of the period
// (UTC), the way the closes of those periods are quoted. The zero value is Day.
type Every int

// The periods of a history.
const (
	Day Every = iota
	Week
	Month
)

// String returns the period's name as the command line spells it.
func (e Every) String() string {
	switch e {
	case Week:
		return "week"
	case Month:
		return "month"
	}
	return "day"
}

// ParseEvery reads "day", "week" or "month" (any case), as given to
// `history --every`; anything else is a *domain.ValidationError for the field
// "every".
func ParseEvery(text string) (Every, error) {
	switch strings.ToLower(text) {
	case "day":
		return Day, nil
	case "week":
		return Week, nil
	case "month":
		return Month, nil
	}
	return 0, &domain.ValidationError{Field: "every", Value: text, Reason: "must be day, week or month"}
}

// MaxWindowDays is the longest window ParseWindow accepts: a century, far
// beyond any useful consensus window, yet small enough that as_of - window
// never leaves the range time.Time can represent.
const MaxWindowDays = 36500

// ParseWindow reads a consensus window as given to `--window`: a whole number
// of days followed by "d", such as "90d"; "0d" means no expiry. Anything else
// (a sign, a fraction, no unit, more than MaxWindowDays) is a
// *domain.ValidationError for the field "window", so the command line can name
// the value at fault.
func ParseWindow(text string) (time.Duration, error) {
	digits, ok := strings.CutSuffix(text, "d")
	if ok && digits != "" && len(digits) <= 6 && isDigits(digits) {
		days, _ := strconv.Atoi(digits) // at most 6 digits: cannot fail
		if days <= MaxWindowDays {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	return 0, &domain.ValidationError{Field: "window", Value: text,
		Reason: "must be a whole number of days such as 90d (0d for no expiry), at most " + strconv.Itoa(MaxWindowDays) + "d"}
}

// MaxHistoryRows bounds the rows History returns. Callers bound the range
// they ask for (the command line refuses longer ones); History itself never
// fails, so a longer range is truncated after this many rows instead.
const MaxHistoryRows = 50_000

// History computes one consensus per period end within [from, to]: the end
// of every UTC day, of every ISO week (Sunday) or of every month (its last
// day), each at 23:59:59.999999999Z. When to is not itself a period end, a
// last row is added at to, so the latest value is always shown. Every row is
// as known at q.KnownAt, with q.Window and q.Explain; q.AsOf is not used.
//
// It folds the history once, advancing one cursor through the period ends,
// so a ten-year daily history costs one pass over the events plus one
// Compute per row. Row i equals Show at that row's as_of. The result is
// never nil (an empty range gives no rows) and holds at most MaxHistoryRows
// rows.
func History(symbol domain.Symbol, history []domain.Recorded, from, to time.Time, every Every, q Query) []Consensus {
	ends := RowTimes(from, to, every)
	rows := make([]Consensus, 0, len(ends))
	if len(ends) == 0 {
		return rows
	}
	// One basis for every row, the last row's as_of, so the series is
	// continuous across a split (CONTRACT section 7); --basis each leaves
	// Basis zero: each row's own as_of.
	if !q.EachBasis {
		q.Basis = ends[len(ends)-1]
	}
	cursor := domain.NewTimeline(history, q.KnownAt).Cursor()
	var adj *adjustment // the same for every row on one basis: the splits known at q.KnownAt up to it
	for i, end := range ends {
		if q.Tops != nil {
			q.Top = q.Tops[i]
		}
		state := cursor.AdvanceTo(end)
		if adj == nil || q.EachBasis {
			a := adjustmentFor(state, q)
			adj = &a
		}
		rows = append(rows, empty(symbol, q).compute(state, q, *adj))
	}
	return rows
}

// RowTimes are the as_of times of History's rows for the range and period:
// every period end within [from, to], and to itself when it is not one, at
// most MaxHistoryRows.
func RowTimes(from, to time.Time, every Every) []time.Time {
	from, to = from.UTC(), to.UTC()
	if to.Before(from) {
		return nil
	}
	ends := make([]time.Time, 0, min(estimateRows(from, to, every), MaxHistoryRows))
	lastIsTo := false
	for end := firstPeriodEnd(from, every); !end.After(to) && len(ends) < MaxHistoryRows; end = nextPeriodEnd(end, every) {
		ends = append(ends, end)
		lastIsTo = end.Equal(to)
	}
	if !lastIsTo && len(ends) < MaxHistoryRows {
		ends = append(ends, to)
	}
	return ends
}

// CountRows is the number of rows History returns for the range and period,
// counted the way History walks it, but counting no further than limit+1: a
// caller that refuses ranges of more than limit rows learns so without
// computing any.
func CountRows(from, to time.Time, every Every, limit int) int {
	from, to = from.UTC(), to.UTC()
	if to.Before(from) {
		return 0
	}
	n, lastIsTo := 0, false
	for end := firstPeriodEnd(from, every); !end.After(to) && n <= limit; end = nextPeriodEnd(end, every) {
		n++
		lastIsTo = end.Equal(to)
	}
	if !lastIsTo && n <= limit {
		n++
	}
	return min(n, MaxHistoryRows)
}

// estimateRows is the number of rows History will return, give or take one.
func estimateRows(from, to time.Time, every Every) int {
	days := int(to.Sub(from).Hours()/24) + 2
	switch every {
	case Week:
		return days/7 + 2
	case Month:
		return days/28 + 2
	}
	return days
}

// firstPeriodEnd is the first end of a period at or after t (UTC).
func firstPeriodEnd(t time.Time, every Every) time.Time {
	switch every {
	case Week:
		end := domain.EndOfDay(t)
		toSunday := (7 - int(end.Weekday())) % 7
		return end.AddDate(0, 0, toSunday)
	case Month:
		return monthEnd(t)
	}
	return domain.EndOfDay(t)
}

// nextPeriodEnd is the end of the period after the one ending at end.
func nextPeriodEnd(end time.Time, every Every) time.Time {
	switch every {
	case Week:
		return end.AddDate(0, 0, 7)
	case Month:
		return monthEnd(end.AddDate(0, 0, 1))
	}
	return end.AddDate(0, 0, 1)
}

// monthEnd is the end of the last day of t's month, UTC.
func monthEnd(t time.Time) time.Time {
	y, m, _ := t.Date()
	return time.Date(y, m+1, 0, 23, 59, 59, 999_999_999, time.UTC)
}
