// Package ledger is the application layer: it turns commands into events
// appended to an event store, and answers point-in-time questions by folding
// an instrument's events with the projections.
//
// It is what the command line (and any other front end) calls. It owns the
// mapping between domain events and stored records, the retry on a version
// conflict, and a cache of decoded streams that catches up incrementally,
// which is exact because streams are append-only.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
)

// DefaultMaxAttempts bounds how often a write is decided and appended when
// other writers keep winning the race for the stream's next version.
const DefaultMaxAttempts = 8

// Ledger records and answers for instruments kept in one event store.
type Ledger struct {
	store       eventstore.Store
	now         func() time.Time
	maxAttempts int

	cache    cache
	rankings rankings // track records by point in time (trackrecords.go)
}

// Option configures a Ledger.
type Option func(*Ledger)

// WithClock makes the ledger read the time from now, for validation of
// effective times and as the default knowledge time.
func WithClock(now func() time.Time) Option { return func(l *Ledger) { l.now = now } }

// WithMaxAttempts bounds the decide-and-append attempts of one write.
func WithMaxAttempts(n int) Option { return func(l *Ledger) { l.maxAttempts = max(1, n) } }

// New returns a ledger over store. The ledger does not own the store: the
// caller closes it.
func New(store eventstore.Store, opts ...Option) *Ledger {
	l := &Ledger{store: store, now: time.Now, maxAttempts: DefaultMaxAttempts}
	l.cache.init()
	for _, o := range opts {
		o(l)
	}
	return l
}

// Now is the ledger's clock.
func (l *Ledger) Now() time.Time { return l.now() }

// Errors the ledger returns besides the domain's *ValidationError; test for
// them with errors.Is.
var (
	// ErrUnknownInstrument is returned when a question is asked about an
	// instrument that has no events.
	ErrUnknownInstrument = errors.New("unknown instrument")

	// ErrConflict is returned when a write lost the race for the stream's
	// next version more often than the ledger retries.
	ErrConflict = errors.New("too many concurrent writers")

	// ErrCorrupt is returned when a stored event cannot be decoded.
	ErrCorrupt = errors.New("stored event cannot be read")

	// ErrUnknownAnalyst (trackrecords.go) is returned for an analyst
	// with no call at the question's point in time.

	// ErrNewerVersion is returned for a stored event of a type this
	// version does not know: not damage, but a ledger a newer version of
	// consensus wrote to (as versions before splits meet SplitRecorded).
	ErrNewerVersion = errors.New("written by a newer version of consensus; upgrade consensus to read this ledger")
)

// WriteOptions says how a write is identified and attributed.
type WriteOptions struct {
	// ID is the new event's id. Zero means a fresh UUID v7. A fixed id makes
	// the write idempotent: writing the same event with the same id again
	// is a replay that stores nothing.
	ID            uuid.UUID
	RecordedBy    string
	Source        string
	CorrelationID string
	CausationID   string
}

// Receipt is what a write stored.
type Receipt struct {
	EventID    uuid.UUID
	Stream     string
	Version    int64
	RecordedAt time.Time
	Event      domain.Event
	// Replayed is true when the event was already stored under its id, so
	// nothing new was written.
	Replayed bool
}

// Record decides cmd against the instrument's history and appends the
// resulting event. When another writer appends to the stream first, it
// re-reads the history, decides again and retries, a bounded number of times.
func (l *Ledger) Record(ctx context.Context, cmd domain.Command, opts WriteOptions) (Receipt, error) {
	stream := cmd.Symbol().Stream()
	if err := domain.CheckFreeText("source", opts.Source); err != nil {
		return Receipt{}, err
	}
	if opts.ID != uuid.Nil {
		if rec, ok, err := l.find(ctx, opts.ID); err != nil {
			return Receipt{}, err
		} else if ok {
			return l.replayed(ctx, rec, cmd)
		}
	}
	id := opts.ID
	if id == uuid.Nil {
		var err error
		if id, err = uuid.NewV7(); err != nil {
			return Receipt{}, fmt.Errorf("new event id: %w", err)
		}
	}
	meta, err := domain.EncodeMetadata(domain.Metadata{RecordedBy: opts.RecordedBy, Source: opts.Source,
		CorrelationID: opts.CorrelationID, CausationID: opts.CausationID})
	if err != nil {
		return Receipt{}, fmt.Errorf("encode metadata: %w", err)
	}
	for attempt := 1; ; attempt++ {
		history, err := l.Load(ctx, cmd.Symbol())
		if err != nil {
			return Receipt{}, err
		}
		event, err := domain.Decide(history, cmd, l.now())
		if err != nil {
			return Receipt{}, err
		}
		data, err := domain.EncodeEvent(event)
		if err != nil {
			return Receipt{}, err
		}
		res, err := l.store.Append(ctx, stream, headVersion(history), []eventstore.EventData{{
			ID: id, Type: event.Type(), Data: data, Metadata: meta, EffectiveAt: event.Effective(),
		}})
		if errors.Is(err, eventstore.ErrWrongVersion) {
			if attempt >= l.maxAttempts {
				return Receipt{}, fmt.Errorf("%w: %s changed %d times while writing; try again", ErrConflict, cmd.Symbol(), attempt)
			}
			continue
		}
		if err != nil {
			return Receipt{}, fmt.Errorf("append to %s: %w", stream, err)
		}
		r := res.Records[0]
		if !res.Replayed {
			l.snapshotAfterWrite(ctx, stream, r.Version)
		}
		return Receipt{EventID: r.ID, Stream: r.Stream, Version: r.Version, RecordedAt: r.RecordedAt,
			Event: event, Replayed: res.Replayed}, nil
	}
}

