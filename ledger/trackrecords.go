package ledger

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/projections"
)

// ErrUnknownAnalyst is returned when a question is asked about an analyst
// with no call visible at the question's point in time.
var ErrUnknownAnalyst = errors.New("unknown analyst")

// maxCachedRankings bounds the track records the ledger keeps, one per
// point in time asked about: each holds a tally per analyst (some 4 MB for
// 20,000 analysts), and a server is asked about few points at once.
const maxCachedRankings = 4

// rankings caches track records by the point in time they answer and the
// ledger's content when they were computed, so a warm `show --top N` does
// not fold every stream again.
type rankings struct {
	mu      sync.Mutex
	entries []ranking // oldest first
}

// ranking is one computation of the track records: as of asOf, known at
// knownAt clamped to latest, the latest time any instrument's event was
// recorded then (knowing "now" or a minute later is knowing the same),
// over the ledger at head (see ledgerHead).
type ranking struct {
	asOf, knownAt, latest int64
	head                  uint64
	rec                   *projections.Records
}

// answers reports whether e answers the question as of asOf, known at
// knownAt, over the ledger at head.
func (e *ranking) answers(asOf, knownAt int64, head uint64) bool {
	return e.asOf == asOf && e.head == head && min(knownAt, e.latest) == e.knownAt
}

func (r *rankings) get(asOf, knownAt time.Time, head uint64) (*projections.Records, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.entries {
		if e := &r.entries[i]; e.answers(asOf.UnixNano(), knownAt.UnixNano(), head) {
			return e.rec, true
		}
	}
	return nil, false
}

// put keeps rec, the track records as of asOf known at knownAt over the
// ledger at now.
func (r *rankings) put(asOf, knownAt time.Time, now ledgerNow, rec *projections.Records) {
	e := ranking{asOf: asOf.UnixNano(), latest: now.latest.UnixNano(), head: now.head, rec: rec}
	e.knownAt = min(knownAt.UnixNano(), e.latest)
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.entries {
		if r.entries[i].answers(e.asOf, e.knownAt, e.head) {
			return
		}
	}
	if len(r.entries) == maxCachedRankings {
		r.entries = r.entries[1:]
	}
	r.entries = append(r.entries, e)
}

// ledgerNow is what a question about every instrument starts from: the
// instruments with events, the latest time one of their events was
// recorded, and the ledger's head.
type ledgerNow struct {
	symbols []domain.Symbol
	latest  time.Time
	head    uint64
}

// ledgerHead is what cached track records are checked against: a number
// that any write or copy changes. It is the position of the store's last
// record when the store can say it in one read (eventstore.HeadReader),
// without listing the streams; ok is false when it cannot, and the head is
// then the instruments' event count from the listing (instrumentsNow).
func (l *Ledger) ledgerHead(ctx context.Context) (head uint64, ok bool, err error) {
	hr, ok := eventstore.AsHeadReader(l.store)
	if !ok {
		return 0, false, nil
	}
	pos, err := hr.Head(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("read the ledger's head: %w", err)
	}
	return pos.Commit, true, nil
}

// instrumentsNow lists the instruments with events and the ledger's head.
// The head is read before the streams are listed, so the listing and
// whatever is read after it are at least as new as the head says.
func (l *Ledger) instrumentsNow(ctx context.Context) (ledgerNow, error) {
	head, cheap, err := l.ledgerHead(ctx)
	if err != nil {
		return ledgerNow{}, err
	}
	return l.instrumentsAt(ctx, head, cheap)
}

// instrumentsAt is instrumentsNow once the head is read (ledgerHead: the
// head, and whether the store said it).
func (l *Ledger) instrumentsAt(ctx context.Context, head uint64, cheap bool) (ledgerNow, error) {
	infos, err := l.instrumentStreams(ctx)
	if err != nil {
		return ledgerNow{}, err
	}
	var (
		now    ledgerNow
		events int64
	)
	for _, info := range infos {
		sym, _ := domain.SymbolOfStream(info.Stream)
		now.symbols = append(now.symbols, sym)
		events += info.Events
		if info.LastRecordedAt.After(now.latest) {
			now.latest = info.LastRecordedAt
		}
	}
	now.head = head
	if !cheap {
		now.head = uint64(events)
	}
	return now, nil
}

