package serve

import (
	"bytes"
	"cmp"
	"io"
	"slices"
	"sync/atomic"
	"time"
	"unsafe"
)

// answerOverhead is what an answer costs besides its encoded bytes and its
// symbol: its key, its entry and its slot in the map, rounded up. Counting
// it keeps a cache of many small answers within its bound too.
const answerOverhead = 256

// answerStore keeps encoded answers within a bound on their bytes, letting
// the least recently used go first. It is not safe for concurrent use on
// its own: answerCache guards it with its lock, get under the read lock
// (an entry's use is an atomic store, so hits never serialise) and put
// under the write lock.
type answerStore struct {
	maxBytes  int64 // 0 keeps nothing
	bytes     int64
	entries   map[answerKey]*storedAnswer
	clock     atomic.Uint64 // ticks once per use, to order entries by recency
	evictions atomic.Uint64 // answers let go to honour maxBytes
}

// storedAnswer is one answer with the stamp of the events it was computed
// from.
type storedAnswer struct {
	stamp  stamp
	until  time.Time // served only to requests whose now is before it; zero for ever
	answer encodedAnswer
	size   int64
	used   atomic.Uint64 // the clock's value at the last use
}

func newAnswerStore(maxBytes int64) *answerStore {
	return &answerStore{maxBytes: maxBytes, entries: map[answerKey]*storedAnswer{}}
}

// sizeOf is what an answer counts against the bound.
func sizeOf(k answerKey, a encodedAnswer) int64 {
	return int64(len(a.body)) + int64(len(a.knownAt))*int64(unsafe.Sizeof(0)) + int64(len(k.symbol)) + answerOverhead
}

// get returns the answer stored for k, if any, with its stamp.
func (st *answerStore) get(k answerKey) (*storedAnswer, bool) {
	e, ok := st.entries[k]
	if ok {
		e.used.Store(st.clock.Add(1))
	}
	return e, ok
}

// put stores an answer, to be served until the time until (zero for as
// long as its stamp is current), replacing any stored for k, and lets the least
// recently used go while the bytes exceed the bound. An answer larger than
// the whole bound is not stored.
func (st *answerStore) put(k answerKey, s stamp, until time.Time, a encodedAnswer) {
	size := sizeOf(k, a)
	if old, ok := st.entries[k]; ok {
		st.bytes -= old.size
		delete(st.entries, k)
	}
	if size > st.maxBytes {
		return
	}
	e := &storedAnswer{stamp: s, until: until, answer: a, size: size}
	e.used.Store(st.clock.Add(1))
	st.entries[k] = e
	st.bytes += size
	st.evict()
}

// evict drops the least recently used answers while the bytes exceed the
// bound, down to seven eighths of it, so a cache kept full by new answers
// sorts its entries once per eighth of the bound rather than on every put
// (as answerCache.evictLocked does for loaded instruments).
func (st *answerStore) evict() {
	if st.bytes <= st.maxBytes {
		return
	}
	type candidate struct {
		key  answerKey
		used uint64
	}
	candidates := make([]candidate, 0, len(st.entries))
	for k, e := range st.entries {
		candidates = append(candidates, candidate{k, e.used.Load()})
	}
	slices.SortFunc(candidates, func(a, b candidate) int { return cmp.Compare(a.used, b.used) })
	target := st.maxBytes - st.maxBytes/8
	for _, c := range candidates {
		if st.bytes <= target {
			break
		}
		st.bytes -= st.entries[c.key].size
		delete(st.entries, c.key)
		st.evictions.Add(1)
	}
}

// encodedAnswer is an answer encoded as JSON once, without the value of
// its known_at fields: an answer cached "as known now" is sent with each
// request's own time without encoding the rest again. body is the JSON
// with every `"known_at":` key followed by nothing, and knownAt the offsets
// in body where the value goes.
type encodedAnswer struct {
	body    []byte
	knownAt []int
}

// stampLen is the longest known_at value: a time with nanoseconds, quoted.
const stampLen = len(`"2006-01-02T15:04:05.999999999Z"`)

// at is the answer's JSON with every known_at set to t, as time.Time
// encodes it, and a final newline.
func (e encodedAnswer) at(t time.Time) []byte {
	var out bytes.Buffer
	out.Grow(len(e.body) + len(e.knownAt)*stampLen + 1)
	_ = e.writeAt(&out, t) // a bytes.Buffer cannot fail
	return out.Bytes()
}

// writeAt writes what at returns, piece by piece: the answer about every
// instrument of a large ledger is sent without a second copy of it.
func (e encodedAnswer) writeAt(w io.Writer, t time.Time) error {
	stamp := make([]byte, 0, stampLen)
	stamp = append(stamp, '"')
	stamp = t.UTC().AppendFormat(stamp, time.RFC3339Nano)
	stamp = append(stamp, '"')
	from := 0
	for _, i := range e.knownAt {
		if _, err := w.Write(e.body[from:i]); err != nil {
			return err
		}
		if _, err := w.Write(stamp); err != nil {
			return err
		}
		from = i
	}
	if _, err := w.Write(e.body[from:]); err != nil {
		return err
	}
	_, err := w.Write([]byte{'\n'})
	return err
}
