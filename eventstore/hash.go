package eventstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Chain versions: which rule a record's hash was computed with. Every record
// says which (Record.Chain), so a store may mix them and still verify.
const (
	// ChainV1 hashes the id, type, data and both times (Hash). Records
	// stored before chain version 2 keep it.
	ChainV1 = 1
	// ChainV2 hashes the metadata too (HashV2): who recorded the event,
	// from what source, with which correlation and causation ids.
	ChainV2 = 2
	// CurrentChain is the version every new record is hashed with.
	CurrentChain = ChainV2
)

// KnownChain reports whether v is a chain version this program can verify.
func KnownChain(v int) bool { return v == ChainV1 || v == ChainV2 }

// Hash computes a record's link in its stream's hash chain, version 1:
//
//	SHA-256(prev || field(id) || field(type) || field(data) || field(effective_at) || field(recorded_at))
//
// where prev is the previous record's hash (32 zero bytes for a stream's first
// record) and field(x) is x's length as a 4-byte big-endian integer followed by
// x's bytes. The id is its 36-character lower-case text; both times are RFC
// 3339 in UTC with as many fractional digits as needed (Go's RFC3339Nano).
// Length prefixes make the encoding unambiguous: no two different records
// hash the same bytes.
func Hash(prev [32]byte, id, typ string, data []byte, effectiveAt, recordedAt time.Time) [32]byte {
	var buf [messageOnStack]byte
	return sha256.Sum256(appendV1(buf[:0], prev, id, typ, data, effectiveAt, recordedAt))
}

// HashV2 computes a record's link in its stream's hash chain, version 2:
// the bytes of version 1 followed by field(metadata), the record's metadata
// exactly as stored (an empty field when it has none):
//
//	SHA-256(prev || field(id) || field(type) || field(data) || field(effective_at) || field(recorded_at) || field(metadata))
//
// The ledger writes metadata as compact JSON with the keys in a fixed order
// (recorded_by, source, correlation_id, causation_id, each left out when
// empty), so the bytes hashed are the bytes any reader of the store sees,
// and a third party recomputes the hash from them without re-encoding.
func HashV2(prev [32]byte, id, typ string, data []byte, effectiveAt, recordedAt time.Time, metadata []byte) [32]byte {
	var buf [messageOnStack]byte
	return sha256.Sum256(appendField(appendV1(buf[:0], prev, id, typ, data, effectiveAt, recordedAt), metadata))
}

// messageOnStack is the size of the buffer the hashed bytes are gathered
// in on the stack: a bulk import hashes millions of records, and gathered
// in one buffer they are hashed in one call, with nothing allocated (a
// SHA-256 state and the id's text took two allocations a record). Larger
// records spill to the heap.
const messageOnStack = 768

// appendV1 appends version 1's bytes: prev, then each field.
func appendV1[ID string | []byte](b []byte, prev [32]byte, id ID, typ string, data []byte, effectiveAt, recordedAt time.Time) []byte {
	b = append(b, prev[:]...)
	b = appendField(b, id)
	b = appendField(b, typ)
	b = appendField(b, data)
	b = appendTimeField(b, effectiveAt)
	return appendTimeField(b, recordedAt)
}

// idText writes id's 36-character lower-case text, as id.String gives it,
// into text and returns it: unlike id.String, it allocates nothing.
func idText(text *[36]byte, id uuid.UUID) []byte {
	hex.Encode(text[:8], id[:4])
	text[8] = '-'
	hex.Encode(text[9:13], id[4:6])
	text[13] = '-'
	hex.Encode(text[14:18], id[6:8])
	text[18] = '-'
	hex.Encode(text[19:23], id[8:10])
	text[23] = '-'
	hex.Encode(text[24:], id[10:])
	return text[:]
}

// appendField appends x's length as a 4-byte big-endian integer and x.
func appendField[T string | []byte](b []byte, x T) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(x)))
	return append(b, x...)
}

// appendTimeField appends t as a field in RFC 3339 (UTC, RFC3339Nano).
func appendTimeField(b []byte, t time.Time) []byte {
	at := len(b)
	b = append(b, 0, 0, 0, 0)
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	binary.BigEndian.PutUint32(b[at:], uint32(len(b)-at-4))
	return b
}

// RecordHash computes r's hash from prev and r's own fields, by the rule of
// r's chain version: HashV2 for ChainV2, Hash for any other (the checks
// that read records refuse a version KnownChain does not know first).
func RecordHash(prev [32]byte, r Record) [32]byte {
	var buf [messageOnStack]byte
	var id [36]byte
	b := appendV1(buf[:0], prev, idText(&id, r.ID), r.Type, r.Data, r.EffectiveAt, r.RecordedAt)
	if r.Chain == ChainV2 {
		b = appendField(b, r.Metadata)
	}
	return sha256.Sum256(b)
}