// eachTimeline calls fn with every instrument's timeline known at knownAt,
// on as many goroutines as there are cores; fn's worker index (below
// GOMAXPROCS) lets it keep per-worker results without locks. A stream whose
// events are cached (a long-running server) is read from the cache; any
// other is loaded and let go after, so memory does not grow with the ledger.
// When fn shows no metadata (noMeta), such a stream is loaded by
// loadForFold, without the metadata of the events its snapshot covers.
func (l *Ledger) eachTimeline(ctx context.Context, symbols []domain.Symbol, knownAt time.Time, noMeta bool, fn func(worker int, sym domain.Symbol, tl *domain.Timeline)) error {
	workers := runtime.GOMAXPROCS(0)
	next := make(chan domain.Symbol)
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(next)
		for _, sym := range symbols {
			select {
			case next <- sym:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	for w := range workers {
		g.Go(func() (err error) {
			for sym := range next {
				var history []domain.Recorded
				_, cached := l.cache.get(sym.Stream())
				switch {
				case !cached && noMeta:
					history, err = l.loadForFold(ctx, sym)
				case !cached:
					history, err = l.Load(ctx, sym)
					l.cache.drop(sym.Stream())
				default:
					history, err = l.Load(ctx, sym)
				}
				if err != nil {
					return err
				}
				fn(w, sym, domain.NewTimeline(history, knownAt))
			}
			return nil
		})
	}
	return g.Wait()
}

// TrackRecords returns every analyst's track record as of asOf, known at
// knownAt (CONTRACT section 10), folding each instrument's stream once, in
// stream order. The answer is kept for the next question about the same
// point in time until the ledger changes; on a store that reads its head
// in one query (eventstore.HeadReader) that next answer lists no stream.
func (l *Ledger) TrackRecords(ctx context.Context, asOf, knownAt time.Time) (*projections.Records, error) {
	head, cheap, err := l.ledgerHead(ctx)
	if err != nil {
		return nil, err
	}
	if cheap {
		if rec, ok := l.rankings.get(asOf, knownAt, head); ok {
			return rec, nil
		}
	}
	now, err := l.instrumentsAt(ctx, head, cheap)
	if err != nil {
		return nil, err
	}
	if !cheap { // the head is the listing's event count, known only now
		if rec, ok := l.rankings.get(asOf, knownAt, now.head); ok {
			return rec, nil
		}
	}
	rec, _, err := l.trackRecords(ctx, now.symbols, asOf, knownAt, "")
	if err != nil {
		return nil, err
	}
	l.rankings.put(asOf, knownAt, now, rec)
	return rec, nil
}

// trackRecords folds every instrument once into the track records and,
// when analyst is set, that analyst's calls ordered by start, instrument.
func (l *Ledger) trackRecords(ctx context.Context, symbols []domain.Symbol, asOf, knownAt time.Time, analyst domain.Analyst) (*projections.Records, []projections.Call, error) {
	workers := runtime.GOMAXPROCS(0)
	parts := make([]*projections.Records, workers)
	calls := make([][]projections.Call, workers)
	for w := range parts {
		parts[w] = projections.NewRecords(asOf, knownAt)
	}
	err := l.eachTimeline(ctx, symbols, knownAt, true, func(w int, sym domain.Symbol, tl *domain.Timeline) {
		parts[w].Add(sym, tl)
		if analyst != "" {
			calls[w] = append(calls[w], projections.Calls(sym, tl, asOf, analyst)...)
		}
	})
	if err != nil {
		return nil, nil, err
	}
	rec := parts[0]
	var all []projections.Call
	for w := range parts {
		if w > 0 {
			rec.Merge(parts[w])
		}
		all = append(all, calls[w]...)
	}
	slices.SortStableFunc(all, func(a, b projections.Call) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		if c := strings.Compare(a.Instrument, b.Instrument); c != 0 {
			return c
		}
		return strings.Compare(a.Type, b.Type)
	})
	return rec, all, nil
}

// Tops returns the cut of `--top n` as of each of the times asOf, known at
// knownAt (history --top: every row's cut as of its own date). Every
// stream is loaded once and scored once per time.
func (l *Ledger) Tops(ctx context.Context, asOf []time.Time, knownAt time.Time, n int) ([]*projections.Top, error) {
	now, err := l.instrumentsNow(ctx)
	if err != nil {
		return nil, err
	}
	symbols := now.symbols
	workers := runtime.GOMAXPROCS(0)
	parts := make([][]*projections.Records, workers)
	for w := range parts {
		parts[w] = make([]*projections.Records, len(asOf))
		for i, t := range asOf {
			parts[w][i] = projections.NewRecords(t, knownAt)
		}
	}
	err = l.eachTimeline(ctx, symbols, knownAt, true, func(w int, sym domain.Symbol, tl *domain.Timeline) {
		for _, r := range parts[w] {
			r.Add(sym, tl)
		}
	})
	if err != nil {
		return nil, err
	}
	tops := make([]*projections.Top, len(asOf))
	for i := range asOf {
		for w := 1; w < workers; w++ {
			parts[0][i].Merge(parts[w][i])
		}
		tops[i] = parts[0][i].Top(n)
	}
	return tops, nil
}

// AnalystReport is `consensus analyst ID`: the analyst's calls and summary.
type AnalystReport struct {
	AsOf    time.Time               `json:"as_of"`
	KnownAt time.Time               `json:"known_at"`
	Summary projections.TrackRecord `json:"summary"`
	Calls   []projections.Call      `json:"calls"`
}

// Analyst answers one analyst's track record with every call, as of asOf,
// known at knownAt. An analyst without a visible call is ErrUnknownAnalyst,
// naming the closest ids that have one.
func (l *Ledger) Analyst(ctx context.Context, analyst domain.Analyst, asOf, knownAt time.Time) (AnalystReport, error) {
	now, err := l.instrumentsNow(ctx)
	if err != nil {
		return AnalystReport{}, err
	}
	rec, calls, err := l.trackRecords(ctx, now.symbols, asOf, knownAt, analyst)
	if err != nil {
		return AnalystReport{}, err
	}
	l.rankings.put(asOf, knownAt, now, rec)
	summary, ok := rec.Record(analyst)
	if !ok {
		return AnalystReport{}, unknownAnalyst(analyst, rec, asOf, knownAt)
	}
	return AnalystReport{AsOf: asOf.UTC(), KnownAt: knownAt.UTC(), Summary: summary, Calls: calls}, nil
}

// unknownAnalyst is the one sentence for an analyst with no call, with up
// to three closest ids that have calls.
func unknownAnalyst(analyst domain.Analyst, rec *projections.Records, asOf, knownAt time.Time) error {
	ids := rec.Analysts()
	names := make([]string, len(ids))
	for i, a := range ids {
		names[i] = string(a)
	}
	msg := fmt.Sprintf("%s: %s has no call as of %s known at %s", ErrUnknownAnalyst.Error(), domain.Quote(string(analyst)),
		domain.FormatTime(asOf), domain.FormatTime(knownAt))
	if close := domain.Closest(string(analyst), names, 3); len(close) > 0 {
		quoted := make([]string, len(close))
		for i, c := range close {
			quoted[i] = domain.Quote(c)
		}
		msg += "; the closest with calls: " + strings.Join(quoted, ", ")
	}
	return &analystError{msg: msg}
}

// analystError is ErrUnknownAnalyst with its sentence.
type analystError struct{ msg string }

func (e *analystError) Error() string { return e.msg }
func (e *analystError) Unwrap() error { return ErrUnknownAnalyst }
