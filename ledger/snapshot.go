package ledger

import (
	"context"
	"fmt"
	"strconv"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/ledger/snapshotcodec"
)

// SnapshotEvery is how many events a stream must have beyond its snapshot
// before the ledger writes a new one (see snapshotsave.go for when). Reading a stream record by record and
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
// instead. With skipMeta the events' metadata is left empty, for a fold
// that never shows it (track records); such events never enter the cache.
func (l *Ledger) loadSnapshot(ctx context.Context, stream string, skipMeta bool) ([]domain.Recorded, error) {
	snap, head, _, ok, err := l.snapshotHead(ctx, stream, 0, skipMeta)
	if err != nil || !ok {
		return nil, err
	}
	data, ok, err := l.loadChunks(ctx, snap, head)
	if err != nil || !ok {
		return nil, err
	}
	chunks := make([][]domain.Recorded, len(data))
	for k := range data {
		if chunks[k], err = snapshotcodec.DecodeChunk(data[k], skipMeta); err != nil {
			return nil, nil
		}
	}
	events, err := snapshotcodec.Assemble(head, chunks)
	if err != nil {
		return nil, nil
	}
	return events, nil
}

// loadChunks returns the data of every chunk of the snapshot whose head is
// snap, in one read when the store loads snapshots by prefix and one read a
// chunk otherwise; ok is false when a chunk is missing or not of that
// snapshot.
func (l *Ledger) loadChunks(ctx context.Context, snap eventstore.Snapshot, head snapshotcodec.Head) ([][]byte, bool, error) {
	data := make([][]byte, len(head.Chunks))
	sn, _ := eventstore.AsSnapshotter(l.store) // snap came from it
	pr, byPrefix := eventstore.AsSnapshotPrefixReader(sn)
	if !byPrefix || len(head.Chunks) == 0 {
		for k, info := range head.Chunks {
			var ok bool
			var err error
			if data[k], ok, err = l.loadChunk(ctx, snap, k, info); err != nil || !ok {
				return nil, false, err
			}
		}
		return data, true, nil
	}
	rows, err := pr.LoadSnapshotsWithPrefix(ctx, chunkPrefix(snap.Stream))
	if err != nil {
		return nil, false, err
	}
	byName := make(map[string]eventstore.Snapshot, len(rows))
	for _, r := range rows {
		byName[r.Name] = r
	}
	for k, info := range head.Chunks {
		chunk, found := byName[chunkName(snap.Stream, k)]
		if !found || !chunkOf(snap, chunk, info) {
			return nil, false, nil
		}
		data[k] = chunk.Data
	}
	return data, true, nil
}

// snapshotHead returns the stream's usable snapshot with its head decoded
// (with skipMeta, without the metadata of its events) and the records
// after it, decoded, when there are fewer than tail (tail 0 reads none).
// ok is false when the caller should read the whole stream instead: no
// usable snapshot (none saved, one of another chain, or a head that does
// not decode or does not cover the stream up to its version), or, with
// tail above 0, tail records or more after it.
func (l *Ledger) snapshotHead(ctx context.Context, stream string, tail int, skipMeta bool) (eventstore.Snapshot, snapshotcodec.Head, []domain.Recorded, bool, error) {
	var none snapshotcodec.Head
	snap, recs, ok, err := l.storedSnapshot(ctx, stream, tail)
	if err != nil || !ok || tail > 0 && len(recs) == tail {
		return eventstore.Snapshot{}, none, nil, false, err
	}
	head, err := snapshotcodec.DecodeHead(snap.Data, skipMeta)
	if err != nil || int64(head.Total) != snap.Version+1 {
		return eventstore.Snapshot{}, none, nil, false, nil // a damaged cache: the stream itself
	}
	after := make([]domain.Recorded, len(recs))
	for i, rec := range recs {
		if after[i], err = decode(rec); err != nil {
			return eventstore.Snapshot{}, none, nil, false, err
		}
	}
	return snap, head, after, true, nil
}

// storedSnapshot returns the stream's stored snapshot head when its last
// record is the stream's record at that version, with that hash, and, in
// the same read, up to tail of the records after it.
func (l *Ledger) storedSnapshot(ctx context.Context, stream string, tail int) (eventstore.Snapshot, []eventstore.Record, bool, error) {
	sn, ok := eventstore.AsSnapshotter(l.store)
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
	sn, _ := eventstore.AsSnapshotter(l.store) // snap came from it
	chunk, found, err := sn.LoadSnapshot(ctx, chunkName(snap.Stream, k))
	if err != nil || !found {
		return nil, false, err
	}
	if !chunkOf(snap, chunk, info) {
		return nil, false, nil
	}
	return chunk.Data, true, nil
}

// chunkOf reports whether chunk, stored under a chunk's name, belongs to
// the snapshot whose head is snap, where the head's directory describes it
// by info.
func chunkOf(snap, chunk eventstore.Snapshot, info snapshotcodec.ChunkInfo) bool {
	return chunk.Stream == snap.Stream && chunk.Version == snap.Version && chunk.Hash == snap.Hash && snapshotcodec.Checksum(chunk.Data) == info.Sum
}
