// Package disclosures is the research disclosures report of one firm
// (CONTRACT section 9; FINRA Rule 2241, MAR Delegated Regulation 2016/958):
// the distribution of the firm's ratings, the list of its recommendations in
// the months to a date with the close at publication, and a price chart per
// instrument with a marker at every change, written as JSON, CSV, SVG, PNG
// and one PDF.
//
// It is pure: Part folds one instrument's history (as the ledger hands it
// over) into what that instrument adds to the report, and Assemble puts the
// parts together. The ledger gathers the parts (ledger.Disclosures), so
// this package does no I/O besides writing to the writers it is given.
//
// # Whose events are the firm's
//
// A RatingAdded names its firm; a TargetRevised or RatingWithdrawn does
// not. An event is the firm's when the analyst's latest RatingAdded on the
// same instrument, visible at known_at and at or before the event in fold
// order (the event itself, for a RatingAdded), names the firm exactly. An
// analyst who moves firm therefore carries later revisions to the new firm
// only from the first rating published under it.
//
// # Which closes
//
// The close at publication is the latest visible close effective at or
// before the event (for equal effective times, the later recorded), as
// published: it is set beside the target as published, so both must be on
// the same basis, the one of the day they were published, and no split is
// applied. The close as of D is likewise the close recorded for D's latest
// trading day, unadjusted: that is the market price on D, on D's own basis.
package disclosures

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/projections"
)

// The bounds of --months: at least one month, at most ten years.
const (
	DefaultMonths = 12
	MaxMonths     = 120
)

// ChartYears bounds a price chart's period: at most this many years to the
// report's as_of, as FINRA asks for the price chart.
const ChartYears = 3

// Query is the question a report answers.
type Query struct {
	Firm    string    // matched exactly as recorded in RatingAdded
	AsOf    time.Time // D: the distribution's time and the end of the list
	KnownAt time.Time // T: only events recorded by then, retractions by then applied
	Months  int       // the list covers (D minus Months, D]
	// Window, when positive, counts only ratings whose analyst is active
	// (CONTRACT section 3 rule 4) in the distribution; zero: no window.
	Window time.Duration
}

// From is the exclusive start of the recommendations list: D minus Months.
func (q Query) From() time.Time { return q.AsOf.AddDate(0, -q.Months, 0) }

// chartFrom is the earliest a price chart can start: ChartYears before D.
func (q Query) chartFrom() time.Time { return q.AsOf.AddDate(-ChartYears, 0, 0) }

// ClosesFrom bounds the closes Part reads: of the closes visible at
// KnownAt, it uses those effective after ClosesFrom and by AsOf, and the
// latest one effective at or before ClosesFrom (the close at publication of
// an event just after it), never an earlier one. Every event it lists or
// marks is effective after it, and every chart starts after it. A caller
// may leave the other closes out of the history it hands to Part.
func (q Query) ClosesFrom() time.Time {
	if from, chart := q.From(), q.chartFrom(); from.Before(chart) {
		return from
	}
	return q.chartFrom()
}

// CheckMonths refuses a --months outside 1 to MaxMonths, naming the field
// as the caller's user spells it ("months").
func CheckMonths(field string, months int) error {
	if months < 1 || months > MaxMonths {
		return &domain.ValidationError{Field: field, Value: itoa(months),
			Reason: "must be a whole number of months from 1 to " + itoa(MaxMonths)}
	}
	return nil
}

// Recommendation is one rating or target event of the firm in the list.
type Recommendation struct {
	EffectiveAt  time.Time      `json:"effective_at"`
	Instrument   domain.Symbol  `json:"instrument"`
	Analyst      domain.Analyst `json:"analyst"`
	EventID      uuid.UUID      `json:"event_id"`
	Type         string         `json:"type"`
	Rating       *string        `json:"rating"`        // normalised; null for a revision or withdrawal
	BrokerRating *string        `json:"broker_rating"` // as given; null likewise
	RatingAction *string        `json:"rating_action"`
	Target       *Amount        `json:"target"` // as published
	Currency     string         `json:"currency"`
	TargetAction *string        `json:"target_action"`
	// CloseAtPublication is the latest visible close effective at or before
	// the event, as published (see the package comment); null when none.
	CloseAtPublication   *Amount    `json:"close_at_publication"`
	CloseAtPublicationAt *time.Time `json:"close_at_publication_at"`
	// CloseAsOf is the latest visible close effective at or before D.
	CloseAsOf   *Amount    `json:"close_as_of"`
	CloseAsOfAt *time.Time `json:"close_as_of_at"`
}

