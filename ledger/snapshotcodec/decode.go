package snapshotcodec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
)

// ErrMalformed is returned for a snapshot, head or chunk that does not
// decode: damaged, of another format, or holding an event the ledger could
// not have written.
var ErrMalformed = errors.New("malformed snapshot")

// Decode reads what Encode wrote, checking the chunks against the head's
// directory. Every event passes the same invariant checks as events decoded
// from JSON, so a damaged snapshot is rejected rather than folded.
func Decode(head []byte, chunks [][]byte) ([]domain.Recorded, error) {
	h, err := DecodeHead(head, false)
	if err != nil {
		return nil, err
	}
	if len(chunks) != len(h.Chunks) {
		return nil, ErrMalformed
	}
	decoded := make([][]domain.Recorded, len(chunks))
	for k, data := range chunks {
		if Checksum(data) != h.Chunks[k].Sum {
			return nil, ErrMalformed
		}
		if decoded[k], err = DecodeChunk(data, false); err != nil {
			return nil, err
		}
	}
	return Assemble(h, decoded)
}

// DecodeHead reads a snapshot head; with skipMeta its events' metadata is
// left empty, for answers that never show it (a consensus without
// explain): it saves an allocation or two an event.
func DecodeHead(data []byte, skipMeta bool) (Head, error) {
	var h Head
	r := &reader{skipMeta: skipMeta}
	if !r.start(data, headMagic, headMagicInline) {
		return h, ErrMalformed
	}
	total, k := r.uint(), r.uint()
	if r.err != nil || total > math.MaxInt32 || k > uint64(len(r.buf)) {
		return h, ErrMalformed
	}
	h.Total, h.Chunks = int(total), make([]ChunkInfo, k)
	for i := range h.Chunks {
		c := &h.Chunks[i]
		count := r.uint()
		c.MinEffective, c.MaxEffective, c.MinRecorded = r.int(), r.int(), r.int()
		// A count beyond int32 is refused, not clamped: clamped, it would
		// decode to a value the writer never wrote.
		if r.err != nil || count > math.MaxInt32 || len(r.buf) < 8 {
			return h, ErrMalformed
		}
		c.Count = int(count)
		c.Sum, r.buf = binary.BigEndian.Uint64(r.buf), r.buf[8:]
	}
	r.readTable()
	var err error
	if h.Events, err = r.events(); err != nil {
		return h, err
	}
	return h, nil
}

// DecodeChunk reads a chunk's closes; with skipMeta their metadata is left
// empty, as DecodeHead leaves it.
func DecodeChunk(data []byte, skipMeta bool) ([]domain.Recorded, error) {
	r := &reader{skipMeta: skipMeta}
	if !r.startChunk(data) {
		return nil, ErrMalformed
	}
	events, err := r.events()
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		if _, ok := e.Event.(domain.CloseRecorded); !ok {
			return nil, ErrMalformed
		}
	}
	return events, nil
}

// Assemble puts a snapshot's events back in stream order: each event's
// version is its place, and every place must be filled exactly once.
func Assemble(h Head, chunks [][]domain.Recorded) ([]domain.Recorded, error) {
	n := len(h.Events)
	for k, c := range chunks {
		if len(c) != h.Chunks[k].Count {
			return nil, ErrMalformed
		}
		n += len(c)
	}
	if n != h.Total {
		return nil, ErrMalformed
	}
	events := make([]domain.Recorded, n)
	filled := make([]bool, n)
	for _, part := range append([][]domain.Recorded{h.Events}, chunks...) {
		for _, e := range part {
			if e.Version < 0 || e.Version >= int64(n) || filled[e.Version] {
				return nil, ErrMalformed
			}
			events[e.Version], filled[e.Version] = e, true
		}
	}
	return events, nil
}

// reader reads a snapshot, remembering the first error so decoding code
// can read field after field and check once.
type reader struct {
	buf     []byte
	err     error
	strings map[string]string // interned, inline (made at the first): a stream repeats the same few names
	// skipMeta leaves every event's metadata empty (see DecodeHead).
	skipMeta bool
	// In the table format (tabled), the head's or chunk's strings and how
	// many of them the events have referred to so far: the writer adds
	// them in the order of first use, so an event may refer to one of
	// those or to the next, and at the end every one has been used.
	tabled bool
	table  []string
	used   int
}

