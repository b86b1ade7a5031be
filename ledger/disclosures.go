package ledger

import (
	"context"
	"encoding/hex"
	"fmt"
	"runtime"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/consensus-ledger/consensus/disclosures"
	"github.com/consensus-ledger/consensus/domain"
)

// Disclosures gathers the research disclosures of one firm (CONTRACT
// section 9): every instrument is read once, on as many goroutines as
// there are cores, folded into its part of the report and let go, so
// memory holds one history per core plus the parts, however large the
// ledger. It stops at the first error, or when ctx is done. A firm named by
// no rating visible at q.KnownAt is refused with disclosures.ErrUnknownFirm,
// suggesting the closest firm names.
func (l *Ledger) Disclosures(ctx context.Context, q disclosures.Query) (disclosures.Report, error) {
	symbols, err := l.symbols(ctx)
	if err != nil {
		return disclosures.Report{}, err
	}
	parts := make([]*disclosures.Instrument, len(symbols))
	heads := make([]*disclosures.Head, len(symbols))
	named := make([]bool, len(symbols))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, sym := range symbols {
		g.Go(func() error {
			history, err := l.loadOnce(gctx, sym)
			if err != nil {
				return err
			}
			named[i] = disclosures.Names(history, q.Firm, q.KnownAt)
			part, ok := disclosures.Part(sym, history, q)
			if !ok {
				return nil
			}
			parts[i] = &part
			heads[i], err = l.headAt(gctx, sym, history, q.KnownAt)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return disclosures.Report{}, err
	}
	if !slices.Contains(named, true) {
		firms, err := l.Firms(ctx, q.KnownAt)
		if err != nil {
			return disclosures.Report{}, err
		}
		names := make([]string, len(firms))
		for i, f := range firms {
			names[i] = f.Name
		}
		return disclosures.Report{}, disclosures.UnknownFirm(q.Firm, names)
	}
	var (
		got  []disclosures.Instrument
		hash []disclosures.Head
	)
	for i, p := range parts {
		if p != nil {
			got = append(got, *p)
		}
		if heads[i] != nil {
			hash = append(hash, *heads[i])
		}
	}
	return disclosures.Assemble(q, got, hash), nil
}

// Firm is one firm named by the ledger's ratings.
type Firm struct {
	Name string
	// Instruments counts the instruments with a rating naming the firm.
	Instruments int
}

// Firms lists the firms named by the RatingAdded events visible at
// knownAt, by name, reading every instrument once as Disclosures does.
func (l *Ledger) Firms(ctx context.Context, knownAt time.Time) ([]Firm, error) {
	symbols, err := l.symbols(ctx)
	if err != nil {
		return nil, err
	}
	per := make([][]string, len(symbols))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, sym := range symbols {
		g.Go(func() error {
			history, err := l.loadOnce(gctx, sym)
			if err != nil {
				return err
			}
			per[i] = disclosures.Firms(history, knownAt)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	count := map[string]int{}
	for _, names := range per {
		for _, n := range names {
			count[n]++
		}
	}
	out := make([]Firm, 0, len(count))
	for n, c := range count {
		out = append(out, Firm{Name: n, Instruments: c})
	}
	slices.SortFunc(out, func(a, b Firm) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out, nil
}

// symbols lists the instruments that have events, by symbol.
func (l *Ledger) symbols(ctx context.Context) ([]domain.Symbol, error) {
	infos, err := l.streams(ctx)
	if err != nil {
		return nil, err
	}
	var out []domain.Symbol
	for _, info := range infos {
		if sym, ok := domain.SymbolOfStream(info.Stream); ok && info.Events > 0 {
			out = append(out, sym)
		}
	}
	return out, nil
}

// loadOnce reads an instrument's events for one question: kept when its
// read model is cached (a server's), dropped after otherwise, as ShowAll
// does, so a report over the whole ledger does not fill the cache.
func (l *Ledger) loadOnce(ctx context.Context, sym domain.Symbol) ([]domain.Recorded, error) {
	if l.indexed(sym.Stream()) {
		return l.Load(ctx, sym)
	}
	history, err := l.Load(ctx, sym)
	l.cache.drop(sym.Stream())
	return history, err
}

// headAt is the head of the instrument's hash chain as known at knownAt:
// its last record recorded by then (recorded times never decrease along a
// stream), read alone for its hash. nil when none was recorded by then.
func (l *Ledger) headAt(ctx context.Context, sym domain.Symbol, history []domain.Recorded, knownAt time.Time) (*disclosures.Head, error) {
	last := int64(-1)
	for _, r := range history {
		if !r.RecordedAt.After(knownAt) && r.Version > last {
			last = r.Version
		}
	}
	if last < 0 {
		return nil, nil
	}
	recs, err := l.store.ReadStream(ctx, sym.Stream(), last, 1)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", sym.Stream(), err)
	}
	if len(recs) != 1 {
		return nil, fmt.Errorf("read %s: event %d is missing", sym.Stream(), last)
	}
	return &disclosures.Head{Stream: sym.Stream(), Version: last, Hash: hex.EncodeToString(recs[0].Hash[:])}, nil
}
