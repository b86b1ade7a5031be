package domain

import "strings"

// Rating is a normalised analyst recommendation. Its value is the I/B/E/S
// score: 1 strong buy to 5 strong sell.
type Rating int

// The five ratings of the scale, valued by their I/B/E/S score.
const (
	StrongBuy  Rating = 1
	Buy        Rating = 2
	Hold       Rating = 3
	Sell       Rating = 4
	StrongSell Rating = 5
)

var ratingNames = map[Rating]string{
	StrongBuy: "strong_buy", Buy: "buy", Hold: "hold", Sell: "sell", StrongSell: "strong_sell",
}

// ratingWords maps every accepted word, canonical or broker wording, to the scale.
var ratingWords = map[string]Rating{
	"strong_buy": StrongBuy, "buy": Buy, "hold": Hold, "sell": Sell, "strong_sell": StrongSell,
	"outperform": Buy, "overweight": Buy, "accumulate": Buy,
	"neutral": Hold, "equal_weight": Hold, "market_perform": Hold, "sector_perform": Hold,
	"underperform": Sell, "underweight": Sell, "reduce": Sell,
}

// ParseRating maps a rating word, canonical or a broker's own (outperform,
// equal_weight, ...), onto the scale. It ignores case, and treats spaces and
// hyphens like underscores, so "Equal-Weight" and "strong buy" are accepted.
func ParseRating(word string) (Rating, error) {
	// Lower-case ASCII only: Unicode case folding would let look-alikes such
	// as a dotted capital I through.
	key := []byte(strings.TrimSpace(word))
	for i, c := range key {
		switch {
		case c >= 'A' && c <= 'Z':
			key[i] = c + 'a' - 'A'
		case c == ' ' || c == '-':
			key[i] = '_'
		}
	}
	if r, ok := ratingWords[string(key)]; ok {
		return r, nil
	}
	return 0, invalid("rating", word, "is not a known rating (use strong_buy, buy, hold, sell, strong_sell or a broker synonym such as outperform or neutral)")
}

// String returns the canonical name, such as "strong_buy".
func (r Rating) String() string { return ratingNames[r] }

// Valid reports whether r is on the scale.
func (r Rating) Valid() bool { return r >= StrongBuy && r <= StrongSell }

// Score is the I/B/E/S score, 1 (strong buy) to 5 (strong sell).
func (r Rating) Score() int { return int(r) }

// Bucket is one of the three groups a consensus counts.
type Bucket int

// The three buckets.
const (
	BucketBuy Bucket = iota
	BucketHold
	BucketSell
)

// Bucket returns the group the rating counts in: strong buy and buy count as
// buy, sell and strong sell as sell.
func (r Rating) Bucket() Bucket {
	switch {
	case r <= Buy:
		return BucketBuy
	case r == Hold:
		return BucketHold
	default:
		return BucketSell
	}
}

// MarshalText writes the canonical name.
func (r Rating) MarshalText() ([]byte, error) {
	if !r.Valid() {
		return nil, invalid("rating", "", "is not on the scale")
	}
	return []byte(r.String()), nil
}

// UnmarshalText accepts only the canonical names, as events store them.
func (r *Rating) UnmarshalText(b []byte) error {
	for v, name := range ratingNames {
		if string(b) == name {
			*r = v
			return nil
		}
	}
	return invalid("rating", string(b), "is not a canonical rating")
}
