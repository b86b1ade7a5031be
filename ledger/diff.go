package ledger

import (
	"context"
	"runtime"
	"slices"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/projections"
)

// Diff answers `consensus diff` on one instrument: every field of every
// as_of of the grid whose value known at d.FromKnown differs from the one
// known at d.ToKnown, with the events learned in between that caused it.
func (l *Ledger) Diff(ctx context.Context, sym domain.Symbol, d projections.DiffQuery) ([]projections.DiffRow, error) {
	history, err := l.loadKnown(ctx, sym)
	if err != nil {
		return nil, err
	}
	return projections.DiffHistory(sym, history, d), nil
}

// DiffAll answers Diff for every instrument, ordered by symbol, handing
// each instrument's rows to emit as soon as it and every instrument before
// it are answered, and only those with rows: memory holds the rows of the
// instruments in flight, never the whole ledger's. Instruments are answered
// on as many goroutines as there are cores; one whose read model is not
// cached is loaded, answered and dropped from the cache, as ShowAll does;
// one with no event recorded after d.FromKnown is not read at all.
// An error of emit stops the walk and is returned.
func (l *Ledger) DiffAll(ctx context.Context, d projections.DiffQuery, emit func([]projections.DiffRow) error) error {
	infos, err := l.instrumentStreams(ctx)
	if err != nil {
		return err
	}
	// A stream whose last event was recorded by FromKnown learned nothing
	// since: no row can differ, and it is not even read. A day's diff of a
	// large ledger reads only the instruments that changed that day.
	changed := slices.DeleteFunc(infos, func(info eventstore.StreamInfo) bool { return !info.LastRecordedAt.After(d.FromKnown) })
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type answer struct {
		rows []projections.DiffRow
		err  error
		done chan struct{}
	}
	// The queue's capacity bounds the instruments in flight: the producer
	// waits for the emitter to take the oldest before starting another.
	queue := make(chan *answer, runtime.GOMAXPROCS(0))
	go func() {
		defer close(queue)
		for _, info := range changed {
			a := &answer{done: make(chan struct{})}
			select {
			case queue <- a:
			case <-ctx.Done():
				return
			}
			go func() {
				defer close(a.done)
				a.rows, a.err = l.diffOnce(ctx, info, d)
			}()
		}
	}()
	var failed error
	for a := range queue {
		<-a.done // waited for even after a failure, so none outlives the call
		switch {
		case failed != nil:
		case a.err != nil:
			failed = a.err
			cancel()
		case len(a.rows) > 0:
			if err := emit(a.rows); err != nil {
				failed = err
				cancel()
			}
		}
	}
	if failed != nil {
		return failed
	}
	return ctx.Err()
}

// diffOnce answers Diff from the cached events if there are any, else from
// one load of them, without keeping them. A stream shorter than
// SnapshotEvery has no snapshot of this ledger's making: it is read from its
// records alone, without asking the store for one.
func (l *Ledger) diffOnce(ctx context.Context, info eventstore.StreamInfo, d projections.DiffQuery) ([]projections.DiffRow, error) {
	sym, _ := domain.SymbolOfStream(info.Stream)
	if _, cached := l.cache.get(info.Stream); cached {
		return l.Diff(ctx, sym, d)
	}
	var (
		history []domain.Recorded
		err     error
	)
	if info.Events < SnapshotEvery {
		history, err = l.readAfter(ctx, info.Stream, make([]domain.Recorded, 0, info.Events))
	} else {
		history, err = l.Load(ctx, sym)
		l.cache.drop(info.Stream)
	}
	if err != nil {
		return nil, err
	}
	return projections.DiffHistory(sym, history, d), nil
}