// start checks data's magic, one of the table format's or the inline
// format's, and reads on after it.
func (r *reader) start(data, tableMagic, inlineMagic []byte) bool {
	switch {
	case bytes.HasPrefix(data, tableMagic):
		r.buf, r.tabled = data[len(tableMagic):], true
	case bytes.HasPrefix(data, inlineMagic):
		r.buf = data[len(inlineMagic):]
	default:
		return false
	}
	return true
}

// startChunk starts reading a chunk: its magic and, in the table format,
// its strings.
func (r *reader) startChunk(data []byte) bool {
	if !r.start(data, chunkMagic, chunkMagicInline) {
		return false
	}
	r.readTable()
	return r.err == nil
}

// readTable reads the string table, in the table format. A string written
// twice is refused: the writer never does, and the same events must have
// one spelling.
func (r *reader) readTable() {
	if !r.tabled {
		return
	}
	n := r.uint()
	if r.err != nil || n > uint64(len(r.buf)) { // every string takes a byte at least
		r.fail()
		return
	}
	r.table = make([]string, n)
	for i := range r.table {
		r.table[i] = string(r.field())
	}
	if r.err == nil && !distinct(r.table) {
		r.fail()
	}
}

// distinct reports whether no string is in list twice. A table usually
// holds a handful (a chunk of one import's closes, five), which are
// compared pairwise rather than through a map made for each chunk read.
func distinct(list []string) bool {
	if len(list) <= 16 {
		for i, s := range list {
			if slices.Contains(list[i+1:], s) {
				return false
			}
		}
		return true
	}
	seen := make(map[string]struct{}, len(list))
	for _, s := range list {
		if _, twice := seen[s]; twice {
			return false
		}
		seen[s] = struct{}{}
	}
	return true
}

// ref reads a reference to a string of the table.
func (r *reader) ref() string {
	i := r.uint()
	switch {
	case r.err != nil:
		return ""
	case i < uint64(r.used):
	case i == uint64(r.used) && r.used < len(r.table):
		r.used++
	default:
		r.fail()
		return ""
	}
	return r.table[i]
}

// events reads what writer.events wrote, up to the end of the data.
func (r *reader) events() ([]domain.Recorded, error) {
	n := r.uint()
	if r.err != nil || n > uint64(len(r.buf)) { // every event takes well over one byte
		return nil, ErrMalformed
	}
	events := make([]domain.Recorded, 0, n)
	for i := uint64(0); i < n && r.err == nil; i++ {
		rec, err := r.event()
		if err != nil {
			return nil, err
		}
		events = append(events, rec)
	}
	if r.err != nil || len(r.buf) != 0 || r.used != len(r.table) {
		return nil, ErrMalformed
	}
	return events, nil
}

