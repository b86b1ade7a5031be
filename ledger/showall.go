package ledger

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/projections"
)

// Most of a stream's events are daily closes (nine in ten in a generated
// ten-year history), yet the consensus at one point in time depends on one
// close only: the latest one visible then. `show --all` therefore answers
// each instrument from its snapshot head, which holds every event but the
// closes moved to chunks (see the layout in snapshot.go), plus the one close
// of the chunks that can be visible: the latest in fold order that is
// effective by as_of and recorded by known_at. It reads only the chunks that
// can hold that close, usually one.
//
// Folding the head's events, that close and the records after the snapshot
// gives exactly the full fold's state: no retraction in the snapshot names
// a chunked close, so the full fold's visible close is either a close the
// head keeps or that latest candidate, and every event folded is a real
// event of the stream. A retraction recorded after the snapshot that names
// a chunked close sends the question down the full path.
// TestReadModelMatchesFullFold checks it on generated histories.

// closeRef is a close left encoded in a chunk: what choosing needs, and
// where the event starts.
type closeRef struct {
	offset    int // of the event in the chunk's data
	id        uuid.UUID
	version   int64
	recorded  int64 // Unix nanoseconds
	effective int64 // Unix nanoseconds
}

// scanChunk reads a chunk's closes only as far as choosing needs.
func scanChunk(data []byte) ([]closeRef, error) {
	if !bytes.HasPrefix(data, chunkMagic) {
		return nil, errBadSnapshot
	}
	r := &snapshotReader{buf: data[len(chunkMagic):]}
	n := r.uint()
	if r.err != nil || n > uint64(len(r.buf)) {
		return nil, errBadSnapshot
	}
	closes := make([]closeRef, 0, n)
	for i := uint64(0); i < n && r.err == nil; i++ {
		ref := closeRef{offset: len(data) - len(r.buf), id: r.id(), version: r.int(), recorded: r.int()}
		for range 4 { // recorded_by, source, correlation and causation ids
			r.field()
		}
		if r.byte() != kindClose {
			return nil, errBadSnapshot
		}
		r.field() // instrument
		r.int()   // price
		r.field() // currency
		ref.effective = r.int()
		closes = append(closes, ref)
	}
	if r.err != nil || len(r.buf) != 0 {
		return nil, errBadSnapshot
	}
	return closes, nil
}

// decodeAt decodes the event that starts at offset in a chunk's data.
func decodeAt(data []byte, offset int) (domain.Recorded, error) {
	r := &snapshotReader{buf: data[offset:], strings: map[string]string{}}
	return r.event()
}

// later reports whether close a comes after close b in fold order.
func (a closeRef) later(b closeRef) bool {
	return a.effective > b.effective || (a.effective == b.effective && a.version > b.version)
}

// visible reports whether a close is effective by asOf and recorded by knownAt.
func (a closeRef) visible(asOf, knownAt time.Time) bool {
	return !time.Unix(0, a.effective).After(asOf) && !time.Unix(0, a.recorded).After(knownAt)
}

// latestChunkedClose finds the latest close of the snapshot's chunks visible
// at (asOf, knownAt), reading the chunks that can hold it from the one with
// the latest possible close down, and stopping as soon as no chunk left can
// beat the close found. ok is false when a chunk is not usable.
func (l *Ledger) latestChunkedClose(ctx context.Context, snap eventstore.Snapshot, head snapshotHead, asOf, knownAt time.Time) (close *domain.Recorded, ok bool, err error) {
	// bound is the latest effective time a visible close of chunk k can have.
	bound := func(k int) int64 {
		c := head.chunks[k]
		if time.Unix(0, c.maxEffective).After(asOf) {
			return asOf.UnixNano() // asOf is before maxEffective, so within int64 nanoseconds
		}
		return c.maxEffective
	}
	var candidates []int
	for k, c := range head.chunks {
		if !time.Unix(0, c.minEffective).After(asOf) && !time.Unix(0, c.minRecorded).After(knownAt) {
			candidates = append(candidates, k)
		}
	}
	slices.SortStableFunc(candidates, func(a, b int) int { return cmp.Compare(bound(b), bound(a)) })
	var (
		best     closeRef
		bestData []byte
	)
	for _, k := range candidates {
		if bestData != nil && bound(k) < best.effective {
			break
		}
		data, ok, err := l.loadChunk(ctx, snap, k, head.chunks[k])
		if err != nil || !ok {
			return nil, false, err
		}
		refs, err := scanChunk(data)
		if err != nil {
			return nil, false, nil
		}
		for _, ref := range refs {
			if ref.visible(asOf, knownAt) && (bestData == nil || ref.later(best)) {
				best, bestData = ref, data
			}
		}
	}
	if bestData == nil {
		return nil, true, nil
	}
	r, err := decodeAt(bestData, best.offset)
	if err != nil || r.ID != best.id {
		return nil, false, nil
	}
	return &r, true, nil
}

// showFromSnapshot answers one instrument at one point in time from its
// snapshot head, the chunk or two that hold the close that matters, and
// the few records after the snapshot. It reports false when the stream has
// no usable snapshot, or too many records after it, for the caller to take
// the full path (which also saves a new snapshot).
func (l *Ledger) showFromSnapshot(ctx context.Context, sym domain.Symbol, q projections.Query) (projections.Consensus, bool, error) {
	snap, recs, ok, err := l.storedSnapshot(ctx, sym.Stream(), SnapshotEvery-1)
	if err != nil || !ok || len(recs) == SnapshotEvery-1 {
		return projections.Consensus{}, false, err // none, or too much after it: the full path
	}
	head, err := decodeHead(snap.Data, !q.Explain) // without explain, no answer shows metadata
	if err != nil || int64(head.total) != snap.Version+1 {
		return projections.Consensus{}, false, nil // a damaged cache: the full path reads the stream
	}
	tail := make([]domain.Recorded, len(recs))
	for i, rec := range recs {
		if tail[i], err = decode(rec); err != nil {
			return projections.Consensus{}, false, err
		}
	}
	if len(head.chunks) > 0 && namesAChunkedClose(head.events, tail) {
		return projections.Consensus{}, false, nil
	}
	close, ok, err := l.latestChunkedClose(ctx, snap, head, q.AsOf, q.KnownAt)
	if err != nil || !ok {
		return projections.Consensus{}, false, err
	}
	history := make([]domain.Recorded, 0, len(head.events)+1+len(tail))
	events := head.events
	if close != nil {
		at, _ := slices.BinarySearchFunc(events, close.Version, func(r domain.Recorded, v int64) int { return cmp.Compare(r.Version, v) })
		history = append(append(append(history, events[:at]...), *close), events[at:]...)
	} else {
		history = append(history, events...)
	}
	history = append(history, tail...)
	return projections.Show(sym, history, q), true, nil
}

// namesAChunkedClose reports whether a retraction after the snapshot names
// an event that is neither in the head nor after the snapshot: one of the
// chunked closes, or an id the stream does not have.
func namesAChunkedClose(head, tail []domain.Recorded) bool {
	var named []uuid.UUID
	for _, r := range tail {
		if x, ok := r.Event.(domain.EventRetracted); ok {
			named = append(named, x.Retracted)
		}
	}
	if len(named) == 0 {
		return false
	}
	known := make(map[uuid.UUID]bool, len(head)+len(tail))
	for _, part := range [][]domain.Recorded{head, tail} {
		for _, r := range part {
			known[r.ID] = true
		}
	}
	for _, id := range named {
		if !known[id] {
			return true
		}
	}
	return false
}
