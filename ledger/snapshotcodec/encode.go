package snapshotcodec

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
)

// headMagic starts every snapshot head; its last byte is the format
// version. chunkMagic starts every chunk. Snapshots are written in the
// table format; the inline format's magics (headMagicInline,
// chunkMagicInline) are still read, and written only to compare a stored
// snapshot of that format (EncodeLike).
var (
	headMagic        = []byte("consensus-decoded-events\x03")
	chunkMagic       = []byte("consensus-closes\x02")
	headMagicInline  = []byte("consensus-decoded-events\x02")
	chunkMagicInline = []byte("consensus-closes\x01")
)

// format is how a snapshot spells its strings.
//
// The inline format writes every string in full where it occurs. The
// table format writes each head's or chunk's distinct strings once, in a
// table before its events, in the order of their first use, and an event
// refers to a string by its place in the table; an event's source, which
// differs from event to event (import:FILE:LINE), is written as a reference
// to what precedes its last colon, then the rest in full. A close of an
// import took 123 bytes inline, 56 of them its metadata's strings; the
// table format roughly halves what an import writes to snapshots.
type format bool

const (
	inline format = false
	table  format = true
)

// ClosesPerChunk is how many closes a chunk holds: a year of daily closes,
// so a question usually reads one chunk of about 15 kilobytes. (512 was
// measured too: show --all on a 1,000,340-event store took 0.49 s of CPU
// against 0.41 s, averaged over four runs on a busy machine.)
const ClosesPerChunk = 256

// Event kinds in a snapshot.
const (
	kindRating byte = iota + 1
	kindTarget
	kindWithdrawal
	kindClose
	kindRetraction
	kindSplit // added with splits: snapshots without one are unchanged
)

// ChunkInfo is the head's entry for one chunk: what choosing the chunks a
// question needs takes, and the checksum of the chunk's data.
type ChunkInfo struct {
	Count        int
	MinEffective int64 // Unix nanoseconds, as the events encode times
	MaxEffective int64
	MinRecorded  int64
	Sum          uint64
}

// Head is a decoded head: the number of events the snapshot covers, its
// chunks, and the events kept in the head, in stream order.
type Head struct {
	Total  int
	Chunks []ChunkInfo
	Events []domain.Recorded
}

// Checksum is a chunk's checksum, the first 8 bytes of its SHA-256: it
// tells a chunk of this snapshot from one left by another; the chain hash in
// every row already ties the snapshot to the stream. (FNV-1a, a byte at a
// time, cost 6 % of show --all on the 14-million-event store; SHA-256 runs
// on the processor's SHA instructions.)
func Checksum(data []byte) uint64 {
	sum := sha256.Sum256(data)
	return binary.BigEndian.Uint64(sum[:8])
}

// Encode encodes events (a stream's, in stream order) as a head and its
// chunks: every close but the stream's first, and but those a retraction
// names, goes in a chunk, ClosesPerChunk a chunk; the other events are
// kept in the head. It writes each event where it goes straight from
// events, without gathering the kept events and the closes first: the
// copies took more memory than the snapshot, a snapshot of each instrument
// falls due during an import, and the import's writer encodes it.
func Encode(events []domain.Recorded) (head []byte, chunks [][]byte) {
	return encode(events, table)
}

// EncodeLike encodes events as Encode does, in the format of stored, a
// snapshot head: verify compares a stored snapshot with the same events
// encoded afresh, byte for byte, and a snapshot saved before the table
// format must compare equal to its events too.
func EncodeLike(stored []byte, events []domain.Recorded) (head []byte, chunks [][]byte) {
	return encode(events, format(!bytes.HasPrefix(stored, headMagicInline)))
}

func encode(events []domain.Recorded, f format) (head []byte, chunks [][]byte) {
	named := map[uuid.UUID]bool{}
	for _, r := range events {
		if x, ok := r.Event.(domain.EventRetracted); ok {
			named[x.Retracted] = true
		}
	}
	inChunk := make([]bool, len(events))
	closes := 0
	firstClose := true
	for i := range events {
		r := &events[i]
		if _, ok := r.Event.(domain.CloseRecorded); ok {
			inChunk[i] = !firstClose && !named[r.ID]
			firstClose = false
			if inChunk[i] {
				closes++
			}
		}
	}
	var infos []ChunkInfo
	var w *writer
	var info ChunkInfo
	written := 0
	for i := range events {
		if !inChunk[i] {
			continue
		}
		r := &events[i]
		if w == nil {
			n := min(ClosesPerChunk, closes-ClosesPerChunk*len(chunks))
			w = newChunkWriter(n, f)
			info = ChunkInfo{Count: n, MinEffective: math.MaxInt64, MaxEffective: math.MinInt64, MinRecorded: math.MaxInt64}
		}
		w.event(r)
		at := r.Event.Effective().UnixNano()
		info.MinEffective, info.MaxEffective = min(info.MinEffective, at), max(info.MaxEffective, at)
		info.MinRecorded = min(info.MinRecorded, r.RecordedAt.UnixNano())
		if written++; written == info.Count {
			chunk := w.chunk(info.Count)
			info.Sum = Checksum(chunk)
			chunks, infos = append(chunks, chunk), append(infos, info)
			w, written = nil, 0
		}
	}
	return encodeHead(len(events), infos, events, inChunk, f), chunks
}

