package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
)

// The one write path of a batch of rows (an import, POST /api/v1/events):
// the caller hands the ledger rows, the ledger judges them with
// domain.Judge against the history it loads (Judge, which makes a Plan),
// appends the events it accepted, retries when another writer came first,
// and keeps its cache of the streams it wrote. Nothing outside this package
// can append an event the ledger did not judge: a Plan is made only by
// Judge, and the store is never handed out.

// Row is one row of a batch to write: the entry domain.Judge judges and the
// metadata its event is stored with.
type Row struct {
	domain.Entry
	Meta domain.Metadata
}

// Plan is one instrument's rows judged by Judge against the stream as the
// ledger read it: the events to append and what became of every row. It is
// written by Write, WriteInstrument or WriteEncoded, only if the stream has
// not changed since it was judged.
type Plan struct {
	sym      domain.Symbol
	verdict  domain.Verdict
	expected eventstore.Version
	// accepted are the events to append, in order, taken from the verdict
	// when it was made, so that what a caller does with Verdict's slices
	// changes nothing that is written.
	accepted []decided
	written  []domain.Recorded
}

// decided is an event the ledger judged, ready to append.
type decided struct {
	id    uuid.UUID
	event domain.Event
	meta  domain.Metadata
}

// Judge judges rows of the instrument sym, in any order, with domain.Judge
// against the instrument's history as stored now, as of now (the clock that
// bounds effective times).
func (l *Ledger) Judge(ctx context.Context, sym domain.Symbol, rows []Row, now time.Time) (*Plan, error) {
	history, err := l.Load(ctx, sym)
	if err != nil {
		return nil, err
	}
	entries := make([]domain.Entry, len(rows))
	for i := range rows {
		entries[i] = rows[i].Entry
	}
	v := domain.Judge(sym, history, entries, now) // Load's slice is capped: the judge cannot append into the cache
	p := &Plan{sym: sym, verdict: v, expected: headVersion(history), accepted: make([]decided, len(v.Append))}
	for n, i := range v.Append {
		p.accepted[n] = decided{id: rows[i].ID, event: v.Outcomes[i].Event, meta: rows[i].Meta}
	}
	return p, nil
}

// Symbol is the instrument the plan is of.
func (p *Plan) Symbol() domain.Symbol { return p.sym }

// Verdict is the judge's verdict on the plan's rows, indexed as the rows
// given to Judge.
func (p *Plan) Verdict() domain.Verdict { return p.verdict }

// Events is the number of events the plan appends.
func (p *Plan) Events() int { return len(p.accepted) }

// Duplicates is the number of rows already stored (or earlier in the batch)
// with the same content.
func (p *Plan) Duplicates() int {
	n := 0
	for _, o := range p.verdict.Outcomes {
		if o.Duplicate {
			n++
		}
	}
	return n
}

// Written are the events the plan's write stored, with their versions and
// recorded times, in stream order; none before it is written.
func (p *Plan) Written() []domain.Recorded { return p.written }

