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
	entries map[rankingKey]*projections.Records
	order   []rankingKey // oldest first
}

// rankingKey names one computation of the track records: the as_of, the
// known_at clamped to the latest event recorded (knowing "now" or a minute
// later is knowing the same), and the ledger's event count, which any write
// or copy changes.
type rankingKey struct {
	asOf, knownAt int64
	events        int64
}

func (r *rankings) get(k rankingKey) (*projections.Records, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, ok := r.entries[k]
	return rec, ok
}

func (r *rankings) put(k rankingKey, rec *projections.Records) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.entries == nil {
		r.entries = map[rankingKey]*projections.Records{}
	}
	if _, ok := r.entries[k]; ok {
		return
	}
	if len(r.order) == maxCachedRankings {
		delete(r.entries, r.order[0])
		r.order = r.order[1:]
	}
	r.entries[k] = rec
	r.order = append(r.order, k)
}

// instrumentsNow lists the instruments with events and the key of the
// ledger's content at (asOf, knownAt).
func (l *Ledger) instrumentsNow(ctx context.Context, asOf, knownAt time.Time) ([]domain.Symbol, rankingKey, error) {
	infos, err := l.streams(ctx)
	if err != nil {
		return nil, rankingKey{}, err
	}
	var (
		symbols []domain.Symbol
		latest  time.Time
		events  int64
	)
	for _, info := range infos {
		if sym, ok := domain.SymbolOfStream(info.Stream); ok && info.Events > 0 {
			symbols = append(symbols, sym)
			events += info.Events
			if info.LastRecordedAt.After(latest) {
				latest = info.LastRecordedAt
			}
		}
	}
	if knownAt.After(latest) {
		knownAt = latest
	}
	return symbols, rankingKey{asOf: asOf.UnixNano(), knownAt: knownAt.UnixNano(), events: events}, nil
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
// point in time until the ledger changes.
func (l *Ledger) TrackRecords(ctx context.Context, asOf, knownAt time.Time) (*projections.Records, error) {
	symbols, key, err := l.instrumentsNow(ctx, asOf, knownAt)
	if err != nil {
		return nil, err
	}
	if rec, ok := l.rankings.get(key); ok {
		return rec, nil
	}
	rec, _, err := l.trackRecords(ctx, symbols, asOf, knownAt, "")
	if err != nil {
		return nil, err
	}
	l.rankings.put(key, rec)
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
	symbols, _, err := l.instrumentsNow(ctx, knownAt, knownAt)
	if err != nil {
		return nil, err
	}
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
	symbols, key, err := l.instrumentsNow(ctx, asOf, knownAt)
	if err != nil {
		return AnalystReport{}, err
	}
	rec, calls, err := l.trackRecords(ctx, symbols, asOf, knownAt, analyst)
	if err != nil {
		return AnalystReport{}, err
	}
	l.rankings.put(key, rec)
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
