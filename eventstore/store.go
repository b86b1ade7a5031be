// Package eventstore defines the append-only store the ledger keeps its events
// in, independent of any database.
//
// A Store keeps records the way database/sql keeps rows: it knows ids, types,
// opaque data and metadata, two times and a hash chain, but nothing of ratings
// or prices. Streams are append-only sequences of records numbered from 0;
// every record also has a Position in the store as a whole. A backend assigns
// RecordedAt (transaction time) inside the append, never later than any
// earlier record of the same stream, and links each stream's records into a
// SHA-256 hash chain (see Hash) so that tampering is detectable.
//
// Backends live in subpackages (eventstore/sqlite, ...) and prove they honour
// this contract by running the conformance suite in eventstore/storetest.
// Optional capabilities, such as listing streams, are discovered by type
// assertion, as database/sql/driver does.
package eventstore

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
)

// Version is a stream's revision: the number of its last record, counting from
// 0. The special values NoStream and Any are accepted as expectations.
type Version int64

const (
	// NoStream expects the stream to have no records yet.
	NoStream Version = -1
	// Any accepts the stream at whatever version it is.
	Any Version = -2
)

// Position orders records across the whole store. Zero is before the first
// record. Commit orders transactions; Prepare orders records within one (for
// backends that do not distinguish them, both are the same sequence number).
type Position struct {
	Commit  uint64
	Prepare uint64
}

// Less reports whether p comes before q in store order.
func (p Position) Less(q Position) bool {
	return p.Commit < q.Commit || p.Commit == q.Commit && p.Prepare < q.Prepare
}

// EventData is a record as the caller proposes it.
type EventData struct {
	ID          uuid.UUID // unique in the whole store; the caller chooses it
	Type        string
	Data        []byte // the event's content, as stored and hashed
	Metadata    []byte // how the ledger learned it; JSON, hashed from chain version 2 on
	EffectiveAt time.Time
}

// Record is a stored event.
type Record struct {
	EventData
	Stream     string
	Version    int64 // number within the stream, from 0
	Position   Position
	RecordedAt time.Time // assigned by the store at append
	PrevHash   [32]byte  // Hash of the previous record in the stream; zero for the first
	Hash       [32]byte
	// Chain is the version of the rule Hash was computed with (ChainV1,
	// ChainV2): a store assigns CurrentChain at append and keeps a copied
	// record's own.
	Chain int
}

// AppendResult is what Append stored.
type AppendResult struct {
	// Records are the appended records in order, as stored.
	Records []Record
	// Replayed is true when every event of the batch was already stored,
	// identical, in this stream: nothing was written and Records are the
	// earlier copies. It makes a retried append after a lost reply harmless.
	Replayed bool
}

// Store is an append-only event store. Implementations are safe for
// concurrent use by multiple goroutines.
type Store interface {
	// Append adds events to the end of stream as one atomic batch, if the
	// stream is at the expected version. A batch whose events are all
	// already stored identically in the stream is a replay: it succeeds
	// without writing. An empty batch is an error.
	Append(ctx context.Context, stream string, expected Version, events []EventData) (AppendResult, error)

	// ReadStream returns up to limit records of stream with Version >= from,
	// in stream order. A stream with no records gives an empty result. A
	// limit <= 0 means no limit.
	ReadStream(ctx context.Context, stream string, from int64, limit int) ([]Record, error)

	// ReadAll returns up to limit records positioned after the given
	// position, in store order. A limit <= 0 means no limit.
	ReadAll(ctx context.Context, after Position, limit int) ([]Record, error)

	// Close releases the store's resources.
	Close() error
}

// StreamBatch is one stream's part of a multi-stream append.
type StreamBatch struct {
	Stream   string
	Expected Version
	Events   []EventData
}

// BatchAppender is implemented by stores that can append to several streams
// in one atomic transaction. Bulk imports use it so that many small
// instruments cost one commit, not one each.
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
type StreamLister interface {
	// Streams lists every stream, ordered by name.
	Streams(ctx context.Context) ([]StreamInfo, error)
}

// Finder is implemented by stores that can find one record by id without
// reading every record.
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
type Subscriber interface {
	// SubscribeAll calls fn with every record positioned after the given
	// position, in store order: first those already stored, then each new
	// one as it is committed, until ctx is done or fn returns an error. It
	// returns fn's error, or ctx's error once ctx is done.
	SubscribeAll(ctx context.Context, after Position, fn func(Record) error) error
}

// Errors a Store returns; test for them with errors.Is.
var (
	// ErrWrongVersion is returned by Append when the stream is not at the
	// expected version: another writer appended first. Re-read and retry.
	ErrWrongVersion = errors.New("stream is not at the expected version")

	// ErrDuplicateID is returned by Append when an event id of the batch is
	// already stored with different content or in another stream, or when
	// only part of the batch is already stored.
	ErrDuplicateID = errors.New("event id is already stored")

	// ErrEmptyBatch is returned by Append when called with no events.
	ErrEmptyBatch = errors.New("append of an empty batch")

	// ErrInvalidEvent is returned by Append when an event lacks an id, a
	// type or data, or has a zero effective time.
	ErrInvalidEvent = errors.New("invalid event")

	// ErrEventNotFound is returned by Finder.Find when no record has the id.
	ErrEventNotFound = errors.New("event not found")

	// ErrNotLedger is returned when opening a store whose storage exists but
	// was not made by this ledger; the storage is left untouched.
	ErrNotLedger = errors.New("not a consensus ledger")

	// ErrReadOnly is returned by Append on a store opened read-only.
	ErrReadOnly = errors.New("store is read-only")
)