// Amount is an amount exactly as recorded, written in JSON as a bare
// number, as every figure of the ledger's JSON answers is.
type Amount domain.Money

func (a Amount) String() string { return domain.Money(a).String() }

// MarshalJSON writes the amount's exact digits as a JSON number.
func (a Amount) MarshalJSON() ([]byte, error) { return []byte(a.String()), nil }

func amount(m *domain.Money) *Amount {
	if m == nil {
		return nil
	}
	a := Amount(*m)
	return &a
}

// Holding is one instrument of the distribution: the firm's rating on it
// as of D (the latest effective, when several of its analysts hold one).
type Holding struct {
	Instrument   domain.Symbol  `json:"instrument"`
	Analyst      domain.Analyst `json:"analyst"`
	Rating       string         `json:"rating"`
	BrokerRating string         `json:"broker_rating"`
	Bucket       string         `json:"bucket"`
	RatedAt      time.Time      `json:"rated_at"`
}

// Chart is one instrument's price chart series.
type Chart struct {
	Instrument domain.Symbol
	Currency   string
	From, To   time.Time
	Closes     []Close
	Markers    []Marker
}

// Close is one close on a chart, as recorded.
type Close struct {
	At    time.Time
	Price domain.Money
}

// Marker is one rating or target change of the firm on a chart.
type Marker struct {
	At      time.Time
	Close   domain.Money // the close at publication; zero when none
	Rating  string       // the rating held after the change ("" once coverage is dropped)
	Target  *domain.Money
	Dropped bool // coverage dropped
}

// Label is the marker's text on the chart: date, rating and target.
func (m Marker) Label() string {
	parts := []string{m.At.UTC().Format(time.DateOnly)}
	if m.Dropped {
		parts = append(parts, "coverage dropped")
	} else if m.Rating != "" {
		parts = append(parts, m.Rating)
	}
	if m.Target != nil {
		parts = append(parts, m.Target.String())
	}
	return strings.Join(parts, " ")
}

// Instrument is what one instrument adds to a report.
type Instrument struct {
	Symbol          domain.Symbol
	Currency        domain.Currency
	Holding         *Holding // nil: no analyst of the firm holds a rating as of D
	Recommendations []Recommendation
	Chart           *Chart // nil: the instrument is neither held nor listed
}

// Firms returns the firms named by the RatingAdded events of history
// visible at knownAt, sorted, each once.
func Firms(history []domain.Recorded, knownAt time.Time) []string {
	var out []string
	for _, r := range domain.NewTimeline(history, knownAt).Events {
		if e, ok := r.Event.(domain.RatingAdded); ok && e.Firm != "" && !slices.Contains(out, e.Firm) {
			out = append(out, e.Firm)
		}
	}
	slices.Sort(out)
	return out
}

// Mentions reports whether any event of history names the firm, before any
// fold: most instruments of a large ledger are not the firm's, and this
// keeps them to one pass over their events. Part adds nothing for an
// instrument whose events do not mention the firm, and needs none of its
// closes; a caller may leave them out.
func Mentions(history []domain.Recorded, firm string) bool {
	for _, r := range history {
		if e, ok := r.Event.(domain.RatingAdded); ok && e.Firm == firm {
			return true
		}
	}
	return false
}