// EncodeChunk writes a chunk of closes, as Encode does.
func EncodeChunk(closes []domain.Recorded) []byte {
	return encodeChunk(closes, table)
}

func encodeChunk(closes []domain.Recorded, f format) []byte {
	w := newChunkWriter(len(closes), f)
	for i := range closes {
		w.event(&closes[i])
	}
	return w.chunk(len(closes))
}

// newChunkWriter starts the events of a chunk of n closes.
func newChunkWriter(n int, f format) *writer {
	// A close of an import takes about 60 bytes in the table format, most
	// of them its id and times: sized for that, a chunk's buffer is seldom
	// grown and copied.
	return newWriter(64*n+32, f)
}

// chunk returns the chunk of the n closes written: its magic, string
// table and count, then the events.
func (w *writer) chunk(n int) []byte {
	magic := chunkMagic
	if w.strings == nil {
		magic = chunkMagicInline
	}
	out := make([]byte, 0, len(magic)+w.tableBytes()+binary.MaxVarintLen64+len(w.buf))
	out = append(out, magic...)
	out = w.appendTable(out)
	out = binary.AppendUvarint(out, uint64(n))
	return append(out, w.buf...)
}

// EncodeHead writes a head: the event count, the chunk directory, the
// head's own events.
func EncodeHead(h Head) []byte {
	return encodeHead(h.Total, h.Chunks, h.Events, nil, table)
}

// encodeHead writes a head of the events not marked in skip (nil for
// none).
func encodeHead(total int, chunks []ChunkInfo, events []domain.Recorded, skip []bool, f format) []byte {
	kept := len(events)
	for _, s := range skip {
		if s {
			kept--
		}
	}
	// Ratings and targets, with an analyst and a firm, take more than
	// closes.
	w := newWriter(96*kept+64, f)
	for i := range events {
		if skip == nil || !skip[i] {
			w.event(&events[i])
		}
	}
	magic := headMagic
	if f == inline {
		magic = headMagicInline
	}
	out := make([]byte, 0, len(magic)+3*binary.MaxVarintLen64+40*len(chunks)+w.tableBytes()+len(w.buf))
	out = append(out, magic...)
	out = binary.AppendUvarint(out, uint64(total))
	out = binary.AppendUvarint(out, uint64(len(chunks)))
	for _, c := range chunks {
		out = binary.AppendUvarint(out, uint64(c.Count))
		out = binary.AppendVarint(out, c.MinEffective)
		out = binary.AppendVarint(out, c.MaxEffective)
		out = binary.AppendVarint(out, c.MinRecorded)
		out = binary.BigEndian.AppendUint64(out, c.Sum)
	}
	out = w.appendTable(out)
	out = binary.AppendUvarint(out, uint64(kept))
	return append(out, w.buf...)
}

// writer writes events. In the table format (strings not nil) it gathers
// the strings the events refer to, for chunk or encodeHead to write before
// them.
type writer struct {
	buf     []byte
	strings map[string]uint64 // each string's place in list
	list    []string          // the table, in the order of first use
	bytes   int               // the table's size once written
	// last holds, for each kind of string, the last one written and its
	// place: most events repeat the one before's, which then costs a
	// comparison instead of a map lookup.
	last [slots]struct {
		s     string
		place uint64
	}
}

// The kinds of string an event holds, each remembered apart in
// writer.last.
const (
	slotRecordedBy = iota
	slotSource
	slotCorrelation
	slotCausation
	slotInstrument
	slotAnalyst
	slotFirm
	slotBrokerRating
	slotCurrency
	slotReason
	slots
)

func newWriter(size int, f format) *writer {
	w := &writer{buf: make([]byte, 0, size)}
	if f == table {
		w.strings = map[string]uint64{}
	}
	return w
}

