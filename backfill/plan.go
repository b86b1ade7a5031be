package backfill

import (
	"errors"
	"time"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/ledger"
)

// plan is what an import does to one instrument: the events to append, in
// order, and what it skips or rejects.
type plan struct {
	accepted   []ledger.Decided
	duplicates int
	rejects    []Reject
}

// planInstrument judges an instrument's rows against its stored history
// with domain.Judge, the one judge of every write, and turns its verdict
// into the events to append (with their metadata) and the file's rejects.
func planInstrument(sym domain.Symbol, history []domain.Recorded, items []*item, now time.Time, meta func(*item) domain.Metadata) plan {
	var p plan
	batch := make([]domain.Entry, 0, len(items))
	judged := make([]*item, 0, len(items))
	for _, it := range items {
		cmd, err := it.row.Command(now)
		if err != nil { // newItem accepted the row: only a clock gone back can refuse it now
			p.rejects = append(p.rejects, rejectOf(it, err))
			continue
		}
		batch = append(batch, domain.Entry{Line: it.line, ID: it.id, Cmd: cmd})
		judged = append(judged, it)
	}
	v := domain.Judge(sym, history, batch, now)
	for _, o := range v.Outcomes {
		if o.Duplicate {
			p.duplicates++
		}
	}
	for _, i := range v.Refused {
		p.rejects = append(p.rejects, rejectOf(judged[i], v.Outcomes[i].Err))
	}
	p.accepted = make([]ledger.Decided, len(v.Append))
	for n, i := range v.Append {
		p.accepted[n] = ledger.Decided{ID: batch[i].ID, Event: v.Outcomes[i].Event, Meta: meta(judged[i])}
	}
	return p
}

// rejectOf is the reject of a row refused for err.
func rejectOf(it *item, err error) Reject {
	r := Reject{Line: it.line, Reason: err.Error(), Row: it.text}
	var v *domain.ValidationError
	if errors.As(err, &v) {
		r.Field = v.Field
	}
	return r
}

func isRetraction(cmd domain.Command) bool {
	_, ok := cmd.(domain.Retract)
	return ok
}
