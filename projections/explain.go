package projections

import (
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
)

// The statuses an explained analyst can have. Each says why the analyst is or
// is not counted in the consensus, so that `show --explain` answers "why is
// this analyst (not) in the figures?" without reading the log.
const (
	// StatusCounted: a rating is held and is recent enough; it is in the figures.
	StatusCounted = "counted"
	// StatusStale: a rating is held but its latest rating or target event is
	// outside the window.
	StatusStale = "stale"
	// StatusWithdrawn: the analyst's last applied rating event is a withdrawal.
	StatusWithdrawn = "withdrawn"
	// StatusNoRating: no rating was ever held in the visible history; the
	// analyst appears only through skipped or retracted events.
	StatusNoRating = "no_rating"
	// StatusNotTop: a rating is held and recent enough, but the analyst is
	// not among the N best of `show --top N` at the answer's as_of.
	StatusNotTop = "not_top"
)

// AnalystExplain says what one analyst holds at the point in time and why the
// analyst is or is not counted. Its JSON shape is stable: every key is always
// present, absent values are null and notes is always an array, in the order
//
//	{"analyst", "firm", "rating", "broker_rating", "target", "target_factor",
//	 "adjusted_target", "rating_event_id", "target_event_id", "rating_action",
//	 "target_action", "last_active", "status", "reason", "notes"}
//
// For a withdrawn analyst the rating, target, event ids and actions are those
// of the rating that was withdrawn, kept for context; for StatusNoRating they
// are empty or null.
type AnalystExplain struct {
	Analyst string `json:"analyst"`
	Firm    string `json:"firm"` // the latest firm given, "" if none
	// Rating is the canonical rating (buy, hold, ...), "" when none was held.
	Rating string `json:"rating"`
	// BrokerRating is the broker's own word (outperform, ...), as recorded.
	BrokerRating string   `json:"broker_rating"`
	Target       *Decimal `json:"target"` // exact, as published; null without one
	// TargetFactor is what splits multiply the target by on the answer's
	// basis (CONTRACT section 7), as a fraction such as "1/4", or "1";
	// AdjustedTarget is the target times the factor, to 6 dp. Both are
	// null without a target.
	TargetFactor   *string    `json:"target_factor"`
	AdjustedTarget *Decimal   `json:"adjusted_target"`
	RatingEventID  *uuid.UUID `json:"rating_event_id"` // the RatingAdded that set the rating
	// TargetEventID is the RatingAdded or TargetRevised that set the target,
	// null when the rating carries none.
	TargetEventID *uuid.UUID `json:"target_event_id"`
	// RatingAction is the rating action (CONTRACT section 8) of the event
	// RatingEventID names, TargetAction the target action of the event
	// TargetEventID names, both as the fold met them at the question's
	// knowledge time; null when there is no such event.
	RatingAction *string `json:"rating_action"`
	TargetAction *string `json:"target_action"`
	// LastActive is the effective time of the latest applied rating or target
	// event, from which the window is measured; null for StatusNoRating.
	LastActive *time.Time `json:"last_active"`
	Status     string     `json:"status"` // one of the Status constants
	Reason     string     `json:"reason"` // one sentence, for people
	// Notes lists, in effective-time order, the analyst's events that the
	// fold skipped ("event <id> (TargetRevised, 2025-08-01): <why>") and those
	// retracted ("event <id> (TargetRevised, 2025-08-01) retracted by <id>:
	// <reason>").
	Notes []string `json:"notes"`
}

// Actions are RatingAction and TargetAction as domain values, null (zero)
// where the JSON has null.
func (e AnalystExplain) Actions() domain.Actions {
	var a domain.Actions
	if e.RatingAction != nil {
		a.Rating = domain.RatingAction(*e.RatingAction)
	}
	if e.TargetAction != nil {
		a.Target = domain.TargetAction(*e.TargetAction)
	}
	return a
}