// event decodes the event at the reader's position, as writer.event wrote it.
func (r *reader) event() (domain.Recorded, error) {
	var rec domain.Recorded
	rec.ID = r.id()
	rec.Version = r.int()
	rec.RecordedAt = r.time()
	if r.skipMeta {
		r.skipMetadata()
	} else {
		rec.Meta = domain.Metadata{RecordedBy: r.str(), Source: r.unique(), CorrelationID: r.str(), CausationID: r.str()}
	}
	switch kind := r.byte(); kind {
	case kindRating:
		e := domain.RatingAdded{Instrument: domain.Symbol(r.str()), Analyst: domain.Analyst(r.str()), Firm: r.str(),
			Rating: domain.Rating(r.byte()), BrokerRating: r.str()}
		if t := domain.Money(r.int()); t != 0 {
			e.Target = &t
		}
		e.Currency, e.EffectiveAt = domain.Currency(r.str()), r.time()
		rec.Event = e
	case kindTarget:
		rec.Event = domain.TargetRevised{Instrument: domain.Symbol(r.str()), Analyst: domain.Analyst(r.str()),
			Target: domain.Money(r.int()), Currency: domain.Currency(r.str()), EffectiveAt: r.time()}
	case kindWithdrawal:
		rec.Event = domain.RatingWithdrawn{Instrument: domain.Symbol(r.str()), Analyst: domain.Analyst(r.str()), EffectiveAt: r.time()}
	case kindClose:
		rec.Event = domain.CloseRecorded{Instrument: domain.Symbol(r.str()), Price: domain.Money(r.int()),
			Currency: domain.Currency(r.str()), EffectiveAt: r.time()}
	case kindRetraction:
		rec.Event = domain.EventRetracted{Instrument: domain.Symbol(r.str()), Retracted: r.id(), Reason: r.str(), EffectiveAt: r.time()}
	case kindSplit:
		rec.Event = domain.SplitRecorded{Instrument: domain.Symbol(r.str()), Ratio: domain.Ratio{New: r.int(), Old: r.int()}, EffectiveAt: r.time()}
	default:
		r.fail()
	}
	if r.err != nil {
		return domain.Recorded{}, r.err
	}
	if err := domain.CheckEvent(rec.Event); err != nil {
		return domain.Recorded{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return rec, nil
}

func (r *reader) fail() { r.err, r.buf = ErrMalformed, nil }

func (r *reader) byte() byte {
	if len(r.buf) < 1 {
		r.fail()
		return 0
	}
	b := r.buf[0]
	r.buf = r.buf[1:]
	return b
}

// uint reads a varint, refusing overlong encodings so that every snapshot
// has exactly one spelling and verify can compare snapshots byte for byte.
// An encoding is overlong exactly when it has more than one byte and its
// last byte is zero (a group of seven zero bits that need not be written).
func (r *reader) uint() uint64 {
	v, n := binary.Uvarint(r.buf)
	if n <= 0 || (n > 1 && r.buf[n-1] == 0) {
		r.fail()
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

// int reads a zig-zag varint, which is a uvarint underneath: the same check.
func (r *reader) int() int64 {
	v, n := binary.Varint(r.buf)
	if n <= 0 || (n > 1 && r.buf[n-1] == 0) {
		r.fail()
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

func (r *reader) time() time.Time { return time.Unix(0, r.int()).UTC() }

func (r *reader) id() uuid.UUID {
	var id uuid.UUID
	if len(r.buf) < len(id) {
		r.fail()
		return id
	}
	copy(id[:], r.buf)
	r.buf = r.buf[len(id):]
	return id
}

// field reads a length-prefixed string's bytes, still in the buffer.
func (r *reader) field() []byte {
	n := r.uint()
	if r.err != nil || n > uint64(len(r.buf)) {
		r.fail()
		return nil
	}
	b := r.buf[:n]
	r.buf = r.buf[n:]
	return b
}

// skipMetadata reads past an event's metadata: the recorder, the source,
// the correlation and causation ids.
func (r *reader) skipMetadata() {
	r.skipStr()
	if r.tabled {
		r.ref() // the source's part up to its last colon
	}
	r.field()
	r.skipStr()
	r.skipStr()
}

// skipStr reads past a string, written as writer.text writes it.
func (r *reader) skipStr() {
	if r.tabled {
		r.ref()
	} else {
		r.field()
	}
}

// unique reads an event's source, as writer.source wrote it: a string that
// is usually different for every event (import:FILE:LINE), which interning
// would only slow down.
func (r *reader) unique() string {
	if !r.tabled {
		return string(r.field())
	}
	prefix, rest := r.ref(), r.field()
	// One spelling: the prefix is the source up to its last colon.
	if prefix != "" && prefix[len(prefix)-1] != ':' || bytes.IndexByte(rest, ':') >= 0 {
		r.fail()
		return ""
	}
	return prefix + string(rest)
}

// str reads a string, as writer.text wrote it: in the table format by its
// place in the table, inline interned (analysts, firms and currencies
// repeat).
func (r *reader) str() string {
	if r.tabled {
		return r.ref()
	}
	b := r.field()
	if r.strings == nil {
		r.strings = map[string]string{}
	}
	if s, ok := r.strings[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	r.strings[s] = s
	return s
}
