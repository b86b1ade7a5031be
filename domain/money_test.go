package domain_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
)

func TestParseMoneyExact(t *testing.T) {
	tests := []struct {
		in     string
		micros int64
	}{
		{"165.69", 165_690_000},
		{"0.000001", 1},
		{"1000000000", 1_000_000_000_000_000},
		{"1000000000.0", 1_000_000_000_000_000},
		{"1000000000.000000", 1_000_000_000_000_000},
		{"999999999.999999", 999_999_999_999_999},
		{"007.50", 7_500_000},
		{"0.1", 100_000},
		{"0.10", 100_000},
		{"1", 1_000_000},
		{"1.000001", 1_000_001},
		{"152.98", 152_980_000},
		{"0.3", 300_000}, // 0.1+0.2 in floats is not 0.3; here it is exact
		{"123456.654321", 123_456_654_321},
		{"0000000000000000000001", 1_000_000}, // leading zeros are only zeros
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			m, err := domain.ParseMoney("target", tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.micros, m.Micros())
			assert.Equal(t, domain.Money(tt.micros), m)
		})
	}
}

func TestParseMoneyRejects(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"negative", "-1"},
		{"negative fraction", "-0.5"},
		{"zero", "0"},
		{"zero with decimals", "0.000000"},
		{"zero with one decimal", "0.0"},
		{"many zeros", "000"},
		{"non-numeric", "abc"},
		{"currency symbol", "$165.69"},
		{"currency code", "165.69 USD"},
		{"7 decimals", "1.0000001"},
		{"7 decimals, all zero", "1.0000000"},
		{"below one micro", "0.0000001"},
		{"exponent", "1e3"},
		{"upper-case exponent", "1E3"},
		{"exponent with fraction", "1.5e2"},
		{"thousands comma", "1,000"},
		{"decimal comma", "165,69"},
		{"underscore separator", "1_000"},
		{"apostrophe separator", "1'000"},
		{"leading plus", "+1"},
		{"no whole part", ".5"},
		{"no fraction", "5."},
		{"only a dot", "."},
		{"two dots", "1.2.3"},
		{"leading space", " 1"},
		{"trailing space", "1 "},
		{"space inside", "1 000"},
		{"tab", "1\t"},
		{"newline", "1\n"},
		{"above one billion by a micro", "1000000000.000001"},
		{"two billion", "2000000000"},
		{"eleven digits", "10000000000"},
		{"very long digit string", strings.Repeat("9", 400)},
		{"very long fraction", "1." + strings.Repeat("0", 400) + "1"},
		{"int64 overflow", "9223372036854775808"},
		{"hex", "0x10"},
		{"infinity", "Inf"},
		{"NaN", "NaN"},
		{"fullwidth digits", "１２"},
		{"arabic-indic digits", "١٢"},
		{"NUL", "1\x00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := domain.ParseMoney("price", tt.in)
			ve := requireInvalid(t, err, "price")
			assert.Equal(t, tt.in, ve.Value)
			assert.Zero(t, m)
		})
	}
}

func TestParseMoneyNamesTheField(t *testing.T) {
	for _, field := range []string{"target", "price", "amount"} {
		_, err := domain.ParseMoney(field, "x")
		requireInvalid(t, err, field)
	}
}

func TestMoneyString(t *testing.T) {
	tests := []struct {
		micros int64
		want   string
	}{
		{165_690_000, "165.69"},
		{152_980_000, "152.98"},
		{140_000_000, "140"},
		{1, "0.000001"},
		{10, "0.00001"},
		{100_000, "0.1"},
		{1_000_001, "1.000001"},
		{1_000_000, "1"},
		{7_500_000, "7.5"},
		{999_999_999_999_999, "999999999.999999"},
		{int64(domain.MaxMoney), "1000000000"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			m := domain.Money(tt.micros)
			assert.Equal(t, tt.want, m.String())
			back, err := domain.ParseMoney("amount", m.String())
			require.NoError(t, err)
			assert.Equal(t, m, back, "Parse(String(m)) == m")
		})
	}
}

func TestMoneyRoundTripSweep(t *testing.T) {
	// Every power of ten, and its neighbours, across the whole range.
	for p := domain.Money(1); p <= domain.MaxMoney; p *= 10 {
		for _, m := range []domain.Money{p - 1, p, p + 1, 3 * p, 7*p + 1} {
			if m <= 0 || m > domain.MaxMoney {
				continue
			}
			back, err := domain.ParseMoney("amount", m.String())
			require.NoError(t, err, "String() = %q", m.String())
			require.Equal(t, m, back, "String() = %q", m.String())
		}
	}
}

func TestMaxMoney(t *testing.T) {
	assert.Equal(t, int64(1_000_000_000*1_000_000), int64(domain.MaxMoney))
	assert.Equal(t, 1_000_000, domain.MoneyScale)
}

func TestMoneyJSON(t *testing.T) {
	type doc struct {
		Price  domain.Money  `json:"price"`
		Target *domain.Money `json:"target,omitempty"`
	}
	b, err := json.Marshal(doc{Price: 165_690_000, Target: ptr(domain.Money(1))})
	require.NoError(t, err)
	assert.Equal(t, `{"price":"165.69","target":"0.000001"}`, string(b), "money is a JSON string, never a float")

	var d doc
	require.NoError(t, json.Unmarshal([]byte(`{"price":"155.44","target":"1000000000"}`), &d))
	assert.Equal(t, domain.Money(155_440_000), d.Price)
	require.NotNil(t, d.Target)
	assert.Equal(t, domain.MaxMoney, *d.Target)

	for _, bad := range []string{
		`{"price":155.44}`,
		`{"price":"1e3"}`,
		`{"price":"-1"}`,
		`{"price":"0"}`,
		`{"price":"1,000"}`,
		`{"price":"1000000000.000001"}`,
		`{"price":"1.1234567"}`,
		`{"price":""}`,
		`{"price":true}`,
	} {
		t.Run(bad, func(t *testing.T) {
			var d doc
			assert.Error(t, json.Unmarshal([]byte(bad), &d))
		})
	}
}

func TestMoneyUnmarshalTextError(t *testing.T) {
	var m domain.Money
	err := m.UnmarshalText([]byte("12.5x"))
	requireInvalid(t, err, "amount")
	assert.Zero(t, m, "a refused value leaves the money unchanged")
}

// BenchmarkParseMoney reads a close's price.
func BenchmarkParseMoney(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := domain.ParseMoney("price", "37.22"); err != nil {
			b.Fatal(err)
		}
	}
}