// explain lists every analyst of the state, and every analyst with a
// retracted event, sorted by analyst id.
func explain(state *domain.State, window time.Duration, adj adjustment, top *Top) []AnalystExplain {
	type note struct {
		at   time.Time
		text string
	}
	notes := map[domain.Analyst][]note{}
	for a, p := range state.Analysts {
		for _, s := range p.Skipped {
			notes[a] = append(notes[a], note{s.Event.Event.Effective(), fmt.Sprintf("event %s (%s, %s): %s",
				s.Event.ID, s.Event.Event.Type(), when(s.Event.Event.Effective()), s.Reason)})
		}
	}
	for _, x := range state.Retracted {
		a, ok := domain.AnalystOf(x.Event.Event)
		if !ok {
			continue // a retracted close belongs to no analyst
		}
		reason := ""
		if r, ok := x.Retraction.Event.(domain.EventRetracted); ok {
			reason = r.Reason
		}
		notes[a] = append(notes[a], note{x.Event.Event.Effective(), fmt.Sprintf("event %s (%s, %s) retracted by %s: %s",
			x.Event.ID, x.Event.Event.Type(), when(x.Event.Event.Effective()), x.Retraction.ID, reason)})
	}

	ids := make([]domain.Analyst, 0, len(notes)+len(state.Analysts))
	for a := range state.Analysts {
		ids = append(ids, a)
	}
	for a := range notes {
		if _, ok := state.Analysts[a]; !ok {
			ids = append(ids, a)
		}
	}
	slices.Sort(ids)

	out := make([]AnalystExplain, 0, len(ids))
	for _, a := range ids {
		e := AnalystExplain{Analyst: string(a), Notes: []string{}}
		ns := notes[a]
		slices.SortStableFunc(ns, func(x, y note) int { return x.at.Compare(y.at) })
		for _, n := range ns {
			e.Notes = append(e.Notes, n.text)
		}
		p := state.Analysts[a]
		if p == nil || p.RatingEvent == uuid.Nil {
			e.Status = StatusNoRating
			e.Reason = "no_rating: holds no rating; its only events were skipped or retracted (see notes)"
			if p != nil {
				e.Firm = p.Firm
			}
			out = append(out, e)
			continue
		}
		e.Firm, e.Rating, e.BrokerRating = p.Firm, p.Rating.String(), p.BrokerRating
		e.RatingEventID = ptr(p.RatingEvent)
		e.RatingAction = action(string(p.RatingAction))
		lastActive := p.LastActive.UTC()
		e.LastActive = &lastActive
		target := "no target"
		if p.Target != nil {
			e.Target, e.TargetEventID = ptr(moneyDecimal(*p.Target)), ptr(p.TargetEvent)
			factor := adj.factor(p.LastActive)
			e.TargetFactor, e.AdjustedTarget = ptr(factor.String()), ptr(adjustedMoney(*p.Target, factor))
			e.TargetAction = action(string(p.TargetAction))
			// A rating's own target was set with it; a revision is always the
			// latest applied rating or target event, so LastActive dates it.
			setAt := p.RatedAt
			if p.TargetEvent != p.RatingEvent {
				setAt = p.LastActive
			}
			target = fmt.Sprintf("target %s set %s", p.Target, when(setAt))
		}
		switch {
		case !p.Held:
			e.Status = StatusWithdrawn
			e.Reason = fmt.Sprintf("withdrawn on %s (event %s)", when(p.WithdrawnAt), p.WithdrawalEvent)
		case active(p, windowStart(state.AsOf, window), window) && top != nil && !top.only[a]:
			e.Status = StatusNotTop
			e.Reason = fmt.Sprintf("not_top: not among the %d best analysts by success rate as of %s", top.N, when(state.AsOf))
		case active(p, windowStart(state.AsOf, window), window):
			e.Status = StatusCounted
			e.Reason = fmt.Sprintf("counted: %s since %s, %s", p.Rating, when(p.RatedAt), target)
			if top != nil {
				e.Reason += fmt.Sprintf("; among the %d best analysts by success rate as of %s", top.N, when(state.AsOf))
			}
		default:
			e.Status = StatusStale
			e.Reason = fmt.Sprintf("stale: last rating or target event %s, outside the %s window", when(p.LastActive), windowText(window))
		}
		out = append(out, e)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// action is nil for "", so that an absent action is JSON null.
func action(a string) *string {
	if a == "" {
		return nil
	}
	return &a
}

// when writes an effective time the way people gave it: a bare date for the
// end of a day (what a bare date means), the full timestamp otherwise.
func when(t time.Time) string {
	if t = t.UTC(); t.Equal(domain.EndOfDay(t)) {
		return t.Format(time.DateOnly)
	}
	return domain.FormatTime(t)
}

// windowText names a window in a sentence: "90-day" for whole days.
func windowText(w time.Duration) string {
	if w%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d-day", w/(24*time.Hour))
	}
	return w.String()
}
