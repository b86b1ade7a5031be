package snapshotcodec

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
	"time"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
)

// headMagic starts every snapshot head; its last byte is the format
// version. chunkMagic starts every chunk.
var (
	headMagic  = []byte("consensus-decoded-events\x02")
	chunkMagic = []byte("consensus-closes\x01")
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
			w = newChunkWriter(n)
			info = ChunkInfo{Count: n, MinEffective: math.MaxInt64, MaxEffective: math.MinInt64, MinRecorded: math.MaxInt64}
		}
		w.event(r)
		at := r.Event.Effective().UnixNano()
		info.MinEffective, info.MaxEffective = min(info.MinEffective, at), max(info.MaxEffective, at)
		info.MinRecorded = min(info.MinRecorded, r.RecordedAt.UnixNano())
		if written++; written == info.Count {
			info.Sum = Checksum(w.buf)
			chunks, infos = append(chunks, w.buf), append(infos, info)
			w, written = nil, 0
		}
	}
	return encodeHead(len(events), infos, events, inChunk), chunks
}

// EncodeChunk writes a chunk of closes, as Encode does.
func EncodeChunk(closes []domain.Recorded) []byte {
	w := newChunkWriter(len(closes))
	for i := range closes {
		w.event(&closes[i])
	}
	return w.buf
}

// newChunkWriter starts a chunk of n closes.
func newChunkWriter(n int) *writer {
	// A close of an import takes about 110 bytes, most of them its id and
	// metadata: sized for that, a chunk's buffer is not grown and copied.
	w := &writer{buf: make([]byte, 0, 128*n+32)}
	w.buf = append(w.buf, chunkMagic...)
	w.uint(uint64(n))
	return w
}

// EncodeHead writes a head: the event count, the chunk directory, the
// head's own events.
func EncodeHead(h Head) []byte {
	return encodeHead(h.Total, h.Chunks, h.Events, nil)
}

// encodeHead writes a head of the events not marked in skip (nil for
// none).
func encodeHead(total int, chunks []ChunkInfo, events []domain.Recorded, skip []bool) []byte {
	kept := len(events)
	for _, s := range skip {
		if s {
			kept--
		}
	}
	// Ratings and targets, with an analyst and a firm, take more than
	// closes.
	w := &writer{buf: make([]byte, 0, 160*kept+40*len(chunks)+64)}
	w.buf = append(w.buf, headMagic...)
	w.uint(uint64(total))
	w.uint(uint64(len(chunks)))
	for _, c := range chunks {
		w.uint(uint64(c.Count))
		w.int(c.MinEffective)
		w.int(c.MaxEffective)
		w.int(c.MinRecorded)
		w.buf = binary.BigEndian.AppendUint64(w.buf, c.Sum)
	}
	w.uint(uint64(kept))
	for i := range events {
		if skip == nil || !skip[i] {
			w.event(&events[i])
		}
	}
	return w.buf
}

type writer struct{ buf []byte }

// event writes one event: its id, version, recorded time, metadata, kind
// and fields, integers as varints and strings length-prefixed. reader.event
// reads the same fields in the same order.
func (w *writer) event(r *domain.Recorded) {
	w.buf = append(w.buf, r.ID[:]...)
	w.int(r.Version)
	w.time(r.RecordedAt)
	w.str(r.Meta.RecordedBy)
	w.str(r.Meta.Source)
	w.str(r.Meta.CorrelationID)
	w.str(r.Meta.CausationID)
	switch e := r.Event.(type) {
	case domain.RatingAdded:
		w.buf = append(w.buf, kindRating)
		w.str(string(e.Instrument))
		w.str(string(e.Analyst))
		w.str(e.Firm)
		w.buf = append(w.buf, byte(e.Rating))
		w.str(e.BrokerRating)
		if e.Target != nil {
			w.int(int64(*e.Target))
		} else {
			w.int(0)
		}
		w.str(string(e.Currency))
		w.time(e.EffectiveAt)
	case domain.TargetRevised:
		w.buf = append(w.buf, kindTarget)
		w.str(string(e.Instrument))
		w.str(string(e.Analyst))
		w.int(int64(e.Target))
		w.str(string(e.Currency))
		w.time(e.EffectiveAt)
	case domain.RatingWithdrawn:
		w.buf = append(w.buf, kindWithdrawal)
		w.str(string(e.Instrument))
		w.str(string(e.Analyst))
		w.time(e.EffectiveAt)
	case domain.CloseRecorded:
		w.buf = append(w.buf, kindClose)
		w.str(string(e.Instrument))
		w.int(int64(e.Price))
		w.str(string(e.Currency))
		w.time(e.EffectiveAt)
	case domain.EventRetracted:
		w.buf = append(w.buf, kindRetraction)
		w.str(string(e.Instrument))
		w.buf = append(w.buf, e.Retracted[:]...)
		w.str(e.Reason)
		w.time(e.EffectiveAt)
	case domain.SplitRecorded:
		w.buf = append(w.buf, kindSplit)
		w.str(string(e.Instrument))
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
