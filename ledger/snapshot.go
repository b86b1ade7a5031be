package ledger

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/ledger/snapshotcodec"
)

// SnapshotEvery is how many events a stream must have beyond its snapshot
// before the ledger writes a new one. Reading a stream record by record and
// decoding its JSON costs several microseconds an event; a snapshot is
// decoded about ten times faster, so long streams answer a fresh process
// (a command-line `show`) quickly. Below this many events a snapshot would
// save little.
const SnapshotEvery = 1024

// A stream's snapshot is stored in several rows, its head and its chunks
// (see package snapshotcodec for what each holds): the head named
// snapshotName(stream), the k-th chunk chunkName(stream, k). Every row is
// saved with the version and hash of the stream's last covered record, and
// the head's directory holds each chunk's checksum, so a reader takes the
// rows for one snapshot only when they all agree; anything else is a cache
// miss and the stream is read instead.

// snapshotName is the key of a stream's snapshot head.
func snapshotName(stream string) string { return "decoded:" + stream }

// chunkName is the key of a stream's k-th chunk of closes; every chunk of
// the stream's snapshot starts with chunkPrefix.
func chunkName(stream string, k int) string { return chunkPrefix(stream) + strconv.Itoa(k) }

func chunkPrefix(stream string) string { return "closes:" + stream + ":" }

// loadSnapshot returns the stream's events from its snapshot, or nil when
// there is no usable one: none saved, one that does not decode, or one whose
// rows do not all cover the stream's event at the same version with the
// same hash. A snapshot is a cache, so any doubt means reading the stream
// instead.
func (l *Ledger) loadSnapshot(ctx context.Context, stream string) ([]domain.Recorded, error) {
	snap, _, ok, err := l.storedSnapshot(ctx, stream, 0)
	if err != nil || !ok {
		return nil, err
	}
	head, err := snapshotcodec.DecodeHead(snap.Data, false)
	if err != nil || int64(head.Total) != snap.Version+1 {
		return nil, nil
	}
	chunks := make([][]domain.Recorded, len(head.Chunks))
	for k, info := range head.Chunks {
		data, ok, err := l.loadChunk(ctx, snap, k, info)
		if err != nil || !ok {
			return nil, err
		}
		if chunks[k], err = snapshotcodec.DecodeChunk(data); err != nil {
			return nil, nil
		}
	}
	events, err := snapshotcodec.Assemble(head, chunks)
	if err != nil {
		return nil, nil
	}
	return events, nil
}

// storedSnapshot returns the stream's stored snapshot head when its last
// record is the stream's record at that version, with that hash, and, in
// the same read, up to tail of the records after it.
func (l *Ledger) storedSnapshot(ctx context.Context, stream string, tail int) (eventstore.Snapshot, []eventstore.Record, bool, error) {
	sn, ok := l.store.(eventstore.Snapshotter)
	if !ok {
		return eventstore.Snapshot{}, nil, false, nil
	}
	snap, found, err := sn.LoadSnapshot(ctx, snapshotName(stream))
	if err != nil || !found || snap.Stream != stream {
		return eventstore.Snapshot{}, nil, false, err
	}
	recs, err := l.store.ReadStream(ctx, stream, snap.Version, tail+1)
	if err != nil {
		return eventstore.Snapshot{}, nil, false, fmt.Errorf("read %s: %w", stream, err)
	}
	if len(recs) == 0 || recs[0].Hash != snap.Hash {
		return eventstore.Snapshot{}, nil, false, nil // a snapshot of another chain
	}
	return snap, recs[1:], true, nil
}

// loadChunk returns the data of the k-th chunk of the snapshot whose head is
// snap, when the stored chunk belongs to that snapshot.
func (l *Ledger) loadChunk(ctx context.Context, snap eventstore.Snapshot, k int, info snapshotcodec.ChunkInfo) ([]byte, bool, error) {
	sn := l.store.(eventstore.Snapshotter) // snap came from it
	chunk, found, err := sn.LoadSnapshot(ctx, chunkName(snap.Stream, k))
	if err != nil || !found {
		return nil, false, err
	}
	if chunk.Stream != snap.Stream || chunk.Version != snap.Version || chunk.Hash != snap.Hash || snapshotcodec.Checksum(chunk.Data) != info.Sum {
		return nil, false, nil
	}
	return chunk.Data, true, nil
}

