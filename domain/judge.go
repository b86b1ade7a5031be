package domain

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Entry is one row of a batch to judge: an import file's line, an element
// of an API request's array, or a single command.
type Entry struct {
	// Line names the row in refusals that point at it from another row
	// ("is used by line 3"), and orders rows of equal effective time. An
	// import passes the file's line, the API the row's place in its array
	// counted from 1, so the same rows are refused in the same words.
	Line int
	// ID is the row's explicit id, or the one derived from its content
	// (ContentID).
	ID  uuid.UUID
	Cmd Command
}

// Outcome is what the judge made of one entry: the event to append, a
// duplicate of what is stored or came earlier, or a refusal.
type Outcome struct {
	Event     Event
	Duplicate bool
	Err       error // a *ValidationError
}

// Verdict is the judgement of a batch of one instrument's rows.
type Verdict struct {
	// Outcomes has one outcome per entry, in the entries' order.
	Outcomes []Outcome
	// Append lists the accepted entries (indices into the batch) in the
	// order their events are to be appended: facts in effective-time
	// order, then retractions.
	Append []int
	// Refused lists the refused entries in the order they were found, so
	// a writer reports them as the import always has.
	Refused []int
}

// Judge decides a batch of rows of the instrument sym, in any order,
// against its stored history (its stream, in stream order), as CONTRACT
// section 5 asks: each row as it would be with all the batch's valid rows in
// place at their effective times. A row retracted by another row of the
// batch is accepted but not in place for the rows after it, because it will
// not be in the ledger's fold. The import, POST /api/v1/events, POST
// /api/v1/import and single commands (Decide) all judge through here, so a
// row is accepted or refused alike, in the same words, wherever it comes
// from; only what a writer does with a refusal differs.
//
// It runs in one pass over the rows in effective-time order, with a cursor
// over the stored events and the rows accepted so far, so an instrument with
// n events costs O(n log n), not a fold per row.
func Judge(sym Symbol, history []Recorded, batch []Entry, now time.Time) Verdict {
	j := judge{sym: sym, history: history, batch: batch, now: now,
		v: Verdict{Outcomes: make([]Outcome, len(batch))}}
	j.run()
	return j.v
}

// judge holds one Judge call's working state.
type judge struct {
	sym     Symbol
	history []Recorded
	batch   []Entry
	now     time.Time
	v       Verdict

	gone []bool // refused, or a duplicate
}

func (j *judge) refuse(i int, err error) {
	j.gone[i] = true
	j.v.Outcomes[i].Err = err
	j.v.Refused = append(j.v.Refused, i)
}

func (j *judge) duplicate(i int) {
	j.gone[i] = true
	j.v.Outcomes[i].Duplicate = true
}

