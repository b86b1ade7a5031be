package domain_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
)

func TestParseTimeAccepts(t *testing.T) {
	tests := []struct {
		name, in string
		want     time.Time
	}{
		{"bare date is the end of that UTC day", "2025-09-11",
			time.Date(2025, 9, 11, 23, 59, 59, 999_999_999, time.UTC)},
		{"leap day", "2024-02-29",
			time.Date(2024, 2, 29, 23, 59, 59, 999_999_999, time.UTC)},
		{"first accepted day", "1900-01-01",
			time.Date(1900, 1, 1, 23, 59, 59, 999_999_999, time.UTC)},
		{"RFC 3339 in UTC", "2025-09-11T14:30:00Z",
			time.Date(2025, 9, 11, 14, 30, 0, 0, time.UTC)},
		{"positive offset converted to UTC", "2025-09-11T10:00:00+02:00",
			time.Date(2025, 9, 11, 8, 0, 0, 0, time.UTC)},
		{"negative offset converted to UTC", "2025-09-11T20:00:00-05:00",
			time.Date(2025, 9, 12, 1, 0, 0, 0, time.UTC)},
		{"half-hour offset", "2025-09-11T10:00:00+05:30",
			time.Date(2025, 9, 11, 4, 30, 0, 0, time.UTC)},
		{"offset crosses the day backwards", "2025-09-11T01:00:00+08:00",
			time.Date(2025, 9, 10, 17, 0, 0, 0, time.UTC)},
		{"zero offset", "2025-09-11T10:00:00+00:00",
			time.Date(2025, 9, 11, 10, 0, 0, 0, time.UTC)},
		{"milliseconds kept", "2025-09-11T10:00:00.123Z",
			time.Date(2025, 9, 11, 10, 0, 0, 123_000_000, time.UTC)},
		{"microseconds kept", "2025-09-11T10:00:00.123456Z",
			time.Date(2025, 9, 11, 10, 0, 0, 123_456_000, time.UTC)},
		{"nanoseconds kept with offset", "2025-09-11T10:00:00.123456789-01:00",
			time.Date(2025, 9, 11, 11, 0, 0, 123_456_789, time.UTC)},
		{"written end of day", "2025-09-11T23:59:59.999999999Z",
			time.Date(2025, 9, 11, 23, 59, 59, 999_999_999, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := domain.ParseTime("at", tt.in)
			require.NoError(t, err)
			assert.True(t, tt.want.Equal(got), "got %s, want %s", got, tt.want)
			assert.Equal(t, tt.want, got, "the same instant, in UTC")
			assert.Equal(t, time.UTC, got.Location())
		})
	}
}

func TestParseTimeRejects(t *testing.T) {
	for _, in := range []string{
		"",
		"garbage",
		"yesterday",
		"now",
		"2025-13-01",
		"2025-00-10",
		"2025-09-31",
		"2025-02-29", // not a leap year
		"2025-09-00",
		"2025-9-1",
		"2025/09/11",
		"11/09/2025",
		"20250911",
		"2025-09-1x",
		" 2025-09-11",
		"2025-09-11 ",
		"2025-09-11T",
		"2025-09-11T10:00:00",       // no zone
		"2025-09-11 10:00:00Z",      // space for T
		"2025-09-11T25:00:00Z",      // hour
		"2025-09-11T10:60:00Z",      // minute
		"2025-09-11T10:00:00+2:00",  // short offset
		"2025-09-11T10:00:00 UTC",   // zone name
		"2025-09-11T10:00Z",         // no seconds
		"1757592000",                // Unix seconds
		"Thu, 11 Sep 2025 10:00:00", // RFC 1123
	} {
		t.Run(in, func(t *testing.T) {
			got, err := domain.ParseTime("as_of", in)
			ve := requireInvalid(t, err, "as_of")
			assert.Equal(t, in, ve.Value)
			assert.True(t, got.IsZero())
		})
	}
}