// saveSnapshot stores the stream's decoded events when enough have come
// since the last snapshot. It is best effort: a store opened read-only, or
// one without snapshots, simply keeps none, and a failure to save costs
// only speed, so it is not reported.
func (l *Ledger) saveSnapshot(ctx context.Context, stream string, c *streamCache) {
	sn, ok := l.store.(eventstore.Snapshotter)
	n := int64(len(c.events))
	if !ok || c.noSnapshots || n-1-c.snapshotVersion < SnapshotEvery {
		return
	}
	if ro, ok := l.store.(interface{ ReadOnly() bool }); ok && ro.ReadOnly() {
		c.noSnapshots = true // a reader: never encode a snapshot it cannot save
		return
	}
	last, err := l.store.ReadStream(ctx, stream, n-1, 1)
	if err != nil || len(last) != 1 {
		return
	}
	if c.snapshotVersion < 0 {
		// Whatever snapshot rows the stream has could not be used (another
		// format, or damaged): a row is only replaced by one covering more
		// events, so clear them for the new snapshot to take their place.
		if err := deleteSnapshots(ctx, sn, stream); err != nil {
			return
		}
	}
	head, chunks := snapshotcodec.Encode(c.events)
	rows := make([]eventstore.Snapshot, 0, len(chunks)+1)
	for k, data := range chunks {
		rows = append(rows, eventstore.Snapshot{Name: chunkName(stream, k), Data: data})
	}
	rows = append(rows, eventstore.Snapshot{Name: snapshotName(stream), Data: head})
	for i := range rows {
		rows[i].Stream, rows[i].Version, rows[i].Hash = stream, n-1, last[0].Hash
	}
	switch err := saveSnapshots(ctx, sn, rows); {
	case err == nil:
		c.snapshotVersion = n - 1
	case errors.Is(err, eventstore.ErrReadOnly):
		c.noSnapshots = true // a reader: do not encode a snapshot on every query
	}
}

// Capabilities of a Snapshotter that the ledger uses when the store has
// them (the embedded store has both).
type (
	// snapshotBatcher saves several snapshots in one transaction.
	snapshotBatcher interface {
		SaveSnapshots(ctx context.Context, snaps []eventstore.Snapshot) error
	}
	// prefixDeleter deletes all snapshots whose names share a prefix.
	prefixDeleter interface {
		DeleteSnapshotsWithPrefix(ctx context.Context, prefix string) error
	}
)

// saveSnapshots saves a snapshot's rows, in one transaction where the store
// can, else one by one with the head last, so that a head is never saved
// before its chunks.
func saveSnapshots(ctx context.Context, sn eventstore.Snapshotter, rows []eventstore.Snapshot) error {
	if batch, ok := sn.(snapshotBatcher); ok {
		return batch.SaveSnapshots(ctx, rows)
	}
	for _, r := range rows {
		if err := sn.SaveSnapshot(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// deleteSnapshots deletes a stream's snapshot rows: its head, and its chunks
// where the store can find them by name (else a chunk left over is only
// replaced by one of a later snapshot, and until then is a cache miss).
func deleteSnapshots(ctx context.Context, sn eventstore.Snapshotter, stream string) error {
	if d, ok := sn.(prefixDeleter); ok {
		if err := d.DeleteSnapshotsWithPrefix(ctx, chunkPrefix(stream)); err != nil {
			return err
		}
	}
	return sn.DeleteSnapshot(ctx, snapshotName(stream))
}

// snapshotted reports whether the stream's cache knows of a stored snapshot.
func (l *Ledger) snapshotted(stream string) bool {
	c, ok := l.cached(stream)
	if !ok {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snapshotVersion >= 0
}