func (j *judge) run() {
	j.gone = make([]bool, len(j.batch))
	existing := map[uuid.UUID]*Recorded{}
	retractedBy := map[uuid.UUID]uuid.UUID{}
	// A single command without an id that retracts nothing (Decide's
	// usual case) looks nothing up: it costs no index of a long history.
	lookups := slices.ContainsFunc(j.batch, func(e Entry) bool { return e.ID != uuid.Nil || isRetraction(e.Cmd) })
	for i := range j.history {
		if !lookups {
			break
		}
		r := &j.history[i]
		existing[r.ID] = r
		if x, ok := r.Event.(EventRetracted); ok {
			if _, seen := retractedBy[x.Retracted]; !seen {
				retractedBy[x.Retracted] = r.ID
			}
		}
	}
	order := judgeOrder(j.batch)

	// Ids: a row whose id is stored, or came earlier in the batch, is a
	// duplicate when it says the same, and refused otherwise.
	inBatch := make(map[uuid.UUID]int, len(j.batch))
	for _, i := range order {
		e := j.batch[i]
		if e.ID == uuid.Nil {
			continue // a command the ledger gives an id once decided
		}
		if stored, ok := existing[e.ID]; ok {
			if Describes(e.Cmd, stored.Event) {
				j.duplicate(i)
			} else {
				j.refuse(i, invalid("id", e.ID.String(), "is already used by a different event"))
			}
			continue
		}
		if first, ok := inBatch[e.ID]; ok {
			if sameFact(j.batch[first].Cmd, e.Cmd) {
				j.duplicate(i)
			} else {
				j.refuse(i, invalid("id", e.ID.String(), fmt.Sprintf("is used by line %d for a different event", j.batch[first].Line)))
			}
			continue
		}
		inBatch[e.ID] = i
	}

	// Retractions: their targets must be facts, stored or in the batch, not
	// retracted already. Stored targets leave the fold now; batch targets
	// are judged like any row but not folded.
	var retractions []int
	retracting := map[uuid.UUID]int{}
	var synthetic []Recorded
	for _, i := range order {
		r, ok := j.batch[i].Cmd.(Retract)
		if j.gone[i] || !ok {
			continue
		}
		if err := checkReason(r.Reason); err != nil {
			j.refuse(i, err)
			continue
		}
		target := r.EventID
		idText := target.String()
		stored, isStored := existing[target]
		row, isRow := inBatch[target]
		switch by, retracted := retractedBy[target]; {
		case !isStored && !isRow:
			j.refuse(i, invalid("event_id", idText, fmt.Sprintf("is not an event of %s", j.sym)))
		case isStored && stored.Event.Type() == TypeEventRetracted,
			isRow && !j.gone[row] && isRetraction(j.batch[row].Cmd):
			j.refuse(i, invalid("event_id", idText, "is a retraction, which cannot itself be retracted"))
		case isStored && retracted && repeatsFormer(j.batch[i], r, *existing[by]):
			j.duplicate(i)
		case isStored && retracted:
			j.refuse(i, invalid("event_id", idText, fmt.Sprintf("was already retracted by %s", by)))
		default:
			if first, ok := retracting[target]; ok {
				j.refuse(i, invalid("event_id", idText, fmt.Sprintf("is already retracted by line %d", j.batch[first].Line)))
				continue
			}
			retracting[target] = i
			retractions = append(retractions, i)
			if isStored {
				synthetic = append(synthetic, Recorded{ID: j.batch[i].ID, Version: int64(len(j.history) + len(synthetic)),
					Event: EventRetracted{Instrument: j.sym, Retracted: target, Reason: r.Reason, EffectiveAt: stored.Event.Effective()}})
			}
		}
	}

	// The sweep, in effective-time order: each fact is judged as of its own
	// effective time, against the stored events and the accepted rows up to
	// it. The fold is built only when a row first needs it (a revision or a
	// withdrawal), so a lone rating or close costs no fold of the history.
	base := j.history
	if len(synthetic) > 0 {
		base = append(append(make([]Recorded, 0, len(j.history)+len(synthetic)), j.history...), synthetic...)
	}
	var cursor *Cursor
	var folded []Recorded // accepted rows in place, until the cursor exists
	currency := FirstCurrency(j.history, j.firstStating())
	version := int64(len(base))
	for _, i := range order {
		e := j.batch[i]
		if j.gone[i] || isRetraction(e.Cmd) {
			continue
		}
		var state *State
		if needsState(e.Cmd) {
			if cursor == nil {
				all := base
				if len(folded) > 0 {
					all = append(append(make([]Recorded, 0, len(base)+len(folded)), base...), folded...)
				}
				cursor = NewTimeline(all, endOfTime).Cursor()
			}
			state = cursor.AdvanceTo(commandEffective(e.Cmd))
		}
		event, err := decideAt(state, currency, e.Cmd, j.now)
		if err != nil {
			j.refuse(i, err)
			continue
		}
		j.v.Outcomes[i].Event = event
		if currency == "" {
			currency = CurrencyOf(event)
		}
		if _, retracted := retracting[e.ID]; !retracted {
			rec := Recorded{ID: e.ID, Version: version, RecordedAt: j.now, Event: event}
			if cursor != nil {
				cursor.Fold(rec)
			} else {
				folded = append(folded, rec)
			}
		}
		version++
		j.v.Append = append(j.v.Append, i)
	}

	// Retractions are appended last, each with its target's effective time.
	for _, i := range retractions {
		r := j.batch[i].Cmd.(Retract)
		var effective time.Time
		if stored, ok := existing[r.EventID]; ok {
			effective = stored.Event.Effective()
		} else if target := inBatch[r.EventID]; j.v.Outcomes[target].Event != nil {
			effective = j.v.Outcomes[target].Event.Effective()
		} else {
			j.refuse(i, invalid("event_id", r.EventID.String(),
				fmt.Sprintf("names the row on line %d, which was rejected", j.batch[target].Line)))
			continue
		}
		event := EventRetracted{Instrument: j.sym, Retracted: r.EventID, Reason: strings.TrimSpace(r.Reason), EffectiveAt: effective}
		if err := CheckEvent(event); err != nil {
			j.refuse(i, err)
			continue
		}
		j.v.Outcomes[i].Event = event
		j.v.Append = append(j.v.Append, i)
	}
}