// Part folds one instrument's history (its stream, in stream order) into
// what it adds to the report of q. ok is false when it adds nothing.
func Part(sym domain.Symbol, history []domain.Recorded, q Query) (part Instrument, ok bool) {
	if !Mentions(history, q.Firm) {
		return Instrument{}, false
	}
	t := domain.NewTimeline(history, q.KnownAt)
	actions := domain.ActionsKnownAt(history, q.KnownAt)
	part = Instrument{Symbol: sym, Currency: t.Currency}
	from, chartFrom := q.From(), q.chartFrom()

	var (
		closes     []Close // visible closes effective by D, in fold order
		firmOf     = map[domain.Analyst]string{}
		ratingFirm = map[uuid.UUID]string{}
		held       = map[domain.Analyst]domain.Rating{} // the analyst's rating held, for marker labels
		ratedFrom  time.Time                            // the firm's first rating effective by D
		list       []pending
	)
	for _, r := range t.Events {
		if r.Event.Effective().After(q.AsOf) {
			break
		}
		if c, ok := r.Event.(domain.CloseRecorded); ok {
			closes = append(closes, Close{At: c.EffectiveAt, Price: c.Price})
			continue
		}
		if e, ok := r.Event.(domain.RatingAdded); ok {
			firmOf[e.Analyst], ratingFirm[r.ID] = e.Firm, e.Firm
			if e.Firm == q.Firm && ratedFrom.IsZero() {
				ratedFrom = e.EffectiveAt
			}
		}
		analyst, isAnalystEvent := domain.AnalystOf(r.Event)
		if !isAnalystEvent {
			continue
		}
		act := actions[r.ID]
		mine := firmOf[analyst] == q.Firm
		switch e := r.Event.(type) {
		case domain.RatingAdded:
			held[analyst] = e.Rating
		case domain.RatingWithdrawn:
			if act.Rating != domain.RatingSkipped {
				delete(held, analyst)
			}
		}
		if !mine {
			continue
		}
		p := pending{r: r, act: act, heldRating: held[analyst]}
		p.inList = r.Event.Effective().After(from)
		p.marked = r.Event.Effective().After(chartFrom) && changes(act)
		if p.inList || p.marked {
			list = append(list, p)
		}
	}
	// closeAt is the latest close effective at or before t: closes are in
	// fold order, so the last one not after t, ties going to the later
	// recorded as the fold decides.
	closeAt := func(at time.Time) *Close {
		i, _ := slices.BinarySearchFunc(closes, at, func(c Close, t time.Time) int {
			if c.At.After(t) {
				return 1
			}
			return -1
		})
		if i == 0 {
			return nil
		}
		return &closes[i-1]
	}
	asOfClose := closeAt(q.AsOf)
	for _, p := range list {
		pub := closeAt(p.r.Event.Effective())
		if p.inList {
			part.Recommendations = append(part.Recommendations, recommendation(p.r, p.act, t.Currency, pub, asOfClose))
		}
		if p.marked {
			if part.Chart == nil {
				part.Chart = &Chart{}
			}
			m := Marker{At: p.r.Event.Effective(), Target: targetOf(p.r.Event)}
			if pub != nil {
				m.Close = pub.Price
			}
			switch p.r.Event.(type) {
			case domain.RatingWithdrawn:
				m.Dropped = true
			default:
				m.Rating = p.heldRating.String()
			}
			part.Chart.Markers = append(part.Chart.Markers, m)
		}
	}
	part.Holding = holding(t, q, ratingFirm)
	if part.Holding == nil && len(part.Recommendations) == 0 {
		return Instrument{}, false
	}
	if part.Chart == nil {
		part.Chart = &Chart{}
	}
	c := part.Chart
	c.Instrument, c.Currency, c.To = sym, string(t.Currency), q.AsOf
	c.From = chartFrom
	if ratedFrom.After(chartFrom) {
		c.From = ratedFrom
	}
	for _, cl := range closes {
		if cl.At.Before(c.From) {
			continue
		}
		// For equal effective times the later recorded supersedes.
		if n := len(c.Closes); n > 0 && c.Closes[n-1].At.Equal(cl.At) {
			c.Closes[n-1] = cl
			continue
		}
		c.Closes = append(c.Closes, cl)
	}
	return part, true
}

// pending is an event of the firm met by the fold, kept until the closes
// are known.
type pending struct {
	r              domain.Recorded
	act            domain.Actions
	heldRating     domain.Rating
	inList, marked bool
}

