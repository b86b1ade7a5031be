package gen

import (
	"math"
	"math/bits"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
)

// never is the day index of an action that is not scheduled.
const never = math.MaxInt32

// Stream tags for mix, so the draws for different kinds of entity never
// share a stream.
const (
	tagInstrument = iota + 1
	tagAnalyst
	tagFirm
	tagSplit
)

// market is a listing venue: the symbol form, the currency and its quoting,
// and the window (seconds of the UTC day) in which analysts publish.
type market struct {
	suffix           string // ".HK"; empty for US listings
	currency         string
	decimals         int  // 2, or 0 for yen
	digits           bool // numeric codes (Hong Kong, Tokyo) rather than letters
	minLen, maxLen   int  // length of the code before the suffix
	share            int  // per mille of the instruments
	openSec, lastSec int
	lo, hi           int64 // range of first prices, in ticks
}

// tick is the smallest quoted step, in Money units (millionths).
func (m *market) tick() int64 {
	if m.decimals == 0 {
		return 1_000_000
	}
	return 10_000
}

var markets = []market{
	{suffix: "", currency: "USD", decimals: 2, minLen: 2, maxLen: 4, share: 620, openSec: 11 * 3600, lastSec: 21 * 3600, lo: 300, hi: 60_000},
	{suffix: ".HK", currency: "HKD", decimals: 2, digits: true, minLen: 4, maxLen: 4, share: 100, openSec: 1800, lastSec: 8*3600 + 1800, lo: 100, hi: 60_000},
	{suffix: ".L", currency: "GBP", decimals: 2, minLen: 3, maxLen: 4, share: 80, openSec: 6 * 3600, lastSec: 16*3600 + 1800, lo: 50, hi: 8_000},
	{suffix: ".DE", currency: "EUR", decimals: 2, minLen: 3, maxLen: 3, share: 60, openSec: 6 * 3600, lastSec: 16*3600 + 1800, lo: 500, hi: 40_000},
	{suffix: ".PA", currency: "EUR", decimals: 2, minLen: 2, maxLen: 3, share: 50, openSec: 6 * 3600, lastSec: 16*3600 + 1800, lo: 500, hi: 40_000},
	{suffix: ".T", currency: "JPY", decimals: 0, digits: true, minLen: 4, maxLen: 4, share: 90, openSec: 0, lastSec: 6*3600 + 1800, lo: 200, hi: 40_000},
}

// Rating wordings of the brokers, by I/B/E/S score 1 to 5: every word is one
// the ledger accepts (canonical or a synonym of CONTRACT section 1), some in
// the brokers' own capitalisation.
var styles = []struct {
	weight int // per cent of firms
	words  [5]string
}{
	{34, [5]string{"strong_buy", "buy", "hold", "sell", "strong_sell"}},
	{14, [5]string{"strong_buy", "outperform", "market_perform", "underperform", "sell"}},
	{14, [5]string{"strong_buy", "overweight", "equal_weight", "underweight", "strong_sell"}},
	{10, [5]string{"strong_buy", "buy", "neutral", "sell", "strong_sell"}},
	{8, [5]string{"strong_buy", "outperform", "sector_perform", "underperform", "strong_sell"}},
	{6, [5]string{"strong_buy", "accumulate", "hold", "reduce", "strong_sell"}},
	{7, [5]string{"Strong Buy", "Outperform", "Market Perform", "Underperform", "Sell"}},
	{7, [5]string{"Strong Buy", "Overweight", "Equal-Weight", "Underweight", "Strong Sell"}},
}

var firmPrefixes = []string{
	"Northbridge", "Harborview", "Kestrel", "Alder", "Bluewater", "Cairn", "Drummond", "Everett",
	"Fairhaven", "Granite", "Halcyon", "Ironwood", "Juniper", "Kingsley", "Lantern", "Meridian",
	"Northgate", "Oakmont", "Pemberton", "Quarry", "Redfern", "Sterling", "Thornbury", "Upland",
	"Vantage", "Westbrook", "Yarrow", "Zenith", "Ashford", "Brightwater", "Calder", "Dunmore",
	"Elmstead", "Fenwick", "Glenrock", "Highgate", "Ivywood", "Larchmont", "Marlow", "Norwood",
}

