package ledger

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
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

// snapshotMagic starts every snapshot; its last byte is the format version.
var snapshotMagic = []byte("consensus-decoded-events\x01")

// snapshotName is the key of a stream's decoded-events snapshot.
func snapshotName(stream string) string { return "decoded:" + stream }

// loadSnapshot returns the stream's events from its snapshot, or nil when
// there is no usable one: none saved, one that does not decode, or one whose
// last event is not the stream's event at that version with that hash. A
// snapshot is a cache, so any doubt means reading the stream instead.
func (l *Ledger) loadSnapshot(ctx context.Context, stream string) ([]domain.Recorded, error) {
	snap, ok, err := l.storedSnapshot(ctx, stream)
	if err != nil || !ok {
		return nil, err
	}
	events, err := decodeSnapshot(snap.Data)
	if err != nil || int64(len(events)) != snap.Version+1 {
		return nil, nil
	}
	return events, nil
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
	snap := eventstore.Snapshot{Name: snapshotName(stream), Stream: stream, Version: n - 1,
		Hash: last[0].Hash, Data: encodeSnapshot(c.events)}
	switch err := sn.SaveSnapshot(ctx, snap); {
	case err == nil:
		c.snapshotVersion = n - 1
	case errors.Is(err, eventstore.ErrReadOnly):
		c.noSnapshots = true // a reader: do not encode a snapshot on every query
	}
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

// encodeSnapshot writes events in a compact binary form: for each event its
// id, version, recorded time, metadata, kind and fields, integers as
// varints and strings length-prefixed.
func encodeSnapshot(events []domain.Recorded) []byte {
	w := &snapshotWriter{buf: make([]byte, 0, 96*len(events)+64)}
	w.buf = append(w.buf, snapshotMagic...)
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
	return w.buf
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

// decodeSnapshot reads what encodeSnapshot wrote. Every event passes the
// same invariant checks as events decoded from JSON, so a damaged snapshot
// is rejected rather than folded.
func decodeSnapshot(data []byte) ([]domain.Recorded, error) {
	r := &snapshotReader{buf: data, strings: map[string]string{}}
	if !bytes.HasPrefix(data, snapshotMagic) {
		return nil, errBadSnapshot
	}
	r.buf = r.buf[len(snapshotMagic):]
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

// event decodes the event at the reader's position.
func (r *snapshotReader) event() (domain.Recorded, error) {
	var rec domain.Recorded
	rec.ID = r.id()
	rec.Version = r.int()
	rec.RecordedAt = r.time()
	rec.Meta = domain.Metadata{RecordedBy: r.str(), Source: r.unique(), CorrelationID: r.str(), CausationID: r.str()}
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
