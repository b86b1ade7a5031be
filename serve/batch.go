package serve

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/backfill"
	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/ledger"
)

// batch is a POST /api/v1/events body judged against the ledger: each
// row's fault, or the event it would write, or the stored event it repeats.
type batch struct {
	rows []judgedRow
	// instruments are the accepted events by instrument, in the order
	// they are appended, with the version each stream was read at.
	instruments []ledger.DecidedBatch
}

type judgedRow struct {
	input     *inputRow
	cmd       domain.Command
	id        uuid.UUID
	symbol    domain.Symbol
	duplicate bool // already stored (or earlier in the batch) with the same content
	fault     *rowFault
}

// accepted reports whether the row would write an event.
func (j *judgedRow) accepted() bool { return j.fault == nil && !j.duplicate }

// refused counts the rows at fault.
func (b *batch) refused() int {
	n := 0
	for i := range b.rows {
		if b.rows[i].fault != nil {
			n++
		}
	}
	return n
}

// judgeBatch judges every row the way an import judges a file: each as it
// would be with all the batch's valid rows in place at their effective
// times. Rows of one instrument are taken in effective-time order, then its
// retractions, so a revision may come before the rating it revises in the
// array and a retraction may name an event of the same batch.
func (s *Server) judgeBatch(ctx context.Context, inputs []inputRow, meta func(*inputRow) domain.Metadata) (*batch, error) {
	now := s.now()
	b := &batch{rows: make([]judgedRow, len(inputs))}
	bySymbol := map[domain.Symbol][]*judgedRow{}
	for i := range inputs {
		j := &b.rows[i]
		j.input = &inputs[i]
		if j.fault = inputs[i].fault; j.fault != nil {
			continue
		}
		cmd, err := inputs[i].row.Command(now)
		if err != nil {
			j.fault = rowFaultOf(err)
			continue
		}
		j.cmd, j.symbol, j.id = cmd, cmd.Symbol(), inputs[i].id
		if j.id == uuid.Nil {
			if j.id, err = backfill.ContentID(cmd); err != nil {
				j.fault = rowFaultOf(err)
				continue
			}
		}
	}
	if err := s.placeRetractions(ctx, b.rows); err != nil {
		return nil, err
	}
	for i := range b.rows {
		if j := &b.rows[i]; j.fault == nil {
			bySymbol[j.symbol] = append(bySymbol[j.symbol], j)
		}
	}
	symbols := make([]domain.Symbol, 0, len(bySymbol))
	for sym := range bySymbol {
		symbols = append(symbols, sym)
	}
	slices.Sort(symbols)
	for _, sym := range symbols {
		decided, expected, err := s.judgeInstrument(ctx, sym, bySymbol[sym], now, meta)
		if err != nil {
			return nil, err
		}
		if len(decided) > 0 {
			b.instruments = append(b.instruments, ledger.DecidedBatch{Symbol: sym, Expected: expected, Events: decided})
		}
	}
	return b, nil
}

// placeRetractions gives each retraction row that names no instrument the
// instrument of the event it retracts, as the import does: a row of the
// batch, or else a stored event (ledger.InstrumentOf). A row naming neither
// gets its fault.
func (s *Server) placeRetractions(ctx context.Context, rows []judgedRow) error {
	inBatch := map[uuid.UUID]domain.Symbol{}
	for i := range rows {
		if j := &rows[i]; j.fault == nil && j.symbol != "" {
			inBatch[j.id] = j.symbol
		}
	}
	for i := range rows {
		j := &rows[i]
		r, ok := j.cmd.(domain.Retract)
		if j.fault != nil || !ok || r.Instrument != "" {
			continue
		}
		sym, found := inBatch[r.EventID]
		if !found {
			var err error
			if sym, err = s.l.InstrumentOf(ctx, r.EventID); err != nil {
				if j.fault = faultOf(err); j.fault == nil {
					return err
				}
				continue
			}
		}
		r.Instrument = sym
		j.cmd, j.symbol = r, sym
	}
	return nil
}

