package domain

import (
	"strconv"
	"strings"
)

// Money is an exact, positive decimal amount kept as a count of millionths, so
// prices and targets are never binary floats. It has at most 6 fractional
// digits and is at most 1,000,000,000.
type Money int64

// MoneyScale is the number of Money units in one whole unit of currency.
const MoneyScale = 1_000_000

// MaxMoney is the largest amount the ledger accepts.
const MaxMoney Money = 1_000_000_000 * MoneyScale

// ParseMoney reads a decimal such as "165.69" exactly. It accepts only plain
// digits with an optional fraction: no sign, exponent, spaces or separators.
// field names the field in the error ("target", "price").
func ParseMoney(field, text string) (Money, error) {
	if strings.HasPrefix(text, "-") {
		return 0, invalid(field, text, "must be greater than zero")
	}
	whole, frac, hasDot := strings.Cut(text, ".")
	if whole == "" || !allDigits(whole) || hasDot && (frac == "" || !allDigits(frac)) {
		return 0, invalid(field, text, "must be a plain decimal number such as 165.69")
	}
	if len(frac) > 6 {
		return 0, invalid(field, text, "has more than 6 decimal places")
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > 10 {
		return 0, invalid(field, text, "must be at most 1000000000")
	}
	// Every character is a digit, at most 10 before the point and 6 after:
	// read as millionths, they cannot overflow.
	var units int64
	for i := 0; i < len(whole); i++ {
		units = units*10 + int64(whole[i]-'0')
	}
	for i := range 6 {
		units *= 10
		if i < len(frac) {
			units += int64(frac[i] - '0')
		}
	}
	m := Money(units)
	if m <= 0 {
		return 0, invalid(field, text, "must be greater than zero")
	}
	if m > MaxMoney {
		return 0, invalid(field, text, "must be at most 1000000000")
	}
	return m, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Micros returns the amount in millionths.
func (m Money) Micros() int64 { return int64(m) }

// String formats the amount with as few fractional digits as it needs:
// 165.69, 152.98, 140, 0.000001.
func (m Money) String() string {
	whole, frac := int64(m)/MoneyScale, int64(m)%MoneyScale
	if frac == 0 {
		return strconv.FormatInt(whole, 10)
	}
	f := strconv.FormatInt(frac+MoneyScale, 10)[1:] // zero-padded to 6 digits
	return strconv.FormatInt(whole, 10) + "." + strings.TrimRight(f, "0")
}

// MarshalText writes the amount as its exact decimal text.
func (m Money) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText reads an amount written by MarshalText.
func (m *Money) UnmarshalText(b []byte) error {
	v, err := ParseMoney("amount", string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}