var firmSuffixes = []string{"Securities", "Capital Markets", "Research", "Partners", "& Co", "Equities", "Brokerage", "Investment Bank"}

var surnames = []string{
	"chen", "smith", "mueller", "tanaka", "kumar", "garcia", "wong", "oconnor", "rossi", "nakamura",
	"patel", "johnson", "schmidt", "lee", "dubois", "kowalski", "silva", "brown", "ito", "singh",
	"martin", "fischer", "li", "taylor", "moreau", "novak", "costa", "wilson", "sato", "gupta",
	"anderson", "weber", "zhang", "clarke", "lefebvre", "horvat", "santos", "evans", "kato", "shah",
	"thomas", "wagner", "liu", "walker", "bernard", "nagy", "pereira", "hughes", "yamamoto", "mehta",
	"jackson", "becker", "huang", "wright", "laurent", "kovac", "almeida", "green", "suzuki", "iyer",
}

// Target drift from the last close by I/B/E/S score, in parts per million:
// buy-rated targets sit well above the price, sell-rated ones below it.
var ratingDrift = [6]int64{0, 320_000, 180_000, 40_000, -110_000, -230_000}

// errorRate is the chance, in parts per million, that a rating arrives twice
// or a target is mistyped; closes are mistyped 20 times less often. Each such
// error is retracted a few days later.
const errorRate = 4000

// earningsCycle is the number of trading days between quarterly reports.
const earningsCycle = 63

type firm struct {
	name, slug string
	words      *[5]string
}

// analyst is one identity of the pool, derived from the seed and its index.
type analyst struct {
	id   string
	firm *firm
	bias int64 // parts per million added to this analyst's targets
}

// slot is one analyst's coverage of one instrument.
type slot struct {
	analyst
	index     int
	next      int32 // trading day of the next action, or never
	held      bool  // a rating is held
	stale     bool  // held, but the analyst stopped updating
	withdrawn bool  // the coverage was dropped at least once
	rating    int   // I/B/E/S score of the held rating
	target    int64 // ticks; 0 when the rating carries none
}

// pending is a retraction to write once the error is noticed.
type pending struct {
	id     uuid.UUID
	due    int32
	reason string
}

// instrument is one listing's state: O(coverage) memory however long the
// history.
type instrument struct {
	symbol    string
	market    *market
	rng       rng
	splits    rng // the split schedule's own stream (Config.Splits), so it never shifts rng's draws
	listDay   int32
	price     int64 // unrounded close, in Money units
	close     int64 // last close written, in ticks
	logDrift  int64 // the walk's cumulative log return, in billionths
	mu, sigma int64 // daily drift and volatility of the log price, in billionths
	earnings  int32 // offset of the quarterly reporting cycle
	sentiment int   // per mille shift of the first ratings towards buy
	seq       uint64
	lastSec   int // second of the day of the last intraday row
	slots     []slot
	pending   []pending
}

// newInstrument draws instrument i: symbol, market, first price, walk
// parameters and coverage.
func (g *generator) newInstrument(i int) instrument {
	r := rng{s: mix(g.cfg.Seed, tagInstrument, uint64(i))}
	in := instrument{rng: r, splits: rng{s: mix(g.cfg.Seed, tagSplit, uint64(i))}, lastSec: -1}
	pick := in.rng.intn(1000)
	for j := range markets {
		if pick < markets[j].share || j == len(markets)-1 {
			in.market = &markets[j]
			break
		}
		pick -= markets[j].share
	}
	in.symbol = g.newSymbol(&in)
	m := in.market
	// A roughly log-uniform first price: a random number of 1% steps up
	// from the bottom of the market's range.
	in.price = m.lo * m.tick()
	for steps := in.rng.intn(stepsBetween(m.lo, m.hi)); steps > 0; steps-- {
		in.price = in.price * 101 / 100
	}
	in.close = in.ticks()
	annualMu := int64(in.rng.between(-40_000, 120_000))  // -4% .. +12% a year
	annualVol := int64(in.rng.between(180_000, 600_000)) // 18% .. 60% a year
	in.mu = annualMu * 1000 / 252
	in.sigma = annualVol * 1000 / 16 // sqrt(252) is about 15.9
	in.earnings = int32(in.rng.intn(earningsCycle))
	in.sentiment = in.rng.between(-150, 150)
	if g.days > 40 && in.rng.chance(120_000) {
		in.listDay = int32(in.rng.between(1, g.days*3/4)) // listed during the history
	}
	g.cover(&in)
	return in
}