// text writes a string of the given kind: in the table format its place in
// the table, added at the end if new; inline, the string itself.
func (w *writer) text(slot int, s string) {
	if w.strings == nil {
		w.str(s)
		return
	}
	last := &w.last[slot]
	// The last check covers a kind not written yet, whose zero value
	// names place 0 for the empty string.
	if len(w.list) == 0 || last.s != s || w.list[last.place] != s {
		place, ok := w.strings[s]
		if !ok {
			place = uint64(len(w.list))
			w.strings[s] = place
			w.list = append(w.list, s)
			w.bytes += uvarintLen(uint64(len(s))) + len(s)
		}
		last.s, last.place = s, place
	}
	w.uint(last.place)
}

// source writes an event's source: in the table format what precedes its
// last colon (with the colon) as a string of the table, then the rest;
// inline, in full.
func (w *writer) source(s string) {
	if w.strings == nil {
		w.str(s)
		return
	}
	cut := strings.LastIndexByte(s, ':') + 1
	w.text(slotSource, s[:cut])
	w.str(s[cut:])
}

// tableBytes is how many bytes appendTable writes.
func (w *writer) tableBytes() int {
	if w.strings == nil {
		return 0
	}
	return uvarintLen(uint64(len(w.list))) + w.bytes
}

// appendTable appends the string table to out, in the table format.
func (w *writer) appendTable(out []byte) []byte {
	if w.strings == nil {
		return out
	}
	out = binary.AppendUvarint(out, uint64(len(w.list)))
	for _, s := range w.list {
		out = binary.AppendUvarint(out, uint64(len(s)))
		out = append(out, s...)
	}
	return out
}

func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

// event writes one event: its id, version, recorded time, metadata, kind
// and fields, integers as varints and strings as the format spells them
// (text, source). reader.event
// reads the same fields in the same order.
func (w *writer) event(r *domain.Recorded) {
	w.buf = append(w.buf, r.ID[:]...)
	w.int(r.Version)
	w.time(r.RecordedAt)
	w.text(slotRecordedBy, r.Meta.RecordedBy)
	w.source(r.Meta.Source)
	w.text(slotCorrelation, r.Meta.CorrelationID)
	w.text(slotCausation, r.Meta.CausationID)
	switch e := r.Event.(type) {
	case domain.RatingAdded:
		w.buf = append(w.buf, kindRating)
		w.text(slotInstrument, string(e.Instrument))
		w.text(slotAnalyst, string(e.Analyst))
		w.text(slotFirm, e.Firm)
		w.buf = append(w.buf, byte(e.Rating))
		w.text(slotBrokerRating, e.BrokerRating)
		if e.Target != nil {
			w.int(int64(*e.Target))
		} else {
			w.int(0)
		}
		w.text(slotCurrency, string(e.Currency))
		w.time(e.EffectiveAt)
	case domain.TargetRevised:
		w.buf = append(w.buf, kindTarget)
		w.text(slotInstrument, string(e.Instrument))
		w.text(slotAnalyst, string(e.Analyst))
		w.int(int64(e.Target))
		w.text(slotCurrency, string(e.Currency))
		w.time(e.EffectiveAt)
	case domain.RatingWithdrawn:
		w.buf = append(w.buf, kindWithdrawal)
		w.text(slotInstrument, string(e.Instrument))
		w.text(slotAnalyst, string(e.Analyst))
		w.time(e.EffectiveAt)
	case domain.CloseRecorded:
		w.buf = append(w.buf, kindClose)
		w.text(slotInstrument, string(e.Instrument))
		w.int(int64(e.Price))
		w.text(slotCurrency, string(e.Currency))
		w.time(e.EffectiveAt)
	case domain.EventRetracted:
		w.buf = append(w.buf, kindRetraction)
		w.text(slotInstrument, string(e.Instrument))
		w.buf = append(w.buf, e.Retracted[:]...)
		w.text(slotReason, e.Reason)
		w.time(e.EffectiveAt)
	case domain.SplitRecorded:
		w.buf = append(w.buf, kindSplit)
		w.text(slotInstrument, string(e.Instrument))
		w.int(e.Ratio.New)
		w.int(e.Ratio.Old)
		w.time(e.EffectiveAt)
	}
}

func (w *writer) uint(v uint64) { w.buf = binary.AppendUvarint(w.buf, v) }
func (w *writer) int(v int64)   { w.buf = binary.AppendVarint(w.buf, v) }
func (w *writer) time(t time.Time) {
	w.int(t.UnixNano())
}
func (w *writer) str(s string) {
	w.uint(uint64(len(s)))
	w.buf = append(w.buf, s...)
}