// A leap second is valid RFC 3339; Go's time package has no second 60, so
// it is read as the last instant of its minute, which ends a UTC day.
func TestParseTimeLeapSecond(t *testing.T) {
	last := time.Date(2016, 12, 31, 23, 59, 59, 999_999_999, time.UTC)
	for _, in := range []string{
		"2016-12-31T23:59:60Z",
		"2016-12-31T23:59:60.5Z",
		"2016-12-31T23:59:60.999999999Z",
		"2016-12-31T18:59:60-05:00", // the same leap second, in New York
		"2017-01-01T05:29:60+05:30", // and in Mumbai
	} {
		t.Run(in, func(t *testing.T) {
			got, err := domain.ParseTime("at", in)
			require.NoError(t, err)
			assert.Equal(t, last, got)
			assert.True(t, got.Before(time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)))
			assert.True(t, got.After(time.Date(2016, 12, 31, 23, 59, 59, 999_999_998, time.UTC)))
		})
	}
	for _, in := range []string{
		"2016-12-31T12:30:60Z",      // not the end of a UTC day
		"2016-12-31T23:59:60+01:00", // 22:59:60 in UTC
		"2016-12-31T23:58:60Z",
	} {
		t.Run(in, func(t *testing.T) {
			_, err := domain.ParseTime("at", in)
			ve := requireInvalid(t, err, "at")
			assert.Equal(t, fmt.Sprintf("at %q has second 60, which only a leap second has, at the end of a UTC day (23:59:60Z)", in), err.Error())
			assert.Equal(t, in, ve.Value)
		})
	}
	// Not RFC 3339 at all, leap second or not (lower-case t as any other time).
	for _, in := range []string{"2016-12-31T23:59:61Z", "2016-12-31T23:59:60", "2016-12-31T23:59:6Z", "2016-12-31t23:59:60z"} {
		_, err := domain.ParseTime("at", in)
		ve := requireInvalid(t, err, "at")
		assert.Equal(t, "is not a date (YYYY-MM-DD) or RFC 3339 time", ve.Reason, in)
	}
}

func TestEndOfDay(t *testing.T) {
	tests := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"midnight", time.Date(2025, 9, 11, 0, 0, 0, 0, time.UTC),
			time.Date(2025, 9, 11, 23, 59, 59, 999_999_999, time.UTC)},
		{"already the end", time.Date(2025, 9, 11, 23, 59, 59, 999_999_999, time.UTC),
			time.Date(2025, 9, 11, 23, 59, 59, 999_999_999, time.UTC)},
		{"the UTC day counts, not the local one", time.Date(2025, 9, 11, 1, 0, 0, 0, time.FixedZone("HKT", 8*3600)),
			time.Date(2025, 9, 10, 23, 59, 59, 999_999_999, time.UTC)},
		{"west of UTC", time.Date(2025, 9, 11, 22, 0, 0, 0, time.FixedZone("EDT", -4*3600)),
			time.Date(2025, 9, 12, 23, 59, 59, 999_999_999, time.UTC)},
		{"year end", time.Date(2024, 12, 31, 12, 0, 0, 0, time.UTC),
			time.Date(2024, 12, 31, 23, 59, 59, 999_999_999, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := domain.EndOfDay(tt.in)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, time.UTC, got.Location())
		})
	}
}

