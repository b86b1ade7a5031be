package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/ledger/snapshotcodec"
	"github.com/consensus-ledger/consensus/projections"
)

// loadKnown returns the instrument's events, or ErrUnknownInstrument when it
// has none.
func (l *Ledger) loadKnown(ctx context.Context, sym domain.Symbol) ([]domain.Recorded, error) {
	history, err := l.Load(ctx, sym)
	if err != nil {
		return nil, err
	}
	if len(history) == 0 {
		return nil, fmt.Errorf("%w: %s has no events", ErrUnknownInstrument, sym)
	}
	return history, nil
}

// knownIndex returns the instrument's read model, or ErrUnknownInstrument
// when it has no events.
func (l *Ledger) knownIndex(ctx context.Context, sym domain.Symbol) (*domain.Index, error) {
	ix, err := l.Index(ctx, sym)
	if err != nil {
		return nil, err
	}
	if ix.Len() == 0 {
		return nil, fmt.Errorf("%w: %s has no events", ErrUnknownInstrument, sym)
	}
	return ix, nil
}

// Show answers the consensus on one instrument at a point in time.
func (l *Ledger) Show(ctx context.Context, sym domain.Symbol, q projections.Query) (projections.Consensus, error) {
	ix, err := l.knownIndex(ctx, sym)
	if err != nil {
		return projections.Consensus{}, err
	}
	return projections.Compute(sym, ix.State(q.AsOf, q.KnownAt), q), nil
}

