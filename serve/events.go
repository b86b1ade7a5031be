package serve

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/ledger"
)

// Statuses of a row in the answer to POST /api/v1/events.
const (
	rowWritten   = "written"   // appended now
	rowDuplicate = "duplicate" // already stored with the same content: nothing to write
	rowValid     = "valid"     // would have been written, but another row was refused
	rowRefused   = "refused"
)

// rowResult is one row's answer. Every key is always present, null when it
// does not apply, as in the command line's JSON.
type rowResult struct {
	Index      int     `json:"index"`
	Status     string  `json:"status"`
	Instrument *string `json:"instrument"`
	Type       *string `json:"type"`
	EventID    *string `json:"event_id"`
	Version    *int64  `json:"version"`
	RecordedAt *string `json:"recorded_at"`
	Field      *string `json:"field"`
	Error      *string `json:"error"`
}

// eventsAnswer is the answer to POST /api/v1/events.
type eventsAnswer struct {
	Written    int         `json:"written"`
	Duplicates int         `json:"duplicates"`
	Refused    int         `json:"refused"`
	Results    []rowResult `json:"results"`
}

// eventsRefusal is the answer when any row is refused: the error envelope
// every error has, plus every row's result.
type eventsRefusal struct {
	errorBody
	eventsAnswer
}

// postEvents writes a JSON array of import rows, all or nothing.
//
// Every row is judged first; if any is refused, nothing is written and the
// answer (422, or 409 when the only faults are ids already taken) lists
// every row's result, so the client can correct the refused rows and send
// the same array again. Rows without an id get the import's
// content-derived id, so sending an array again after a lost answer writes
// nothing twice. All or nothing is what a client sending a batch expects:
// a half-applied batch would leave it to find out which half, and a
// consensus computed in between would mix the two.
func (s *Server) postEvents(w http.ResponseWriter, r *http.Request, c call) error {
	body, err := s.requestBody(w, r, s.cfg.MaxBodyBytes, readTimeout)
	if err != nil {
		return err
	}
	inputs, err := decodeRows(body)
	if err != nil {
		return body.blame(err)
	}
	correlation, err := uuid.NewV7()
	if err != nil {
		return err
	}
	writer := c.who.Name
	meta := func(in *inputRow) domain.Metadata {
		source := in.line.Source
		if source == "" {
			source = "api"
		}
		return domain.Metadata{RecordedBy: writer, Source: source, CorrelationID: correlation.String()}
	}
	instruments := make([]string, len(inputs))
	for i, in := range inputs {
		instruments[i] = in.line.Row.Instrument
	}
	defer s.writes.lock(instruments)()
	// The ledger judges the rows and writes them, judging them again when
	// another writer came first; refused rows stop the write before it.
	var b *batch
	plans, err := s.l.Write(r.Context(), func(ctx context.Context) ([]*ledger.Plan, error) {
		var err error
		if b, err = s.judgeBatch(ctx, inputs, meta); err != nil {
			return nil, err
		}
		if b.refused() > 0 {
			return nil, nil
		}
		if len(b.plans) > 1 && !s.l.CanAppendMany() {
			return nil, refuse(http.StatusUnprocessableEntity, "instrument",
				"this store cannot write several instruments in one transaction; send one instrument per request")
		}
		return b.plans, nil
	})
	if err != nil {
		return err
	}
	if b.refused() > 0 {
		return s.answerRefused(w, b)
	}
	return s.answerWritten(w, b, s.written(plans))
}

// written tells the server's caches and listeners of what plans wrote, and
// returns the stored events by id.
func (s *Server) written(plans []*ledger.Plan) map[uuid.UUID]domain.Recorded {
	written := map[uuid.UUID]domain.Recorded{}
	n := 0
	for _, p := range plans {
		if len(p.Written()) == 0 {
			continue
		}
		s.cache.changed(p.Symbol())
		for _, r := range p.Written() {
			written[r.ID] = r
			n++
		}
	}
	if n > 0 {
		s.metrics.eventsAppended.WithLabelValues("events").Add(float64(n))
		s.hub.wake()
	}
	return written
}

func (s *Server) answerWritten(w http.ResponseWriter, b *batch, written map[uuid.UUID]domain.Recorded) error {
	answer := eventsAnswer{Results: make([]rowResult, len(b.rows))}
	for i := range b.rows {
		j := &b.rows[i]
		res := resultOf(j)
		if rec, ok := written[j.id]; ok && j.accepted() {
			res.Status = rowWritten
			res.Version = &rec.Version
			at := domain.FormatTime(rec.RecordedAt)
			res.RecordedAt = &at
			answer.Written++
		} else {
			answer.Duplicates++
		}
		answer.Results[i] = res
	}
	status := http.StatusCreated
	if answer.Written == 0 {
		status = http.StatusOK
	}
	writeJSON(w, status, answer)
	return nil
}

func (s *Server) answerRefused(w http.ResponseWriter, b *batch) error {
	var out eventsRefusal
	out.Results = make([]rowResult, len(b.rows))
	status := http.StatusConflict
	for i := range b.rows {
		j := &b.rows[i]
		out.Results[i] = resultOf(j)
		switch {
		case j.fault != nil:
			out.Refused++
			if !j.fault.conflict {
				status = http.StatusUnprocessableEntity
			}
		case j.duplicate:
			out.Duplicates++
		}
	}
	out.Error = sentence(fmt.Sprintf("%d of %d rows were refused, so nothing was written; correct them and send the rows again", out.Refused, len(b.rows)))
	writeJSON(w, status, out)
	return nil
}

// resultOf describes a judged row before any write.
func resultOf(j *judgedRow) rowResult {
	res := rowResult{Index: j.input.index}
	if j.cmd != nil {
		sym := string(j.symbol)
		res.Instrument = &sym
		if e, err := domain.Propose(j.cmd); err == nil {
			typ := e.Type()
			res.Type = &typ
		}
	}
	if j.id != uuid.Nil {
		id := j.id.String()
		res.EventID = &id
	}
	switch {
	case j.fault != nil:
		res.Status = rowRefused
		msg := sentence(j.fault.reason)
		res.Error = &msg
		if j.fault.field != "" {
			field := j.fault.field
			res.Field = &field
		}
	case j.duplicate:
		res.Status = rowDuplicate
	default:
		res.Status = rowValid
	}
	return res
}
