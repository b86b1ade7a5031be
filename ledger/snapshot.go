package ledger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
)

// SnapshotEvery is how many events a stream must have beyond its snapshot
// before the ledger writes a new one. Reading a stream record by record and
// decoding its JSON costs several microseconds an event; a snapshot is
// decoded about ten times faster, so long streams answer a fresh process
// (a command-line `show`) quickly. Below this many events a snapshot would
// save little.
const SnapshotEvery = 1024

// A stream's snapshot is stored in several rows, because most of a stream's
// events are daily closes and a point-in-time question needs only one of
// them (see showFromSnapshot):
//
//   - the head, named snapshotName(stream): every event except the closes
//     moved to chunks, with a directory of the chunks;
//   - the chunks, named chunkName(stream, k): closesPerChunk closes each, in
//     stream order, that no retraction in the snapshot names, the stream's
//     first close excepted (it may be what fixes the instrument's currency,
//     so the head keeps it).
//
// Every row is saved with the version and hash of the stream's last covered
// record, and the directory holds each chunk's checksum, so a reader takes
// the rows for one snapshot only when they all agree; anything else is a
// cache miss and the stream is read instead.

// snapshotMagic starts every snapshot head; its last byte is the format
// version. chunkMagic starts every chunk.
var (
	snapshotMagic = []byte("consensus-decoded-events\x02")
	chunkMagic    = []byte("consensus-closes\x01")
)

// closesPerChunk is how many closes a chunk holds: a year of daily closes,
// so a question usually reads one chunk of about 15 kilobytes. (512 was
// measured too: show --all on a 1,000,340-event store took 0.49 s of CPU
// against 0.41 s, averaged over four runs on a busy machine.)
const closesPerChunk = 256

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
// instead.
func (l *Ledger) loadSnapshot(ctx context.Context, stream string) ([]domain.Recorded, error) {
	snap, _, ok, err := l.storedSnapshot(ctx, stream, 0)
	if err != nil || !ok {
		return nil, err
	}
	head, err := decodeHead(snap.Data, false)
	if err != nil || int64(head.total) != snap.Version+1 {
		return nil, nil
	}
	chunks := make([][]domain.Recorded, len(head.chunks))
	for k, info := range head.chunks {
		data, ok, err := l.loadChunk(ctx, snap, k, info)
		if err != nil || !ok {
			return nil, err
		}
		if chunks[k], err = decodeChunk(data); err != nil {
			return nil, nil
		}
	}
	events, err := assemble(head, chunks)
	if err != nil {
		return nil, nil
	}
	return events, nil
}