// ShowAll answers the consensus on every instrument at one point in time,
// ordered by symbol. An instrument whose read model is already cached (a
// long-running server) is answered from it; any other is folded once from its
// events and dropped from the cache after, so memory does not grow with the
// ledger. Instruments are answered on as many goroutines as there are cores.
func (l *Ledger) ShowAll(ctx context.Context, q projections.Query) ([]projections.Consensus, error) {
	symbols, err := l.symbols(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]projections.Consensus, len(symbols))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, sym := range symbols {
		g.Go(func() (err error) {
			out[i], err = l.showOnce(ctx, sym, q)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// showOnce answers from the cached read model if there is one, else from
// one fold of the events, without keeping them.
func (l *Ledger) showOnce(ctx context.Context, sym domain.Symbol, q projections.Query) (projections.Consensus, error) {
	if l.indexed(sym.Stream()) {
		return l.Show(ctx, sym, q)
	}
	if c, ok, err := l.showFromSnapshot(ctx, sym, q); ok || err != nil {
		return c, err
	}
	history, err := l.Load(ctx, sym)
	l.cache.drop(sym.Stream())
	if err != nil {
		return projections.Consensus{}, err
	}
	return projections.Show(sym, history, q), nil
}

// indexed reports whether the stream's read model is cached.
func (l *Ledger) indexed(stream string) bool {
	c, ok := l.cache.get(stream)
	return ok && c.index.Load() != nil
}

// History answers the consensus at the end of every period between from and to.
func (l *Ledger) History(ctx context.Context, sym domain.Symbol, from, to time.Time, every projections.Every, q projections.Query) ([]projections.Consensus, error) {
	history, err := l.loadKnown(ctx, sym)
	if err != nil {
		return nil, err
	}
	return projections.History(sym, history, from, to, every, q), nil
}

// FirstPublished answers a history as first published (`history
// --first-published`): every row as the ledger showed it at the row's own
// time, flagged where it has been restated since (projections.FirstPublished).
func (l *Ledger) FirstPublished(ctx context.Context, sym domain.Symbol, from, to time.Time, every projections.Every, q projections.Query) (projections.PublishedHistory, error) {
	ix, err := l.knownIndex(ctx, sym)
	if err != nil {
		return projections.PublishedHistory{}, err
	}
	return projections.FirstPublished(sym, ix, from, to, every, q), nil
}

// Splits lists the instrument's splits visible at knownAt and effective in
// (from, to]: the ones a chart of that range marks on its time axis
// (CONTRACT section 7), adjusted or not.
func (l *Ledger) Splits(ctx context.Context, sym domain.Symbol, from, to, knownAt time.Time) ([]projections.AppliedSplit, error) {
	ix, err := l.Index(ctx, sym)
	if err != nil {
		return nil, err
	}
	return projections.SplitsBetween(ix.State(to, knownAt), from, to), nil
}

// LogEntry is one event of an instrument's log.
type LogEntry struct {
	Event       domain.Recorded
	Type        string
	RetractedBy *domain.Recorded // the retraction that withdrew this event, if any
	// Actions are the event's rating and target actions (CONTRACT section 8)
	// as known at the log's time; zero (null) for closes, retractions and
	// events retracted by then, which the ledger no longer derives anything
	// from.
	Actions domain.Actions
}

// LogLine is one event as `log --json` prints it, a shape of the contract
// that the HTTP API's event list and event stream share.
type LogLine struct {
	Version     int64           `json:"version"`
	EventID     string          `json:"event_id"`
	Type        string          `json:"type"`
	EffectiveAt string          `json:"effective_at"`
	RecordedAt  string          `json:"recorded_at"`
	RecordedBy  string          `json:"recorded_by"`
	Source      string          `json:"source"`
	Data        json.RawMessage `json:"data"`
	RetractedBy *string         `json:"retracted_by"`
	// RatingAction and TargetAction are CONTRACT section 8's actions, null
	// where the contract says null.
	RatingAction *string `json:"rating_action"`
	TargetAction *string `json:"target_action"`
}

// Line returns the entry as `log --json` prints it.
func (e LogEntry) Line() (LogLine, error) {
	data, err := domain.EncodeEvent(e.Event.Event)
	if err != nil {
		return LogLine{}, err
	}
	line := LogLine{Version: e.Event.Version, EventID: e.Event.ID.String(), Type: e.Type,
		EffectiveAt: domain.FormatTime(e.Event.Event.Effective()), RecordedAt: domain.FormatTime(e.Event.RecordedAt),
		RecordedBy: e.Event.Meta.RecordedBy, Source: e.Event.Meta.Source, Data: data}
	if e.RetractedBy != nil {
		by := e.RetractedBy.ID.String()
		line.RetractedBy = &by
	}
	line.SetActions(e.Actions)
	return line, nil
}

// SetActions sets the line's rating_action and target_action, null for an
// absent one.
func (line *LogLine) SetActions(a domain.Actions) {
	line.RatingAction, line.TargetAction = orNull(string(a.Rating)), orNull(string(a.Target))
}

// orNull is nil for "", so that an absent action is JSON null.
func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Log lists the instrument's events in stream order, marking retracted ones,
// with every event's actions as known with everything stored.
func (l *Ledger) Log(ctx context.Context, sym domain.Symbol) ([]LogEntry, error) {
	ix, err := l.knownIndex(ctx, sym)
	if err != nil {
		return nil, err
	}
	// Recorded times never decrease along a stream: the last is the latest.
	history := ix.History()
	return logAt(ix, history[len(history)-1].RecordedAt), nil
}

// LogAt lists the instrument's log as it stood at knownAt: the events
// recorded by then, retractions recorded by then marked, and the actions
// the ledger derived then. A backfilled rating changes the actions of the
// events after it; LogAt before the backfill shows them as they were.
//
// The actions come from the instrument's cached read model
// (domain.Index.ActionsOf), as EventActions' do for one event: `log`, the
// API's events answer and the web page's log ask here, the event stream
// there, and the explain listings, the actions feed and the disclosures
// read them off the same fold (domain.State.apply), so no two surfaces
// derive them apart.
func (l *Ledger) LogAt(ctx context.Context, sym domain.Symbol, knownAt time.Time) ([]LogEntry, error) {
	ix, err := l.knownIndex(ctx, sym)
	if err != nil {
		return nil, err
	}
	return logAt(ix, knownAt), nil
}

func logAt(ix *domain.Index, knownAt time.Time) []LogEntry {
	history := ix.History()
	retractedBy := map[uuid.UUID]*domain.Recorded{}
	for i, r := range history {
		if x, ok := r.Event.(domain.EventRetracted); ok && !r.RecordedAt.After(knownAt) {
			if _, seen := retractedBy[x.Retracted]; !seen {
				retractedBy[x.Retracted] = &history[i]
			}
		}
	}
	actions := ix.ActionsOf(knownAt)
	entries := make([]LogEntry, 0, len(history))
	for _, r := range history {
		if r.RecordedAt.After(knownAt) {
			continue
		}
		entries = append(entries, LogEntry{Event: r, Type: r.Event.Type(), RetractedBy: retractedBy[r.ID], Actions: actions[r.ID]})
	}
	return entries
}

// EventActions returns the actions of one stored record of an instrument's
// stream as known at knownAt, folding only from the read model's checkpoint
// before it (domain.Index.ActionsOfEvent): what the server's live event
// stream sends with each new event. A record that is no analyst's event (a
// close, a split, a retraction) has null actions and reads nothing.
func (l *Ledger) EventActions(ctx context.Context, rec eventstore.Record, knownAt time.Time) (domain.Actions, error) {
	sym, ok := domain.SymbolOfStream(rec.Stream)
	if !ok {
		return domain.Actions{}, nil
	}
	e, err := decode(rec)
	if err != nil {
		return domain.Actions{}, err
	}
	if _, ok := domain.AnalystOf(e.Event); !ok {
		return domain.Actions{}, nil
	}
	ix, err := l.Index(ctx, sym)
	if err != nil {
		return domain.Actions{}, err
	}
	history := ix.History()
	if rec.Version < 0 || rec.Version >= int64(len(history)) || history[rec.Version].ID != rec.ID {
		return domain.Actions{}, UnknownEvent(rec.ID)
	}
	return ix.ActionsOfEvent(history[rec.Version], knownAt), nil
}

// Instrument summarises one instrument of the ledger.
type Instrument struct {
	Symbol         domain.Symbol
	Currency       domain.Currency
	Events         int64
	LastRecordedAt time.Time
}

// Instruments lists every instrument, ordered by symbol.
func (l *Ledger) Instruments(ctx context.Context) ([]Instrument, error) {
	infos, err := l.instrumentStreams(ctx)
	if err != nil {
		return nil, err
	}
	var out []Instrument
	for _, info := range infos {
		sym, _ := domain.SymbolOfStream(info.Stream)
		currency, err := l.currency(ctx, info.Stream)
		if err != nil {
			return nil, err
		}
		out = append(out, Instrument{Symbol: sym, Currency: currency, Events: info.Events, LastRecordedAt: info.LastRecordedAt})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Symbol < out[j].Symbol })
	return out, nil
}

// currency reads a stream from its start up to the first event that states
// a currency (almost always the first event).
func (l *Ledger) currency(ctx context.Context, stream string) (domain.Currency, error) {
	const page = 16
	for from := int64(0); ; from += page {
		recs, err := l.store.ReadStream(ctx, stream, from, page)
		if err != nil {
			return "", fmt.Errorf("read %s: %w", stream, err)
		}
		for _, r := range recs {
			d, err := decode(r)
			if err != nil {
				return "", err
			}
			if c := domain.CurrencyOf(d.Event); c != "" {
				return c, nil
			}
		}
		if len(recs) < page {
			return "", nil
		}
	}
}

// StreamHeads lists every stream with its event count, last hash and last
// recorded time, from the store's own record of its stream heads when it
// keeps one: a checkpoint reads nothing else, which is what keeps it fast.
func (l *Ledger) StreamHeads(ctx context.Context) ([]eventstore.StreamInfo, error) {
	return l.streams(ctx)
}

// instrumentStreams lists the streams of the instruments that have events,
// in the order streams lists them: the ledger-wide questions (show --all,
// diff --all, disclosures, track records, the instrument list) ask about
// these and no other stream.
func (l *Ledger) instrumentStreams(ctx context.Context) ([]eventstore.StreamInfo, error) {
	infos, err := l.streams(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(infos, func(info eventstore.StreamInfo) bool {
		_, ok := domain.SymbolOfStream(info.Stream)
		return !ok || info.Events == 0
	}), nil
}

// streams lists the store's streams, through the store's own listing when it
// has one and by reading every record otherwise.
func (l *Ledger) streams(ctx context.Context) ([]eventstore.StreamInfo, error) {
	if lister, ok := eventstore.AsStreamLister(l.store); ok {
		infos, err := lister.Streams(ctx)
		if err != nil {
			return nil, fmt.Errorf("list streams: %w", err)
		}
		return infos, nil
	}
	byName := map[string]*eventstore.StreamInfo{}
	var after eventstore.Position
	for {
		recs, err := l.store.ReadAll(ctx, after, 4096)
		if err != nil {
			return nil, fmt.Errorf("read all: %w", err)
		}
		if len(recs) == 0 {
			break
		}
		for _, r := range recs {
			info, ok := byName[r.Stream]
			if !ok {
				info = &eventstore.StreamInfo{Stream: r.Stream}
				byName[r.Stream] = info
			}
			info.Events++
			info.Version = r.Version
			info.LastRecordedAt = r.RecordedAt
			info.LastHash = r.Hash
		}
		after = recs[len(recs)-1].Position
	}
	infos := make([]eventstore.StreamInfo, 0, len(byName))
	for _, info := range byName {
		infos = append(infos, *info)
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Stream < infos[j].Stream })
	return infos, nil
}

// VerifyReport is the outcome of checking hash chains.
type VerifyReport struct {
	Events  int64
	Streams int
	// ByChain counts the events checked of each chain version
	// (eventstore.ChainV1 and ChainV2 index it).
	ByChain [eventstore.ChainV2 + 1]int64
	// Heads is the last link of every verified chain. Kept somewhere the
	// ledger's writers cannot change, they let a later verify prove that
	// no chain was rewritten wholesale since.
	Heads []Head
	// Total is the number of streams the ledger has, verified or not
	// (Verify of one instrument checks one of them).
	Total int
	// Latest is the latest recorded time of the events checked: the
	// heads are the ledger as of that time.
	Latest time.Time
}

// Head is the end of one stream's hash chain.
type Head struct {
	Stream  string
	Version int64
	Hash    [32]byte
}

// streamInfo reads the store's record of one stream afresh.
func (l *Ledger) streamInfo(ctx context.Context, stream string) (eventstore.StreamInfo, bool, error) {
	infos, err := l.streams(ctx)
	if err != nil {
		return eventstore.StreamInfo{}, false, err
	}
	for _, info := range infos {
		if info.Stream == stream {
			return info, true, nil
		}
	}
	return eventstore.StreamInfo{}, false, nil
}

// Verify recomputes the hash chain of one instrument's stream, or of every
// stream when sym is empty. It returns a *eventstore.ChainError naming the
// first event that does not match. What the store keeps apart from the
// events about each stream (its count, last hash and last recorded time)
// must agree with the chain, so events deleted or replaced at the end of a
// stream are reported too; and an event recorded more than
// eventstore.MaxClockLead after the ledger's clock reads now is reported,
// since it hides every later event of its stream until then.
func (l *Ledger) Verify(ctx context.Context, sym domain.Symbol) (VerifyReport, error) {
	infos, err := l.streams(ctx)
	if err != nil {
		return VerifyReport{}, err
	}
	report := VerifyReport{Total: len(infos)}
	notAfter := l.now().Add(eventstore.MaxClockLead)
	found := false
	for _, info := range infos {
		if sym != "" && info.Stream != sym.Stream() {
			continue
		}
		found = true
		sum, err := eventstore.VerifyChain(ctx, l.store, &eventstore.ChainVerifier{Stream: info.Stream, NotAfter: notAfter})
		n, last := sum.Events, sum.Head
		report.Events += n
		for v, k := range sum.ByChain {
			report.ByChain[v] += k
		}
		if err != nil {
			return report, err
		}
		grew := false
		if n > info.Events {
			// The stream was read after the list of streams, so an append
			// that landed in between (a server verifies while it writes)
			// makes the chain longer than that record. If the store records
			// that many events now, every event read is chained and
			// recorded: the chain is verified to its head, and the store's
			// record of the stream's end, which describes a later point,
			// is checked next time.
			fresh, ok, ferr := l.streamInfo(ctx, info.Stream)
			if ferr != nil {
				return report, ferr
			}
			grew = ok && fresh.Events >= n
		}
		if n > info.Events && !grew {
			// The chain holds more events than the ledger ever wrote: name
			// the first one it did not write.
			extra, err := l.store.ReadStream(ctx, info.Stream, info.Events, 1)
			if err != nil {
				return report, fmt.Errorf("read %s: %w", info.Stream, err)
			}
			ce := &eventstore.ChainError{Stream: info.Stream, Version: info.Events,
				Problem: fmt.Sprintf("was not written by the ledger: the stream holds %d events but the store recorded %d", n, info.Events)}
			if len(extra) == 1 {
				ce.Record = extra[0]
			}
			return report, ce
		}
		// The end checks need a stream that did not grow while it was read.
		if !grew && (n != info.Events || n != info.Version+1) {
			return report, &eventstore.ChainError{Stream: info.Stream, Version: n,
				Problem: fmt.Sprintf("is missing: the stream holds %d events but the store recorded %d", n, info.Events)}
		}
		if !grew && last != info.LastHash {
			return report, &eventstore.ChainError{Stream: info.Stream, Version: n - 1,
				Problem: "ends the chain with a hash other than the one the store recorded for the stream: events were removed or replaced at its end"}
		}
		if !grew && !sum.LastRecordedAt.Equal(info.LastRecordedAt) {
			// Appends read the stream's last recorded time from the store's
			// own record of it: a wrong one would stamp (and hide) every
			// later event, or let them go back in time.
			return report, &eventstore.ChainError{Stream: info.Stream, Version: n - 1,
				Problem: fmt.Sprintf("was recorded at %s, but the store recorded %s as the stream's last time",
					domain.FormatTime(sum.LastRecordedAt), domain.FormatTime(info.LastRecordedAt))}
		}
		if f := sum.Future; f != nil {
			return report, &eventstore.ChainError{Stream: info.Stream, Version: f.Version, Record: *f,
				Problem: fmt.Sprintf("was recorded at %s, more than a minute after this machine's clock reads (%s): "+
					"a writer's clock ran ahead, or the time was altered, and the stream's later events are hidden until then",
					domain.FormatTime(f.RecordedAt), domain.FormatTime(notAfter.Add(-eventstore.MaxClockLead)))}
		}
		if !grew {
			if err := l.verifySnapshot(ctx, info.Stream); err != nil {
				return report, err
			}
		}
		report.Streams++
		report.Heads = append(report.Heads, Head{Stream: info.Stream, Version: n - 1, Hash: last})
		if sum.LastRecordedAt.After(report.Latest) {
			report.Latest = sum.LastRecordedAt
		}
	}
	if sym != "" && !found {
		return report, fmt.Errorf("%w: %s has no events", ErrUnknownInstrument, sym)
	}
	if c, ok := eventstore.AsIDChecker(l.store); ok && sym == "" {
		// The chains cannot see an id stored again in another stream; the
		// store's index of ids, which refuses that, is checked instead.
		if err := c.CheckIDs(ctx); err != nil {
			return report, err
		}
	}
	return report, nil
}

// ErrSnapshotMismatch is returned by Verify when a stream's snapshot does
// not hold exactly the stream's events: answers read through it would be
// wrong, so it must be rebuilt.
var ErrSnapshotMismatch = errors.New("snapshot does not match the events")

// verifySnapshot checks that the stream's snapshot, if it has one, encodes
// exactly the events it claims to cover, decoded afresh from the records.
func (l *Ledger) verifySnapshot(ctx context.Context, stream string) error {
	sn, ok := eventstore.AsSnapshotter(l.store)
	if !ok {
		return nil
	}
	snap, found, err := sn.LoadSnapshot(ctx, snapshotName(stream))
	if err != nil || !found {
		return err
	}
	recs, err := l.store.ReadStream(ctx, stream, 0, int(snap.Version+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", stream, err)
	}
	events := make([]domain.Recorded, len(recs))
	for i, r := range recs {
		if events[i], err = decode(r); err != nil {
			return err
		}
	}
	altered := fmt.Errorf("%w: the snapshot of %s (events 0-%d) was altered or is damaged; run 'consensus rebuild'",
		ErrSnapshotMismatch, stream, snap.Version)
	head, chunks := snapshotcodec.EncodeLike(snap.Data, events) // a snapshot saved before the table format too
	if snap.Stream != stream || int64(len(recs)) != snap.Version+1 || recs[len(recs)-1].Hash != snap.Hash ||
		!bytes.Equal(head, snap.Data) {
		return altered
	}
	for k, want := range chunks {
		chunk, found, err := sn.LoadSnapshot(ctx, chunkName(stream, k))
		if err != nil {
			return err
		}
		if !found || chunk.Stream != stream || chunk.Version != snap.Version || chunk.Hash != snap.Hash || !bytes.Equal(want, chunk.Data) {
			return altered
		}
	}
	return nil
}

// RebuildReport counts what Rebuild did.
type RebuildReport struct {
	Streams   int
	Events    int64
	Snapshots int // snapshots written
}

// Rebuild derives every read model again from the events alone: it drops
// each stream's snapshot, decodes the stream from its records and writes a
// fresh snapshot for streams long enough to have one. Streams are rebuilt
// on as many goroutines as there are cores (SQLite reads in parallel; the
// snapshot writes take turns), each dropped from the cache when done.
func (l *Ledger) Rebuild(ctx context.Context) (RebuildReport, error) {
	var (
		report RebuildReport
		mu     sync.Mutex
	)
	sn, ok := eventstore.AsSnapshotter(l.store)
	infos, err := l.streams(ctx)
	if err != nil {
		return report, err
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, info := range infos {
		sym, isInstrument := domain.SymbolOfStream(info.Stream)
		if !isInstrument {
			continue
		}
		g.Go(func() error {
			if ok {
				if err := deleteSnapshots(ctx, sn, info.Stream); err != nil {
					return err
				}
			}
			l.cache.drop(info.Stream)
			events, err := l.Load(ctx, sym)
			if err != nil {
				return err
			}
			if c, ok := l.cache.get(info.Stream); ok {
				_, _ = l.saveSnapshotIfDue(ctx, info.Stream, c) // counted below; a failure leaves a slower stream, as before
			}
			snapshotted := l.snapshotted(info.Stream)
			l.cache.drop(info.Stream) // memory stays bounded by the streams in flight
			mu.Lock()
			defer mu.Unlock()
			report.Streams++
			report.Events += int64(len(events))
			if snapshotted {
				report.Snapshots++
			}
			return nil
		})
	}
	err = g.Wait()
	return report, err
}
