package serve

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAnswerStoreLetsLeastRecentGo: the store counts each answer's bytes
// and key, lets the least recently used go down to seven eighths of the
// bound, and keeps no answer larger than the whole bound.
func TestAnswerStoreLetsLeastRecentGo(t *testing.T) {
	answer := func(n int) encodedAnswer { return encodedAnswer{body: []byte(strings.Repeat("x", n))} }
	key := func(day int) answerKey { return answerKey{symbol: "BABA", asOfSec: int64(day)} }
	size := sizeOf(key(0), answer(1000))
	require.Equal(t, int64(1000+4+answerOverhead), size)

	st := newAnswerStore(8 * size)
	for day := range 8 {
		st.put(key(day), stamp{}, time.Time{}, answer(1000))
	}
	assert.Equal(t, 8*size, st.bytes, "eight fit exactly")
	_, ok := st.get(key(0)) // now the most recently used
	require.True(t, ok)

	// A ninth exceeds the bound: the least recent go until seven eighths
	// remain (7 answers), day 0 among the kept since it was just used.
	st.put(key(8), stamp{}, time.Time{}, answer(1000))
	assert.Equal(t, 7*size, st.bytes)
	assert.Len(t, st.entries, 7)
	assert.Equal(t, uint64(2), st.evictions.Load())
	for _, day := range []int{1, 2} {
		_, ok := st.get(key(day))
		assert.False(t, ok, "day %d was the least recently used", day)
	}
	for _, day := range []int{0, 3, 8} {
		_, ok := st.get(key(day))
		assert.True(t, ok, "day %d is kept", day)
	}

	// Replacing an answer counts its new size once.
	st.put(key(3), stamp{gen: 1}, time.Time{}, answer(10))
	assert.Equal(t, 6*size+sizeOf(key(3), answer(10)), st.bytes)

	// An answer larger than the bound is not kept, and displaces nothing.
	st.put(key(9), stamp{}, time.Time{}, answer(int(8*size)))
	_, ok = st.get(key(9))
	assert.False(t, ok)
	assert.Len(t, st.entries, 7)

	none := newAnswerStore(0)
	none.put(key(0), stamp{}, time.Time{}, answer(1))
	assert.Empty(t, none.entries, "a bound of 0 keeps nothing")
}

// TestEncodedAnswerAt: every known_at of an encoded list is filled with the
// request's time, and nothing else changes.
func TestEncodedAnswerAt(t *testing.T) {
	e, err := encodeAnswer([]struct {
		Instrument string    `json:"instrument"`
		KnownAt    time.Time `json:"known_at"`
		Label      string    `json:"label"`
	}{{"A", time.Time{}, `say "known_at":"0001-01-01T00:00:00Z"`}, {"B", time.Time{}, ""}})
	require.NoError(t, err)
	at := time.Date(2026, 11, 24, 12, 0, 0, 5, time.FixedZone("x", 3600))
	assert.Equal(t, `[{"instrument":"A","known_at":"2026-11-24T11:00:00.000000005Z","label":"say \"known_at\":\"0001-01-01T00:00:00Z\""},`+
		`{"instrument":"B","known_at":"2026-11-24T11:00:00.000000005Z","label":""}]`+"\n", string(e.at(at)))
	_, err = encodeAnswer([]int{1})
	assert.Error(t, err, "an answer without known_at is a bug, not a silent cache entry")
}
