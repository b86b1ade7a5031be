package domain

import (
	"slices"
	"time"

	"github.com/google/uuid"
)

// Timeline is an instrument's history as known at one moment (transaction
// time): the events recorded by then, minus those retracted by a retraction
// recorded by then, in fold order (effective time, ties by stream order).
// Replaying it up to a valid time gives the instrument's state as of then.
type Timeline struct {
	KnownAt   time.Time
	Currency  Currency    // fixed by the stream's first event that states one
	Events    []Recorded  // visible events in fold order, retractions excluded
	Retracted []Retracted // visible retractions, in fold order of the retracted event
	Splits    Splits      // the visible splits (also in Events), in fold order
}

// Retracted pairs a retracted event with the retraction that withdrew it.
type Retracted struct {
	Event      Recorded
	Retraction Recorded
}

// NewTimeline selects and orders the events of history (one instrument's
// stream, in stream order) that were known at knownAt. It never fails:
// retractions of events it cannot see are ignored.
func NewTimeline(history []Recorded, knownAt time.Time) *Timeline {
	t := &Timeline{KnownAt: knownAt, Currency: StreamCurrency(history)}
	retractions := map[uuid.UUID]Recorded{}
	for _, r := range history {
		if r.RecordedAt.After(knownAt) {
			continue
		}
		if x, ok := r.Event.(EventRetracted); ok {
			if _, seen := retractions[x.Retracted]; !seen {
				retractions[x.Retracted] = r
			}
		}
	}
	t.Events = make([]Recorded, 0, len(history))
	for _, r := range history {
		if r.RecordedAt.After(knownAt) || r.Event.Type() == TypeEventRetracted {
			continue
		}
		if by, ok := retractions[r.ID]; ok {
			t.Retracted = append(t.Retracted, Retracted{Event: r, Retraction: by})
			continue
		}
		t.Events = append(t.Events, r)
	}
	byFoldOrder := func(a, b Recorded) int {
		if c := a.Event.Effective().Compare(b.Event.Effective()); c != 0 {
			return c
		}
		return compareInt(a.Version, b.Version)
	}
	// A stream recorded in date order (most are) is in fold order already;
	// checking costs one comparison an event, sorting many more.
	if !slices.IsSortedFunc(t.Events, byFoldOrder) {
		slices.SortStableFunc(t.Events, byFoldOrder)
	}
	slices.SortStableFunc(t.Retracted, func(a, b Retracted) int { return byFoldOrder(a.Event, b.Event) })
	for _, r := range t.Events {
		if s, ok := splitOf(r); ok {
			t.Splits = append(t.Splits, s)
		}
	}
	return t
}