// judgeOrder is the order rows are judged in: facts by effective time, then
// retractions, ties by line. An import's rows come sorted already, which is
// checked before sorting.
func judgeOrder(batch []Entry) []int {
	type key struct {
		retraction bool
		effective  time.Time
		line, i    int
	}
	keys := make([]key, len(batch))
	for i, e := range batch {
		keys[i] = key{retraction: isRetraction(e.Cmd), effective: commandEffective(e.Cmd), line: e.Line, i: i}
	}
	compare := func(a, b key) int {
		if a.retraction != b.retraction {
			if a.retraction {
				return 1
			}
			return -1
		}
		if !a.retraction {
			if c := a.effective.Compare(b.effective); c != 0 {
				return c
			}
		}
		return cmp.Compare(a.line, b.line)
	}
	if !slices.IsSortedFunc(keys, compare) {
		slices.SortStableFunc(keys, compare)
	}
	order := make([]int, len(keys))
	for n, k := range keys {
		order[n] = k.i
	}
	return order
}

// firstStating returns, for FirstCurrency, the command of the row still
// standing that states a currency and comes first in the writer's order
// (by line). Only that row matters, so one pass finds it.
func (j *judge) firstStating() []Command {
	first := -1
	for i, e := range j.batch {
		if !j.gone[i] && StatedCurrency(e.Cmd) != "" && (first < 0 || e.Line < j.batch[first].Line) {
			first = i
		}
	}
	if first < 0 {
		return nil
	}
	return []Command{j.batch[first].Cmd}
}

// commandEffective is a command's effective time; a retraction's comes from
// the event it retracts, so it has none here.
func commandEffective(cmd Command) time.Time {
	switch c := cmd.(type) {
	case Rate:
		return c.EffectiveAt
	case Revise:
		return c.EffectiveAt
	case Withdraw:
		return c.EffectiveAt
	case RecordClose:
		return c.EffectiveAt
	case RecordSplit:
		return c.EffectiveAt
	}
	return time.Time{}
}

// needsState reports whether a command is judged against the analysts'
// positions at its effective time.
func needsState(cmd Command) bool {
	switch cmd.(type) {
	case Revise, Withdraw:
		return true
	}
	return false
}

// checkReason checks a retraction's reason: required, and free text.
func checkReason(reason string) error {
	if strings.TrimSpace(reason) == "" {
		return invalid("reason", "", "is required to retract an event")
	}
	return CheckFreeText("reason", reason)
}

// repeatsFormer reports whether a retraction row repeats the stored
// retraction of its target under the id an earlier version derived for it
// (see RepeatsStoredRetraction); a row with an id of its own never does.
func repeatsFormer(e Entry, r Retract, stored Recorded) bool {
	derived, err := ContentID(r)
	return err == nil && e.ID == derived && RepeatsStoredRetraction(r, stored)
}

func isRetraction(cmd Command) bool {
	_, ok := cmd.(Retract)
	return ok
}

// sameFact reports whether two commands record the same fact.
func sameFact(a, b Command) bool {
	e, err := Propose(a)
	return err == nil && Describes(b, e)
}

// RefuseUnplaced is the refusal of a retraction row that names no
// instrument and whose event is neither stored in an instrument's stream nor
// a fact of the same batch; namesRetraction is whether it names another
// such row. Every writer places these rows before judging (the instrument
// is the retracted event's), so this is the one refusal said outside Judge.
func RefuseUnplaced(eventID string, namesRetraction bool) error {
	if namesRetraction {
		return invalid("event_id", eventID, "is a retraction, which cannot itself be retracted")
	}
	return invalid("event_id", eventID, "is not an event of this ledger or of this file")
}