// headVersion is the version a stream is at after the given events (as Load
// returns them): the expectation to append after them with.
func headVersion(history []domain.Recorded) eventstore.Version {
	if n := len(history); n > 0 {
		return eventstore.Version(history[n-1].Version)
	}
	return eventstore.NoStream
}

// replayed answers a write whose id is already stored: a harmless repeat
// when the stored event is the one the command describes, an error otherwise.
func (l *Ledger) replayed(ctx context.Context, rec eventstore.Record, cmd domain.Command) (Receipt, error) {
	stored, err := decode(rec)
	if err != nil {
		return Receipt{}, err
	}
	if rec.Stream != cmd.Symbol().Stream() || !domain.Describes(cmd, stored.Event) {
		return Receipt{}, fmt.Errorf("event id %s: %w with different content", rec.ID, eventstore.ErrDuplicateID)
	}
	return Receipt{EventID: rec.ID, Stream: rec.Stream, Version: rec.Version, RecordedAt: rec.RecordedAt,
		Event: stored.Event, Replayed: true}, nil
}

// Retract withdraws the event with the given id, wherever it is stored.
func (l *Ledger) Retract(ctx context.Context, id uuid.UUID, reason string, opts WriteOptions) (Receipt, error) {
	sym, err := l.InstrumentOf(ctx, id)
	if err != nil {
		return Receipt{}, err
	}
	return l.Record(ctx, domain.Retract{Instrument: sym, EventID: id, Reason: reason}, opts)
}

// InstrumentOf returns the instrument of the stored event with the given
// id: the instrument a retraction of it belongs to, when the writer names
// only the event (the command line's retract, an import row without
// instrument). An id no stream holds is refused with UnknownEvent's
// *domain.ValidationError.
func (l *Ledger) InstrumentOf(ctx context.Context, id uuid.UUID) (domain.Symbol, error) {
	rec, ok, err := l.find(ctx, id)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", UnknownEvent(id)
	}
	sym, isInstrument := domain.SymbolOfStream(rec.Stream)
	if !isInstrument {
		return "", &domain.ValidationError{Field: "event_id", Value: id.String(), Reason: "is not an instrument event"}
	}
	return sym, nil
}

// UnknownEvent is the refusal of a retraction naming an id no stream holds.
func UnknownEvent(id uuid.UUID) error {
	return &domain.ValidationError{Field: "event_id", Value: id.String(), Reason: "is not an event of this ledger"}
}

// find looks an event up by id, with the store's index when it has one and by
// scanning every record otherwise.
func (l *Ledger) find(ctx context.Context, id uuid.UUID) (eventstore.Record, bool, error) {
	if f, ok := eventstore.AsFinder(l.store); ok {
		rec, err := f.Find(ctx, id)
		if errors.Is(err, eventstore.ErrEventNotFound) {
			return rec, false, nil
		}
		if err != nil {
			return rec, false, fmt.Errorf("find event %s: %w", id, err)
		}
		return rec, true, nil
	}
	var after eventstore.Position
	for {
		recs, err := l.store.ReadAll(ctx, after, 4096)
		if err != nil {
			return eventstore.Record{}, false, fmt.Errorf("find event %s: %w", id, err)
		}
		for _, r := range recs {
			if r.ID == id {
				return r, true, nil
			}
		}
		if len(recs) == 0 {
			return eventstore.Record{}, false, nil
		}
		after = recs[len(recs)-1].Position
	}
}

