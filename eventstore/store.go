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
// Optional capabilities, such as listing streams, are declared and
// discovered in one place, capabilities.go, by type assertion, as
// database/sql/driver declares them and database/sql discovers them in one
// file.
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
