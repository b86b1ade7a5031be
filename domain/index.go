package domain

import (
	"math"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// CheckpointEvery is how many events (in fold order) an Index folds between
// two checkpoints: a query folds at most this many events after cloning the
// checkpoint before it. Smaller means faster queries and more memory.
const CheckpointEvery = 256

// Index answers point-in-time questions about one instrument without sorting
// or folding its whole history for each: it keeps the events in fold order
// and, every CheckpointEvery events, the state the fold has reached with
// everything known. A question (asOf, knownAt) starts from the latest
// checkpoint that is before asOf and whose events were all known, with their
// retractions, by knownAt, and folds the few events after it.
//
// State(asOf, knownAt) always equals NewTimeline(history, knownAt).Replay(asOf):
// a checkpoint is used only where the two timelines agree on every event
// before it, and the events after it are filtered exactly as NewTimeline
// filters them. The property is tested on generated histories.
//
// An Index is immutable once built, so any number of goroutines may query
// it; Extend returns a new Index sharing the old one's storage.
type Index struct {
	history  []Recorded // stream order, as given; never modified
	currency Currency

	order     []int32 // history positions of the non-retraction events, in fold order
	effective []int64 // effective time (Unix ns) of order[i], for binary search
	// retractions maps a retracted event's history position to the history
	// positions of the retractions naming it, in stream order.
	retractions map[int32][]int32
	// dangling holds ids named by a retraction but not (yet) in the history:
	// an event arriving later under such an id is retracted on arrival.
	dangling    map[uuid.UUID]bool
	splits      []int32 // history positions of the splits, in fold order
	checkpoints []checkpoint
	extended    atomic.Bool // set once Extend has appended to the shared slices
}

// checkpoint is the fold of order[:at] with everything known.
type checkpoint struct {
	at int
	// stableAt is the latest recorded time of the events of order[:at] and
	// of every retraction naming one of them: a question known at or after
	// stableAt sees exactly these events before the checkpoint.
	stableAt time.Time
	state    *State
}

// NewIndex indexes history (one instrument's stream, in stream order). The
// slice is kept, not copied: callers must not modify it afterwards.
func NewIndex(history []Recorded) *Index {
	ix := &Index{history: history[:len(history):len(history)], currency: StreamCurrency(history)}
	ix.retractions, ix.dangling = map[int32][]int32{}, map[uuid.UUID]bool{}
	named := map[uuid.UUID]bool{}
	byID := make(map[uuid.UUID]int32, len(history))
	for i, r := range history {
		if _, ok := r.Event.(EventRetracted); !ok {
			byID[r.ID] = int32(i)
		}
	}
	// Sort on precomputed keys: calling Effective through the interface
	// inside the comparison would cost more than the sort itself.
	keys := make([]foldKey, 0, len(history))
	for i, r := range history {
		if x, ok := r.Event.(EventRetracted); ok {
			named[x.Retracted] = true
			if target, found := byID[x.Retracted]; found {
				ix.retractions[target] = append(ix.retractions[target], int32(i))
			}
			continue
		}
		keys = append(keys, foldKey{effective: nanos(r.Event.Effective()), version: r.Version, pos: int32(i)})
	}
	slices.SortFunc(keys, compareFoldKeys) // versions are unique: no ties
	ix.order, ix.effective = make([]int32, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		ix.order[i], ix.effective[i] = k.pos, k.effective
		if _, ok := history[k.pos].Event.(SplitRecorded); ok {
			ix.splits = append(ix.splits, k.pos)
		}
	}
	for id := range named {
		if _, found := byID[id]; !found {
			ix.dangling[id] = true
		}
	}
	ix.addCheckpoints()
	return ix
}

// foldKey orders events for the fold: by effective time, ties by version.
type foldKey struct {
	effective int64 // Unix nanoseconds, see nanos
	version   int64
	pos       int32
}

func compareFoldKeys(a, b foldKey) int {
	if c := compareInt(a.effective, b.effective); c != 0 {
		return c
	}
	return compareInt(a.version, b.version)
}

// nanos is t in Unix nanoseconds, saturated at the ends of int64's range
// (years 1678 and 2262), so a question about the year 9999 compares after
// every event instead of overflowing.
func nanos(t time.Time) int64 {
	switch {
	case t.Before(minNanosTime):
		return math.MinInt64
	case t.After(maxNanosTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

var (
	minNanosTime = time.Unix(0, math.MinInt64)
	maxNanosTime = time.Unix(0, math.MaxInt64)
)

// addCheckpoints folds on from the last checkpoint to the end of the fold
// order, adding a checkpoint every CheckpointEvery events.
//
// The fold compares targets across splits (section 8 actions), on the basis
// of each event's own time, so a checkpoint's state also depends on the
// splits effective by its last event, wherever they fall in fold order
// (one at the same instant may come after it): their recording and
// retraction times count towards stableAt too.
func (ix *Index) addCheckpoints() {
	state, at, stableAt := ix.newState(time.Time{}), 0, time.Time{}
	state.Splits = ix.splitsKnownAt(endOfTime)
	if n := len(ix.checkpoints); n > 0 {
		cp := ix.checkpoints[n-1]
		state, at, stableAt = cp.state.clone(), cp.at, cp.stableAt
	}
	for i := at; i < len(ix.order); i++ {
		p := ix.order[i]
		r := ix.history[p]
		stableAt = later(stableAt, r.RecordedAt)
		if by := ix.retractions[p]; len(by) > 0 {
			for _, q := range by {
				stableAt = later(stableAt, ix.history[q].RecordedAt)
			}
			state.Retracted = append(state.Retracted, Retracted{Event: r, Retraction: ix.history[by[0]]})
		} else {
			state.apply(r)
		}
		if (i+1)%CheckpointEvery == 0 {
			for _, sp := range ix.splits {
				if ix.effective[i] < nanos(ix.history[sp].Event.Effective()) {
					break // in fold order: the rest are later still
				}
				stableAt = later(stableAt, ix.history[sp].RecordedAt)
				for _, q := range ix.retractions[sp] {
					stableAt = later(stableAt, ix.history[q].RecordedAt)
				}
			}
			ix.checkpoints = append(ix.checkpoints, checkpoint{at: i + 1, stableAt: stableAt, state: state})
			state = state.clone()
		}
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func (ix *Index) newState(knownAt time.Time) *State {
	return &State{KnownAt: knownAt, Currency: ix.currency, Analysts: map[Analyst]*Position{}}
}

// Len is the number of history records the index covers.
func (ix *Index) Len() int { return len(ix.history) }

// History is the indexed history, in stream order. Callers must not modify it.
func (ix *Index) History() []Recorded { return ix.history }

// Extend returns an index of history, which must begin with the records this
// index covers. When the new records only add events at the end of the fold
// order (the usual case: new facts about later dates, no retraction), the new
// index shares this one's storage and folds only the new events; otherwise
// it is built afresh.
func (ix *Index) Extend(history []Recorded) *Index {
	added := history[len(ix.history):]
	if len(added) == 0 {
		return ix
	}
	// The new events must follow the last one in fold order, and each other.
	var last *foldKey
	if n := len(ix.order); n > 0 {
		last = &foldKey{effective: ix.effective[n-1], version: ix.history[ix.order[n-1]].Version}
	}
	for _, r := range added {
		_, retraction := r.Event.(EventRetracted)
		if _, split := r.Event.(SplitRecorded); retraction || split || ix.dangling[r.ID] {
			return NewIndex(history) // rare: a split changes the basis of what came before
		}
		key := foldKey{effective: nanos(r.Event.Effective()), version: r.Version}
		if last != nil && compareFoldKeys(key, *last) < 0 {
			return NewIndex(history)
		}
		last = &key
	}
	if ix.currency == "" && StreamCurrency(added) != "" {
		return NewIndex(history)
	}
	next := &Index{history: history[:len(history):len(history)], currency: ix.currency,
		order: ix.order, effective: ix.effective, checkpoints: ix.checkpoints,
		retractions: ix.retractions, dangling: ix.dangling, splits: ix.splits} // no retraction or split was added
	// The first extension appends in place, beyond what ix's readers look
	// at; any later extension of ix copies, so two never share new storage.
	if !ix.extended.CompareAndSwap(false, true) {
		next.order, next.effective = slices.Clip(next.order), slices.Clip(next.effective)
		next.checkpoints = slices.Clip(next.checkpoints)
	}
	for i := range added {
		p := int32(len(ix.history) + i)
		next.order = append(next.order, p)
		next.effective = append(next.effective, nanos(history[p].Event.Effective()))
	}
	next.addCheckpoints()
	return next
}

// State is the instrument's state as of asOf, as known at knownAt: the same
// as NewTimeline(history, knownAt).Replay(asOf), without re-sorting. The
// state is the caller's to fold further or modify.
func (ix *Index) State(asOf, knownAt time.Time) *State {
	asOfNanos := nanos(asOf)
	end := sort.Search(len(ix.effective), func(i int) bool { return ix.effective[i] > asOfNanos })
	state := ix.stateBefore(end, knownAt)
	state.AsOf = asOf
	return state
}

// stateBefore is the fold of order[:end] as known at knownAt, continued
// from the latest checkpoint it may use.
func (ix *Index) stateBefore(end int, knownAt time.Time) *State {
	// Checkpoints grow in both position and stableAt, so the usable ones
	// form a prefix of the list.
	k := sort.Search(len(ix.checkpoints), func(i int) bool {
		cp := ix.checkpoints[i]
		return cp.at > end || cp.stableAt.After(knownAt)
	}) - 1
	state, from := ix.newState(knownAt), 0
	if k >= 0 {
		state, from = ix.checkpoints[k].state.clone(), ix.checkpoints[k].at
		state.KnownAt = knownAt
	}
	state.Splits = ix.splitsKnownAt(knownAt)
	ix.fold(state, from, end, func(Recorded, Actions) {})
	return state
}

// fold applies order[from:end] to state as known at state.KnownAt (events
// recorded later are left out, retracted ones set aside) and calls fn with
// each event applied and its section 8 actions.
func (ix *Index) fold(state *State, from, end int, fn func(Recorded, Actions)) {
	for i := from; i < end; i++ {
		p := ix.order[i]
		r := ix.history[p]
		if r.RecordedAt.After(state.KnownAt) {
			continue
		}
		if by, ok := ix.retractedBy(p, state.KnownAt); ok {
			state.Retracted = append(state.Retracted, Retracted{Event: r, Retraction: by})
			continue
		}
		a, _ := state.apply(r)
		fn(r, a)
	}
}

// ActionsOf returns the section 8 actions of every RatingAdded,
// TargetRevised and RatingWithdrawn visible at knownAt, as known then: the
// same as ActionsKnownAt(ix.History(), knownAt), without re-sorting. An
// event's actions depend on every event before it, and they change when an
// earlier event is backfilled or retracted later, so every surface that
// shows actions as known at some time asks here (or ActionsOfEvent).
func (ix *Index) ActionsOf(knownAt time.Time) map[uuid.UUID]Actions {
	// Sized for every event in fold order (closes too): growing the map
	// from empty was half the cost of a fold over 100,000 events.
	out := make(map[uuid.UUID]Actions, len(ix.order))
	state := ix.newState(knownAt)
	state.Splits = ix.splitsKnownAt(knownAt)
	ix.fold(state, 0, len(ix.order), func(r Recorded, a Actions) {
		if _, ok := AnalystOf(r.Event); ok {
			out[r.ID] = a
		}
	})
	return out
}

// ActionsOfEvent returns the actions of one event of the index as known at
// knownAt, ActionsOf(knownAt)[r.ID], from the latest checkpoint before it
// rather than from the first event: what a live feed of new events needs
// for each, however long the history. It is null (zero) for an event not
// visible at knownAt, not an analyst's, or not in the index.
func (ix *Index) ActionsOfEvent(r Recorded, knownAt time.Time) Actions {
	if _, ok := AnalystOf(r.Event); !ok || r.RecordedAt.After(knownAt) {
		return Actions{}
	}
	key := nanos(r.Event.Effective())
	for i := sort.Search(len(ix.effective), func(i int) bool { return ix.effective[i] >= key }); i < len(ix.order) && ix.effective[i] == key; i++ {
		p := ix.order[i]
		if ix.history[p].ID != r.ID {
			continue
		}
		if _, retracted := ix.retractedBy(p, knownAt); retracted {
			return Actions{}
		}
		state := ix.stateBefore(i, knownAt)
		a, _ := state.apply(ix.history[p])
		return a
	}
	return Actions{}
}

// splitsKnownAt returns the splits visible at knownAt (recorded by then and
// not retracted by then), in fold order.
func (ix *Index) splitsKnownAt(knownAt time.Time) Splits {
	var out Splits
	for _, p := range ix.splits {
		r := ix.history[p]
		if r.RecordedAt.After(knownAt) {
			continue
		}
		if _, retracted := ix.retractedBy(p, knownAt); retracted {
			continue
		}
		s, _ := splitOf(r)
		out = append(out, s)
	}
	return out
}

// retractedBy returns the first retraction (in stream order) of the event at
// history position p that was recorded by knownAt.
func (ix *Index) retractedBy(p int32, knownAt time.Time) (Recorded, bool) {
	for _, q := range ix.retractions[p] {
		if r := ix.history[q]; !r.RecordedAt.After(knownAt) {
			return r, true
		}
	}
	return Recorded{}, false
}

// clone copies a state deeply enough that folding into the copy never
// changes the original: positions are copied, and slices are capped so an
// append reallocates instead of writing into shared storage.
func (s *State) clone() *State {
	c := *s
	c.Analysts = make(map[Analyst]*Position, len(s.Analysts))
	for a, p := range s.Analysts {
		cp := *p
		cp.Skipped = slices.Clip(p.Skipped)
		c.Analysts[a] = &cp
	}
	if s.Close != nil {
		closeCopy := *s.Close
		c.Close = &closeCopy
	}
	c.Retracted = slices.Clip(s.Retracted)
	return &c
}