// stepsBetween counts the 1% steps from lo up to hi.
func stepsBetween(lo, hi int64) int {
	n := 0
	for v := lo * 1_000_000; v < hi*1_000_000; v = v * 101 / 100 {
		n++
	}
	return n
}

// newSymbol draws a symbol of the instrument's market that no earlier
// instrument has, lengthening the code when the short ones run out.
func (g *generator) newSymbol(in *instrument) string {
	m := in.market
	var b strings.Builder
	for attempt := 0; ; attempt++ {
		n := in.rng.between(m.minLen, m.maxLen) + attempt/20
		b.Reset()
		for k := 0; k < n; k++ {
			if m.digits {
				b.WriteByte(byte('0' + in.rng.intn(10)))
			} else {
				b.WriteByte(byte('A' + in.rng.intn(26)))
			}
		}
		if m.suffix == "" && in.rng.chance(30_000) {
			b.WriteString([]string{"-A", "-B"}[in.rng.intn(2)]) // share classes
		}
		b.WriteString(m.suffix)
		s := b.String()
		if _, taken := g.symbols[s]; !taken {
			g.symbols[s] = struct{}{}
			return s
		}
	}
}

// cover assigns the instrument's analysts: a popularity draw gives 3 to 40
// of them, most instruments having few and a handful many.
func (g *generator) cover(in *instrument) {
	u := int64(in.rng.intn(1_000_000))
	k := 3 + int(37*u*u/1_000_000*u/1_000_000_000_000)
	k = min(k, g.cfg.Analysts)
	in.slots = make([]slot, 0, k)
	if n := g.cfg.Analysts; n <= 4*k {
		pool := make([]int, n)
		for j := range pool {
			pool[j] = j
		}
		for j := 0; j < k; j++ {
			x := j + in.rng.intn(n-j)
			pool[j], pool[x] = pool[x], pool[j]
			in.slots = append(in.slots, slot{index: pool[j]})
		}
	} else {
		for len(in.slots) < k {
			if x := in.rng.intn(n); !covers(in, x) {
				in.slots = append(in.slots, slot{index: x})
			}
		}
	}
	first := in.listDay
	if first > 0 {
		first += 25 // the quiet period after a listing
	}
	for j := range in.slots {
		s := &in.slots[j]
		s.analyst = g.analyst(s.index)
		s.next = first + int32(in.rng.intn(60)) // coverage that exists when the history starts
		if in.rng.chance(150_000) {
			s.next = int32(in.rng.between(int(first), max(int(first), g.days-1))) // initiated later
		}
	}
	g.stats.Coverage += len(in.slots)
}

func covers(in *instrument, index int) bool {
	for _, s := range in.slots {
		if s.index == index {
			return true
		}
	}
	return false
}

// analyst derives analyst k of the pool from the seed alone, so the pool
// costs no memory beyond the analysts actually covering something.
func (g *generator) analyst(k int) analyst {
	h := mix(g.cfg.Seed, tagAnalyst, uint64(k))
	f := g.firms[int(h>>24%uint64(len(g.firms)))]
	id := string(rune('a'+h%26)) + "." + surnames[h>>8%uint64(len(surnames))] + strconv.Itoa(k+1) + "@" + f.slug
	return analyst{id: id, firm: f, bias: int64(h>>40%160_001) - 80_000}
}