// storedSnapshot returns the stream's stored snapshot head when its last
// record is the stream's record at that version, with that hash, and, in
// the same read, up to tail of the records after it.
func (l *Ledger) storedSnapshot(ctx context.Context, stream string, tail int) (eventstore.Snapshot, []eventstore.Record, bool, error) {
	sn, ok := l.store.(eventstore.Snapshotter)
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
func (l *Ledger) loadChunk(ctx context.Context, snap eventstore.Snapshot, k int, info chunkInfo) ([]byte, bool, error) {
	sn := l.store.(eventstore.Snapshotter) // snap came from it
	chunk, found, err := sn.LoadSnapshot(ctx, chunkName(snap.Stream, k))
	if err != nil || !found {
		return nil, false, err
	}
	if chunk.Stream != snap.Stream || chunk.Version != snap.Version || chunk.Hash != snap.Hash || checksum(chunk.Data) != info.sum {
		return nil, false, nil
	}
	return chunk.Data, true, nil
}

// saveSnapshot stores the stream's decoded events when enough have come
// since the last snapshot. It is best effort: a store opened read-only, or
// one without snapshots, simply keeps none, and a failure to save costs
// only speed, so it is not reported.
func (l *Ledger) saveSnapshot(ctx context.Context, stream string, c *streamCache) {
	sn, ok := l.store.(eventstore.Snapshotter)
	n := int64(len(c.events))
	if !ok || c.noSnapshots || n-1-c.snapshotVersion < SnapshotEvery {
		return
	}
	if ro, ok := l.store.(interface{ ReadOnly() bool }); ok && ro.ReadOnly() {
		c.noSnapshots = true // a reader: never encode a snapshot it cannot save
		return
	}
	last, err := l.store.ReadStream(ctx, stream, n-1, 1)
	if err != nil || len(last) != 1 {
		return
	}
	if c.snapshotVersion < 0 {
		// Whatever snapshot rows the stream has could not be used (another
		// format, or damaged): a row is only replaced by one covering more
		// events, so clear them for the new snapshot to take their place.
		if err := deleteSnapshots(ctx, sn, stream); err != nil {
			return
		}
	}
	head, chunks := encodeSnapshot(c.events)
	rows := make([]eventstore.Snapshot, 0, len(chunks)+1)
	for k, data := range chunks {
		rows = append(rows, eventstore.Snapshot{Name: chunkName(stream, k), Data: data})
	}
	rows = append(rows, eventstore.Snapshot{Name: snapshotName(stream), Data: head})
	for i := range rows {
		rows[i].Stream, rows[i].Version, rows[i].Hash = stream, n-1, last[0].Hash
	}
	switch err := saveSnapshots(ctx, sn, rows); {
	case err == nil:
		c.snapshotVersion = n - 1
	case errors.Is(err, eventstore.ErrReadOnly):
		c.noSnapshots = true // a reader: do not encode a snapshot on every query
	}
}

// Capabilities of a Snapshotter that the ledger uses when the store has
// them (the embedded store has both).
type (
	// snapshotBatcher saves several snapshots in one transaction.
	snapshotBatcher interface {
		SaveSnapshots(ctx context.Context, snaps []eventstore.Snapshot) error
	}
	// prefixDeleter deletes all snapshots whose names share a prefix.
	prefixDeleter interface {
		DeleteSnapshotsWithPrefix(ctx context.Context, prefix string) error
	}
)

// saveSnapshots saves a snapshot's rows, in one transaction where the store
// can, else one by one with the head last, so that a head is never saved
// before its chunks.
func saveSnapshots(ctx context.Context, sn eventstore.Snapshotter, rows []eventstore.Snapshot) error {
	if batch, ok := sn.(snapshotBatcher); ok {
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
	if d, ok := sn.(prefixDeleter); ok {
		if err := d.DeleteSnapshotsWithPrefix(ctx, chunkPrefix(stream)); err != nil {
			return err
		}
	}
	return sn.DeleteSnapshot(ctx, snapshotName(stream))
}

// snapshotted reports whether the stream's cache knows of a stored snapshot.
func (l *Ledger) snapshotted(stream string) bool {
	c, ok := l.cached(stream)
	if !ok {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snapshotVersion >= 0
}

// Event kinds in a snapshot.
const (
	kindRating byte = iota + 1
	kindTarget
	kindWithdrawal
	kindClose
	kindRetraction
)

// chunkInfo is the head's entry for one chunk: what choosing the chunks a
// question needs takes, and the checksum of the chunk's data.
type chunkInfo struct {
	count        int
	minEffective int64 // Unix nanoseconds, as the events encode times
	maxEffective int64
	minRecorded  int64
	sum          uint64
}

// snapshotHead is a decoded head: the number of events the snapshot
// covers, its chunks, and the events kept in the head, in stream order.
type snapshotHead struct {
	total  int
	chunks []chunkInfo
	events []domain.Recorded
}

// checksum is a chunk's checksum, the first 8 bytes of its SHA-256: it
// tells a chunk of this snapshot from one left by another; the chain hash in
// every row already ties the snapshot to the stream. (FNV-1a, a byte at a
// time, cost 6 % of show --all on the 14-million-event store; SHA-256 runs
// on the processor's SHA instructions.)
func checksum(data []byte) uint64 {
	sum := sha256.Sum256(data)
	return binary.BigEndian.Uint64(sum[:8])
}

// encodeSnapshot encodes events (a stream's, in stream order) as a head and
// its chunks.
func encodeSnapshot(events []domain.Recorded) (head []byte, chunks [][]byte) {
	named := map[uuid.UUID]bool{}
	for _, r := range events {
		if x, ok := r.Event.(domain.EventRetracted); ok {
			named[x.Retracted] = true
		}
	}
	var kept, closes []domain.Recorded
	firstClose := true
	for _, r := range events {
		if _, ok := r.Event.(domain.CloseRecorded); ok && !firstClose && !named[r.ID] {
			closes = append(closes, r)
			continue
		} else if ok {
			firstClose = false
		}
		kept = append(kept, r)
	}
	var infos []chunkInfo
	for start := 0; start < len(closes); start += closesPerChunk {
		part := closes[start:min(start+closesPerChunk, len(closes))]
		w := &snapshotWriter{buf: make([]byte, 0, 64*len(part)+32)}
		w.buf = append(w.buf, chunkMagic...)
		w.events(part)
		info := chunkInfo{count: len(part), minEffective: math.MaxInt64, maxEffective: math.MinInt64,
			minRecorded: math.MaxInt64, sum: checksum(w.buf)}
		for _, r := range part {
			at := r.Event.Effective().UnixNano()
			info.minEffective, info.maxEffective = min(info.minEffective, at), max(info.maxEffective, at)
			info.minRecorded = min(info.minRecorded, r.RecordedAt.UnixNano())
		}
		chunks, infos = append(chunks, w.buf), append(infos, info)
	}
	return encodeHead(snapshotHead{total: len(events), chunks: infos, events: kept}), chunks
}

// encodeHead writes a head: the event count, the chunk directory, the
// head's own events.
func encodeHead(h snapshotHead) []byte {
	w := &snapshotWriter{buf: make([]byte, 0, 96*len(h.events)+40*len(h.chunks)+64)}
	w.buf = append(w.buf, snapshotMagic...)
	w.uint(uint64(h.total))
	w.uint(uint64(len(h.chunks)))
	for _, c := range h.chunks {
		w.uint(uint64(c.count))
		w.int(c.minEffective)
		w.int(c.maxEffective)
		w.int(c.minRecorded)
		w.buf = binary.BigEndian.AppendUint64(w.buf, c.sum)
	}
	w.events(h.events)
	return w.buf
}

// events writes the number of events, then each: its id, version, recorded
// time, metadata, kind and fields, integers as varints and strings
// length-prefixed.
func (w *snapshotWriter) events(events []domain.Recorded) {
	w.uint(uint64(len(events)))
	for _, r := range events {
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
		}
	}
}

type snapshotWriter struct{ buf []byte }

func (w *snapshotWriter) uint(v uint64) { w.buf = binary.AppendUvarint(w.buf, v) }
func (w *snapshotWriter) int(v int64)   { w.buf = binary.AppendVarint(w.buf, v) }
func (w *snapshotWriter) time(t time.Time) {
	w.int(t.UnixNano())
}
func (w *snapshotWriter) str(s string) {
	w.uint(uint64(len(s)))
	w.buf = append(w.buf, s...)
}

// errBadSnapshot is returned for a snapshot that does not decode.
var errBadSnapshot = errors.New("malformed snapshot")

// decodeSnapshot reads what encodeSnapshot wrote, checking the chunks
// against the head's directory. Every event passes the same invariant
// checks as events decoded from JSON, so a damaged snapshot is rejected
// rather than folded.
func decodeSnapshot(head []byte, chunks [][]byte) ([]domain.Recorded, error) {
	h, err := decodeHead(head, false)
	if err != nil {
		return nil, err
	}
	if len(chunks) != len(h.chunks) {
		return nil, errBadSnapshot
	}
	decoded := make([][]domain.Recorded, len(chunks))
	for k, data := range chunks {
		if checksum(data) != h.chunks[k].sum {
			return nil, errBadSnapshot
		}
		if decoded[k], err = decodeChunk(data); err != nil {
			return nil, err
		}
	}
	return assemble(h, decoded)
}

// decodeHead reads a snapshot head; with skipMeta its events' metadata is
// left empty.
func decodeHead(data []byte, skipMeta bool) (snapshotHead, error) {
	var h snapshotHead
	if !bytes.HasPrefix(data, snapshotMagic) {
		return h, errBadSnapshot
	}
	r := &snapshotReader{buf: data[len(snapshotMagic):], strings: map[string]string{}, skipMeta: skipMeta}
	total, k := r.uint(), r.uint()
	if r.err != nil || total > math.MaxInt32 || k > uint64(len(r.buf)) {
		return h, errBadSnapshot
	}
	h.total, h.chunks = int(total), make([]chunkInfo, k)
	for i := range h.chunks {
		c := &h.chunks[i]
		count := r.uint()
		c.minEffective, c.maxEffective, c.minRecorded = r.int(), r.int(), r.int()
		// A count beyond int32 is refused, not clamped: clamped, it would
		// decode to a value the writer never wrote.
		if r.err != nil || count > math.MaxInt32 || len(r.buf) < 8 {
			return h, errBadSnapshot
		}
		c.count = int(count)
		c.sum, r.buf = binary.BigEndian.Uint64(r.buf), r.buf[8:]
	}
	var err error
	if h.events, err = r.events(); err != nil {
		return h, err
	}
	return h, nil
}

// decodeChunk reads a chunk's closes.
func decodeChunk(data []byte) ([]domain.Recorded, error) {
	if !bytes.HasPrefix(data, chunkMagic) {
		return nil, errBadSnapshot
	}
	r := &snapshotReader{buf: data[len(chunkMagic):], strings: map[string]string{}}
	events, err := r.events()
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		if _, ok := e.Event.(domain.CloseRecorded); !ok {
			return nil, errBadSnapshot
		}
	}
	return events, nil
}

// events reads what snapshotWriter.events wrote, up to the end of the data.
func (r *snapshotReader) events() ([]domain.Recorded, error) {
	n := r.uint()
	if r.err != nil || n > uint64(len(r.buf)) { // every event takes well over one byte
		return nil, errBadSnapshot
	}
	events := make([]domain.Recorded, 0, n)
	for i := uint64(0); i < n && r.err == nil; i++ {
		rec, err := r.event()
		if err != nil {
			return nil, err
		}
		events = append(events, rec)
	}
	if r.err != nil || len(r.buf) != 0 {
		return nil, errBadSnapshot
	}
	return events, nil
}

// assemble puts a snapshot's events back in stream order: each event's
// version is its place, and every place must be filled exactly once.
func assemble(h snapshotHead, chunks [][]domain.Recorded) ([]domain.Recorded, error) {
	n := len(h.events)
	for k, c := range chunks {
		if len(c) != h.chunks[k].count {
			return nil, errBadSnapshot
		}
		n += len(c)
	}
	if n != h.total {
		return nil, errBadSnapshot
	}
	events := make([]domain.Recorded, n)
	filled := make([]bool, n)
	for _, part := range append([][]domain.Recorded{h.events}, chunks...) {
		for _, e := range part {
			if e.Version < 0 || e.Version >= int64(n) || filled[e.Version] {
				return nil, errBadSnapshot
			}
			events[e.Version], filled[e.Version] = e, true
		}
	}
	return events, nil
}

// event decodes the event at the reader's position.
func (r *snapshotReader) event() (domain.Recorded, error) {
	var rec domain.Recorded
	rec.ID = r.id()
	rec.Version = r.int()
	rec.RecordedAt = r.time()
	if r.skipMeta {
		for range 4 {
			r.field()
		}
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
	default:
		r.fail()
	}
	if r.err != nil {
		return domain.Recorded{}, r.err
	}
	if err := domain.CheckEvent(rec.Event); err != nil {
		return domain.Recorded{}, fmt.Errorf("%w: %v", errBadSnapshot, err)
	}
	return rec, nil
}

// snapshotReader reads a snapshot, remembering the first error so decoding
// code can read field after field and check once.
type snapshotReader struct {
	buf     []byte
	err     error
	strings map[string]string // interned: a stream repeats the same few names
	// skipMeta leaves every event's metadata empty, for answers that never
	// show it (a consensus without explain): it saves an allocation or
	// two an event.
	skipMeta bool
}

func (r *snapshotReader) fail() { r.err, r.buf = errBadSnapshot, nil }

func (r *snapshotReader) byte() byte {
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
func (r *snapshotReader) uint() uint64 {
	v, n := binary.Uvarint(r.buf)
	if n <= 0 || (n > 1 && r.buf[n-1] == 0) {
		r.fail()
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

// int reads a zig-zag varint, which is a uvarint underneath: the same check.
func (r *snapshotReader) int() int64 {
	v, n := binary.Varint(r.buf)
	if n <= 0 || (n > 1 && r.buf[n-1] == 0) {
		r.fail()
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

func (r *snapshotReader) time() time.Time { return time.Unix(0, r.int()).UTC() }

func (r *snapshotReader) id() uuid.UUID {
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
func (r *snapshotReader) field() []byte {
	n := r.uint()
	if r.err != nil || n > uint64(len(r.buf)) {
		r.fail()
		return nil
	}
	b := r.buf[:n]
	r.buf = r.buf[n:]
	return b
}

// unique reads a string that is usually different for every event (an
// event's source, such as import:FILE:LINE), which interning would only slow
// down.
func (r *snapshotReader) unique() string { return string(r.field()) }

// str reads a string, interned: analysts, firms and currencies repeat.
func (r *snapshotReader) str() string {
	b := r.field()
	if s, ok := r.strings[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	r.strings[s] = s
	return s
}