// judgeInstrument judges one instrument's rows against its stored history
// plus the rows accepted before them.
func (s *Server) judgeInstrument(ctx context.Context, sym domain.Symbol, rows []*judgedRow, now time.Time,
	meta func(*inputRow) domain.Metadata) ([]ledger.Decided, eventstore.Version, error) {
	stored, err := s.l.Load(ctx, sym)
	if err != nil {
		return nil, 0, err
	}
	history := slices.Clip(stored) // appending below must never touch the ledger's cache
	known := make(map[uuid.UUID]domain.Event, len(history))
	for _, r := range history {
		known[r.ID] = r.Event
	}
	// The rows are still in the request's order: the first that states a
	// currency fixes a new instrument's, whatever its effective time.
	cmds := make([]domain.Command, len(rows))
	for i, j := range rows {
		cmds[i] = j.cmd
	}
	currency := domain.FirstCurrency(history, cmds)
	slices.SortStableFunc(rows, func(a, b *judgedRow) int {
		return cmp.Or(cmp.Compare(retraction(a.cmd), retraction(b.cmd)), effective(a.cmd).Compare(effective(b.cmd)))
	})
	var decided []ledger.Decided
	for _, j := range rows {
		if prior, ok := known[j.id]; ok {
			if domain.Describes(j.cmd, prior) {
				j.duplicate = true
			} else {
				j.fault = idTaken(j.id)
			}
			continue
		}
		if elsewhere, err := s.storedElsewhere(ctx, j.id); err != nil {
			return nil, 0, err
		} else if elsewhere {
			j.fault = idTaken(j.id)
			continue
		}
		if repeatsStoredRetraction(history, j) {
			j.duplicate = true
			continue
		}
		event, err := domain.DecideIn(history, currency, j.cmd, now)
		if err != nil {
			if j.fault = faultOf(err); j.fault == nil {
				return nil, 0, err
			}
			continue
		}
		m := meta(j.input)
		history = append(history, domain.Recorded{ID: j.id, Version: int64(len(history)), RecordedAt: now, Meta: m, Event: event})
		known[j.id] = event
		decided = append(decided, ledger.Decided{ID: j.id, Event: event, Meta: m})
	}
	return decided, ledger.HeadVersion(stored), nil
}

// storedElsewhere reports whether an id is already taken by an event of any
// stream, when the store can look ids up (the append would refuse it
// anyway; this names the row).
func (s *Server) storedElsewhere(ctx context.Context, id uuid.UUID) (bool, error) {
	f, ok := eventstore.AsFinder(s.store)
	if !ok {
		return false, nil
	}
	_, err := f.Find(ctx, id)
	switch {
	case errors.Is(err, eventstore.ErrEventNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("look up event %s: %w", id, err)
	}
	return true, nil
}

// repeatsStoredRetraction reports whether a retraction row without an id
// repeats a stored retraction written under the id earlier versions derived
// (backfill.RepeatsStoredRetraction), which is a duplicate, not a second
// retraction.
func repeatsStoredRetraction(history []domain.Recorded, j *judgedRow) bool {
	r, ok := j.cmd.(domain.Retract)
	if !ok || j.input.id != uuid.Nil {
		return false
	}
	for _, rec := range history {
		if backfill.RepeatsStoredRetraction(r, rec) {
			return true
		}
	}
	return false
}

func retraction(cmd domain.Command) int {
	if _, ok := cmd.(domain.Retract); ok {
		return 1
	}
	return 0
}

// effective is a command's effective time; a retraction's is its target's,
// which the ledger finds, so it sorts as zero (retractions come last anyway).
func effective(cmd domain.Command) time.Time {
	e, err := domain.Propose(cmd)
	if err != nil {
		return time.Time{}
	}
	return e.Effective()
}

// faultOf turns a refusal into the row's fault; nil for an error that is
// not about the row (the store failed).
func faultOf(err error) *rowFault {
	var v *domain.ValidationError
	if errors.As(err, &v) {
		return &rowFault{field: v.Field, reason: err.Error()}
	}
	return nil
}

// rowFaultOf is faultOf for errors that can only be about the row.
func rowFaultOf(err error) *rowFault {
	if f := faultOf(err); f != nil {
		return f
	}
	return &rowFault{reason: err.Error()}
}

func idTaken(id uuid.UUID) *rowFault {
	return &rowFault{field: "id", conflict: true,
		reason: fmt.Sprintf("id %s is already the id of another event; give a new id or none", id)}
}