// Write writes a batch all or nothing. judge makes the batch's plans with
// Judge, one per instrument, against the streams as they are now; Write
// appends every plan's events in one transaction (several instruments need
// a store that can, CanAppendMany). When another writer appended to one of
// the streams first, or took one of the batch's ids, nothing is written and
// Write calls judge again, so the batch is judged against what the other
// writer wrote, up to the ledger's maximum attempts (then ErrConflict).
// judge may refuse the whole write by returning an error, or return no
// plans; the plans returned are those written.
func (l *Ledger) Write(ctx context.Context, judge func(context.Context) ([]*Plan, error)) ([]*Plan, error) {
	for attempt := 1; ; attempt++ {
		plans, err := judge(ctx)
		if err != nil {
			return nil, err
		}
		encoded, err := Encode(plans...)
		if err != nil {
			return nil, err
		}
		err = l.WriteEncoded(ctx, encoded)
		if !errors.Is(err, eventstore.ErrWrongVersion) && !errors.Is(err, eventstore.ErrDuplicateID) {
			return plans, err
		}
		if attempt >= l.maxAttempts {
			names := make([]string, len(plans))
			for i, p := range plans {
				names[i] = string(p.sym)
			}
			return nil, fmt.Errorf("%w: %s changed %d times while writing; try again", ErrConflict, strings.Join(names, ", "), attempt)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// InstrumentWrite is what WriteInstrument did.
type InstrumentWrite struct {
	// Plan is the judgement the last attempt wrote, of the rows not in
	// Foreign: its rows already written by an earlier attempt are
	// duplicates in it.
	Plan *Plan
	// Written is how many events were written, over every attempt.
	Written int
	// Kept are the indices (into the rows given) of the rows Plan judged,
	// in Plan's order.
	Kept []int
	// Foreign are the rows refused because their id is already an event
	// of another stream.
	Foreign []ForeignID
}

// ForeignID is a row whose id another stream's event has.
type ForeignID struct {
	Row    int    // index into the rows given to WriteInstrument
	Stream string // the stream holding the id
}

// WriteInstrument writes the rows of one instrument, as many as there are,
// in parts of at most partSize events (fewer when the store bounds an
// append's size), each part appended whole after the one before it: an
// interrupted write leaves whole parts only, and writing the same rows
// again finds them stored. When another writer appends to the instrument
// meanwhile, the rows are judged again against what it wrote, up to the
// ledger's maximum attempts; a row whose id turns out to be another
// stream's is refused (Foreign) and the rest judged again without it.
func (l *Ledger) WriteInstrument(ctx context.Context, sym domain.Symbol, rows []Row, now time.Time, partSize int) (InstrumentWrite, error) {
	var w InstrumentWrite
	w.Kept = make([]int, len(rows))
	for i := range w.Kept {
		w.Kept[i] = i
	}
	kept := rows
	for attempt := 1; ; attempt++ {
		p, err := l.Judge(ctx, sym, kept, now)
		if err != nil {
			return w, err
		}
		w.Plan = p
		expected := p.expected
		conflict := false
		for rest := p.accepted; len(rest) > 0; {
			n, err := l.fitAppend(rest, partSize)
			if err != nil {
				return w, err
			}
			part := rest[:n]
			rest = rest[n:]
			written, err := l.appendDecided(ctx, sym, expected, part)
			if errors.Is(err, eventstore.ErrWrongVersion) {
				if attempt >= l.maxAttempts {
					return w, fmt.Errorf("%w: %s changed %d times while writing; try again", ErrConflict, sym, attempt)
				}
				conflict = true
				break
			}
			if errors.Is(err, eventstore.ErrDuplicateID) {
				// An id of the part is stored under another stream: find
				// it, refuse its row, and judge again without it.
				foreign, err := l.foreignIDs(ctx, sym, part)
				if err != nil {
					return w, err
				}
				kept = w.without(kept, foreign)
				conflict = true
				break
			}
			if err != nil {
				return w, err
			}
			p.written = append(p.written, written...)
			w.Written += len(written)
			expected = eventstore.Version(written[len(written)-1].Version)
		}
		if !conflict {
			return w, nil
		}
		if err := ctx.Err(); err != nil {
			return w, err
		}
	}
}

// foreignIDs returns the streams of the part's ids stored in a stream other
// than sym's.
func (l *Ledger) foreignIDs(ctx context.Context, sym domain.Symbol, part []decided) (map[uuid.UUID]string, error) {
	foreign := map[uuid.UUID]string{}
	for _, d := range part {
		rec, found, err := l.find(ctx, d.id)
		if err != nil {
			return nil, err
		}
		if found && rec.Stream != sym.Stream() {
			foreign[d.id] = rec.Stream
		}
	}
	if len(foreign) == 0 {
		return nil, fmt.Errorf("an event id of %s is already stored, but none of its batch was found", sym)
	}
	return foreign, nil
}

// without drops the rows whose ids are foreign, recording them in w.
func (w *InstrumentWrite) without(rows []Row, foreign map[uuid.UUID]string) []Row {
	var keptRows []Row
	var keptIdx []int
	for i, r := range rows {
		if stream, ok := foreign[r.ID]; ok {
			w.Foreign = append(w.Foreign, ForeignID{Row: w.Kept[i], Stream: stream})
			continue
		}
		keptRows = append(keptRows, r)
		keptIdx = append(keptIdx, w.Kept[i])
	}
	w.Kept = keptIdx
	return keptRows
}

// CanAppendMany reports whether the store can append to several
// instruments in one transaction (Write with plans of several instruments,
// WriteEncoded).
func (l *Ledger) CanAppendMany() bool {
	_, ok := eventstore.AsBatchAppender(l.store)
	return ok
}

// Encoded are plans encoded for the store, for WriteEncoded. Encoding apart
// from appending lets an import encode its next batch on one core while the
// store writes the last one on another.
type Encoded struct {
	plans   []*Plan
	streams []eventstore.StreamBatch
}

// Events is the number of events encoded.
func (e *Encoded) Events() int {
	n := 0
	for _, b := range e.streams {
		n += len(b.Events)
	}
	return n
}

// Encode encodes the events of plans for WriteEncoded; plans without
// events are left out.
func Encode(plans ...*Plan) (*Encoded, error) {
	e := &Encoded{}
	for _, p := range plans {
		if len(p.accepted) == 0 {
			continue
		}
		events, err := encodeDecided(p.accepted)
		if err != nil {
			return nil, err
		}
		e.plans = append(e.plans, p)
		e.streams = append(e.streams, eventstore.StreamBatch{Stream: p.sym.Stream(), Expected: p.expected, Events: events})
	}
	return e, nil
}

// WriteEncoded appends encoded plans in one transaction: all of them or, on
// any error, none. It does not judge again: when another writer came first
// it returns the store's eventstore.ErrWrongVersion (or ErrDuplicateID for
// an id another stream took), and the caller writes through Write or
// WriteInstrument instead. Plans of several instruments need a store that
// can append them together (CanAppendMany).
func (l *Ledger) WriteEncoded(ctx context.Context, e *Encoded) error {
	switch len(e.streams) {
	case 0:
		return nil
	case 1:
		s := e.streams[0]
		res, err := l.store.Append(ctx, s.Stream, s.Expected, s.Events)
		if err != nil {
			return fmt.Errorf("append to %s: %w", s.Stream, err)
		}
		e.plans[0].written = l.extendCache(ctx, s.Stream, res, e.plans[0].accepted)
		return nil
	}
	ba, ok := eventstore.AsBatchAppender(l.store)
	if !ok {
		return fmt.Errorf("this store cannot append to several instruments at once")
	}
	results, err := ba.AppendBatches(ctx, e.streams)
	if err != nil {
		return fmt.Errorf("append to %d instruments: %w", len(e.streams), err)
	}
	for i, p := range e.plans {
		p.written = l.extendCache(ctx, e.streams[i].Stream, results[i], p.accepted)
	}
	return nil
}

// appendDecided appends decided events of one instrument as one atomic
// batch, if the stream is at the expected version, and returns them as
// stored. It returns the store's errors (ErrWrongVersion when another
// writer came first, ErrDuplicateID for an id stored elsewhere).
func (l *Ledger) appendDecided(ctx context.Context, sym domain.Symbol, expected eventstore.Version, events []decided) ([]domain.Recorded, error) {
	batch, err := encodeDecided(events)
	if err != nil {
		return nil, err
	}
	res, err := l.store.Append(ctx, sym.Stream(), expected, batch)
	if err != nil {
		return nil, fmt.Errorf("append to %s: %w", sym.Stream(), err)
	}
	return l.extendCache(ctx, sym.Stream(), res, events), nil
}

// encodeDecided encodes decided events as the store receives them: their
// canonical JSON and metadata.
func encodeDecided(events []decided) ([]eventstore.EventData, error) {
	batch := make([]eventstore.EventData, len(events))
	for i, d := range events {
		data, err := domain.EncodeEvent(d.event)
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", d.id, err)
		}
		meta, err := domain.EncodeMetadata(d.meta)
		if err != nil {
			return nil, fmt.Errorf("event %s metadata: %w", d.id, err)
		}
		batch[i] = eventstore.EventData{ID: d.id, Type: d.event.Type(), Data: data, Metadata: meta, EffectiveAt: d.event.Effective()}
	}
	return batch, nil
}

// extendCache returns the appended events as stored and adds them to the
// stream's cache when it holds exactly what preceded them, and then, outside
// the cache's lock, saves a snapshot when one is due. Added to the cache,
// the events returned are the cache's own, capped so that appending to
// them copies: the cache only ever appends, and an import would otherwise
// build each event twice.
func (l *Ledger) extendCache(ctx context.Context, stream string, res eventstore.AppendResult, events []decided) []domain.Recorded {
	stored := func(i int) domain.Recorded {
		r := &res.Records[i]
		return domain.Recorded{ID: r.ID, Version: r.Version, RecordedAt: r.RecordedAt, Meta: events[i].meta, Event: events[i].event}
	}
	if c, ok := l.cache.get(stream); ok && !res.Replayed && len(res.Records) > 0 {
		c.mu.Lock()
		var written []domain.Recorded
		if from := len(c.events); int64(from) == res.Records[0].Version {
			c.events = slices.Grow(c.events, len(res.Records))
			for i := range res.Records {
				c.events = append(c.events, stored(i))
			}
			l.cache.account(stream, c)
			written = c.events[from:len(c.events):len(c.events)]
		}
		c.mu.Unlock()
		if written != nil {
			_, _ = l.saveSnapshotIfDue(ctx, stream, c) // best effort: a failure never fails the write
			return written
		}
	}
	// Stored before (the cache read them, or will), or not for the cache.
	written := make([]domain.Recorded, len(res.Records))
	for i := range res.Records {
		written[i] = stored(i)
	}
	return written
}
