package domain

import (
	"errors"
	"fmt"
	"time"
)

// MaxFutureSkew is how far ahead of the ledger's clock an effective time may be.
const MaxFutureSkew = 5 * time.Minute

// EarliestEffective is the earliest effective time the ledger accepts.
var EarliestEffective = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// EndOfDay is the last representable instant of t's UTC day:
// 23:59:59.999999999Z. A bare date means this instant.
func EndOfDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 23, 59, 59, 999_999_999, time.UTC)
}

// ParseTime reads a bare date (YYYY-MM-DD, meaning the end of that day, UTC)
// or an RFC 3339 timestamp, and returns it in UTC. A leap second, 23:59:60Z
// (or the same instant in another offset), is read as the last instant of its
// day, 23:59:59.999999999Z. field names the field in the error.
func ParseTime(field, text string) (time.Time, error) {
	if len(text) == len("2006-01-02") {
		if t, ok := endOfDate(text); ok {
			return t, nil
		}
		d, err := time.Parse("2006-01-02", text)
		if err != nil {
			return time.Time{}, invalid(field, text, "is not a date (YYYY-MM-DD) or RFC 3339 time")
		}
		return EndOfDay(d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, text)
	if err != nil {
		if leap, ok := leapSecond(text); ok {
			return leapInstant(field, text, leap)
		}
		return time.Time{}, invalid(field, text, "is not a date (YYYY-MM-DD) or RFC 3339 time")
	}
	if t = t.UTC(); t.Year() > 9999 {
		return time.Time{}, invalid(field, text, "is after the year 9999")
	}
	return t, nil
}

// endOfDate reads a bare date, YYYY-MM-DD, as time.Parse("2006-01-02")
// does, and returns the end of that day; ok is false for anything
// time.Parse would refuse, for ParseTime to say why. Nearly nine rows in
// ten of the generated million-row backfill are daily closes given a bare
// date, each read twice (to sort it, to judge it), and time.Parse took 0.3 s
// of its import.
func endOfDate(text string) (t time.Time, ok bool) {
	if len(text) != len("2006-01-02") || text[4] != '-' || text[7] != '-' {
		return t, false
	}
	num := func(s string) (int, bool) {
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, true
	}
	y, okY := num(text[:4])
	m, okM := num(text[5:7])
	d, okD := num(text[8:])
	if !okY || !okM || !okD || m < 1 || m > 12 || d < 1 {
		return t, false
	}
	// The month's last day: day 0 of the next month.
	if last := time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day(); d > last {
		return t, false
	}
	return time.Date(y, time.Month(m), d, 23, 59, 59, 999_999_999, time.UTC), true
}

// leapSecond reports whether text is an RFC 3339 time whose second is 60, a
// leap second (Go's time.Parse refuses those), and returns the same time a
// second earlier, at second 59.
func leapSecond(text string) (time.Time, bool) {
	// RFC 3339: 2006-01-02T15:04:05, then an optional fraction and the offset.
	if len(text) < len("2006-01-02T15:04:60Z") || text[16] != ':' || text[17:19] != "60" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, text[:17]+"59"+text[19:])
	return t, err == nil
}

// leapInstant reads a leap second, given at second 59 of its minute, as the
// last instant of that minute: like Go and POSIX, the ledger's clock has no
// 61st second, and the leap second comes after every instant of second 59.
// RFC 3339 allows second 60 only for a leap second, which is inserted at the
// end of a UTC day, so any other minute is refused.
func leapInstant(field, text string, at59 time.Time) (time.Time, error) {
	t := at59.UTC()
	if t.Hour() != 23 || t.Minute() != 59 {
		return time.Time{}, invalid(field, text, "has second 60, which only a leap second has, at the end of a UTC day (23:59:60Z)")
	}
	if t.Year() > 9999 {
		return time.Time{}, invalid(field, text, "is after the year 9999")
	}
	return EndOfDay(t), nil
}

// ParseEffective reads an effective time as ParseTime does and checks it is
// not before 1900 and not more than five minutes after now.
func ParseEffective(field, text string, now time.Time) (time.Time, error) {
	t, err := ParseTime(field, text)
	if err != nil {
		return t, err
	}
	if err := CheckEffective(field, t, now); err != nil {
		var v *ValidationError
		if errors.As(err, &v) {
			v.Value = text // name the value as the user wrote it
			if len(text) == len("2006-01-02") && !t.Before(now) {
				// A bare date means the end of its day, so today's date is
				// refused until shortly before midnight UTC: say how to
				// give the time instead.
				v.Reason += fmt.Sprintf(" (a bare date means the end of that day, %s; give the time instead, e.g. %s)",
					FormatTime(t), now.UTC().Truncate(time.Second).Format(time.RFC3339))
			}
		}
		return t, err
	}
	return t, nil
}

// CheckEffective checks an effective time is not before 1900 and not more than
// five minutes after now.
func CheckEffective(field string, t, now time.Time) error {
	if t.Before(EarliestEffective) {
		return invalid(field, FormatTime(t), "is before 1900")
	}
	if t.After(now.Add(MaxFutureSkew)) {
		return invalid(field, FormatTime(t), "is more than 5 minutes in the future")
	}
	return nil
}

// FormatTime writes t in UTC as RFC 3339 with as many fractional digits as it
// needs, the form every output of the ledger uses.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
