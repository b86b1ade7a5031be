package eventstore

// The optional capabilities of a Store: what each adds, which backends
// implement it, and the one place they are discovered. Every backend asserts
// the ones it implements with var _ lines, and eventstore/storetest tests
// each one a store implements.

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
)

// StreamBatch is one stream's part of a multi-stream append.
type StreamBatch struct {
	Stream   string
	Expected Version
	Events   []EventData
}

// BatchAppender is implemented by stores that can append to several streams
// in one atomic transaction. Bulk imports use it so that many small
// instruments cost one commit, not one each.
//
// It is implemented by eventstore/sqlite.
type BatchAppender interface {
	// AppendBatches appends every batch, each with Append's rules (expected
	// version, replay, duplicate ids), all or nothing: if any batch fails,
	// nothing is written and the error names its stream. The results are in
	// the order of the batches.
	AppendBatches(ctx context.Context, batches []StreamBatch) ([]AppendResult, error)
}

// EventReader is implemented by stores that read a stream faster when the
// fields only the hash chain needs are left out. ReadStreamEvents is
// ReadStream with Position, PrevHash, Hash and Chain left zero; the ledger
// replays streams through it, and reads the chain with ReadStream.
//
// It is implemented by eventstore/sqlite.
type EventReader interface {
	ReadStreamEvents(ctx context.Context, stream string, from int64, limit int) ([]Record, error)
}

// StreamInfo summarises one stream.
type StreamInfo struct {
	Stream         string
	Events         int64 // number of records
	Version        int64 // version of the last record
	LastRecordedAt time.Time
	// LastHash is the hash of the stream's last record, as the store keeps
	// it apart from the records: verify compares the end of the chain with
	// it, so removing records from the end of a stream is detected too.
	LastHash [32]byte
}

// StreamLister is implemented by stores that can list their streams without
// reading every record.
//
// It is implemented by eventstore/sqlite and eventstore/esdb.
type StreamLister interface {
	// Streams lists every stream, ordered by name.
	Streams(ctx context.Context) ([]StreamInfo, error)
}

// Finder is implemented by stores that can find one record by id without
// reading every record.
//
// It is implemented by eventstore/sqlite and eventstore/esdb.
type Finder interface {
	// Find returns the record with the given id, or ErrEventNotFound.
	Find(ctx context.Context, id uuid.UUID) (Record, error)
}

// Snapshot is derived data kept beside a stream's records so readers need not
// decode the whole stream again: the ledger stores its decoded events in
// one. It covers the stream's records up to Version, whose hash it names, so
// a reader can check it belongs to the chain it is read with.
type Snapshot struct {
	Name    string // the snapshot's key; one snapshot per name
	Stream  string
	Version int64    // the last record covered
	Hash    [32]byte // that record's hash
	Data    []byte
}

// Snapshotter is implemented by stores that keep snapshots. Snapshots are a
// cache: losing one loses no information, and they are never part of the
// hash chain.
//
// It is implemented by eventstore/sqlite.
type Snapshotter interface {
	// LoadSnapshot returns the named snapshot; ok is false when there is none.
	LoadSnapshot(ctx context.Context, name string) (snap Snapshot, ok bool, err error)
	// SaveSnapshot stores s unless a snapshot of the same name already
	// covers as many records or more.
	SaveSnapshot(ctx context.Context, s Snapshot) error
	// DeleteSnapshot removes the named snapshot, if there is one.
	DeleteSnapshot(ctx context.Context, name string) error
}

// Copier is implemented by stores that can take records copied from another
// store with everything that identifies them kept: id, type, data, metadata,
// effective time, recorded time and hash. consensus copy uses it, so a ledger
// moved to another backend verifies against the same chain heads.
//
// It is implemented by eventstore/sqlite and eventstore/esdb.
type Copier interface {
	// AppendCopies appends records, which must be consecutive records of
	// one stream starting at expected+1 (their Version fields say so), as
	// one atomic batch. The store keeps each record's RecordedAt as given
	// and recomputes its hash with RecordHash from the stream's last hash:
	// a record whose Hash or PrevHash differs, whose Version is not the
	// next, or whose RecordedAt is earlier than the stream's last is
	// refused with ErrInvalidEvent and nothing is written. Records already
	// stored identically (same id, version and hash) are a replay, as in
	// Append, so an interrupted copy can be run again.
	AppendCopies(ctx context.Context, stream string, expected Version, records []Record) (AppendResult, error)
}