// newFirms builds the brokerages, with distinct names: about one per 30
// analysts, and at least ten (if there are that many analysts) so that small
// pools still mix the brokers' wordings.
func newFirms(seed uint64, analysts int) []*firm {
	n := min(max((analysts+29)/30, 10), analysts, 1000)
	h := mix(seed, tagFirm)
	p0, s0 := int(h%uint64(len(firmPrefixes))), int(h>>16%uint64(len(firmSuffixes)))
	firms := make([]*firm, n)
	for f := range firms {
		// Within a round of len(firmPrefixes) firms the prefixes differ; a
		// prefix's suffix moves on by one each round.
		p, round := f%len(firmPrefixes), f/len(firmPrefixes)
		prefix := firmPrefixes[(p+p0)%len(firmPrefixes)]
		name := prefix + " " + firmSuffixes[(round+s0+3*p)%len(firmSuffixes)]
		if round := f / (len(firmPrefixes) * len(firmSuffixes)); round > 0 {
			name += " " + strconv.Itoa(round+1)
		}
		pick := int(mix(seed, tagFirm, uint64(f)) % 100)
		words := &styles[len(styles)-1].words
		for j := range styles {
			if pick < styles[j].weight {
				words = &styles[j].words
				break
			}
			pick -= styles[j].weight
		}
		firms[f] = &firm{name: name, slug: strings.ToLower(prefix) + "-" + strconv.Itoa(f+1), words: words}
	}
	return firms
}

// day writes instrument in's rows for trading day t: retractions noticed
// today, the analysts' publications in time order, then the close.
func (g *generator) day(in *instrument, t int32) {
	if t < in.listDay {
		return
	}
	g.noticeErrors(in, t)
	if g.cfg.Splits {
		g.split(in, t)
	}
	in.lastSec = -1
	firing := g.firing[:0]
	for j := range in.slots {
		if in.slots[j].next == t {
			m := in.market
			firing = append(firing, firingSlot{slot: j, sec: in.rng.between(m.openSec, m.lastSec-1)})
		}
	}
	// Insertion sort by time: a handful of slots fire on any one day.
	for a := 1; a < len(firing); a++ {
		for b := a; b > 0 && firing[b].sec < firing[b-1].sec; b-- {
			firing[b], firing[b-1] = firing[b-1], firing[b]
		}
	}
	for _, f := range firing {
		g.act(in, &in.slots[f.slot], t, f.sec)
	}
	g.firing = firing
	g.walk(in, t)
	price := in.ticks()
	if in.rng.chance(errorRate / 20) {
		// A close keyed with a misplaced decimal point, corrected the same
		// day and retracted when noticed.
		bad := in.typo(price)
		id := g.emit(in, &row{typ: typeClose, price: bad, at: g.date[:]})
		g.schedule(in, id, t, "close entered with a misplaced decimal point; the corrected close of the same day stands")
	}
	in.close = price
	g.emit(in, &row{typ: typeClose, price: price, at: g.date[:]})
}

// splitChance is the chance, per million, that an instrument splits on a
// given trading day: about once in five years of 252 trading days.
const splitChance = 1_000_000 / (5 * 252)

// splitRatios are the ratios splits are drawn from, with their weights:
// mostly 2-for-1, now and then larger, and a rare 1-for-10 reverse split.
var splitRatios = []struct {
	ratio  domain.Ratio
	weight int
}{
	{domain.Ratio{New: 2, Old: 1}, 45},
	{domain.Ratio{New: 3, Old: 2}, 15},
	{domain.Ratio{New: 3, Old: 1}, 15},
	{domain.Ratio{New: 4, Old: 1}, 10},
	{domain.Ratio{New: 5, Old: 1}, 5},
	{domain.Ratio{New: 10, Old: 1}, 5},
	{domain.Ratio{New: 1, Old: 10}, 5},
}

// split may make day t the ex-date of a split of in (Config.Splits). It
// comes before the day's other rows: a split's bare date is the start of
// its day, so the day's targets and close are on the new basis, and the
// price path, the last close and the analysts' targets are divided by the
// ratio here so that the history goes on as a real one does. A forward split
// that would take the price below the market's lowest first price is not
// made, nor a reverse split above its highest.
func (g *generator) split(in *instrument, t int32) {
	if t < in.listDay+20 || !in.splits.chance(splitChance) {
		return
	}
	pick := in.splits.intn(100)
	var r domain.Ratio
	for _, s := range splitRatios {
		if r = s.ratio; pick < s.weight {
			break
		}
		pick -= s.weight
	}
	m := in.market
	switch adjusted := adjustTicks(in.close, r); {
	case r.New > r.Old && adjusted < m.lo, r.New < r.Old && adjusted > m.hi:
		return
	}
	in.price = max(in.price*r.Old/r.New, 1)
	in.close = adjustTicks(in.close, r)
	for j := range in.slots {
		if s := &in.slots[j]; s.target > 0 {
			s.target = adjustTicks(s.target, r)
		}
	}
	g.emit(in, &row{typ: typeSplit, ratio: r.String(), at: g.date[:]})
}