// Load returns the instrument's events in stream order, as stored now. The
// returned slice is shared: callers must not modify it.
//
// A fresh ledger starts from the stream's snapshot when the store keeps one
// that matches the chain, and reads only the records after it. Load never
// writes: new snapshots are saved by writes, Rebuild and SaveDueSnapshots.
func (l *Ledger) Load(ctx context.Context, sym domain.Symbol) ([]domain.Recorded, error) {
	c := l.cache.entry(sym.Stream())
	if err := c.mu.lockCtx(ctx); err != nil {
		return nil, err
	}
	defer c.mu.Unlock()
	return l.catchUp(ctx, sym.Stream(), c)
}

// Index returns the instrument's point-in-time read model over its events as
// stored now: it answers State(asOf, knownAt) exactly as a full fold would,
// without one.
func (l *Ledger) Index(ctx context.Context, sym domain.Symbol) (*domain.Index, error) {
	c := l.cache.entry(sym.Stream())
	if err := c.mu.lockCtx(ctx); err != nil {
		return nil, err
	}
	defer c.mu.Unlock()
	events, err := l.catchUp(ctx, sym.Stream(), c)
	if err != nil {
		return nil, err
	}
	ix := c.index.Load()
	switch {
	case ix == nil:
		ix = domain.NewIndex(events)
	case ix.Len() < len(events):
		ix = ix.Extend(events)
	}
	c.index.Store(ix)
	l.cache.account(sym.Stream(), c)
	return ix, nil
}

// catchUp brings c up to the stream's records as stored now and returns its
// events, counting them against the cache's bounds; the caller holds c.mu.
func (l *Ledger) catchUp(ctx context.Context, stream string, c *streamCache) ([]domain.Recorded, error) {
	defer l.cache.account(stream, c)
	if len(c.events) == 0 {
		events, err := l.loadSnapshot(ctx, stream, false)
		if err != nil {
			return nil, err
		}
		if len(events) > 0 {
			c.events, c.snapshotVersion = events, int64(len(events))-1
		}
	}
	events, err := l.readAfter(ctx, stream, c.events)
	if err != nil {
		return nil, err
	}
	c.events = events
	// Cap the slice so an append by a caller can never write into the cache.
	return c.events[:len(c.events):len(c.events)], nil
}

// readAfter appends to events, the stream's first len(events) events, the
// stream's records after them, decoded, up to its end as stored now.
func (l *Ledger) readAfter(ctx context.Context, stream string, events []domain.Recorded) ([]domain.Recorded, error) {
	const page = 8192
	read := l.store.ReadStream
	if er, ok := eventstore.AsEventReader(l.store); ok {
		read = er.ReadStreamEvents // decoding needs no chain fields
	}
	for {
		recs, err := read(ctx, stream, int64(len(events)), page)
		if err != nil {
			return events, fmt.Errorf("read %s: %w", stream, err)
		}
		for _, r := range recs {
			d, err := decode(r)
			if err != nil {
				return events, err
			}
			events = append(events, d)
		}
		if len(recs) < page {
			return events, nil
		}
	}
}

// loadForFold returns the instrument's events as stored now for a fold
// that shows no metadata (track records, show --top) and asks about the
// stream once: from its snapshot without the metadata of the events it
// covers, and the records after it. Nothing is taken from the cache or
// kept in it, since the cache must hold every event whole.
func (l *Ledger) loadForFold(ctx context.Context, sym domain.Symbol) ([]domain.Recorded, error) {
	events, err := l.loadSnapshot(ctx, sym.Stream(), true)
	if err != nil {
		return nil, err
	}
	return l.readAfter(ctx, sym.Stream(), events)
}

// decode turns a stored record into a domain event.
func decode(r eventstore.Record) (domain.Recorded, error) {
	e, err := domain.DecodeEvent(r.Type, r.Data)
	if errors.Is(err, domain.ErrUnknownEventType) {
		return domain.Recorded{}, fmt.Errorf("%s event %d (%s) of type %s was %w", r.Stream, r.Version, r.ID, domain.Quote(r.Type), ErrNewerVersion)
	}
	if err != nil {
		return domain.Recorded{}, fmt.Errorf("%w: %s event %d (%s): %v", ErrCorrupt, r.Stream, r.Version, r.ID, err)
	}
	var meta domain.Metadata
	if len(r.Metadata) > 0 {
		if meta, err = domain.DecodeMetadata(r.Metadata); err != nil {
			return domain.Recorded{}, fmt.Errorf("%w: %s event %d (%s) metadata: %v", ErrCorrupt, r.Stream, r.Version, r.ID, err)
		}
	}
	return domain.Recorded{ID: r.ID, Version: r.Version, RecordedAt: r.RecordedAt, Meta: meta, Event: e}, nil
}