// AppendLimiter is implemented by stores that refuse an append above some
// size, as EventStoreDB and KurrentDB refuse one larger than their
// MaxAppendSize. Callers that append many events at once (an import, a copy)
// split their batches so that each part fits; every part is still one
// atomic append, so an interrupted run leaves whole parts only.
//
// It is implemented by eventstore/esdb.
type AppendLimiter interface {
	// MaxAppendBytes is the most one Append or AppendCopies may carry,
	// each event counted as AppendBytes counts it. A single event above it
	// is sent alone, for the store to accept or refuse.
	MaxAppendBytes() int

	// AppendBytes is what event e counts towards MaxAppendBytes: its data
	// and metadata as the store will send them, with whatever the store
	// adds to each event (its recorded time, hashes, ...), at most.
	AppendBytes(e EventData) int
}

// Subscriber is implemented by stores that push records as they are
// committed, so long-running readers (consensus serve) keep their read
// models current without polling.
//
// It is implemented by eventstore/esdb.
type Subscriber interface {
	// SubscribeAll calls fn with every record positioned after the given
	// position, in store order: first those already stored, then each new
	// one as it is committed, until ctx is done or fn returns an error. It
	// returns fn's error, or ctx's error once ctx is done.
	SubscribeAll(ctx context.Context, after Position, fn func(Record) error) error
}

// ReadOnlyReporter is implemented by stores that can be opened read-only and
// say so, so that callers skip work whose only point is a write (the ledger
// encodes no snapshot it could not save).
//
// It is implemented by eventstore/sqlite and eventstore/esdb.
type ReadOnlyReporter interface {
	// ReadOnly reports whether the store was opened read-only: every
	// Append then fails with ErrReadOnly.
	ReadOnly() bool
}

// SnapshotBatcher is implemented by Snapshotters that save several
// snapshots in one transaction: one wait for the disk instead of one a
// snapshot (the ledger keeps a stream's snapshot in a dozen rows).
//
// It is implemented by eventstore/sqlite.
type SnapshotBatcher interface {
	// SaveSnapshots saves every snapshot, each as SaveSnapshot does, all
	// or nothing.
	SaveSnapshots(ctx context.Context, snaps []Snapshot) error
}

// SnapshotPrefixDeleter is implemented by Snapshotters that can delete every
// snapshot whose name starts with a prefix, which a caller that keeps one
// stream's snapshot in several rows needs to clear them all.
//
// It is implemented by eventstore/sqlite.
type SnapshotPrefixDeleter interface {
	// DeleteSnapshotsWithPrefix deletes every snapshot whose name starts
	// with prefix; none is not an error.
	DeleteSnapshotsWithPrefix(ctx context.Context, prefix string) error
}

// HeadReader is implemented by stores that say where the store as a whole
// stands in one cheap read: the position of its last record. Every append
// and every copied record moves it forward, so a reader holding an answer
// computed at one head knows the store has not changed while the head is
// the same, without listing every stream (a warm `show --top` checks its
// cached track records so).
//
// It is implemented by eventstore/sqlite.
type HeadReader interface {
	// Head returns the Position of the store's last record, the zero
	// Position when the store has none.
	Head(ctx context.Context) (Position, error)
}

// SnapshotPrefixReader is implemented by Snapshotters that load every
// snapshot whose name starts with a prefix in one read: a caller that keeps
// one stream's snapshot in several rows (the ledger's chunks of closes)
// takes them all at once instead of one query a row.
//
// It is implemented by eventstore/sqlite.
type SnapshotPrefixReader interface {
	// LoadSnapshotsWithPrefix returns every snapshot whose name starts
	// with prefix, ordered by name; none is not an error.
	LoadSnapshotsWithPrefix(ctx context.Context, prefix string) ([]Snapshot, error)
}