func TestParseEffective(t *testing.T) {
	now := time.Date(2025, 9, 11, 12, 0, 0, 0, time.UTC)
	accepts := []string{
		"2025-09-10",                     // yesterday's end of day
		"2025-09-11T12:00:00Z",           // now
		"2025-09-11T12:05:00Z",           // exactly five minutes ahead
		"2025-09-11T14:05:00+02:00",      // the same instant with an offset
		"2025-09-11T12:04:59.999999999Z", // just inside
		"1900-01-01",
		"1900-01-01T00:00:00Z", // the earliest instant
		"1900-01-01T00:00:00.5-01:00",
		"2000-02-29",
	}
	for _, in := range accepts {
		t.Run("accepts "+in, func(t *testing.T) {
			got, err := domain.ParseEffective("at", in, now)
			require.NoError(t, err)
			want, err := domain.ParseTime("at", in)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
	rejects := []string{
		"2025-09-11T12:05:00.000000001Z", // five minutes and a nanosecond
		"2025-09-11T12:06:00Z",
		"2025-09-11T13:00:00+00:30",
		"2025-09-11", // today's end of day is hours ahead of now
		"2026-01-01",
		"9999-12-31",
		"1899-12-31",
		"1899-12-31T23:59:59.999999999Z",
		"1900-01-01T00:30:00+01:00", // 1899-12-31T23:30Z
		"0001-01-01",
		"not a time",
		"2025-13-01",
	}
	for _, in := range rejects {
		t.Run("rejects "+in, func(t *testing.T) {
			_, err := domain.ParseEffective("at", in, now)
			requireInvalid(t, err, "at")
		})
	}
}

func TestCheckEffective(t *testing.T) {
	now := time.Date(2025, 9, 11, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	assert.NoError(t, domain.CheckEffective("at", now.Add(domain.MaxFutureSkew), now))
	assert.NoError(t, domain.CheckEffective("at", domain.EarliestEffective, now))
	requireInvalid(t, domain.CheckEffective("at", now.Add(domain.MaxFutureSkew+time.Nanosecond), now), "at")
	requireInvalid(t, domain.CheckEffective("effective_at", domain.EarliestEffective.Add(-time.Nanosecond), now), "effective_at")

	assert.Equal(t, 5*time.Minute, domain.MaxFutureSkew)
	assert.Equal(t, time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), domain.EarliestEffective)
}

func TestFormatTime(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2025, 9, 11, 23, 59, 59, 999_999_999, time.UTC), "2025-09-11T23:59:59.999999999Z"},
		{time.Date(2025, 9, 11, 10, 0, 0, 0, time.UTC), "2025-09-11T10:00:00Z"},
		{time.Date(2025, 9, 11, 10, 0, 0, 500_000_000, time.UTC), "2025-09-11T10:00:00.5Z"},
		{time.Date(2025, 9, 11, 10, 0, 0, 123_456_000, time.UTC), "2025-09-11T10:00:00.123456Z"},
		{time.Date(2025, 9, 11, 10, 0, 0, 0, time.FixedZone("HKT", 8*3600)), "2025-09-11T02:00:00Z"},
		{time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), "1900-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got := domain.FormatTime(tt.in)
			assert.Equal(t, tt.want, got)
			back, err := domain.ParseTime("at", got)
			require.NoError(t, err)
			assert.True(t, tt.in.Equal(back), "FormatTime output parses back to the same instant")
		})
	}
}

// TestBareDatesAsTimeParse holds the bare dates ParseTime reads by hand to
// time.Parse, over every day of two centuries and the first and last
// years, with the days just outside each month (00, and the day after its
// last, up to 32).
func TestBareDatesAsTimeParse(t *testing.T) {
	years := []int{0, 1, 4, 100, 400, 9996, 9999}
	for y := 1899; y <= 2101; y++ {
		years = append(years, y)
	}
	for _, y := range years {
		for m := 0; m <= 13; m++ {
			for d := 0; d <= 32; d++ {
				text := fmt.Sprintf("%04d-%02d-%02d", y, m, d)
				got, err := domain.ParseTime("at", text)
				ref, refErr := time.Parse("2006-01-02", text)
				if refErr != nil {
					require.Error(t, err, text)
					continue
				}
				require.NoError(t, err, text)
				require.Equal(t, domain.EndOfDay(ref), got, text)
			}
		}
	}
}

// BenchmarkParseTime reads the two forms of an import's rows: a close's
// bare date and a rating's RFC 3339 time.
func BenchmarkParseTime(b *testing.B) {
	for _, text := range []string{"2016-01-04", "2016-01-04T18:28:53Z"} {
		b.Run(text, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := domain.ParseTime("at", text); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
