package disclosures

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/consensus-ledger/consensus/domain"
)

// ErrUnknownFirm is returned when no RatingAdded visible at known_at names
// the firm asked about; the error's text suggests the closest names.
var ErrUnknownFirm = errors.New("unknown firm")

// bucketNames are the three buckets as the report writes them.
var bucketNames = [3]string{domain.BucketBuy: "buy", domain.BucketHold: "hold", domain.BucketSell: "sell"}

// Report is the disclosures of one firm at (as_of, known_at).
type Report struct {
	Firm            string           `json:"firm"`
	AsOf            time.Time        `json:"as_of"`
	KnownAt         time.Time        `json:"known_at"`
	Months          int              `json:"months"`
	From            time.Time        `json:"from"`        // the list covers (from, as_of]
	WindowDays      *int             `json:"window_days"` // null: every rating held counts
	Distribution    Distribution     `json:"distribution"`
	Recommendations []Recommendation `json:"recommendations"`
	// Heads are the hash-chain heads, as known at known_at, of the streams
	// the report draws on: whoever holds them can show that the events
	// behind it are the ledger's, unchanged (CONTRACT section 6).
	Heads  []Head  `json:"chain_heads"`
	Charts []Chart `json:"-"`
}

// Head is the last event of one stream recorded by known_at.
type Head struct {
	Stream  string `json:"stream"`
	Version int64  `json:"version"`
	Hash    string `json:"hash"`
}

// Distribution counts the firm's ratings as of D by bucket.
type Distribution struct {
	Instruments int       `json:"instruments"`
	Buy         int       `json:"buy"`
	Hold        int       `json:"hold"`
	Sell        int       `json:"sell"`
	BuyPct      *Pct      `json:"buy_pct"` // null when the firm holds no rating
	HoldPct     *Pct      `json:"hold_pct"`
	SellPct     *Pct      `json:"sell_pct"`
	Holdings    []Holding `json:"holdings"`
}

// Pct is a percentage in hundredths of a percent: 3333 is 33.33. It is
// written with exactly two decimals, as a JSON number.
type Pct int64

func (p Pct) String() string {
	return strconv.FormatInt(int64(p)/100, 10) + "." + fmt.Sprintf("%02d", int64(p)%100)
}

// MarshalJSON writes the percentage as a number with two decimals.
func (p Pct) MarshalJSON() ([]byte, error) { return []byte(p.String()), nil }

// shares splits 100.00 % over counts in proportion, in hundredths, by the
// largest remainder method: each share is its exact value rounded down,
// and the hundredths still missing go to the largest remainders (ties to
// the earlier bucket: buy, hold, sell). The shares therefore always add up
// to exactly 100.00, as a published distribution must, and each is its
// exact value rounded up or down by less than a hundredth.
func shares(counts [3]int) [3]Pct {
	total := counts[0] + counts[1] + counts[2]
	var out [3]Pct
	if total == 0 {
		return out
	}
	var rem [3]int
	left := 10000
	for i, c := range counts {
		out[i] = Pct(c * 10000 / total)
		rem[i] = c * 10000 % total
		left -= int(out[i])
	}
	order := []int{0, 1, 2}
	slices.SortStableFunc(order, func(a, b int) int { return rem[b] - rem[a] })
	for _, i := range order[:left] {
		out[i]++
	}
	return out
}

// Assemble puts the instruments' parts together, in symbol order, with the
// recommendations in time order and the distribution's percentages.
func Assemble(q Query, parts []Instrument, heads []Head) Report {
	rep := Report{Firm: q.Firm, AsOf: q.AsOf.UTC(), KnownAt: q.KnownAt.UTC(), Months: q.Months, From: q.From().UTC(),
		Recommendations: []Recommendation{}, Heads: heads}
	if rep.Heads == nil {
		rep.Heads = []Head{}
	}
	if q.Window > 0 {
		days := int(q.Window / (24 * time.Hour))
		rep.WindowDays = &days
	}
	parts = slices.Clone(parts)
	slices.SortFunc(parts, func(a, b Instrument) int { return strings.Compare(string(a.Symbol), string(b.Symbol)) })
	d := &rep.Distribution
	d.Holdings = []Holding{}
	var counts [3]int
	for _, p := range parts {
		rep.Recommendations = append(rep.Recommendations, p.Recommendations...)
		if p.Chart != nil {
			rep.Charts = append(rep.Charts, *p.Chart)
		}
		if h := p.Holding; h != nil {
			d.Holdings = append(d.Holdings, *h)
			counts[slices.Index(bucketNames[:], h.Bucket)]++
		}
	}
	slices.SortStableFunc(rep.Recommendations, compareRecommendations)
	d.Instruments, d.Buy, d.Hold, d.Sell = len(d.Holdings), counts[0], counts[1], counts[2]
	if d.Instruments > 0 {
		s := shares(counts)
		d.BuyPct, d.HoldPct, d.SellPct = &s[0], &s[1], &s[2]
	}
	return rep
}

// UnknownFirm is the refusal of a firm no rating names, with up to three
// of the known firms closest to it.
func UnknownFirm(firm string, known []string) error {
	msg := fmt.Sprintf("firm %s is named by no rating", domain.Quote(firm))
	if near := Closest(firm, known, 3); len(near) > 0 {
		quoted := make([]string, len(near))
		for i, n := range near {
			quoted[i] = domain.Quote(n)
		}
		msg += "; the closest known: " + strings.Join(quoted, ", ")
	} else if len(known) == 0 {
		msg += "; the ledger names no firm"
	}
	return &firmError{msg: msg}
}

type firmError struct{ msg string }

func (e *firmError) Error() string { return e.msg }
func (e *firmError) Unwrap() error { return ErrUnknownFirm }

// Closest returns up to n of names nearest to name by edit distance,
// ignoring case, nearest first (ties in name order); names further than
// a third of their own length away (at least 2) are not suggested, and a
// known name that contains the one typed counts as 1 away.
func Closest(name string, names []string, n int) []string {
	type scored struct {
		name string
		d    int
	}
	var all []scored
	key := strings.ToLower(name)
	for _, c := range names {
		d := distance(key, strings.ToLower(c))
		if strings.Contains(strings.ToLower(c), key) && key != "" {
			d = min(d, 1)
		}
		if d <= max(len([]rune(c))/3, 2) {
			all = append(all, scored{c, d})
		}
	}
	slices.SortFunc(all, func(a, b scored) int {
		if a.d != b.d {
			return a.d - b.d
		}
		return strings.Compare(a.name, b.name)
	})
	var out []string
	for _, s := range all[:min(n, len(all))] {
		out = append(out, s.name)
	}
	return out
}

// distance is the Levenshtein distance between a and b, in runes.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

func itoa(n int) string { return strconv.Itoa(n) }