// adjustTicks moves an amount to the basis after a split of ratio r,
// rounded half up, at least one tick.
func adjustTicks(ticks int64, r domain.Ratio) int64 {
	return max((ticks*r.Old+r.New/2)/r.New, 1)
}

// firingSlot is a slot acting today, at second sec of the UTC day.
type firingSlot struct{ slot, sec int }

// walk moves the price one trading day: a log-normal step with the
// instrument's drift, weak pull back to its trend (so a century stays within
// range), and three times the volatility on reporting days. All in integers.
func (g *generator) walk(in *instrument, t int32) {
	sigma := in.sigma
	if in.earningsDay(t) {
		sigma *= 3
	}
	days := int64(t - in.listDay)
	r := in.mu - (in.logDrift-in.mu*days)/2500 + sigma*in.rng.normal()/1_000_000
	r = max(min(r, 400_000_000), -400_000_000)
	m := in.market
	lo, hi := 10*m.tick(), int64(100_000_000)*1_000_000
	next := mulDiv(in.price, expBillionths(r), 1_000_000_000)
	if next < lo || next > hi {
		r = -r
		next = mulDiv(in.price, expBillionths(r), 1_000_000_000)
	}
	in.price = next
	in.logDrift += r
}

// expBillionths returns e^(x/1e9) in billionths, by its Taylor series to the
// fifth power, in integer arithmetic only (so every platform agrees); the
// error is about 1e-4 at |x| = 0.4, the largest step the walk takes.
func expBillionths(x int64) int64 {
	const one = 1_000_000_000
	t2 := x * x / one
	t3 := t2 * x / one
	t4 := t3 * x / one
	t5 := t4 * x / one
	return one + x + t2/2 + t3/6 + t4/24 + t5/120
}

// mulDiv returns a*b/c for positive values whose product may exceed 64 bits;
// the quotient must fit (which the walk's bounds guarantee).
func mulDiv(a, b, c int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, uint64(c))
	return int64(q)
}

// ticks rounds the instrument's price to its quoting tick, at least one.
func (in *instrument) ticks() int64 {
	tick := in.market.tick()
	return max((in.price+tick/2)/tick, 1)
}

// earningsDay reports whether the instrument reports its quarter on day t.
func (in *instrument) earningsDay(t int32) bool {
	return (t-in.earnings)%earningsCycle == 0
}

// act carries out slot s's scheduled action on day t at second sec.
func (g *generator) act(in *instrument, s *slot, t int32, sec int) {
	switch {
	case !s.held:
		if s.withdrawn && in.rng.chance(600_000) {
			g.replace(in, s) // another analyst takes the coverage up
		}
		g.rate(in, s, t, sec, g.firstRating(in, s), in.rng.chance(920_000))
	case s.stale:
		// Back from a long silence: either drop the coverage at last, or
		// resume it with a new target.
		s.stale = false
		if in.rng.chance(500_000) {
			g.withdraw(in, s, t, sec)
		} else {
			g.revise(in, s, t, sec)
		}
	default:
		g.update(in, s, t, sec)
	}
}

