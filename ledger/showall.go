package ledger

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/ledger/snapshotcodec"
	"github.com/consensus-ledger/consensus/projections"
)

// Most of a stream's events are daily closes (nine in ten in a generated
// ten-year history), yet the consensus at one point in time depends on one
// close only: the latest one visible then. `show --all` therefore answers
// each instrument from its snapshot head, which holds every event but the
// closes moved to chunks (see package snapshotcodec), plus the one close
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

// laterClose reports whether close a comes after close b in fold order.
func laterClose(a, b snapshotcodec.CloseRef) bool {
	return a.Effective > b.Effective || (a.Effective == b.Effective && a.Version > b.Version)
}

// visibleClose reports whether a close is effective by asOf and recorded by
// knownAt.
func visibleClose(a snapshotcodec.CloseRef, asOf, knownAt time.Time) bool {
	return !time.Unix(0, a.Effective).After(asOf) && !time.Unix(0, a.Recorded).After(knownAt)
}

// latestChunkedClose finds the latest close of the snapshot's chunks visible
// at (asOf, knownAt), reading the chunks that can hold it from the one with
// the latest possible close down, and stopping as soon as no chunk left can
// beat the close found. ok is false when a chunk is not usable.
func (l *Ledger) latestChunkedClose(ctx context.Context, snap eventstore.Snapshot, head snapshotcodec.Head, asOf, knownAt time.Time) (close *domain.Recorded, ok bool, err error) {
	// bound is the latest effective time a visible close of chunk k can have.
	bound := func(k int) int64 {
		c := head.Chunks[k]
		if time.Unix(0, c.MaxEffective).After(asOf) {
			return asOf.UnixNano() // asOf is before maxEffective, so within int64 nanoseconds
		}
		return c.MaxEffective
	}
	var candidates []int
	for k, c := range head.Chunks {
		if !time.Unix(0, c.MinEffective).After(asOf) && !time.Unix(0, c.MinRecorded).After(knownAt) {
			candidates = append(candidates, k)
		}
	}
	slices.SortStableFunc(candidates, func(a, b int) int { return cmp.Compare(bound(b), bound(a)) })
	var (
		best     snapshotcodec.CloseRef
		bestData []byte
	)
	for _, k := range candidates {
		if bestData != nil && bound(k) < best.Effective {
			break
		}
		data, ok, err := l.loadChunk(ctx, snap, k, head.Chunks[k])
		if err != nil || !ok {
			return nil, false, err
		}
		refs, err := snapshotcodec.ScanChunk(data)
		if err != nil {
			return nil, false, nil
		}
		for _, ref := range refs {
			if visibleClose(ref, asOf, knownAt) && (bestData == nil || laterClose(ref, best)) {
				best, bestData = ref, data
			}
		}
	}
	if bestData == nil {
		return nil, true, nil
	}
	r, err := snapshotcodec.DecodeAt(bestData, best.Offset)
	if err != nil || r.ID != best.ID {
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
	// Without explain, no answer shows metadata.
	snap, head, tail, ok, err := l.snapshotHead(ctx, sym.Stream(), SnapshotEvery-1, !q.Explain)
	if err != nil || !ok {
		return projections.Consensus{}, false, err // none, or too much after it: the full path
	}
	if len(head.Chunks) > 0 && namesAChunkedClose(head.Events, tail) {
		return projections.Consensus{}, false, nil
	}
	close, ok, err := l.latestChunkedClose(ctx, snap, head, q.AsOf, q.KnownAt)
	if err != nil || !ok {
		return projections.Consensus{}, false, err
	}
	history := make([]domain.Recorded, 0, len(head.Events)+1+len(tail))
	events := head.Events
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
