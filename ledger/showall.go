package ledger

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/projections"
)

// Most of a stream's events are daily closes (nine in ten in a generated
// ten-year history), yet the consensus at one point in time depends on one
// close only: the latest one visible then. `show --all` therefore answers
// each instrument from its snapshot without decoding the closes that cannot
// matter: every other event is decoded; closes are only read far enough to
// choose the few that can, which are then decoded and folded with the rest.
//
// The closes kept are
//   - the stream's first close, which may be the event that fixes the
//     instrument's currency (domain.StreamCurrency);
//   - every close named by a retraction, retracted or not at the question's
//     known_at, so that the fold's retracted list and its choice among them
//     are the full fold's;
//   - of the closes no retraction names, the latest in fold order that is
//     effective by as_of and recorded by known_at.
//
// The full fold's visible close is either named by a retraction (kept) or
// the latest never-retracted candidate (kept), and every kept close is a real
// event of the stream, so folding the kept events gives exactly the full
// fold's state. TestShowAllMatchesFullFold checks it on generated histories.

// closeRef is a close left encoded in a snapshot: what choosing needs, and
// where the event starts.
type closeRef struct {
	offset    int // of the event in the snapshot's data
	others    int // how many other events come before it in the snapshot
	id        uuid.UUID
	version   int64
	recorded  int64 // Unix nanoseconds
	effective int64 // Unix nanoseconds
}

// decodeSnapshotSkippingCloses is decodeSnapshot except that closes are
// returned as references instead of events.
func decodeSnapshotSkippingCloses(data []byte) ([]domain.Recorded, []closeRef, error) {
	if !bytes.HasPrefix(data, snapshotMagic) {
		return nil, nil, errBadSnapshot
	}
	r := &snapshotReader{buf: data[len(snapshotMagic):], strings: map[string]string{}}
	n := r.uint()
	if r.err != nil || n > uint64(len(r.buf)) {
		return nil, nil, errBadSnapshot
	}
	var events []domain.Recorded
	closes := make([]closeRef, 0, n)
	for i := uint64(0); i < n && r.err == nil; i++ {
		start := r.buf
		ref := closeRef{offset: len(data) - len(start), id: r.id(), version: r.int(), recorded: r.int()}
		for range 4 { // recorded_by, source, correlation and causation ids
			r.field()
		}
		if r.byte() == kindClose {
			r.field() // instrument
			r.int()   // price
			r.field() // currency
			ref.effective, ref.others = r.int(), len(events)
			closes = append(closes, ref)
			continue
		}
		r.buf = start
		rec, err := r.event()
		if err != nil {
			return nil, nil, err
		}
		events = append(events, rec)
	}
	if r.err != nil || len(r.buf) != 0 {
		return nil, nil, errBadSnapshot
	}
	return events, closes, nil
}

// decodeAt decodes the event that starts at offset in a snapshot's data.
func decodeAt(data []byte, offset int) (domain.Recorded, error) {
	r := &snapshotReader{buf: data[offset:], strings: map[string]string{}}
	return r.event()
}

// closesThatMatter picks from closes (in stream order) those the consensus
// at (asOf, knownAt) can depend on, as the comment at the top of this file
// explains; named holds the ids named by the stream's retractions.
func closesThatMatter(closes []closeRef, named map[uuid.UUID]bool, asOf, knownAt time.Time) []closeRef {
	if len(closes) == 0 {
		return nil
	}
	latest := -1
	for i, c := range closes {
		if named[c.id] || time.Unix(0, c.effective).After(asOf) || time.Unix(0, c.recorded).After(knownAt) {
			continue
		}
		if latest < 0 || c.effective > closes[latest].effective ||
			(c.effective == closes[latest].effective && c.version > closes[latest].version) {
			latest = i
		}
	}
	var kept []closeRef
	for i, c := range closes {
		if i == 0 || i == latest || named[c.id] {
			kept = append(kept, c)
		}
	}
	return kept
}

// showFromSnapshot answers one instrument at one point in time from its
// snapshot and the few records after it, decoding only the closes that
// matter. It reports false when the stream has no usable snapshot, or too
// many records after it, for the caller to take the full path (which also
// saves a new snapshot).
func (l *Ledger) showFromSnapshot(ctx context.Context, sym domain.Symbol, q projections.Query) (projections.Consensus, bool, error) {
	stream := sym.Stream()
	snap, ok, err := l.storedSnapshot(ctx, stream)
	if err != nil || !ok {
		return projections.Consensus{}, false, err
	}
	events, closes, err := decodeSnapshotSkippingCloses(snap.Data)
	if err != nil || int64(len(events)+len(closes)) != snap.Version+1 {
		return projections.Consensus{}, false, nil // a damaged cache: the full path reads the stream
	}
	recs, err := l.store.ReadStream(ctx, stream, snap.Version+1, SnapshotEvery)
	if err != nil {
		return projections.Consensus{}, false, fmt.Errorf("read %s: %w", stream, err)
	}
	if len(recs) == SnapshotEvery {
		return projections.Consensus{}, false, nil
	}
	tail := make([]domain.Recorded, len(recs))
	for i, rec := range recs {
		if tail[i], err = decode(rec); err != nil {
			return projections.Consensus{}, false, err
		}
	}
	named := map[uuid.UUID]bool{}
	for _, part := range [][]domain.Recorded{events, tail} {
		for _, r := range part {
			if x, ok := r.Event.(domain.EventRetracted); ok {
				named[x.Retracted] = true
			}
		}
	}
	kept := closesThatMatter(closes, named, q.AsOf, q.KnownAt)
	// The snapshot's events and the kept closes, merged back into stream
	// order, then the records after the snapshot.
	history := make([]domain.Recorded, 0, len(events)+len(kept)+len(tail))
	taken := 0
	for _, c := range kept {
		history, taken = append(history, events[taken:c.others]...), c.others
		close, err := decodeAt(snap.Data, c.offset)
		if err != nil {
			return projections.Consensus{}, false, nil
		}
		history = append(history, close)
	}
	history = append(append(history, events[taken:]...), tail...)
	return projections.Show(sym, history, q), true, nil
}

// storedSnapshot returns the stream's stored snapshot when its last event
// is the stream's event at that version, with that hash.
func (l *Ledger) storedSnapshot(ctx context.Context, stream string) (eventstore.Snapshot, bool, error) {
	sn, ok := l.store.(eventstore.Snapshotter)
	if !ok {
		return eventstore.Snapshot{}, false, nil
	}
	snap, found, err := sn.LoadSnapshot(ctx, snapshotName(stream))
	if err != nil || !found || snap.Stream != stream {
		return eventstore.Snapshot{}, false, err
	}
	head, err := l.store.ReadStream(ctx, stream, snap.Version, 1)
	if err != nil {
		return eventstore.Snapshot{}, false, fmt.Errorf("read %s: %w", stream, err)
	}
	if len(head) != 1 || head[0].Hash != snap.Hash {
		return eventstore.Snapshot{}, false, nil
	}
	return snap, true, nil
}
