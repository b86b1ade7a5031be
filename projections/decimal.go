package projections

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/consensus-ledger/consensus/domain"
)

// Decimal is an exact decimal number as the ledger publishes it, such as
// 165.69, 155.4432 or -3.1. It keeps the number's canonical text (no exponent,
// no superfluous zeros) rather than a float64, so JSON, CSV and text output
// print exactly the digits that were computed; binary floats would turn
// 165.69 into 165.69000000000000483 somewhere along the way. The zero value is
// the number 0.
//
// Decimal is an output value: projections compute with integers and produce
// Decimals only for the figures they report.
type Decimal struct {
	text string // canonical form; "" means 0
}

// ParseDecimal reads a plain decimal number such as "165.69" or "-3.1" (an
// optional minus sign, digits, an optional fraction; no exponent, no plus
// sign, no spaces). It exists so that clients reading the ledger's JSON or
// CSV get back exactly the value that was written.
func ParseDecimal(text string) (Decimal, error) {
	digits, neg := strings.CutPrefix(text, "-")
	whole, frac, hasDot := strings.Cut(digits, ".")
	if whole == "" || !isDigits(whole) || hasDot && (frac == "" || !isDigits(frac)) {
		return Decimal{}, fmt.Errorf("decimal %q is not a plain decimal number such as 165.69", text)
	}
	whole = strings.TrimLeft(whole, "0")
	frac = strings.TrimRight(frac, "0")
	if whole == "" {
		whole = "0"
	}
	s := whole
	if frac != "" {
		s += "." + frac
	}
	if neg && s != "0" {
		s = "-" + s
	}
	return Decimal{text: s}, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String returns the number's exact text, such as "165.69" or "0".
func (d Decimal) String() string {
	if d.text == "" {
		return "0"
	}
	return d.text
}

// Float64 returns the nearest binary float. It is meant only for drawing
// (charts), never for arithmetic or for printing figures.
func (d Decimal) Float64() float64 {
	f, _ := strconv.ParseFloat(d.String(), 64) // canonical text always parses
	return f
}

// MarshalJSON writes the number as a bare JSON number, never a string, so
// scripts read figures as numbers with all their digits.
func (d Decimal) MarshalJSON() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalJSON reads a JSON number written by MarshalJSON. It refuses
// exponents and strings, which the ledger never writes; null leaves d
// unchanged, as encoding/json expects of every Unmarshaler.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	v, err := ParseDecimal(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// moneyDecimal is an amount exactly as it was recorded, such as 155.4432.
func moneyDecimal(m domain.Money) Decimal {
	return Decimal{text: m.String()}
}

// hundredths is a figure rounded to 2 dp, given as a count of hundredths:
// 16569 is 165.69, -310 is -3.1.
func hundredths(h int64) Decimal {
	neg := h < 0
	abs := uint64(h)
	if neg {
		abs = -abs // two's complement: correct even for math.MinInt64
	}
	var buf [24]byte
	b := buf[:0]
	if neg {
		b = append(b, '-')
	}
	b = strconv.AppendUint(b, abs/100, 10)
	switch frac := abs % 100; {
	case frac == 0:
	case frac%10 == 0:
		b = append(b, '.', byte('0'+frac/10))
	default:
		b = append(b, '.', byte('0'+frac/10), byte('0'+frac%10))
	}
	return Decimal{text: string(b)}
}

// bigHundredths is hundredths for a count that may not fit in an int64.
func bigHundredths(h *big.Int) Decimal {
	if h.IsInt64() {
		return hundredths(h.Int64())
	}
	s := new(big.Int).Abs(h).String() // more than 18 digits: the dot fits
	d, _ := ParseDecimal(s[:len(s)-2] + "." + s[len(s)-2:])
	if h.Sign() < 0 {
		d.text = "-" + d.text
	}
	return d
}
