package domain

import (
	"slices"
	"sort"
	"time"
)

// PublishedCursor walks the diagonal of the bitemporal plane: at each time t
// it gives the state as of t as known at t, which is what the ledger showed
// for that moment at that moment (a first-published history). Both times
// move together, so neither Cursor (one known-at time) nor a question to the
// Index per point (a fold of every event recorded late, for each point) is
// the right tool; the cursor does one pass in the usual case instead.
//
// It keeps two folds. The settled fold covers the longest prefix of the fold
// order whose events (and their retractions) were all recorded by t: no
// later question changes how they fold. The current fold continues from the
// previous point. Something recorded since that point may change an event
// the fold has passed: when no event after it in fold order has changed the
// state yet (a close recorded the next morning, the last event of its day),
// the fold goes back to it and on; otherwise (a retraction, a backfill
// before events already shown) it restarts from a copy of the settled fold.
// A live ledger, whose events are recorded about when they take effect, is
// folded about twice over (current and settled); each late correction costs
// one copy of the state and a refold from the settled prefix.
//
// AdvanceTo(t) always equals NewTimeline(history, t).Replay(t); the property
// is tested on generated histories.
type PublishedCursor struct {
	ix *Index
	// settle[i] is the time from which the event at fold position i folds
	// the same for every later known-at time: its recording, and that of
	// every retraction naming it.
	settle    []time.Time
	settled   *State // the fold of order[:settledTo], everything known
	settledTo int
	// late lists the recordings that may change the fold of an event
	// already met (recorded after the event's effective time), by time.
	late     []lateRecording
	nextLate int
	state    *State // the fold of order[:next] as known at the last point
	next     int
	touched  int // no event of order[touched:next] changed state
}

// lateRecording is a recording (of an event, or of a retraction naming it)
// after the event's effective time, at fold position pos.
type lateRecording struct {
	at  time.Time
	pos int
}

// PublishedCursor starts a walk before the first event. The index is only
// read, so any number of cursors may walk it at once.
func (ix *Index) PublishedCursor() *PublishedCursor {
	c := &PublishedCursor{ix: ix, settle: make([]time.Time, len(ix.order)), settled: ix.newState(time.Time{})}
	// The fold judges an event's actions against the splits effective by
	// its own time (section 8), even one at the same instant later in fold
	// order: such a split's recording and retraction count for the events
	// from the first one at its instant, as for the split itself.
	first := 0 // the first fold position at the effective time of i
	for i, p := range ix.order {
		if ix.effective[i] != ix.effective[first] {
			first = i
		}
		r := ix.history[p]
		effective := r.Event.Effective()
		c.settle[i] = r.RecordedAt
		at := []time.Time{r.RecordedAt}
		for _, q := range ix.retractions[p] {
			at = append(at, ix.history[q].RecordedAt)
		}
		from := i
		if _, split := r.Event.(SplitRecorded); split {
			from = first
		}
		for _, t := range at {
			for k := from; k <= i; k++ {
				c.settle[k] = later(c.settle[k], t)
			}
			if t.After(effective) {
				c.late = append(c.late, lateRecording{at: t, pos: from})
			}
		}
	}
	slices.SortFunc(c.late, func(a, b lateRecording) int { return a.at.Compare(b.at) })
	// Settled events fold with every split they will ever see: those
	// effective by their time are settled with them.
	c.settled.Splits = ix.splitsKnownAt(endOfTime)
	c.state = c.settled.clone()
	return c
}

// AdvanceTo returns the state as of t as known at t. t must not go
// backwards. The state is the cursor's: it changes on the next call, so
// callers copy what they keep (Compute does).
func (c *PublishedCursor) AdvanceTo(t time.Time) *State {
	ix := c.ix
	tNanos := nanos(t)
	end := sort.Search(len(ix.effective), func(i int) bool { return ix.effective[i] > tNanos })
	for c.settledTo < end && !c.settle[c.settledTo].After(t) {
		// Settled by t: recorded, and retracted if ever, by then.
		c.fold(c.settled, c.settledTo, t)
		c.settledTo++
	}
	// Has anything recorded since the last point changed an event already
	// folded into the current state? (The recordings up to the last point
	// were taken then; on the first call nothing is folded yet.)
	changed := c.next
	for ; c.nextLate < len(c.late) && !c.late[c.nextLate].at.After(t); c.nextLate++ {
		changed = min(changed, c.late[c.nextLate].pos)
	}
	switch {
	case changed >= c.touched:
		// Nothing from the first changed event on has entered the state
		// (the usual late recording: a close recorded the next morning,
		// last in fold order): fold on from there.
		c.next = min(c.next, changed)
	default:
		c.state, c.next, c.touched = c.settled.clone(), c.settledTo, c.settledTo
	}
	// The splits known at t: those effective by an event folded now adjust
	// its actions, and all of them the figures on any basis.
	c.state.Splits = ix.splitsKnownAt(t)
	for ; c.next < end; c.next++ {
		if c.fold(c.state, c.next, t) {
			c.touched = c.next + 1
		}
	}
	c.state.AsOf, c.state.KnownAt = t, t
	return c.state
}

// fold folds the event at fold position i into s as known at knownAt, as
// Index.State does: skipped when not yet recorded, listed when retracted.
// It reports whether s changed.
func (c *PublishedCursor) fold(s *State, i int, knownAt time.Time) bool {
	p := c.ix.order[i]
	r := c.ix.history[p]
	if r.RecordedAt.After(knownAt) {
		return false
	}
	if by, ok := c.ix.retractedBy(p, knownAt); ok {
		s.Retracted = append(s.Retracted, Retracted{Event: r, Retraction: by})
		return true
	}
	s.apply(r)
	return true
}
