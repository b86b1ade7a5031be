package eventstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Hash computes a record's link in its stream's hash chain:
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
	// One buffer for every field but the data, on the stack: hashing is on
	// the path of every append, and a bulk import appends millions.
	var buf [256]byte
	b := append(buf[:0], prev[:]...)
	b = appendField(b, []byte(id))
	b = appendField(b, []byte(typ))
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	h := sha256.New()
	h.Write(b)
	h.Write(data)
	b = buf[:0]
	b = appendTimeField(b, effectiveAt)
	b = appendTimeField(b, recordedAt)
	h.Write(b)
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// appendField appends x's length as a 4-byte big-endian integer and x.
func appendField(b, x []byte) []byte {
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

// RecordHash computes r's hash from prev and r's own fields.
func RecordHash(prev [32]byte, r Record) [32]byte {
	return Hash(prev, r.ID.String(), r.Type, r.Data, r.EffectiveAt, r.RecordedAt)
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
	next   int64
	prev   [32]byte
	last   time.Time
}

// Check verifies the next record of the stream: its number, its link to the
// previous record, its own hash and the order of recorded times.
func (v *ChainVerifier) Check(r Record) error {
	fail := func(problem string) error {
		return &ChainError{Stream: v.Stream, Version: v.next, Record: r, Problem: problem}
	}
	switch {
	case r.Version != v.next:
		return fail(fmt.Sprintf("is numbered %d: an event is missing or out of order", r.Version))
	case !bytes.Equal(r.PrevHash[:], v.prev[:]):
		return fail("does not link to the previous event's hash")
	case RecordHash(v.prev, r) != r.Hash:
		return fail("does not match its hash: its content or times were changed")
	case r.RecordedAt.Before(v.last):
		return fail("was recorded before the previous event")
	}
	v.next++
	v.prev = r.Hash
	v.last = r.RecordedAt
	return nil
}

// Count is how many records passed Check.
func (v *ChainVerifier) Count() int64 { return v.next }

// VerifyStream reads a whole stream in pages and checks its hash chain. It
// returns the number of records checked, the hash of the last one, and a
// *ChainError for the first bad record. It reads until a page comes back
// empty, so a backend that returns short pages cannot cut the check short.
func VerifyStream(ctx context.Context, s Store, stream string) (int64, [32]byte, error) {
	v := &ChainVerifier{Stream: stream}
	const page = 4096
	for {
		recs, err := s.ReadStream(ctx, stream, v.Count(), page)
		if err != nil {
			return v.Count(), v.prev, fmt.Errorf("read %s: %w", stream, err)
		}
		if len(recs) == 0 {
			return v.Count(), v.prev, nil
		}
		for _, r := range recs {
			if err := v.Check(r); err != nil {
				return v.Count(), v.prev, err
			}
		}
	}
}
