package backfill

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/ledger"
)

// rowsOf turns an instrument's items into the rows the ledger judges (with
// the metadata their events are stored with), and the items they are, in
// the same order. A row whose command cannot be made is rejected here:
// newItem accepted it, so only a clock gone back can refuse it now.
func rowsOf(items []*item, now time.Time, meta func(*item) domain.Metadata) (rows []ledger.Row, judged []*item, rejects []Reject) {
	rows = make([]ledger.Row, 0, len(items))
	judged = make([]*item, 0, len(items))
	for _, it := range items {
		cmd, err := it.row.Command(now)
		if err != nil {
			rejects = append(rejects, rejectOf(it, err))
			continue
		}
		rows = append(rows, ledger.Row{Entry: domain.Entry{Line: it.line, ID: it.id, Cmd: cmd}, Meta: meta(it)})
		judged = append(judged, it)
	}
	return rows, judged, rejects
}

// plan is an instrument's rows judged by the ledger (ledger.Judge, with
// domain.Judge, the one judge of every write): the events to append, and
// the file's rejects.
type plan struct {
	*ledger.Plan
	rejects []Reject
}

// planInstrument judges an instrument's rows against its stored history.
func planInstrument(ctx context.Context, l *ledger.Ledger, items []*item, now time.Time, meta func(*item) domain.Metadata) (plan, error) {
	sym := domain.Symbol(items[0].instrument)
	rows, judged, rejects := rowsOf(items, now, meta)
	p, err := l.Judge(ctx, sym, rows, now)
	if err != nil {
		return plan{}, err
	}
	return plan{Plan: p, rejects: refusals(rejects, p, judged, nil)}, nil
}

// refusals appends to rejects those of the rows the plan's judge refused;
// kept maps the plan's rows to judged (nil: one to one).
func refusals(rejects []Reject, p *ledger.Plan, judged []*item, kept []int) []Reject {
	v := p.Verdict()
	for _, i := range v.Refused {
		j := i
		if kept != nil {
			j = kept[i]
		}
		rejects = append(rejects, rejectOf(judged[j], v.Outcomes[i].Err))
	}
	return rejects
}

// rejectOf is the reject of a row refused for err.
func rejectOf(it *item, err error) Reject {
	return it.reject(fieldOf(err), err.Error())
}

// fieldOf is the field a row was refused for, when err names one.
func fieldOf(err error) string {
	if v, ok := errors.AsType[*domain.ValidationError](err); ok {
		return v.Field
	}
	return ""
}

// foreignReject is the reject of a row whose id is already the id of an
// event of another stream.
func foreignReject(it *item, stream string) Reject {
	return it.reject("id", fmt.Sprintf("id %q is already used by an event of %s", it.id, stream))
}

func isRetraction(cmd domain.Command) bool {
	_, ok := cmd.(domain.Retract)
	return ok
}
