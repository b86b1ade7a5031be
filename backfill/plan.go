package backfill

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/ledger"
)

// endOfTime is a knowledge time after every recorded event.
var endOfTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// plan is what an import does to one instrument: the events to append, in
// order, and what it skips or rejects.
type plan struct {
	accepted   []ledger.Decided
	duplicates int
	rejects    []Reject
}

// parsed is an item with its command.
type parsed struct {
	*item
	cmd   domain.Command
	event domain.Event // once accepted
	gone  bool         // skipped as a duplicate or rejected
}

// planInstrument judges an instrument's rows (sorted by effective time and
// line, retractions last) against its stored history, as CONTRACT section 5
// asks: each row as it would be with all the file's valid rows in place at
// their effective times. It runs in one pass over the rows in effective-time
// order, with a cursor over the stored events and the rows accepted so far,
// so an instrument with n events costs O(n log n), not a fold per row.
func planInstrument(sym domain.Symbol, history []domain.Recorded, items []*item, now time.Time, meta func(*item) domain.Metadata) plan {
	var p plan
	reject := func(x *parsed, err error) {
		x.gone = true
		r := Reject{Line: x.line, Reason: err.Error(), Row: x.text}
		var v *domain.ValidationError
		if errors.As(err, &v) {
			r.Field = v.Field
		}
		p.rejects = append(p.rejects, r)
	}

	existing := make(map[uuid.UUID]*domain.Recorded, len(history))
	retractedBy := map[uuid.UUID]uuid.UUID{}
	for i := range history {
		r := &history[i]
		existing[r.ID] = r
		if x, ok := r.Event.(domain.EventRetracted); ok {
			if _, seen := retractedBy[x.Retracted]; !seen {
				retractedBy[x.Retracted] = r.ID
			}
		}
	}

	// Ids: a row whose id is stored, or came earlier in the file, is a
	// duplicate when it says the same, and refused otherwise.
	rows := make([]*parsed, 0, len(items))
	inFile := make(map[uuid.UUID]*parsed, len(items))
	for _, it := range items {
		x := &parsed{item: it}
		rows = append(rows, x)
		cmd, err := it.row.Command(now)
		if err != nil {
			reject(x, err)
			continue
		}
		x.cmd = cmd
		if stored, ok := existing[it.id]; ok {
			if domain.Describes(cmd, stored.Event) {
				x.gone = true
				p.duplicates++
			} else {
				reject(x, &domain.ValidationError{Field: "id", Value: it.id.String(), Reason: "is already used by a different event"})
			}
			continue
		}
		if first, ok := inFile[it.id]; ok {
			if sameFact(first.cmd, cmd) {
				x.gone = true
				p.duplicates++
			} else {
				reject(x, &domain.ValidationError{Field: "id", Value: it.id.String(), Reason: fmt.Sprintf("is used by line %d for a different event", first.line)})
			}
			continue
		}
		inFile[it.id] = x
	}

	// Retractions: their targets must be facts, stored or in the file, not
	// retracted already. Stored targets leave the fold now; file targets are
	// judged like any row but not folded.
	var retractions []*parsed
	retracting := map[uuid.UUID]*parsed{}
	var synthetic []domain.Recorded
	for _, x := range rows {
		r, ok := x.cmd.(domain.Retract)
		if x.gone || !ok {
			continue
		}
		target := r.EventID
		idText := target.String()
		stored, isStored := existing[target]
		fileRow, isFile := inFile[target]
		switch {
		case !isStored && !isFile:
			reject(x, &domain.ValidationError{Field: "event_id", Value: idText, Reason: fmt.Sprintf("is not an event of %s", sym)})
		case isStored && stored.Event.Type() == domain.TypeEventRetracted,
			isFile && !fileRow.gone && isRetraction(fileRow.cmd):
			reject(x, &domain.ValidationError{Field: "event_id", Value: idText, Reason: "is a retraction, which cannot itself be retracted"})
		case isStored && retractedBy[target] != uuid.Nil && repeatsFormer(x, r, *existing[retractedBy[target]]):
			x.gone = true
			p.duplicates++
		case isStored && retractedBy[target] != uuid.Nil:
			// The command line's words (domain.Decide), so a retraction is
			// refused alike wherever it comes from.
			reject(x, &domain.ValidationError{Field: "event_id", Value: idText, Reason: fmt.Sprintf("was already retracted by %s", retractedBy[target])})
		case retracting[target] != nil:
			reject(x, &domain.ValidationError{Field: "event_id", Value: idText, Reason: fmt.Sprintf("is already retracted by line %d", retracting[target].line)})
		default:
			retracting[target] = x
			retractions = append(retractions, x)
			if isStored {
				synthetic = append(synthetic, domain.Recorded{ID: x.id, Version: int64(len(history) + len(synthetic)),
					Event: domain.EventRetracted{Instrument: sym, Retracted: target, Reason: r.Reason, EffectiveAt: stored.Event.Effective()}})
			}
		}
	}

	// The sweep, in effective-time order: each fact is judged as of its own
	// effective time, against the stored events and the accepted rows up to
	// it.
	base := history
	if len(synthetic) > 0 {
		base = append(append(make([]domain.Recorded, 0, len(history)+len(synthetic)), history...), synthetic...)
	}
	cursor := domain.NewTimeline(base, endOfTime).Cursor()
	currency := domain.FirstCurrency(history, firstStating(rows))
	version := int64(len(base))
	for _, x := range rows {
		if x.gone || isRetraction(x.cmd) {
			continue
		}
		state := cursor.AdvanceTo(time.Unix(0, x.effective).UTC())
		e, err := domain.DecideAt(state, currency, x.cmd, now)
		if err != nil {
			reject(x, err)
			continue
		}
		x.event = e
		if currency == "" {
			currency = domain.CurrencyOf(e)
		}
		if retracting[x.id] == nil {
			cursor.Fold(domain.Recorded{ID: x.id, Version: version, RecordedAt: now, Event: e})
		}
		version++
		p.accepted = append(p.accepted, ledger.Decided{ID: x.id, Event: e, Meta: meta(x.item)})
	}

	// Retractions are written last, each with its target's effective time.
	for _, x := range retractions {
		r := x.cmd.(domain.Retract)
		var effective time.Time
		if stored, ok := existing[r.EventID]; ok {
			effective = stored.Event.Effective()
		} else if target := inFile[r.EventID]; target.event != nil {
			effective = target.event.Effective()
		} else {
			reject(x, &domain.ValidationError{Field: "event_id", Value: r.EventID.String(),
				Reason: fmt.Sprintf("names the row on line %d, which was rejected", target.line)})
			continue
		}
		e := domain.EventRetracted{Instrument: sym, Retracted: r.EventID, Reason: strings.TrimSpace(r.Reason), EffectiveAt: effective}
		if err := domain.CheckEvent(e); err != nil {
			reject(x, err)
			continue
		}
		p.accepted = append(p.accepted, ledger.Decided{ID: x.id, Event: e, Meta: meta(x.item)})
	}
	return p
}

// firstStating returns, for domain.FirstCurrency, the command of the row
// still standing that states a currency and comes first in the file (rows
// are in effective-time order). Only that row matters, so one pass finds it
// without sorting the instrument's rows by line.
func firstStating(rows []*parsed) []domain.Command {
	var first *parsed
	for _, x := range rows {
		if !x.gone && domain.StatedCurrency(x.cmd) != "" && (first == nil || x.line < first.line) {
			first = x
		}
	}
	if first == nil {
		return nil
	}
	return []domain.Command{first.cmd}
}

// repeatsFormer reports whether a retraction row repeats the stored
// retraction of its target under the id an earlier version derived for it
// (see RepeatsStoredRetraction); a row with an id of its own never does.
func repeatsFormer(x *parsed, r domain.Retract, stored domain.Recorded) bool {
	derived, err := ContentID(r)
	return err == nil && x.id == derived && RepeatsStoredRetraction(r, stored)
}

func isRetraction(cmd domain.Command) bool {
	_, ok := cmd.(domain.Retract)
	return ok
}

// sameFact reports whether two commands record the same fact.
func sameFact(a, b domain.Command) bool {
	e, err := domain.Propose(a)
	return err == nil && domain.Describes(b, e)
}
