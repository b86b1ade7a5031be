package ledger

import (
	"cmp"
	"context"
	"encoding/hex"
	"fmt"
	"runtime"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/consensus-ledger/consensus/disclosures"
	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/ledger/snapshotcodec"
)

// Disclosures gathers the research disclosures of one firm (CONTRACT
// section 9): every instrument is read once, on as many goroutines as
// there are cores, folded into its part of the report and let go, so
// memory holds one history per core plus the parts, however large the
// ledger. Only the events the report needs are read where the snapshot
// allows (see disclosureHistory). It stops at the first error, or when ctx
// is done. A firm named by no rating visible at q.KnownAt is refused with
// disclosures.ErrUnknownFirm, suggesting the closest firm names.
func (l *Ledger) Disclosures(ctx context.Context, q disclosures.Query) (disclosures.Report, error) {
	infos, err := l.instrumentStreams(ctx)
	if err != nil {
		return disclosures.Report{}, err
	}
	parts := make([]*disclosures.Instrument, len(infos))
	heads := make([]*disclosures.Head, len(infos))
	named := make([]bool, len(infos))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, info := range infos {
		sym, _ := domain.SymbolOfStream(info.Stream)
		g.Go(func() error {
			history, err := l.disclosureHistory(gctx, sym, q)
			if err != nil {
				return err
			}
			named[i] = disclosures.Names(history, q.Firm, q.KnownAt)
			part, ok := disclosures.Part(sym, history, q)
			if !ok {
				return nil
			}
			parts[i] = &part
			heads[i], err = l.headAt(gctx, info, q.KnownAt)
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
// knownAt, by name, reading every instrument's events but its chunked
// closes.
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
			// The firms are named by ratings, all in the snapshot head or
			// after it: the chunks of closes are not read.
			_, _, history, ok, err := l.headEvents(gctx, sym)
			if err == nil && !ok {
				history, err = l.loadOnce(gctx, sym)
			}
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
	infos, err := l.instrumentStreams(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]domain.Symbol, len(infos))
	for i, info := range infos {
		out[i], _ = domain.SymbolOfStream(info.Stream)
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
// its last record recorded by then, read alone for its hash. nil when none
// was recorded by then. Recorded times never decrease along a stream, so
// that record is the stream's last one when the stream's last record is
// not after knownAt, and is otherwise found by halving the versions.
func (l *Ledger) headAt(ctx context.Context, info eventstore.StreamInfo, knownAt time.Time) (*disclosures.Head, error) {
	read := func(v int64) (eventstore.Record, error) {
		recs, err := l.store.ReadStream(ctx, info.Stream, v, 1)
		if err != nil {
			return eventstore.Record{}, fmt.Errorf("read %s: %w", info.Stream, err)
		}
		if len(recs) != 1 {
			return eventstore.Record{}, fmt.Errorf("read %s: event %d is missing", info.Stream, v)
		}
		return recs[0], nil
	}
	last := info.Version
	if info.LastRecordedAt.After(knownAt) {
		// The first version recorded after knownAt, in [0, info.Version].
		lo, hi := int64(0), info.Version
		for lo < hi {
			mid := lo + (hi-lo)/2
			rec, err := read(mid)
			if err != nil {
				return nil, err
			}
			if rec.RecordedAt.After(knownAt) {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		last = lo - 1
	}
	if last < 0 {
		return nil, nil
	}
	rec, err := read(last)
	if err != nil {
		return nil, err
	}
	return &disclosures.Head{Stream: info.Stream, Version: last, Hash: hex.EncodeToString(rec.Hash[:])}, nil
}

// disclosureHistory returns the instrument's events that Disclosures needs
// for q, in stream order: every event but the closes, and of the closes
// those disclosures.Part reads (see Query.ClosesFrom), none at all when no
// event mentions the firm. They are taken from the snapshot head and the
// few chunks of closes that can hold them, so a ten-year stream of daily
// closes is read for three years of them. The whole stream is read instead
// when its read model is cached, when it has no usable snapshot or too
// many records after it, when a head event states no currency (the fold
// takes the stream's from its first event that states one, which may be a
// close), or when a retraction after the snapshot names a chunked close.
// Part gives the same answer over these events as over the whole stream:
// TestDisclosuresFromSnapshotMatchWholeStream checks it.
func (l *Ledger) disclosureHistory(ctx context.Context, sym domain.Symbol, q disclosures.Query) ([]domain.Recorded, error) {
	snap, head, events, ok, err := l.headEvents(ctx, sym)
	if err != nil {
		return nil, err
	}
	if !ok {
		return l.loadOnce(ctx, sym)
	}
	if len(head.Chunks) == 0 || !disclosures.Mentions(events, q.Firm) {
		return events, nil
	}
	if domain.StreamCurrency(events) == "" || namesAChunkedClose(head.Events, events[len(head.Events):]) {
		return l.loadOnce(ctx, sym)
	}
	closes, ok, err := l.closesFrom(ctx, snap, head, q.ClosesFrom(), q.AsOf, q.KnownAt)
	switch {
	case err != nil:
		return nil, err
	case !ok:
		return l.loadOnce(ctx, sym)
	}
	events = append(events, closes...)
	slices.SortFunc(events, func(a, b domain.Recorded) int { return cmp.Compare(a.Version, b.Version) })
	return events, nil
}

// headEvents returns the instrument's events but the closes kept in its
// snapshot's chunks, in stream order: the snapshot head's events and the
// records after it. ok is false when the answer should come from the whole
// stream instead: its read model is cached, it has no usable snapshot, or
// too many records after it.
func (l *Ledger) headEvents(ctx context.Context, sym domain.Symbol) (eventstore.Snapshot, snapshotcodec.Head, []domain.Recorded, bool, error) {
	if l.indexed(sym.Stream()) {
		return eventstore.Snapshot{}, snapshotcodec.Head{}, nil, false, nil
	}
	snap, head, after, ok, err := l.snapshotHead(ctx, sym.Stream(), SnapshotEvery-1, false)
	if err != nil || !ok {
		return eventstore.Snapshot{}, snapshotcodec.Head{}, nil, false, err
	}
	events := make([]domain.Recorded, 0, len(head.Events)+len(after))
	return snap, head, append(append(events, head.Events...), after...), true, nil
}

// closesFrom reads the chunked closes of the snapshot a fold as known at
// knownAt needs to know every close effective after from and by asOf, and
// the latest effective at or before from: every chunk that can hold a
// close effective in (from, asOf], then, from the one with the latest close
// down, the chunks that can hold a close effective by from later than the
// latest visible one found. No retraction in the snapshot names a chunked
// close (see showall.go), so a chunked close is visible when it was
// recorded by knownAt. ok is false when a chunk is not usable.
func (l *Ledger) closesFrom(ctx context.Context, snap eventstore.Snapshot, head snapshotcodec.Head, from, asOf, knownAt time.Time) ([]domain.Recorded, bool, error) {
	var (
		out     []domain.Recorded
		before  []int // chunks whose closes are all effective by from
		best    *domain.Recorded
		fromN   = from.UnixNano()
		bestEff int64
	)
	take := func(k int) (bool, error) {
		data, ok, err := l.loadChunk(ctx, snap, k, head.Chunks[k])
		if err != nil || !ok {
			return false, err
		}
		closes, err := snapshotcodec.DecodeChunk(data, false)
		if err != nil {
			return false, nil
		}
		for i, c := range closes {
			eff := c.Event.Effective().UnixNano()
			if eff <= fromN && !c.RecordedAt.After(knownAt) &&
				(best == nil || eff > bestEff || eff == bestEff && c.Version > best.Version) {
				best, bestEff = &closes[i], eff
			}
		}
		out = append(out, closes...)
		return true, nil
	}
	for k, c := range head.Chunks {
		switch {
		case time.Unix(0, c.MinEffective).After(asOf):
			// Every close of it is effective after asOf: not needed.
		case c.MaxEffective > fromN:
			if ok, err := take(k); !ok {
				return nil, false, err
			}
		default:
			before = append(before, k)
		}
	}
	slices.SortStableFunc(before, func(a, b int) int { return cmp.Compare(head.Chunks[b].MaxEffective, head.Chunks[a].MaxEffective) })
	for _, k := range before {
		if best != nil && head.Chunks[k].MaxEffective < bestEff {
			break
		}
		if ok, err := take(k); !ok {
			return nil, false, err
		}
	}
	return out, true, nil
}