// splitOf returns the Split a recorded SplitRecorded is.
func splitOf(r Recorded) (Split, bool) {
	e, ok := r.Event.(SplitRecorded)
	if !ok {
		return Split{}, false
	}
	return Split{EventID: r.ID, Ratio: e.Ratio, At: e.EffectiveAt, Version: r.Version}, true
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// State is an instrument's state at one valid time, as known at one
// transaction time: every analyst's position and the latest close.
type State struct {
	AsOf      time.Time
	KnownAt   time.Time
	Currency  Currency
	Analysts  map[Analyst]*Position
	Close     *Close
	Retracted []Retracted // retracted events effective by AsOf
	// Splits are every split visible at KnownAt, in fold order, including
	// those effective after AsOf: a history reports every row on the basis
	// of its last row (CONTRACT section 7), and actions compare targets on
	// the basis of their own time. The fold itself never changes a value;
	// values are adjusted where they are compared or reported.
	Splits Splits
}

// Position is what one analyst holds on the instrument.
type Position struct {
	Analyst Analyst
	Firm    string
	// Held is true while the analyst's last rating event is a RatingAdded.
	Held         bool
	Rating       Rating
	BrokerRating string
	RatingEvent  uuid.UUID // the RatingAdded that set Rating
	RatedAt      time.Time
	// Target is the current rating's own target, or its latest revision; nil
	// when the rating carries none.
	Target      *Money
	TargetEvent uuid.UUID // the event that set Target
	// RatingAction and TargetAction are the section 8 actions of RatingEvent
	// and of TargetEvent, as the fold met them, so that --explain can say
	// what the events it names did without a second fold.
	RatingAction RatingAction
	TargetAction TargetAction
	// LastActive is the effective time of the latest applied rating or target
	// event; the consensus window is measured from it.
	LastActive      time.Time
	WithdrawnAt     time.Time // set while the analyst's last rating event is a withdrawal
	WithdrawalEvent uuid.UUID
	// Skipped lists events that no longer applied when folded, such as a
	// revision met while no rating was held.
	Skipped []Skipped
}

// Skipped is an event the fold passed over, and why.
type Skipped struct {
	Event  Recorded
	Reason string
}

// Close is the latest close visible at a point in time.
type Close struct {
	Price   Money
	At      time.Time
	EventID uuid.UUID
}

// Replay folds the timeline's events effective at or before asOf.
func (t *Timeline) Replay(asOf time.Time) *State {
	c := t.Cursor()
	c.AdvanceTo(asOf)
	return c.State
}

// Cursor folds a timeline forward through increasing valid times, so a series
// of points in time costs one pass over the events.
type Cursor struct {
	State    *State
	timeline *Timeline
	next     int // index of the next event to fold
	nextGone int // index of the next retraction to report
}

// Cursor starts a fold before the timeline's first event.
func (t *Timeline) Cursor() *Cursor {
	return &Cursor{
		timeline: t,
		State:    &State{KnownAt: t.KnownAt, Currency: t.Currency, Analysts: map[Analyst]*Position{}, Splits: t.Splits},
	}
}

// AdvanceTo folds every event effective at or before asOf that is not yet
// folded. asOf must not go backwards.
func (c *Cursor) AdvanceTo(asOf time.Time) *State {
	t := c.timeline
	for c.next < len(t.Events) && !t.Events[c.next].Event.Effective().After(asOf) {
		c.State.apply(t.Events[c.next])
		c.next++
	}
	for c.nextGone < len(t.Retracted) && !t.Retracted[c.nextGone].Event.Event.Effective().After(asOf) {
		c.State.Retracted = append(c.State.Retracted, t.Retracted[c.nextGone])
		c.nextGone++
	}
	c.State.AsOf = asOf
	return c.State
}

// Fold folds an event that is not on the timeline into the cursor's state:
// a new event being judged, such as a row of an import, placed after every
// timeline event up to the cursor's point. Its effective time must not be
// after that point, so that later AdvanceTo calls keep fold order.
func (c *Cursor) Fold(r Recorded) {
	c.State.apply(r)
}

func (s *State) position(a Analyst) *Position {
	p, ok := s.Analysts[a]
	if !ok {
		p = &Position{Analyst: a}
		s.Analysts[a] = p
	}
	return p
}

// apply folds one event and returns its section 8 actions and the held
// target its target action compared with (see actionsOf).
// It never fails: an event that no longer applies is recorded as skipped on
// the analyst's position.
func (s *State) apply(r Recorded) (Actions, Compared) {
	var (
		act      Actions
		compared Compared
	)
	if a, ok := AnalystOf(r.Event); ok {
		act, compared = s.actionsOf(s.Analysts[a], r)
	}
	switch e := r.Event.(type) {
	case RatingAdded:
		p := s.position(e.Analyst)
		if e.Firm != "" {
			p.Firm = e.Firm
		}
		p.Held, p.Rating, p.BrokerRating, p.RatingEvent, p.RatedAt = true, e.Rating, e.BrokerRating, r.ID, e.EffectiveAt
		p.Target, p.TargetEvent = nil, uuid.Nil
		p.RatingAction, p.TargetAction = act.Rating, act.Target
		if e.Target != nil {
			target := *e.Target
			p.Target, p.TargetEvent = &target, r.ID
		}
		p.LastActive = e.EffectiveAt
		p.WithdrawnAt, p.WithdrawalEvent = time.Time{}, uuid.Nil
	case TargetRevised:
		p := s.position(e.Analyst)
		if !p.Held {
			p.Skipped = append(p.Skipped, Skipped{Event: r, Reason: "target revision skipped: no rating held at its effective time"})
			return act, compared
		}
		target := e.Target
		p.Target, p.TargetEvent, p.TargetAction, p.LastActive = &target, r.ID, act.Target, e.EffectiveAt
	case RatingWithdrawn:
		p := s.position(e.Analyst)
		if !p.Held {
			p.Skipped = append(p.Skipped, Skipped{Event: r, Reason: "withdrawal skipped: no rating held at its effective time"})
			return act, compared
		}
		p.Held, p.WithdrawnAt, p.WithdrawalEvent = false, e.EffectiveAt, r.ID
	case CloseRecorded:
		// Events arrive in fold order, so a later one is never earlier in
		// effective time; for equal effective times the later recorded wins.
		// The Close is updated in place: a fold over thousands of
		// daily closes then allocates once. Copy it to keep it.
		if s.Close == nil {
			s.Close = new(Close)
		}
		*s.Close = Close{Price: e.Price, At: e.EffectiveAt, EventID: r.ID}
	}
	return act, compared
}

// Holds reports whether analyst a holds a rating in this state.
func (s *State) Holds(a Analyst) bool {
	p, ok := s.Analysts[a]
	return ok && p.Held
}
