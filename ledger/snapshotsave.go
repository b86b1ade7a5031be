package ledger

import (
	"context"
	"errors"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/ledger/snapshotcodec"
)

// Snapshots are saved on writes, by Rebuild, and by SaveDueSnapshots (a
// server's background task), never on a question's path: a read that may
// write queues behind any writer holding the store's write lock (an import,
// another process) and cannot be cancelled while it waits. Saving is best
// effort everywhere: a snapshot is a cache, so a failure to save costs only
// speed and never fails the write that prompted it.

// SavesSnapshots reports whether the ledger can save snapshots: the store
// keeps them and was not opened read-only.
func (l *Ledger) SavesSnapshots() bool {
	if _, ok := eventstore.AsSnapshotter(l.store); !ok {
		return false
	}
	return !eventstore.IsReadOnly(l.store)
}

// SaveDueSnapshots saves the snapshot of every stream the ledger holds in
// its cache whose events reach SnapshotEvery beyond its last snapshot. A
// long-running server calls it from a background task: the streams it
// answers about grow through other processes' writes too, and its queries
// never save. It returns how many snapshots it saved and the first error,
// for the caller to log; it stops when ctx is done.
func (l *Ledger) SaveDueSnapshots(ctx context.Context) (int, error) {
	if !l.SavesSnapshots() {
		return 0, nil
	}
	l.cache.mu.RLock()
	streams := make(map[string]*streamCache, len(l.cache.entries))
	for name, c := range l.cache.entries {
		streams[name] = c
	}
	l.cache.mu.RUnlock()
	saved := 0
	var first error
	for name, c := range streams {
		if err := ctx.Err(); err != nil {
			return saved, err
		}
		ok, err := l.saveSnapshotIfDue(ctx, name, c)
		if ok {
			saved++
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return saved, first
}

// snapshotAfterWrite saves the stream's snapshot when the append that just
// committed, which left the stream at version head, brought it SnapshotEvery
// events beyond its last one. It runs after the append's transaction, never
// inside it, and it reports nothing: the write has succeeded whatever
// happens here. Only when a snapshot is due does it read the records the
// cache lacks (the next write would read them anyway).
func (l *Ledger) snapshotAfterWrite(ctx context.Context, stream string, head int64) {
	c, ok := l.cache.get(stream)
	if !ok || !l.SavesSnapshots() {
		return
	}
	if c.mu.lockCtx(ctx) != nil {
		return
	}
	due := !c.noSnapshots && head-c.snapshotVersion >= SnapshotEvery
	if due {
		_, err := l.catchUp(ctx, stream, c)
		due = err == nil
	}
	c.mu.Unlock()
	if due {
		_, _ = l.saveSnapshotIfDue(ctx, stream, c) // best effort: see above
	}
}

// saveSnapshotIfDue saves the stream's cached events as its snapshot when
// they reach SnapshotEvery beyond the last one, and reports whether it did.
// The caller must not hold c.mu: the events are encoded and saved outside
// it, so a question about the stream never waits for a snapshot's write.
func (l *Ledger) saveSnapshotIfDue(ctx context.Context, stream string, c *streamCache) (bool, error) {
	sn, ok := eventstore.AsSnapshotter(l.store)
	if !ok || !l.SavesSnapshots() {
		return false, nil
	}
	c.mu.Lock()
	// The cache only ever appends, so this view of its events stays as it
	// is while the lock is released.
	events, covered := c.events[:len(c.events):len(c.events)], c.snapshotVersion
	due := !c.noSnapshots && !c.saving && int64(len(events))-1-covered >= SnapshotEvery
	c.saving = c.saving || due
	c.mu.Unlock()
	if !due {
		return false, nil
	}
	err := l.writeSnapshot(ctx, sn, stream, events, covered)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.saving = false
	switch {
	case err == nil:
		c.snapshotVersion = max(c.snapshotVersion, int64(len(events))-1)
	case errors.Is(err, eventstore.ErrReadOnly):
		c.noSnapshots = true // do not encode a snapshot on every write
	}
	return err == nil, err
}

// writeSnapshot stores events, a stream's first events in stream order, as
// its snapshot. covered is the last version the stream's stored snapshot
// was known to cover, -1 for none usable.
func (l *Ledger) writeSnapshot(ctx context.Context, sn eventstore.Snapshotter, stream string, events []domain.Recorded, covered int64) error {
	n := int64(len(events))
	last, err := l.store.ReadStream(ctx, stream, n-1, 1)
	if err != nil {
		return err
	}
	if len(last) != 1 {
		return errors.New("the stream is shorter than the events to snapshot")
	}
	if covered < 0 {
		// Whatever snapshot rows the stream has could not be used (another
		// format, or damaged): a row is only replaced by one covering more
		// events, so clear them for the new snapshot to take their place.
		if err := deleteSnapshots(ctx, sn, stream); err != nil {
			return err
		}
	}
	head, chunks := snapshotcodec.Encode(events)
	rows := make([]eventstore.Snapshot, 0, len(chunks)+1)
	for k, data := range chunks {
		rows = append(rows, eventstore.Snapshot{Name: chunkName(stream, k), Data: data})
	}
	rows = append(rows, eventstore.Snapshot{Name: snapshotName(stream), Data: head})
	for i := range rows {
		rows[i].Stream, rows[i].Version, rows[i].Hash = stream, n-1, last[0].Hash
	}
	return saveSnapshots(ctx, sn, rows)
}

// saveSnapshots saves a snapshot's rows, in one transaction where the store
// can, else one by one with the head last, so that a head is never saved
// before its chunks.
func saveSnapshots(ctx context.Context, sn eventstore.Snapshotter, rows []eventstore.Snapshot) error {
	if batch, ok := eventstore.AsSnapshotBatcher(sn); ok {
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
	if d, ok := eventstore.AsSnapshotPrefixDeleter(sn); ok {
		if err := d.DeleteSnapshotsWithPrefix(ctx, chunkPrefix(stream)); err != nil {
			return err
		}
	}
	return sn.DeleteSnapshot(ctx, snapshotName(stream))
}

// snapshotted reports whether the stream's cache knows of a stored snapshot.
func (l *Ledger) snapshotted(stream string) bool {
	c, ok := l.cache.get(stream)
	if !ok {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snapshotVersion >= 0
}
