package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
)

// Anchor is a statement of the ledger's chain ends made earlier and kept
// outside it: the heads a verify --json printed, or a signed checkpoint.
type Anchor struct {
	// Heads are the chain ends the anchor lists; an anchor that lists
	// none proves nothing and is refused before this is called.
	Heads []Head
	// Time is when the anchor was made: every stream holding an event
	// recorded at or before it should be listed. Zero when the anchor does
	// not say (a heads file of an older verify --json); the latest
	// recorded time of the events its heads name is taken instead, a time
	// the anchor is certainly not older than.
	Time time.Time
	// Name says what the anchor is in messages ("the checkpoint of ...").
	Name string
}

// AgainstReport is what CheckAgainst compared.
type AgainstReport struct {
	Matched int       // streams of the anchor still beginning with its events
	Streams int       // streams the ledger has (or 1, for one instrument)
	Time    time.Time // the anchor's time, as given or as taken
}

// CheckAgainst checks the ledger against an anchor: every stream the
// anchor lists must still hold, at the listed version, an event with the
// listed hash. Since each hash covers every earlier event of its stream,
// that proves the stream still begins with exactly the events the anchor
// saw, even against someone able to recompute every hash in the store. And
// a stream the anchor does not list must not hold an event recorded at or
// before the anchor's time: such a stream was hidden from the anchor or
// forged since. With sym, only that instrument's stream is checked. The
// first failure is a *eventstore.ChainError naming the stream.
func (l *Ledger) CheckAgainst(ctx context.Context, a Anchor, sym domain.Symbol) (AgainstReport, error) {
	infos, err := l.streams(ctx)
	if err != nil {
		return AgainstReport{}, err
	}
	held := make(map[string]eventstore.StreamInfo, len(infos))
	for _, info := range infos {
		held[info.Stream] = info
	}
	report := AgainstReport{Streams: len(infos), Time: a.Time}
	if sym != "" {
		report.Streams = 1
	}
	listed := make(map[string]bool, len(a.Heads))
	var latest time.Time
	for _, h := range a.Heads {
		listed[h.Stream] = true
		if sym != "" && h.Stream != sym.Stream() {
			continue
		}
		rec, err := l.checkHead(ctx, a, h, held[h.Stream])
		if err != nil {
			return report, err
		}
		report.Matched++
		if rec.RecordedAt.After(latest) {
			latest = rec.RecordedAt
		}
	}
	if report.Time.IsZero() {
		report.Time = latest
	}
	for _, info := range infos {
		if listed[info.Stream] || (sym != "" && info.Stream != sym.Stream()) {
			continue
		}
		first, err := l.store.ReadStream(ctx, info.Stream, 0, 1)
		if err != nil {
			return report, fmt.Errorf("read %s: %w", info.Stream, err)
		}
		if len(first) == 1 && !first[0].RecordedAt.After(report.Time) {
			return report, &eventstore.ChainError{Stream: info.Stream, Version: 0, Record: first[0],
				Problem: fmt.Sprintf("was recorded at %s, at or before the time of %s (%s), which does not list the stream: "+
					"the stream was hidden from it or forged since", domain.FormatTime(first[0].RecordedAt), a.Name, domain.FormatTime(report.Time))}
		}
	}
	return report, nil
}

// checkHead checks one listed chain end against the stream as stored
// (info, zero when the store lists no such stream) and returns the event
// found there.
func (l *Ledger) checkHead(ctx context.Context, a Anchor, h Head, info eventstore.StreamInfo) (eventstore.Record, error) {
	recs, err := l.store.ReadStream(ctx, h.Stream, h.Version, 1)
	if err != nil {
		return eventstore.Record{}, fmt.Errorf("read %s: %w", h.Stream, err)
	}
	switch {
	case len(recs) == 0 && info.Events == 0:
		return eventstore.Record{}, &eventstore.ChainError{Stream: h.Stream, Version: h.Version,
			Problem: fmt.Sprintf("is missing: %s saw %d events in the stream, and the ledger no longer has it: the stream was deleted", a.Name, h.Version+1)}
	case len(recs) == 0 || recs[0].Version != h.Version:
		return eventstore.Record{}, &eventstore.ChainError{Stream: h.Stream, Version: h.Version,
			Problem: fmt.Sprintf("is missing: %s saw %d events in the stream, and it now holds %d: the stream was truncated", a.Name, h.Version+1, info.Events)}
	case recs[0].Hash != h.Hash:
		return eventstore.Record{}, &eventstore.ChainError{Stream: h.Stream, Version: h.Version, Record: recs[0],
			Problem: fmt.Sprintf("has a hash other than the one %s saw: the stream was rewritten up to this event", a.Name)}
	}
	return recs[0], nil
}

// ChainRecords returns the instrument's records as stored, with their
// hash-chain fields, for printing them to be checked independently.
func (l *Ledger) ChainRecords(ctx context.Context, sym domain.Symbol) ([]eventstore.Record, error) {
	recs, err := l.store.ReadStream(ctx, sym.Stream(), 0, 0)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", sym.Stream(), err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%w: %s has no events", ErrUnknownInstrument, sym)
	}
	return recs, nil
}