// update is a covering analyst's periodic review: mostly a new target, at
// times an upgrade or downgrade (likelier when the price has run past the
// target), a reiteration, a withdrawal, or silence.
func (g *generator) update(in *instrument, s *slot, t int32, sec int) {
	upside := ratingDrift[s.rating]
	if s.target > 0 {
		upside = (s.target - in.close) * 1_000_000 / in.close
	}
	change := 0
	switch {
	case s.rating <= 2 && upside < 20_000 && in.rng.chance(400_000):
		change = 1 // the price has reached the target: valuation downgrade
	case s.rating == 1 && in.rng.chance(80_000):
		change = 1
	case s.rating == 3 && upside > 200_000 && in.rng.chance(400_000):
		change = -1
	case s.rating == 3 && upside < -100_000 && in.rng.chance(150_000):
		change = 1
	case s.rating >= 4 && (upside > 0 && in.rng.chance(400_000) || in.rng.chance(150_000)):
		change = -1 // few sell ratings last: the price fell, or the analyst relents
	case in.rng.chance(50_000):
		change = []int{-1, -1, 1}[in.rng.intn(3)]
	}
	if change != 0 && in.rng.chance(100_000) {
		change *= 2
	}
	switch next := min(max(s.rating+change, 1), 5); {
	case next != s.rating:
		g.rate(in, s, t, sec, next, in.rng.chance(950_000))
	case in.rng.chance(30_000):
		g.withdraw(in, s, t, sec)
	case in.rng.chance(15_000):
		// The analyst stops updating; the rating stays on the books and
		// ages out of the consensus window.
		s.stale = true
		s.next = t + int32(in.rng.between(130, 750))
	case in.rng.chance(80_000):
		g.rate(in, s, t, sec, s.rating, true) // reiterated with a fresh target
	default:
		g.revise(in, s, t, sec)
	}
}

// firstRating draws an initiation: mostly buys, shifted by the instrument's
// sentiment and the analyst's bias.
func (g *generator) firstRating(in *instrument, s *slot) int {
	u := in.rng.intn(1000) - in.sentiment - int(s.bias/1000)
	switch {
	case u < 110:
		return 1
	case u < 560:
		return 2
	case u < 890:
		return 3
	case u < 970:
		return 4
	}
	return 5
}

// rate writes a RatingAdded row in the firm's wording, sometimes delivered
// twice by the feed (the duplicate is retracted once noticed).
func (g *generator) rate(in *instrument, s *slot, t int32, sec, rating int, withTarget bool) {
	s.held, s.rating, s.target = true, rating, 0
	if withTarget {
		s.target = g.target(in, s)
	}
	r := row{typ: typeRating, analyst: s.id, firm: s.firm.name, rating: s.firm.words[rating-1], target: s.target}
	r.at = g.stamp(in, sec)
	id := g.emit(in, &r)
	if in.rng.chance(errorRate) {
		// Safe to retract: the duplicate comes while its original is held,
		// so its presence never changes which later rows are valid.
		r.at = g.stamp(in, sec+in.rng.between(30, 300))
		dup := g.emit(in, &r)
		g.schedule(in, dup, t, "duplicate of event "+id.String()+": the feed delivered this rating twice")
	}
	g.plan(in, s, t)
}

// revise writes a TargetRevised row, now and then first with the target
// mistyped by a factor of ten, corrected minutes later.
func (g *generator) revise(in *instrument, s *slot, t int32, sec int) {
	s.target = g.target(in, s)
	if in.rng.chance(errorRate) {
		bad := in.typo(s.target)
		id := g.emit(in, &row{typ: typeTarget, analyst: s.id, target: bad, at: g.stamp(in, sec)})
		g.schedule(in, id, t, "target mistyped by a factor of ten; the revision that follows it corrects it")
		sec += in.rng.between(120, 1800)
	}
	g.emit(in, &row{typ: typeTarget, analyst: s.id, target: s.target, at: g.stamp(in, sec)})
	g.plan(in, s, t)
}

// withdraw writes a RatingWithdrawn row; the coverage may be taken up again,
// by the same analyst or another, months later, or never.
func (g *generator) withdraw(in *instrument, s *slot, t int32, sec int) {
	g.emit(in, &row{typ: typeWithdraw, analyst: s.id, at: g.stamp(in, sec)})
	s.held, s.withdrawn, s.target = false, true, 0
	s.next = never
	if in.rng.chance(750_000) {
		s.next = t + int32(in.rng.between(60, 500))
	}
}

