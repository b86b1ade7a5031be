package backfill

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/ledger"
)

// MaxUnplacedRetractions bounds the retraction rows without instrument that
// one import holds in memory until it finds the instruments of the events
// they retract; a row beyond it is rejected, asking for its instrument.
// Retractions are rare, and ten thousand rows of a few hundred bytes stay
// within a few megabytes.
const MaxUnplacedRetractions = 10_000

// unplaced holds the retraction rows that name no instrument (CONTRACT
// section 5 lets them leave it out, as the command line does). The sort
// needs an instrument for every row, and the retracted event's is known
// only once the ledger (for a stored event) or the whole file (for a row of
// it, which may come later in the file) has been seen.
type unplaced struct {
	items []*item
}

// add keeps a retraction row without instrument, or returns the reject for
// one past MaxUnplacedRetractions.
func (u *unplaced) add(it *item) *Reject {
	if len(u.items) == MaxUnplacedRetractions {
		err := &domain.ValidationError{Field: "instrument",
			Reason: fmt.Sprintf("is required: the file has more than %d retraction rows without one", MaxUnplacedRetractions)}
		r := it.reject("instrument", err.Error())
		return &r
	}
	u.items = append(u.items, it)
	return nil
}

// waiting are the retraction rows without instrument whose retracted event
// is not stored, by the id they retract: it must be a row of the file.
type waiting struct {
	rows map[uuid.UUID][]*item
	// unplaced are the ids of every retraction row without instrument:
	// none of them is a row the sort sees, so naming one is refused for
	// what it is, a retraction.
	unplaced map[uuid.UUID]bool
}

// place gives the instrument of the stored event each row retracts to that
// row, passing it to add (the sort), and returns the rest as waiting.
func (u *unplaced) place(ctx context.Context, l *ledger.Ledger, add func(*item) error) (*waiting, error) {
	w := &waiting{rows: map[uuid.UUID][]*item{}, unplaced: map[uuid.UUID]bool{}}
	for _, it := range u.items {
		w.unplaced[it.id] = true
	}
	for _, it := range u.items {
		target, err := uuid.Parse(it.row.EventID) // Row.Command accepted it
		if err != nil {
			return nil, err
		}
		sym, err := l.InstrumentOf(ctx, target)
		var v *domain.ValidationError
		switch {
		case errors.As(err, &v):
			w.rows[target] = append(w.rows[target], it)
			continue
		case err != nil:
			return nil, err
		}
		setInstrument(it, sym)
		if err := add(it); err != nil {
			return nil, err
		}
	}
	u.items = nil
	return w, nil
}

// setInstrument gives a retraction row the instrument of what it retracts.
func setInstrument(it *item, sym domain.Symbol) {
	it.instrument = string(sym)
	it.row.Instrument = string(sym)
}

// claim takes the rows retracting the file's row it: they belong to its
// instrument.
func (w *waiting) claim(it *item) []*item {
	rows, ok := w.rows[it.id]
	if !ok {
		return nil
	}
	delete(w.rows, it.id)
	for _, r := range rows {
		setInstrument(r, domain.Symbol(it.instrument))
	}
	return rows
}

// unclaimed rejects the rows no row of the file claimed: their retracted
// event is neither stored nor in the file. They come in the file's order.
func (w *waiting) unclaimed() []Reject {
	var rows []*item
	for _, r := range w.rows {
		rows = append(rows, r...)
	}
	slices.SortFunc(rows, func(a, b *item) int { return cmp.Compare(a.line, b.line) })
	rejects := make([]Reject, len(rows))
	for i, it := range rows {
		target, _ := uuid.Parse(it.row.EventID)
		rejects[i] = rejectOf(it, domain.RefuseUnplaced(it.row.EventID, w.unplaced[target]))
	}
	return rejects
}