// IDChecker is implemented by stores that keep the index that makes event
// ids unique apart from the events themselves, where a tool editing the
// store could make the two disagree and let an id be stored twice. verify
// asks it as well as checking the hash chains, which cannot see a repeated
// id in another stream.
//
// It is implemented by eventstore/sqlite.
type IDChecker interface {
	// CheckIDs returns nil when every stored id is stored once and the
	// index agrees with the events, and otherwise an error wrapping
	// ErrIDIndex that says what disagrees.
	CheckIDs(ctx context.Context) error
}

// ErrIDIndex is CheckIDs' error: the store's index of event ids disagrees
// with its events.
var ErrIDIndex = errors.New("the index of event ids disagrees with the events")

// The capabilities are discovered only here, by type assertion, as
// database/sql discovers a driver's in one file (ctxutil.go): a caller asks
// As<Capability>(s) and falls back to the Store methods when ok is false.

// AsBatchAppender returns s as a BatchAppender if it is one.
func AsBatchAppender(s Store) (BatchAppender, bool) { c, ok := s.(BatchAppender); return c, ok }

// AsEventReader returns s as an EventReader if it is one.
func AsEventReader(s Store) (EventReader, bool) { c, ok := s.(EventReader); return c, ok }

// AsStreamLister returns s as a StreamLister if it is one.
func AsStreamLister(s Store) (StreamLister, bool) { c, ok := s.(StreamLister); return c, ok }

// AsFinder returns s as a Finder if it is one.
func AsFinder(s Store) (Finder, bool) { c, ok := s.(Finder); return c, ok }

// AsSnapshotter returns s as a Snapshotter if it is one.
func AsSnapshotter(s Store) (Snapshotter, bool) { c, ok := s.(Snapshotter); return c, ok }

// AsCopier returns s as a Copier if it is one.
func AsCopier(s Store) (Copier, bool) { c, ok := s.(Copier); return c, ok }

// AsAppendLimiter returns s as an AppendLimiter if it is one.
func AsAppendLimiter(s Store) (AppendLimiter, bool) { c, ok := s.(AppendLimiter); return c, ok }

// AsSubscriber returns s as a Subscriber if it is one.
func AsSubscriber(s Store) (Subscriber, bool) { c, ok := s.(Subscriber); return c, ok }

// AsReadOnlyReporter returns s as a ReadOnlyReporter if it is one.
func AsReadOnlyReporter(s Store) (ReadOnlyReporter, bool) {
	c, ok := s.(ReadOnlyReporter)
	return c, ok
}

// IsReadOnly reports whether s says it was opened read-only; a store that
// cannot say is taken to be writable, and its writes report ErrReadOnly.
func IsReadOnly(s Store) bool {
	ro, ok := AsReadOnlyReporter(s)
	return ok && ro.ReadOnly()
}

// AsSnapshotBatcher returns sn as a SnapshotBatcher if it is one.
func AsSnapshotBatcher(sn Snapshotter) (SnapshotBatcher, bool) {
	c, ok := sn.(SnapshotBatcher)
	return c, ok
}

// AsSnapshotPrefixDeleter returns sn as a SnapshotPrefixDeleter if it is one.
func AsSnapshotPrefixDeleter(sn Snapshotter) (SnapshotPrefixDeleter, bool) {
	c, ok := sn.(SnapshotPrefixDeleter)
	return c, ok
}

// AsHeadReader returns s as a HeadReader if it is one.
func AsHeadReader(s Store) (HeadReader, bool) { c, ok := s.(HeadReader); return c, ok }

// AsIDChecker returns s as an IDChecker if it is one.
func AsIDChecker(s Store) (IDChecker, bool) { c, ok := s.(IDChecker); return c, ok }

// AsSnapshotPrefixReader returns sn as a SnapshotPrefixReader if it is one.
func AsSnapshotPrefixReader(sn Snapshotter) (SnapshotPrefixReader, bool) {
	c, ok := sn.(SnapshotPrefixReader)
	return c, ok
}
