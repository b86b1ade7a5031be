package domain

import (
	"math/big"
	"time"

	"github.com/google/uuid"
)

// RatingAction is what a rating event did to the analyst's rating, as the
// fold of CONTRACT section 3 meets it (section 8). The empty value is the
// contract's null: a TargetRevised, a close, a retraction, or an event not
// visible at the knowledge time.
type RatingAction string

// The rating actions of CONTRACT section 8.
const (
	// RatingInitiation: a rating added while the analyst holds none.
	RatingInitiation RatingAction = "initiation"
	// RatingUpgrade: a rating with a lower I/B/E/S score than the one held.
	RatingUpgrade RatingAction = "upgrade"
	// RatingDowngrade: a rating with a higher I/B/E/S score than the one held.
	RatingDowngrade RatingAction = "downgrade"
	// RatingReiteration: a rating with the same score as the one held.
	RatingReiteration RatingAction = "reiteration"
	// RatingCoverageDropped: a withdrawal while a rating is held.
	RatingCoverageDropped RatingAction = "coverage_dropped"
	// RatingSkipped: an event the fold skips (a revision or withdrawal met
	// while no rating is held). Its target action is null.
	RatingSkipped RatingAction = "skipped"
)

// TargetAction is what an event did to the analyst's price target (CONTRACT
// section 8). The empty value is the contract's null: the event carries no
// target, or the fold skipped it.
type TargetAction string

// The target actions of CONTRACT section 8.
const (
	// TargetSet: a target where the rating held has none, or where no rating
	// is held (after a withdrawal the old target is gone).
	TargetSet TargetAction = "set"
	// TargetRaised, TargetCut and TargetMaintained compare the new target
	// with the target of the rating held, on the new event's basis.
	TargetRaised     TargetAction = "raised"
	TargetCut        TargetAction = "cut"
	TargetMaintained TargetAction = "maintained"
)

// Actions are an event's rating and target actions. The zero value is
// null for both.
type Actions struct {
	Rating RatingAction
	Target TargetAction
}

// Compared is the held target a raised, cut or maintained target action
// compared the new target with. The zero value (Target 0: money is always
// positive) means the action compared nothing.
type Compared struct {
	Target Money     // the held target as published
	Event  uuid.UUID // the rating or revision that set it
	Factor Factor    // moves Target to the new event's basis (CONTRACT section 7)
}

// Compares reports whether a target was compared.
func (c Compared) Compares() bool { return c.Target != 0 }

// AdjustedMicros is the held target on the new event's basis, in millionths
// rounded as an adjusted target reported on its own is (6 dp).
func (c Compared) AdjustedMicros() *big.Int { return c.Factor.AdjustedMicros(c.Target) }

// actionsOf is the one statement of CONTRACT section 8: the actions of r,
// met by the fold while the analyst's position is p (nil when the analyst has
// no position yet), before r is applied, and the held target its target
// action compared with. State.apply calls it, so an event's actions can
// never disagree with what the fold did with it.
func (s *State) actionsOf(p *Position, r Recorded) (Actions, Compared) {
	held := p != nil && p.Held
	switch e := r.Event.(type) {
	case RatingAdded:
		a := Actions{Rating: RatingInitiation}
		var c Compared
		if held {
			switch {
			case e.Rating.Score() < p.Rating.Score():
				a.Rating = RatingUpgrade
			case e.Rating.Score() > p.Rating.Score():
				a.Rating = RatingDowngrade
			default:
				a.Rating = RatingReiteration
			}
		}
		if e.Target != nil {
			a.Target, c = s.targetAction(p, held, *e.Target, e.EffectiveAt)
		}
		return a, c
	case TargetRevised:
		if !held {
			return Actions{Rating: RatingSkipped}, Compared{}
		}
		a, c := s.targetAction(p, held, e.Target, e.EffectiveAt)
		return Actions{Target: a}, c
	case RatingWithdrawn:
		if !held {
			return Actions{Rating: RatingSkipped}, Compared{}
		}
		return Actions{Rating: RatingCoverageDropped}, Compared{}
	}
	return Actions{}, Compared{}
}

// targetAction compares a new target with the target of the rating held,
// adjusted to the new event's basis (CONTRACT section 8): the held target
// was set at p.LastActive (the rating or revision that set it is always the
// analyst's latest applied rating or target event), so it is multiplied by
// M/N for every visible split effective in (p.LastActive, at]. Money is
// exact integer millionths and the factor a fraction, so the comparison is
// exact. It returns what it compared with, so a feed can show the target
// "from" without restating this rule.
func (s *State) targetAction(p *Position, held bool, target Money, at time.Time) (TargetAction, Compared) {
	if !held || p.Target == nil {
		return TargetSet, Compared{}
	}
	c := Compared{Target: *p.Target, Event: p.TargetEvent, Factor: s.Splits.Factor(p.LastActive, at)}
	switch c.Factor.CompareAdjusted(target, *p.Target) {
	case 1:
		return TargetRaised, c
	case -1:
		return TargetCut, c
	}
	return TargetMaintained, c
}

// ActionsKnownAt returns the actions of every RatingAdded, TargetRevised and
// RatingWithdrawn of history (one instrument's stream, in stream order) as
// known at knownAt: the fold of section 3 over the events visible then, each
// event judged at its own effective time against the events before it in fold
// order. Events not visible at knownAt (recorded later, or retracted by a
// retraction recorded by then) have no entry, nor do closes and retractions.
// The actions do not depend on a valid time: an event's actions come from
// the events before it alone. One sort and one pass: O(n log n).
func ActionsKnownAt(history []Recorded, knownAt time.Time) map[uuid.UUID]Actions {
	t := NewTimeline(history, knownAt)
	out := make(map[uuid.UUID]Actions, len(t.Events)) // sized: see Index.ActionsOf
	t.eachChange(time.Time{}, maxTime, func(c Change) { out[c.Event.ID] = c.Actions })
	return out
}

// maxTime is after every effective time.
var maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC)

// Change is one RatingAdded, TargetRevised or RatingWithdrawn with its
// section 8 actions, as a rating-change feed shows it.
type Change struct {
	Event Recorded
	Actions
	// Firm is the analyst's firm as the fold knows it at the event: the
	// event's own for a rating that names one, else the one the analyst's
	// earlier ratings last named ("" when none did).
	Firm string
	// Compared is the held target a raised, cut or maintained target
	// action compared with; zero for any other action.
	Compared Compared
}

// Changes returns the timeline's ratings, revisions and withdrawals
// effective in [from, to], in fold order, each with its actions as
// ActionsKnownAt gives them: the fold runs from the timeline's first event,
// since an event's actions come from every event before it.
func (t *Timeline) Changes(from, to time.Time) []Change {
	var out []Change
	t.eachChange(from, to, func(c Change) { out = append(out, c) })
	return out
}

// eachChange folds the timeline up to to and calls fn with every analyst
// event effective in [from, to].
func (t *Timeline) eachChange(from, to time.Time, fn func(Change)) {
	s := &State{KnownAt: t.KnownAt, Currency: t.Currency, Analysts: map[Analyst]*Position{}, Splits: t.Splits}
	for _, r := range t.Events {
		at := r.Event.Effective()
		if at.After(to) {
			return
		}
		a, c := s.apply(r)
		if analyst, ok := AnalystOf(r.Event); ok && !at.Before(from) {
			fn(Change{Event: r, Actions: a, Firm: s.Analysts[analyst].Firm, Compared: c})
		}
	}
}
