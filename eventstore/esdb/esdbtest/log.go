package esdbtest

import (
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
)

// record is one event in the model's transaction log.
type record struct {
	id          uuid.UUID
	stream      string
	revision    uint64
	typ         string
	contentType string
	data, meta  []byte
	created     time.Time
	// pos is the record's log position. Since EventStoreDB 20.6 every event
	// of an append is its own self-committed prepare, so its commit and
	// prepare positions are the same number: this one.
	pos uint64
}

// stream is what the model knows of one stream.
type stream struct {
	records    []*record
	tombstoned bool
}

// head is the revision of the stream's last record, -1 when it has none.
func (s *stream) head() int64 {
	if s == nil {
		return -1
	}
	return int64(len(s.records)) - 1
}

// expectation is an append's expected stream revision.
type expectation struct {
	kind     expectKind
	revision uint64
}

type expectKind int

const (
	expectAny expectKind = iota
	expectNoStream
	expectExists
	expectRevision
)

// proposed is an event as an append proposes it.
type proposed struct {
	id          uuid.UUID
	typ         string
	contentType string
	data, meta  []byte
}

// wrongVersion is the refusal of an append whose expectation does not hold.
type wrongVersion struct {
	current  int64 // -1: no stream
	expected expectation
}

func (e *wrongVersion) Error() string {
	return fmt.Sprintf("wrong expected version: current %d", e.current)
}

// errDeleted is the refusal of any operation on a tombstoned stream.
type errDeleted struct{ stream string }

func (e *errDeleted) Error() string { return fmt.Sprintf("Event stream '%s' is deleted.", e.stream) }

// errTooLarge is the refusal of an append larger than the server accepts.
type errTooLarge struct{ max int }

func (e *errTooLarge) Error() string {
	return fmt.Sprintf("Maximum Append Size of %d Exceeded.", e.max)
}

// recordOverhead approximates the bytes a prepare record takes in the log
// besides its stream name, type, data and metadata, so that positions grow
// the way a real log's byte offsets do.
const recordOverhead = 88

// model is the server's storage: one transaction log ($all) and the
// streams indexed into it. One mutex serialises writers, as the real
// server's single writer does, so log order is commit order.
type model struct {
	mu            sync.Mutex
	all           []*record
	streams       map[string]*stream
	end           uint64        // the next record's position
	changed       chan struct{} // closed, and replaced, on every commit
	maxAppendSize int
	now           func() time.Time
}

func newModel(maxAppendSize int, now func() time.Time) *model {
	m := &model{streams: map[string]*stream{}, changed: make(chan struct{}), maxAppendSize: maxAppendSize, now: now}
	// A fresh EventStoreDB log does not start empty: system streams come
	// first, so $all readers meet events they must filter out.
	m.end = 1 << 10 // past the chunk header and the first epoch record
	for _, s := range []struct{ stream, typ string }{{"$users", "$UserCreated"}, {"$user-admin", "$UserCreated"}, {"$settings", "$settings"}} {
		_, _, _ = m.appendLocked(s.stream, expectation{kind: expectAny}, []proposed{{
			id: uuid.New(), typ: s.typ, contentType: "application/json", data: []byte(`{}`),
		}})
	}
	return m
}

// appendEvents appends to a stream if the expectation holds, as one
// atomic write, and returns the stream's revision and the position of the
// last record written.
func (m *model) appendEvents(name string, exp expectation, events []proposed) (current int64, pos uint64, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.appendLocked(name, exp, events)
}

