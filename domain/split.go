package domain

import (
	"cmp"
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// MaxRatioTerm is the largest number of shares either side of a split
// ratio may name (CONTRACT section 7).
const MaxRatioTerm = 1_000_000

// Ratio is a split's ratio N:M: New shares for every Old share. A 4-for-1
// split is 4:1, a 1-for-10 reverse split 1:10. Its JSON is the text "N:M".
type Ratio struct {
	New, Old int64
}

// ParseRatio reads a split ratio "N:M" of two whole numbers from 1 to
// MaxRatioTerm that differ. Anything else (4/1, 4:1.5, -4:1, 1:1, 4:0, a
// sign, spaces) is a *ValidationError for the field "ratio".
func ParseRatio(text string) (Ratio, error) {
	refuse := func(reason string) (Ratio, error) { return Ratio{}, invalid("ratio", text, reason) }
	if text == "" {
		return refuse("is required: N:M, N new shares for every M old, such as 4:1")
	}
	n, m, ok := strings.Cut(text, ":")
	if !ok || !allDigits(n) || !allDigits(m) || n == "" || m == "" {
		return refuse("must be N:M with whole numbers, N new shares for every M old, such as 4:1 or 1:10")
	}
	term := func(s string) int64 {
		s = strings.TrimLeft(s, "0")
		if len(s) > 7 {
			return MaxRatioTerm + 1
		}
		v, _ := strconv.ParseInt("0"+s, 10, 64) // at most 7 digits: cannot fail
		return v
	}
	r := Ratio{New: term(n), Old: term(m)}
	switch {
	case r.New < 1 || r.Old < 1:
		return refuse("must name at least 1 share on each side")
	case r.New > MaxRatioTerm || r.Old > MaxRatioTerm:
		return refuse("must name at most 1000000 shares on each side")
	case r.New == r.Old:
		return refuse("changes nothing: N and M must differ")
	}
	return r, nil
}

// Valid reports whether the ratio is one ParseRatio accepts.
func (r Ratio) Valid() bool {
	return r.New >= 1 && r.Old >= 1 && r.New <= MaxRatioTerm && r.Old <= MaxRatioTerm && r.New != r.Old
}

// String writes the ratio as N:M.
func (r Ratio) String() string {
	return strconv.FormatInt(r.New, 10) + ":" + strconv.FormatInt(r.Old, 10)
}

// MarshalText writes the ratio as N:M.
func (r Ratio) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a ratio written by MarshalText.
func (r *Ratio) UnmarshalText(b []byte) error {
	v, err := ParseRatio(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// SplitRecorded records a stock split (or a reverse split, or a change of a
// depositary share's ratio) effective at the start of its ex-date: prices
// and targets effective before it are on the old share basis, those
// effective at or after it on the new one (CONTRACT section 7). It carries
// no currency and is no analyst's activity.
type SplitRecorded struct {
	Instrument  Symbol    `json:"instrument"`
	Ratio       Ratio     `json:"ratio"`
	EffectiveAt time.Time `json:"effective_at"`
}

func (SplitRecorded) Type() string           { return TypeSplitRecorded }
func (e SplitRecorded) Symbol() Symbol       { return e.Instrument }
func (e SplitRecorded) Effective() time.Time { return e.EffectiveAt }
func (c RecordSplit) Symbol() Symbol         { return c.Instrument }

// RecordSplit asks to record a split (SplitRecorded).
type RecordSplit struct {
	Instrument  Symbol
	Ratio       Ratio
	EffectiveAt time.Time
}

// ParseSplitAt reads a split's ex-date: a bare date YYYY-MM-DD means the
// START of that day, 00:00:00Z, because the ex-date's own closes and
// targets are already on the new basis; a timestamp is RFC 3339, as for
// every effective time. It is checked as ParseEffective checks.
func ParseSplitAt(field, text string, now time.Time) (time.Time, error) {
	if len(text) != len("2006-01-02") {
		return ParseEffective(field, text, now)
	}
	d, err := time.Parse("2006-01-02", text)
	if err != nil {
		return time.Time{}, invalid(field, text, "is not a date (YYYY-MM-DD) or RFC 3339 time")
	}
	if err := CheckEffective(field, d, now); err != nil {
		if v, ok := err.(*ValidationError); ok {
			v.Value = text
		}
		return d, err
	}
	return d, nil
}

// Split is a split visible at a knowledge time: recorded by then and not
// retracted by then.
type Split struct {
	EventID uuid.UUID
	Ratio   Ratio
	At      time.Time // the ex-date, its effective time
	Version int64     // its place in the stream, for fold order
}

// Splits are an instrument's visible splits in fold order (effective time,
// ties by stream order).
type Splits []Split

// Factor is what a money value is multiplied by to move it from the basis
// of one time to the basis of a later one: the product of M/N over the
// splits between, in lowest terms. Products of a few ratios fit in int64
// and cost no allocation, which matters to a history computing one factor
// per target per row; a longer chain goes on in a big.Rat. The zero value
// is 1.
type Factor struct {
	num, den int64 // in lowest terms; 0/0 is 1
	rat      *big.Rat
}

// Factor is the adjustment of a value effective at from to the basis of
// time basis, CONTRACT section 7: the product of M/N over every split s with
// from < s.At <= basis. A value effective at or after the split is already
// on its basis. The splits being in fold order, those splits are a run:
// it looks back from the latest for the first after from, so that a value
// effective after every split (the fold compares each target revision)
// costs one comparison.
func (ss Splits) Factor(from, basis time.Time) Factor {
	var f Factor
	i := len(ss)
	for i > 0 && from.Before(ss[i-1].At) {
		i--
	}
	for _, s := range ss[i:] {
		if s.At.After(basis) {
			break
		}
		f = f.times(s.Ratio)
	}
	return f
}

// times multiplies the factor by M/N of a ratio.
func (f Factor) times(r Ratio) Factor {
	if f.rat == nil {
		n, d := f.num, f.den
		if n == 0 {
			n, d = 1, 1
		}
		hiN, loN := bits.Mul64(uint64(n), uint64(r.Old))
		hiD, loD := bits.Mul64(uint64(d), uint64(r.New))
		if hiN == 0 && hiD == 0 && loN <= math.MaxInt64 && loD <= math.MaxInt64 {
			n, d = int64(loN), int64(loD)
			g := gcd(n, d)
			return Factor{num: n / g, den: d / g}
		}
		f.rat = big.NewRat(n, d)
	}
	return Factor{rat: new(big.Rat).Mul(f.rat, big.NewRat(r.Old, r.New))}
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// IsOne reports whether the factor changes nothing.
func (f Factor) IsOne() bool {
	if f.rat != nil {
		return f.rat.Cmp(big.NewRat(1, 1)) == 0
	}
	return f.num == f.den
}

// Int64 returns the factor's numerator and denominator in lowest terms, or
// ok false when they do not fit in int64.
func (f Factor) Int64() (num, den int64, ok bool) {
	switch {
	case f.rat != nil:
		return 0, 0, false
	case f.num == 0:
		return 1, 1, true
	}
	return f.num, f.den, true
}

// Rat returns the factor as a fraction in lowest terms, a new value.
func (f Factor) Rat() *big.Rat {
	if f.rat != nil {
		return new(big.Rat).Set(f.rat)
	}
	n, d, _ := f.Int64()
	return big.NewRat(n, d)
}

// Num is the factor's numerator in lowest terms, a new value.
func (f Factor) Num() *big.Int { return new(big.Int).Set(f.Rat().Num()) }

// Den is the factor's denominator in lowest terms, a new value.
func (f Factor) Den() *big.Int { return new(big.Int).Set(f.Rat().Denom()) }

// String writes the factor as a fraction, "1/4", or a whole number, "10".
func (f Factor) String() string { return f.Rat().RatString() }

// AdjustedMicros is a money value multiplied by the factor, in millionths
// rounded half away from zero (CONTRACT section 7: an adjusted close or
// target reported on its own rounds to 6 dp). It can exceed MaxMoney (a
// reverse split multiplies), so it is a big.Int.
func (f Factor) AdjustedMicros(m Money) *big.Int {
	v := big.NewInt(m.Micros())
	if f.IsOne() {
		return v
	}
	r := f.Rat()
	v.Mul(v, r.Num())
	return RoundDiv(v, r.Denom())
}

// AdjustedMicros64 is AdjustedMicros without allocating, for the common
// case of a factor and a result that fit in int64; ok is false otherwise.
func (f Factor) AdjustedMicros64(m Money) (v int64, ok bool) {
	num, den, ok := f.Int64()
	if !ok || m < 0 {
		return 0, false
	}
	hi, lo := bits.Mul64(uint64(m), uint64(num))
	if hi >= uint64(den) {
		return 0, false // the quotient would pass 64 bits
	}
	q, r := bits.Div64(hi, lo, uint64(den))
	if 2*r >= uint64(den) { // half away from zero; r < den < 2^63
		q++
	}
	if q > math.MaxInt64 {
		return 0, false
	}
	return int64(q), true
}

// CompareAdjusted compares a with b adjusted by f (a against b x f),
// exactly: a x den against b x num, in 128 bits while the factor fits in
// int64 (the fold compares every revision after a split this way, so it
// must not allocate), in big.Int beyond.
func (f Factor) CompareAdjusted(a, b Money) int {
	if num, den, ok := f.Int64(); ok {
		lh, ll := bits.Mul64(uint64(a), uint64(den)) // money and factor terms are positive
		rh, rl := bits.Mul64(uint64(b), uint64(num))
		if lh != rh {
			return cmp.Compare(lh, rh)
		}
		return cmp.Compare(ll, rl)
	}
	r := f.Rat()
	left := new(big.Int).Mul(big.NewInt(a.Micros()), r.Denom())
	right := new(big.Int).Mul(big.NewInt(b.Micros()), r.Num())
	return left.Cmp(right)
}

// RoundDiv returns num/den rounded half away from zero, as a new value;
// den > 0.
func RoundDiv(num, den *big.Int) *big.Int {
	return RoundDivInto(new(big.Int), new(big.Int), num, den)
}

// RoundDivInto is RoundDiv into q, with r as scratch space, for callers
// that keep their big.Ints between calls; it returns q. Neither may be num
// or den.
func RoundDivInto(q, r, num, den *big.Int) *big.Int {
	q.QuoRem(num, den, r) // truncated toward zero
	r.Abs(r).Lsh(r, 1)
	if r.Cmp(den) >= 0 {
		if num.Sign() < 0 {
			q.Sub(q, bigOne)
		} else {
			q.Add(q, bigOne)
		}
	}
	return q
}

var bigOne = big.NewInt(1)

// FormatMicros writes a count of millionths as a plain decimal with as few
// fractional digits as it needs: what Money.String writes, for values
// beyond Money's range.
func FormatMicros(v *big.Int) string {
	if v.IsInt64() && v.Int64() > 0 && v.Int64() <= int64(MaxMoney) {
		return Money(v.Int64()).String()
	}
	abs := new(big.Int).Abs(v)
	q, r := new(big.Int).QuoRem(abs, big.NewInt(MoneyScale), new(big.Int))
	s := q.String()
	if r.Sign() != 0 {
		f := strconv.FormatInt(r.Int64()+MoneyScale, 10)[1:]
		s += "." + strings.TrimRight(f, "0")
	}
	if v.Sign() < 0 {
		s = "-" + s
	}
	return s
}
