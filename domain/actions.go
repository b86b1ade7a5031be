package domain

import (
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

// actionsOf is the one statement of CONTRACT section 8: the actions of r,
// met by the fold while the analyst's position is p (nil when the analyst has
// no position yet), before r is applied. State.apply calls it, so an event's
// actions can never disagree with what the fold did with it.
func (s *State) actionsOf(p *Position, r Recorded) Actions {
	held := p != nil && p.Held
	switch e := r.Event.(type) {
	case RatingAdded:
		a := Actions{Rating: RatingInitiation}
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
			a.Target = s.targetAction(p, held, *e.Target, e.EffectiveAt)
		}
		return a
	case TargetRevised:
		if !held {
			return Actions{Rating: RatingSkipped}
		}
		return Actions{Target: s.targetAction(p, held, e.Target, e.EffectiveAt)}
	case RatingWithdrawn:
		if !held {
			return Actions{Rating: RatingSkipped}
		}
		return Actions{Rating: RatingCoverageDropped}
	}
	return Actions{}
}

// targetAction compares a new target with the target of the rating held,
// adjusted to the new event's basis (CONTRACT section 8): the held target
// was set at p.LastActive (the rating or revision that set it is always the
// analyst's latest applied rating or target event), so it is multiplied by
// M/N for every visible split effective in (p.LastActive, at]. Money is
// exact integer millionths and the factor a fraction, so the comparison is
// exact.
func (s *State) targetAction(p *Position, held bool, target Money, at time.Time) TargetAction {
	if !held || p.Target == nil {
		return TargetSet
	}
	switch s.Splits.Factor(p.LastActive, at).CompareAdjusted(target, *p.Target) {
	case 1:
		return TargetRaised
	case -1:
		return TargetCut
	}
	return TargetMaintained
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
	s := &State{KnownAt: knownAt, Currency: t.Currency, Analysts: map[Analyst]*Position{}, Splits: t.Splits}
	out := make(map[uuid.UUID]Actions)
	for _, r := range t.Events {
		a := s.apply(r)
		if _, ok := analystEvent(r.Event); ok {
			out[r.ID] = a
		}
	}
	return out
}

// analystEvent returns the analyst a rating, revision or withdrawal is about.
func analystEvent(e Event) (Analyst, bool) {
	switch e := e.(type) {
	case RatingAdded:
		return e.Analyst, true
	case TargetRevised:
		return e.Analyst, true
	case RatingWithdrawn:
		return e.Analyst, true
	}
	return "", false
}