// changes reports whether an event changed the analyst's rating or target,
// so that the price chart marks it: a reiteration with the target
// maintained, or an event the fold skipped, changes nothing.
func changes(a domain.Actions) bool {
	switch a.Rating {
	case domain.RatingInitiation, domain.RatingUpgrade, domain.RatingDowngrade, domain.RatingCoverageDropped:
		return true
	case domain.RatingSkipped:
		return false
	}
	switch a.Target {
	case domain.TargetSet, domain.TargetRaised, domain.TargetCut:
		return true
	}
	return false
}

// holding is the firm's rating on the instrument as of D: over the
// analysts holding a rating whose RatingAdded names the firm (and, with a
// window, active), the one latest effective, ties to the later in stream
// order.
func holding(t *domain.Timeline, q Query, ratingFirm map[uuid.UUID]string) *Holding {
	state := t.Replay(q.AsOf)
	var best *domain.Position
	for _, p := range state.Analysts {
		if !p.Held || ratingFirm[p.RatingEvent] != q.Firm {
			continue
		}
		if q.Window > 0 && !projections.Active(p, q.AsOf, q.Window) {
			continue
		}
		if best == nil || p.RatedAt.After(best.RatedAt) ||
			p.RatedAt.Equal(best.RatedAt) && p.Analyst > best.Analyst {
			best = p
		}
	}
	if best == nil {
		return nil
	}
	return &Holding{Instrument: t.Events[0].Event.Symbol(), Analyst: best.Analyst, Rating: best.Rating.String(),
		BrokerRating: best.BrokerRating, Bucket: bucketNames[best.Rating.Bucket()], RatedAt: best.RatedAt}
}

// recommendation is one line of the list.
func recommendation(r domain.Recorded, act domain.Actions, currency domain.Currency, pub, asOf *Close) Recommendation {
	analyst, _ := domain.AnalystOf(r.Event)
	rec := Recommendation{EffectiveAt: r.Event.Effective(), Instrument: r.Event.Symbol(), Analyst: analyst,
		EventID: r.ID, Type: r.Event.Type(), Target: amount(targetOf(r.Event)), Currency: string(currency),
		RatingAction: orNull(string(act.Rating)), TargetAction: orNull(string(act.Target))}
	if e, ok := r.Event.(domain.RatingAdded); ok {
		rec.Rating, rec.BrokerRating = orNull(e.Rating.String()), orNull(e.BrokerRating)
	}
	if pub != nil {
		rec.CloseAtPublication, rec.CloseAtPublicationAt = amount(&pub.Price), &pub.At
	}
	if asOf != nil {
		rec.CloseAsOf, rec.CloseAsOfAt = amount(&asOf.Price), &asOf.At
	}
	return rec
}

func targetOf(e domain.Event) *domain.Money {
	switch e := e.(type) {
	case domain.RatingAdded:
		return e.Target
	case domain.TargetRevised:
		t := e.Target
		return &t
	}
	return nil
}

func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// compareRecommendations orders the list: by effective time, then
// instrument, then event id, so a report's bytes never depend on the order
// instruments were read in.
func compareRecommendations(a, b Recommendation) int {
	return cmp.Or(a.EffectiveAt.Compare(b.EffectiveAt), cmp.Compare(a.Instrument, b.Instrument),
		strings.Compare(a.EventID.String(), b.EventID.String()))
}

// Names reports whether a RatingAdded of history visible at knownAt (recorded
// by then, and not retracted by a retraction recorded by then) names the
// firm: whether the firm is known to the ledger at that time. It makes no
// timeline: most instruments of a large ledger are not the firm's.
func Names(history []domain.Recorded, firm string, knownAt time.Time) bool {
	if !Mentions(history, firm) {
		return false
	}
	retracted := map[uuid.UUID]bool{}
	for _, r := range history {
		if x, ok := r.Event.(domain.EventRetracted); ok && !r.RecordedAt.After(knownAt) {
			retracted[x.Retracted] = true
		}
	}
	for _, r := range history {
		if e, ok := r.Event.(domain.RatingAdded); ok && e.Firm == firm && !r.RecordedAt.After(knownAt) && !retracted[r.ID] {
			return true
		}
	}
	return false
}
