package serve

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/ledger"
)

// batch is a POST /api/v1/events body judged against the ledger: each
// row's fault, or the event it would write, or the stored event it repeats.
type batch struct {
	rows []judgedRow
	// plans are the ledger's judgements of the rows by instrument, in the
	// order they are appended.
	plans []*ledger.Plan
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

// judgeBatch judges every row the way an import judges a file, with
// domain.Judge: each as it would be with all the batch's valid rows in place
// at their effective times, so a revision may come before the rating it
// revises in the array, a retraction may name an event of the same batch,
// and a row retracted in the batch is not in place for the rows after it.
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
		cmd, id, err := inputs[i].line.Command(now) // the import's checks of a row
		if err != nil {
			j.fault = rowFaultOf(err)
			continue
		}
		j.cmd, j.symbol, j.id = cmd, cmd.Symbol(), id
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
		p, err := s.judgeInstrument(ctx, sym, bySymbol[sym], now, meta)
		if err != nil {
			return nil, err
		}
		if p != nil && p.Events() > 0 {
			b.plans = append(b.plans, p)
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
	unplaced := map[uuid.UUID]bool{}
	for i := range rows {
		switch j := &rows[i]; {
		case j.fault != nil:
		case j.symbol != "":
			inBatch[j.id] = j.symbol
		default:
			unplaced[j.id] = true
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
				if faultOf(err) == nil {
					return err
				}
				// In the import's words, which judges the same rows.
				j.fault = faultOf(domain.RefuseUnplaced(r.EventID.String(), unplaced[r.EventID]))
				continue
			}
		}
		r.Instrument = sym
		j.cmd, j.symbol = r, sym
	}
	return nil
}

// judgeInstrument has the ledger judge one instrument's rows against its
// stored history with domain.Judge, the import's judge (ledger.Judge), so
// the API accepts and refuses exactly the rows an import of the same rows
// would, in the same words. Each row is named by its place in the array
// counted from 1, as the line of a JSON Lines file of the same rows. A row
// whose id another instrument's event has is refused before judging.
func (s *Server) judgeInstrument(ctx context.Context, sym domain.Symbol, rows []*judgedRow, now time.Time,
	meta func(*inputRow) domain.Metadata) (*ledger.Plan, error) {
	batch := make([]ledger.Row, 0, len(rows))
	judged := make([]*judgedRow, 0, len(rows))
	for _, j := range rows {
		if elsewhere, err := s.storedElsewhere(ctx, sym, j.id); err != nil {
			return nil, err
		} else if elsewhere {
			j.fault = idTaken(j.id)
			continue
		}
		batch = append(batch, ledger.Row{Entry: domain.Entry{Line: j.input.index + 1, ID: j.id, Cmd: j.cmd}, Meta: meta(j.input)})
		judged = append(judged, j)
	}
	p, err := s.l.Judge(ctx, sym, batch, now)
	if err != nil {
		return nil, err
	}
	for i, o := range p.Verdict().Outcomes {
		switch {
		case o.Err != nil:
			judged[i].fault = rowFaultOf(o.Err)
			// The judge refuses an id only when another event has it:
			// a conflict (409), as idTaken says.
			judged[i].fault.conflict = judged[i].fault.field == "id"
		case o.Duplicate:
			judged[i].duplicate = true
		}
	}
	return p, nil
}

// storedElsewhere reports whether an id is already taken by an event of
// another stream than sym's, when the store can look ids up (the append
// would refuse it anyway; this names the row).
func (s *Server) storedElsewhere(ctx context.Context, sym domain.Symbol, id uuid.UUID) (bool, error) {
	f, ok := eventstore.AsFinder(s.store)
	if !ok {
		return false, nil
	}
	rec, err := f.Find(ctx, id)
	switch {
	case errors.Is(err, eventstore.ErrEventNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("look up event %s: %w", id, err)
	}
	return rec.Stream != sym.Stream(), nil
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