func (m *model) appendLocked(name string, exp expectation, events []proposed) (int64, uint64, error) {
	// The server counts each event as its Event.SizeOnDisk does (data,
	// metadata, and the type as a UTF-16 string, two bytes a character),
	// while it receives the append, so a refusal for size comes before
	// any other.
	size := 0
	for _, e := range events {
		size += len(e.data) + len(e.meta) + 2*utf16Len(e.typ)
	}
	if size > m.maxAppendSize {
		return 0, 0, &errTooLarge{max: m.maxAppendSize}
	}
	s := m.streams[name]
	if s != nil && s.tombstoned {
		return 0, 0, &errDeleted{stream: name}
	}
	current := s.head()
	ok := false
	switch exp.kind {
	case expectAny:
		ok = true
	case expectNoStream:
		ok = current == -1
	case expectExists:
		ok = current >= 0
	case expectRevision:
		ok = current == int64(exp.revision)
	}
	if !ok {
		return 0, 0, &wrongVersion{current: current, expected: exp}
	}
	if len(events) == 0 {
		return current, m.end, nil
	}
	if s == nil {
		s = &stream{}
		m.streams[name] = s
	}
	created := m.now().UTC()
	var last uint64
	for _, e := range events {
		r := &record{
			id: e.id, stream: name, revision: uint64(len(s.records)), typ: e.typ, contentType: e.contentType,
			data: e.data, meta: e.meta, created: created, pos: m.end,
		}
		last = r.pos
		m.end += uint64(recordOverhead + len(name) + len(e.typ) + len(e.data) + len(e.meta))
		s.records = append(s.records, r)
		m.all = append(m.all, r)
	}
	m.notifyLocked()
	return s.head(), last, nil
}

// tombstone deletes a stream for ever, writing a $streamDeleted record to
// the log, as a hard delete does.
func (m *model) tombstone(name string, exp expectation) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.streams[name]
	if s != nil && s.tombstoned {
		return 0, &errDeleted{stream: name}
	}
	current := s.head()
	if exp.kind == expectRevision && current != int64(exp.revision) ||
		exp.kind == expectNoStream && current != -1 || exp.kind == expectExists && current == -1 {
		return 0, &wrongVersion{current: current, expected: exp}
	}
	if s == nil {
		s = &stream{}
		m.streams[name] = s
	}
	r := &record{id: uuid.New(), stream: name, revision: 1<<63 - 1, typ: "$streamDeleted",
		contentType: "application/octet-stream", created: m.now().UTC(), pos: m.end}
	m.end += uint64(recordOverhead + len(name) + len(r.typ))
	m.all = append(m.all, r)
	s.tombstoned = true
	m.notifyLocked()
	return r.pos, nil
}

func (m *model) notifyLocked() {
	close(m.changed)
	m.changed = make(chan struct{})
}

// readStream returns up to count records of a stream from revision from,
// forwards or backwards. found is false when the stream has no records.
func (m *model) readStream(name string, from uint64, fromEnd, backwards bool, count uint64) (recs []*record, found bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.streams[name]
	if s != nil && s.tombstoned {
		return nil, false, &errDeleted{stream: name}
	}
	if s.head() < 0 {
		return nil, false, nil
	}
	n := uint64(len(s.records))
	if !backwards {
		if fromEnd {
			return nil, true, nil
		}
		for i := from; i < n && uint64(len(recs)) < count; i++ {
			recs = append(recs, s.records[i])
		}
		return recs, true, nil
	}
	start := n - 1
	if !fromEnd && from < n {
		start = from
	}
	for i := int64(start); i >= 0 && uint64(len(recs)) < count; i-- {
		recs = append(recs, s.records[i])
	}
	return recs, true, nil
}

// firstAtOrAfter is the index in the log of the first record whose
// position (pos, pos) is not before (commit, prepare): where a forward
// read of $all from that position starts.
func (m *model) firstAtOrAfter(commit, prepare uint64) int {
	lo, hi := 0, len(m.all)
	for lo < hi {
		mid := (lo + hi) / 2
		p := m.all[mid].pos
		if p > commit || p == commit && p >= prepare {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// lastBefore is the index of the last record strictly before the position,
// where a backward read of $all from it starts; -1 when there is none.
func (m *model) lastBefore(commit, prepare uint64) int {
	return m.firstAtOrAfter(commit, prepare) - 1
}

// snapshot returns the log from index i on, and the channel closed on
// the next commit, so a subscriber can wait for more without missing any.
func (m *model) snapshot(i int) ([]*record, <-chan struct{}) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i > len(m.all) {
		i = len(m.all)
	}
	return m.all[i:len(m.all):len(m.all)], m.changed
}

// logLen is the number of records in the log.
func (m *model) logLen() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.all)
}

// utf16Len is the length of s in UTF-16 code units, as .NET counts a
// string's length.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}