// ChainError reports the first record of a stream whose hash chain breaks.
type ChainError struct {
	Stream  string
	Version int64 // the version the record should have
	Record  Record
	Problem string
}

func (e *ChainError) Error() string {
	if e.Record.ID == uuid.Nil { // no record to name: events are missing
		return fmt.Sprintf("%s: event %d %s", e.Stream, e.Version, e.Problem)
	}
	return fmt.Sprintf("%s: event %d (%s) %s", e.Stream, e.Version, e.Record.ID, e.Problem)
}

// ChainVerifier checks a stream's records one at a time, in stream order, so a
// stream of any length is verified in constant memory.
type ChainVerifier struct {
	Stream string
	// NotAfter, when set, is the latest recorded time a record may have:
	// the first record recorded later is kept in Future. Verify sets it to
	// its clock plus MaxClockLead, so that an event recorded by a machine
	// whose clock ran ahead (and which hides every later event of its
	// stream until then) is reported, not passed.
	NotAfter time.Time
	// Future is the first record recorded after NotAfter, if any.
	Future *Record

	next   int64
	prev   [32]byte
	last   time.Time
	chain  int
	counts [ChainV2 + 1]int64
}

// Check verifies the next record of the stream: its number, its chain
// version, its link to the previous record, its own hash and the order of
// recorded times.
func (v *ChainVerifier) Check(r Record) error {
	fail := func(problem string) error {
		return &ChainError{Stream: v.Stream, Version: v.next, Record: r, Problem: problem}
	}
	switch {
	case r.Version != v.next:
		return fail(fmt.Sprintf("is numbered %d: an event is missing or out of order", r.Version))
	case !KnownChain(r.Chain):
		return fail(fmt.Sprintf("says it was hashed with chain version %d, which this program does not know", r.Chain))
	case r.Chain < v.chain:
		// The ledger never writes an older version after a newer one: a
		// record moved back to version 1 would escape the metadata check.
		return fail(fmt.Sprintf("says it was hashed with chain version %d, after an event of version %d", r.Chain, v.chain))
	case !bytes.Equal(r.PrevHash[:], v.prev[:]):
		return fail("does not link to the previous event's hash")
	case RecordHash(v.prev, r) != r.Hash && r.Chain == ChainV2:
		return fail("does not match its hash: its content, times or metadata (recorded_by, source, correlation or causation id) were changed")
	case RecordHash(v.prev, r) != r.Hash:
		return fail("does not match its hash: its content or times were changed")
	case r.RecordedAt.Before(v.last):
		return fail("was recorded before the previous event")
	}
	if v.Future == nil && !v.NotAfter.IsZero() && r.RecordedAt.After(v.NotAfter) {
		future := r
		v.Future = &future
	}
	v.next++
	v.prev = r.Hash
	v.last = r.RecordedAt
	v.chain = r.Chain
	v.counts[r.Chain]++
	return nil
}

// Count is how many records passed Check.
func (v *ChainVerifier) Count() int64 { return v.next }

// ChainSummary is what a stream's verified chain ends with.
type ChainSummary struct {
	Events         int64
	Head           [32]byte  // the last record's hash; zero for an empty stream
	LastRecordedAt time.Time // the last record's recorded time
	// ByChain counts the records of each chain version (index 1 and 2).
	ByChain [ChainV2 + 1]int64
	// Future is the first record recorded after the verifier's NotAfter.
	Future *Record
}

// Summary is what the records checked so far end with.
func (v *ChainVerifier) Summary() ChainSummary {
	return ChainSummary{Events: v.next, Head: v.prev, LastRecordedAt: v.last, ByChain: v.counts, Future: v.Future}
}

// VerifyStream reads a whole stream in pages and checks its hash chain. It
// returns the number of records checked, the hash of the last one, and a
// *ChainError for the first bad record.
func VerifyStream(ctx context.Context, s Store, stream string) (int64, [32]byte, error) {
	sum, err := VerifyChain(ctx, s, &ChainVerifier{Stream: stream})
	return sum.Events, sum.Head, err
}

// VerifyChain reads v's stream from the start in pages and checks every
// record with v. It reads until a page comes back empty, so a backend that
// returns short pages cannot cut the check short.
func VerifyChain(ctx context.Context, s Store, v *ChainVerifier) (ChainSummary, error) {
	const page = 4096
	for {
		recs, err := s.ReadStream(ctx, v.Stream, v.Count(), page)
		if err != nil {
			return v.Summary(), fmt.Errorf("read %s: %w", v.Stream, err)
		}
		if len(recs) == 0 {
			return v.Summary(), nil
		}
		for _, r := range recs {
			if err := v.Check(r); err != nil {
				return v.Summary(), err
			}
		}
	}
}