// plan schedules the slot's next review: after the next quarterly report
// most of the time, otherwise one to six months on.
func (g *generator) plan(in *instrument, s *slot, t int32) {
	if in.rng.chance(600_000) {
		from := t + 15
		s.next = from + ((in.earnings-from)%earningsCycle+earningsCycle)%earningsCycle + int32(in.rng.intn(4))
		return
	}
	s.next = t + int32(in.rng.between(30, 120))
}

// replace hands the slot to an analyst who does not cover the instrument
// yet; if a few draws find none, the same analyst comes back.
func (g *generator) replace(in *instrument, s *slot) {
	for attempt := 0; attempt < 8; attempt++ {
		if x := in.rng.intn(g.cfg.Analysts); !covers(in, x) {
			s.index, s.analyst = x, g.analyst(x)
			return
		}
	}
}

// target is a 12-month target near the last close: above it for buys, below
// for sells, with the analyst's own bias and some noise, rounded to about
// three significant digits as brokers publish them.
func (g *generator) target(in *instrument, s *slot) int64 {
	drift := ratingDrift[s.rating] + s.bias + int64(in.rng.between(-60_000, 60_000))
	drift = max(drift, -600_000)
	t := in.close * (1_000_000 + drift) / 1_000_000
	if t >= 1000 {
		step := int64(1)
		for v := t; v >= 1000; v /= 10 {
			step *= 10
		}
		t = (t + step/2) / step * step
	}
	return min(max(t, 1), in.maxTicks())
}

// typo returns an amount with its decimal point misplaced by one digit.
func (in *instrument) typo(ticks int64) int64 {
	if ticks*10 <= in.maxTicks() {
		return ticks * 10
	}
	return max(ticks/10, 1)
}

// maxTicks is the largest amount the ledger accepts, in ticks.
func (in *instrument) maxTicks() int64 {
	return 1_000_000_000 * 1_000_000 / in.market.tick()
}

// schedule queues the retraction of event id, noticed one to ten trading
// days after day t.
func (g *generator) schedule(in *instrument, id uuid.UUID, t int32, reason string) {
	in.pending = append(in.pending, pending{id: id, due: t + int32(in.rng.between(1, 10)), reason: reason})
}

// noticeErrors writes the retractions due by day t.
func (g *generator) noticeErrors(in *instrument, t int32) {
	kept := in.pending[:0]
	for _, p := range in.pending {
		if p.due > t {
			kept = append(kept, p)
			continue
		}
		g.emit(in, &row{typ: typeRetract, eventID: p.id, reason: p.reason})
	}
	clear(in.pending[len(kept):])
	in.pending = kept
}

// stamp writes today's date at second sec of the UTC day, moved later if
// needed so the instrument's rows of the day have distinct, increasing times.
func (g *generator) stamp(in *instrument, sec int) []byte {
	sec = min(max(sec, in.lastSec+1), 86_399)
	in.lastSec = sec
	b := append(g.stampBuf[:0], g.date[:]...)
	h, m, s := sec/3600, sec/60%60, sec%60
	b = append(b, 'T', byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10), ':', byte('0'+s/10), byte('0'+s%10), 'Z')
	g.stampBuf = b
	return b
}

// emit gives r the instrument's next id, writes it and counts it.
func (g *generator) emit(in *instrument, r *row) uuid.UUID {
	in.seq++
	g.idData = strconv.AppendUint(append(append(g.idData[:0], in.symbol...), '#'), in.seq, 10)
	r.id = g.rowID()
	g.enc.write(in, r)
	switch r.typ {
	case typeRating:
		g.stats.Ratings++
	case typeTarget:
		g.stats.Targets++
	case typeWithdraw:
		g.stats.Withdrawals++
	case typeClose:
		g.stats.Closes++
	case typeRetract:
		g.stats.Retractions++
	case typeSplit:
		g.stats.Splits++
	}
	return r.id
}

// rowID is uuid.NewSHA1(g.namespace, g.idData), without its allocations.
func (g *generator) rowID() uuid.UUID {
	g.sha.Reset()
	g.sha.Write(g.namespace[:])
	g.sha.Write(g.idData)
	g.sum = g.sha.Sum(g.sum[:0])
	var id uuid.UUID
	copy(id[:], g.sum)
	id[6] = id[6]&0x0f | 0x50 // version 5
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	return id
}
