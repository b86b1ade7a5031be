package domain_test

import (
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
)

func TestParseRatio(t *testing.T) {
	for text, want := range map[string]domain.Ratio{"4:1": {New: 4, Old: 1}, "1:10": {New: 1, Old: 10}, "3:2": {New: 3, Old: 2},
		"1000000:1": {New: 1_000_000, Old: 1}, "04:1": {New: 4, Old: 1}} {
		got, err := domain.ParseRatio(text)
		require.NoError(t, err, text)
		assert.Equal(t, want, got, text)
	}
	for text, reason := range map[string]string{
		"":                       "ratio is required: N:M, N new shares for every M old, such as 4:1",
		"1:1":                    `ratio "1:1" changes nothing: N and M must differ`,
		"0:1":                    `ratio "0:1" must name at least 1 share on each side`,
		"4:0":                    `ratio "4:0" must name at least 1 share on each side`,
		"4/1":                    `ratio "4/1" must be N:M with whole numbers, N new shares for every M old, such as 4:1 or 1:10`,
		"4:1.5":                  `ratio "4:1.5" must be N:M with whole numbers, N new shares for every M old, such as 4:1 or 1:10`,
		"-4:1":                   `ratio "-4:1" must be N:M with whole numbers, N new shares for every M old, such as 4:1 or 1:10`,
		"1000001:1":              `ratio "1000001:1" must name at most 1000000 shares on each side`,
		"1:99999999999999999999": `ratio "1:99999999999999999999" must name at most 1000000 shares on each side`,
	} {
		_, err := domain.ParseRatio(text)
		require.Error(t, err, text)
		assert.Equal(t, reason, err.Error(), text)
	}
}

// A split's bare date is the start of its ex-date: that day's own closes
// are on the new basis.
func TestParseSplitAt(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at, err := domain.ParseSplitAt("at", "2024-06-10", now)
	require.NoError(t, err)
	assert.Equal(t, time.Date(2024, 6, 10, 0, 0, 0, 0, time.UTC), at)
	at, err = domain.ParseSplitAt("at", "2024-06-10T13:30:00+02:00", now)
	require.NoError(t, err)
	assert.Equal(t, time.Date(2024, 6, 10, 11, 30, 0, 0, time.UTC), at)
	for _, bad := range []string{"2024-13-01", "10/06/2024", "2024-06-10 00:00", "1899-12-31", "2026-01-02"} {
		_, err := domain.ParseSplitAt("at", bad, now)
		assert.Error(t, err, bad)
	}
}

// The factor multiplies by M/N for every split in (from, basis]: a value
// effective at the ex-date's first instant is already on the new basis.
func TestSplitsFactor(t *testing.T) {
	ex := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	ss := domain.Splits{{Ratio: domain.Ratio{New: 4, Old: 1}, At: ex}, {Ratio: domain.Ratio{New: 1, Old: 10}, At: ex.AddDate(0, 1, 0)}}
	before, basis := ex.Add(-time.Nanosecond), ex.AddDate(1, 0, 0)
	assert.Equal(t, "5/2", ss.Factor(before, basis).String())
	assert.Equal(t, "10", ss.Factor(ex, basis).String())
	assert.Equal(t, "1/4", ss.Factor(before, ex).String())
	assert.True(t, ss.Factor(before, before).IsOne())
	assert.Equal(t, "1200", domain.FormatMicros(ss.Factor(before, basis).AdjustedMicros(480_000_000)))
	assert.Equal(t, "0.000003", domain.FormatMicros(domain.Splits{{Ratio: domain.Ratio{New: 3, Old: 1}, At: ex}}.Factor(before, ex).AdjustedMicros(8)))
	assert.Equal(t, 1, ss.Factor(before, ex).CompareAdjusted(130_000_000, 480_000_000)) // 130 > 480/4
}

// CompareAdjusted's 128-bit comparison agrees with rational arithmetic.
func TestCompareAdjustedAgreesWithRationals(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ex := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	for range 20000 {
		var ss domain.Splits
		for i := range 1 + rng.IntN(3) {
			ss = append(ss, domain.Split{Ratio: domain.Ratio{New: 1 + rng.Int64N(1_000_000), Old: 1 + rng.Int64N(1_000_000)}, At: ex.AddDate(0, i, 0)})
		}
		f := ss.Factor(ex.Add(-time.Hour), ex.AddDate(1, 0, 0))
		a, b := domain.Money(1+rng.Int64N(int64(domain.MaxMoney))), domain.Money(1+rng.Int64N(int64(domain.MaxMoney)))
		if rng.IntN(10) == 0 {
			b = a
		}
		want := new(big.Rat).SetInt64(int64(a)).Cmp(new(big.Rat).Mul(new(big.Rat).SetInt64(int64(b)), f.Rat()))
		require.Equal(t, want, f.CompareAdjusted(a, b), "%d against %d x %s", a, b, f)
	}
}
