// Package storetest is the conformance suite every eventstore.Store backend
// runs, so that the ledger can rely on one behaviour whichever backend holds
// its events.
//
// A backend's test file is only a factory:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) eventstore.Store {
//			s, err := sqlite.Open(filepath.Join(t.TempDir(), "ledger.db"), sqlite.Options{})
//			require.NoError(t, err)
//			t.Cleanup(func() { assert.NoError(t, s.Close()) })
//			return s
//		})
//	}
//
// The factory is called once per subtest and owns the store's teardown. The
// store it returns may already hold records (a shared server, say): the suite
// names its streams uniquely and ignores records it did not write, so it never
// assumes an empty store. Optional capabilities (eventstore.StreamLister,
// eventstore.Finder, eventstore.Copier, ...) are tested when the store
// implements them.
package storetest

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
)

// Run runs the whole conformance suite against the stores open makes. open
// is called once per subtest and registers the store's Close with t.Cleanup
// itself, so the suite never closes a store it did not open; subtests are
// therefore independent and may be run alone with go test -run.
func Run(t *testing.T, open func(t *testing.T) eventstore.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s eventstore.Store)
	}{
		{"AppendNoStream", testAppendNoStream},
		{"AppendExactVersion", testAppendExactVersion},
		{"WrongVersion", testWrongVersion},
		{"AppendAny", testAppendAny},
		{"VersionsContiguous", testVersionsContiguous},
		{"BatchAtomicity", testBatchAtomicity},
		{"EmptyBatch", testEmptyBatch},
		{"InvalidEvent", testInvalidEvent},
		{"IdempotentReplay", testIdempotentReplay},
		{"DuplicateID", testDuplicateID},
		{"ReadStreamPaging", testReadStreamPaging},
		{"EventReader", testEventReader},
		{"ReadAllPaging", testReadAllPaging},
		{"RecordedAt", testRecordedAt},
		{"HashChain", testHashChain},
		{"RoundTrip", testRoundTrip},
		{"LargeBatch", testLargeBatch},
		{"StreamLister", testStreamLister},
		{"Finder", testFinder},
		{"Snapshotter", testSnapshotter},
		{"BatchAppender", testBatchAppender},
		{"Copier", testCopier},
		{"Subscriber", testSubscriber},
		{"AppendLimiter", testAppendLimiter},
		{"ReadOnlyReporter", testReadOnlyReporter},
		{"SnapshotBatcher", testSnapshotBatcher},
		{"SnapshotPrefixDeleter", testSnapshotPrefixDeleter},
		{"SnapshotPrefixReader", testSnapshotPrefixReader},
		{"HeadReader", testHeadReader},
		{"IDChecker", testIDChecker},
		{"ChainVersions", testChainVersions},
		{"ClockAhead", testClockAhead},
		{"ContextCancelled", testContextCancelled},
		{"ConcurrentAppendOneStream", testConcurrentAppendOneStream},
		{"ConcurrentAppendManyStreams", testConcurrentAppendManyStreams},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			require.NotNil(t, s, "factory returned a nil store")
			tc.fn(t, s)
		})
	}
}

// effective is a fixed valid time with nanoseconds, so that stores which
// lose precision are caught everywhere, not only by the round-trip test.
var effective = time.Date(2025, 9, 11, 23, 59, 59, 999999999, time.UTC)

// newStream returns a stream name no other test (or earlier run against a
// shared store) has used.
func newStream(t *testing.T) string {
	t.Helper()
	return "storetest-" + uuid.NewString()
}

// event returns a valid event with a fresh id; n makes its data distinct.
func event(n int) eventstore.EventData {
	return eventstore.EventData{
		ID:          uuid.New(),
		Type:        "TestEvent",
		Data:        []byte(fmt.Sprintf(`{"n":%d}`, n)),
		Metadata:    []byte(`{"source":"storetest"}`),
		EffectiveAt: effective.Add(time.Duration(n) * time.Second),
	}
}

// events returns n valid events numbered from first.
func events(first, n int) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		out[i] = event(first + i)
	}
	return out
}

// readStream reads a whole stream, failing the test on error.
func readStream(t *testing.T, s eventstore.Store, stream string) []eventstore.Record {
	t.Helper()
	recs, err := s.ReadStream(context.Background(), stream, 0, 0)
	require.NoError(t, err, "read %s", stream)
	return recs
}

// mustAppend appends and fails the test on error.
func mustAppend(t *testing.T, s eventstore.Store, stream string, expected eventstore.Version, evs []eventstore.EventData) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(context.Background(), stream, expected, evs)
	require.NoError(t, err, "append to %s", stream)
	require.False(t, res.Replayed, "a first append must not be a replay")
	require.Len(t, res.Records, len(evs))
	return res
}

// assertEventStored checks that r holds what e proposed, byte for byte and
// instant for instant.
func assertEventStored(t *testing.T, e eventstore.EventData, r eventstore.Record) {
	t.Helper()
	assert.Equal(t, e.ID, r.ID, "id")
	assert.Equal(t, e.Type, r.Type, "type of %s", e.ID)
	assert.True(t, bytes.Equal(e.Data, r.Data), "data of %s: got %q, want %q", e.ID, r.Data, e.Data)
	assert.True(t, bytes.Equal(e.Metadata, r.Metadata), "metadata of %s: got %q, want %q", e.ID, r.Metadata, e.Metadata)
	assert.True(t, e.EffectiveAt.Equal(r.EffectiveAt), "effective_at of %s: got %s, want %s",
		e.ID, r.EffectiveAt.Format(time.RFC3339Nano), e.EffectiveAt.Format(time.RFC3339Nano))
}

// assertSameRecord checks that two copies of a stored record agree in every
// field. Times are compared as instants, since a backend may return them in
// any location.
func assertSameRecord(t *testing.T, want, got eventstore.Record) {
	t.Helper()
	assertEventStored(t, want.EventData, got)
	assert.Equal(t, want.Stream, got.Stream, "stream of %s", want.ID)
	assert.Equal(t, want.Version, got.Version, "version of %s", want.ID)
	assert.Equal(t, want.Position, got.Position, "position of %s", want.ID)
	assert.True(t, want.RecordedAt.Equal(got.RecordedAt), "recorded_at of %s: got %s, want %s",
		want.ID, got.RecordedAt.Format(time.RFC3339Nano), want.RecordedAt.Format(time.RFC3339Nano))
	assert.Equal(t, want.PrevHash, got.PrevHash, "prev_hash of %s", want.ID)
	assert.Equal(t, want.Hash, got.Hash, "hash of %s", want.ID)
	assert.Equal(t, want.Chain, got.Chain, "chain version of %s", want.ID)
}

// assertSameRecords compares two lists of records element by element.
func assertSameRecords(t *testing.T, want, got []eventstore.Record) {
	t.Helper()
	if !assert.Len(t, got, len(want)) {
		return
	}
	for i := range want {
		assertSameRecord(t, want[i], got[i])
	}
}

// assertVersions checks that recs are numbered first, first+1, ...
func assertVersions(t *testing.T, recs []eventstore.Record, first int64) {
	t.Helper()
	for i, r := range recs {
		assert.Equal(t, first+int64(i), r.Version, "record %d (%s)", i, r.ID)
	}
}

func testAppendNoStream(t *testing.T, s eventstore.Store) {
	stream := newStream(t)
	evs := events(0, 3)
	res := mustAppend(t, s, stream, eventstore.NoStream, evs)
	for i, r := range res.Records {
		assertEventStored(t, evs[i], r)
		assert.Equal(t, stream, r.Stream)
	}
	assertVersions(t, res.Records, 0)
	assertSameRecords(t, res.Records, readStream(t, s, stream))
}

func testAppendExactVersion(t *testing.T, s eventstore.Store) {
	stream := newStream(t)
	mustAppend(t, s, stream, eventstore.NoStream, events(0, 2))
	res := mustAppend(t, s, stream, 1, events(2, 1))
	assertVersions(t, res.Records, 2)
	res = mustAppend(t, s, stream, 2, events(3, 2))
	assertVersions(t, res.Records, 3)
	recs := readStream(t, s, stream)
	assert.Len(t, recs, 5)
	assertVersions(t, recs, 0)
}

func testWrongVersion(t *testing.T, s eventstore.Store) {
	ctx := context.Background()
	stream := newStream(t)

	// Expectations of a stream that does not exist yet.
	for _, v := range []eventstore.Version{0, 1, 5} {
		_, err := s.Append(ctx, stream, v, events(0, 1))
		assert.ErrorIs(t, err, eventstore.ErrWrongVersion, "expected %d of a missing stream", v)
	}
	assert.Empty(t, readStream(t, s, stream), "a refused append wrote something")

	mustAppend(t, s, stream, eventstore.NoStream, events(0, 3)) // now at 2
	cases := []struct {
		name     string
		expected eventstore.Version
	}{
		{"NoStreamOnExisting", eventstore.NoStream},
		{"Stale", 0},
		{"StaleByOne", 1},
		{"Ahead", 3},
		{"FarAhead", 100},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Append(ctx, stream, tc.expected, events(10, 2))
			assert.ErrorIs(t, err, eventstore.ErrWrongVersion)
		})
	}
	recs := readStream(t, s, stream)
	assert.Len(t, recs, 3, "a refused append wrote something")
	assertVersions(t, recs, 0)
}

func testAppendAny(t *testing.T, s eventstore.Store) {
	stream := newStream(t)
	res := mustAppend(t, s, stream, eventstore.Any, events(0, 2))
	assertVersions(t, res.Records, 0)
	res = mustAppend(t, s, stream, eventstore.Any, events(2, 1))
	assertVersions(t, res.Records, 2)
	assert.Len(t, readStream(t, s, stream), 3)
}

func testVersionsContiguous(t *testing.T, s eventstore.Store) {
	stream := newStream(t)
	expected := eventstore.NoStream
	n := 0
	for _, size := range []int{1, 3, 1, 7, 2} {
		res := mustAppend(t, s, stream, expected, events(n, size))
		assertVersions(t, res.Records, int64(n))
		n += size
		expected = eventstore.Version(n - 1)
	}
	recs := readStream(t, s, stream)
	assert.Len(t, recs, n)
	assertVersions(t, recs, 0)
}

func testBatchAtomicity(t *testing.T, s eventstore.Store) {
	ctx := context.Background()
	stream := newStream(t)
	mustAppend(t, s, stream, eventstore.NoStream, events(0, 1))
	stored := readStream(t, s, stream)

	t.Run("DuplicateIDInBatch", func(t *testing.T) {
		evs := events(100, 5)
		evs[3].ID = evs[1].ID
		_, err := s.Append(ctx, stream, 0, evs)
		assert.ErrorIs(t, err, eventstore.ErrDuplicateID)
	})
	t.Run("InvalidEventInBatch", func(t *testing.T) {
		evs := events(200, 5)
		evs[2].Type = ""
		_, err := s.Append(ctx, stream, 0, evs)
		assert.ErrorIs(t, err, eventstore.ErrInvalidEvent)
	})
	t.Run("StoredIDInBatch", func(t *testing.T) {
		other := newStream(t)
		taken := mustAppend(t, s, other, eventstore.NoStream, events(300, 1)).Records[0]
		evs := events(400, 5)
		evs[2] = taken.EventData
		_, err := s.Append(ctx, stream, 0, evs)
		assert.ErrorIs(t, err, eventstore.ErrDuplicateID)
	})

	assertSameRecords(t, stored, readStream(t, s, stream))
	// The stream must still accept the next version: nothing was half-written.
	res := mustAppend(t, s, stream, 0, events(500, 2))
	assertVersions(t, res.Records, 1)
}

func testEmptyBatch(t *testing.T, s eventstore.Store) {
	ctx := context.Background()
	stream := newStream(t)
	for _, evs := range [][]eventstore.EventData{nil, {}} {
		for _, v := range []eventstore.Version{eventstore.NoStream, eventstore.Any, 0} {
			_, err := s.Append(ctx, stream, v, evs)
			assert.ErrorIs(t, err, eventstore.ErrEmptyBatch, "expected %d", v)
		}
	}
	assert.Empty(t, readStream(t, s, stream))
}

func testInvalidEvent(t *testing.T, s eventstore.Store) {
	ctx := context.Background()
	cases := []struct {
		name   string
		mutate func(e *eventstore.EventData)
	}{
		{"NilID", func(e *eventstore.EventData) { e.ID = uuid.Nil }},
		{"EmptyType", func(e *eventstore.EventData) { e.Type = "" }},
		{"NilData", func(e *eventstore.EventData) { e.Data = nil }},
		{"EmptyData", func(e *eventstore.EventData) { e.Data = []byte{} }},
		{"ZeroEffectiveAt", func(e *eventstore.EventData) { e.EffectiveAt = time.Time{} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stream := newStream(t)
			for _, at := range []int{0, 1, 2} { // the bad event first, in the middle, last
				evs := events(0, 3)
				tc.mutate(&evs[at])
				_, err := s.Append(ctx, stream, eventstore.Any, evs)
				assert.ErrorIs(t, err, eventstore.ErrInvalidEvent, "bad event at %d", at)
			}
			assert.Empty(t, readStream(t, s, stream), "an invalid batch wrote something")
		})
	}
}

func testIdempotentReplay(t *testing.T, s eventstore.Store) {
	ctx := context.Background()
	stream := newStream(t)
	evs := events(0, 3)
	first := mustAppend(t, s, stream, eventstore.NoStream, evs)
	stored := readStream(t, s, stream)
	require.Len(t, stored, 3)

	expectations := []struct {
		name     string
		expected eventstore.Version
	}{
		{"Original", eventstore.NoStream},
		{"Any", eventstore.Any},
		{"Current", 2},
		{"Stale", 0},
		{"Ahead", 7},
	}
	for _, tc := range expectations {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.Append(ctx, stream, tc.expected, evs)
			require.NoError(t, err)
			assert.True(t, res.Replayed, "Replayed")
			assertSameRecords(t, stored, res.Records)
		})
	}

	t.Run("SameContentOtherLocation", func(t *testing.T) {
		// The same instant written in another zone is the same event.
		again := append([]eventstore.EventData(nil), evs...)
		for i := range again {
			again[i].EffectiveAt = again[i].EffectiveAt.In(time.FixedZone("HKT", 8*3600))
		}
		res, err := s.Append(ctx, stream, eventstore.Any, again)
		require.NoError(t, err)
		assert.True(t, res.Replayed)
		assertSameRecords(t, stored, res.Records)
	})

	t.Run("Subsequence", func(t *testing.T) {
		res, err := s.Append(ctx, stream, eventstore.Any, evs[1:2])
		require.NoError(t, err)
		assert.True(t, res.Replayed)
		assertSameRecords(t, stored[1:2], res.Records)
	})

	assertSameRecords(t, first.Records, readStream(t, s, stream))
	// A replay changes nothing: the stream is still at version 2.
	res := mustAppend(t, s, stream, 2, events(3, 1))
	assertVersions(t, res.Records, 3)

	t.Run("LargeBatch", func(t *testing.T) {
		// Large enough that a backend looking ids up in chunks meets a
		// full chunk, a partial one and a tiny one.
		stream := newStream(t)
		evs := events(1000, 130)
		first := mustAppend(t, s, stream, eventstore.NoStream, evs)
		res, err := s.Append(ctx, stream, eventstore.Any, evs)
		require.NoError(t, err)
		assert.True(t, res.Replayed)
		assertSameRecords(t, first.Records, res.Records)

		for _, at := range []int{0, 63, 64, 100, 129} {
			changed := append([]eventstore.EventData(nil), evs...)
			changed[at].Data = []byte(`{"changed":true}`)
			_, err := s.Append(ctx, stream, eventstore.Any, changed)
			assert.ErrorIs(t, err, eventstore.ErrDuplicateID, "event %d changed", at)

			fresh := events(2000, 130)
			fresh[at] = evs[at]
			_, err = s.Append(ctx, stream, eventstore.Any, fresh)
			assert.ErrorIs(t, err, eventstore.ErrDuplicateID, "event %d already stored", at)
		}
		assertSameRecords(t, first.Records, readStream(t, s, stream))
	})
}

func testDuplicateID(t *testing.T, s eventstore.Store) {
	ctx := context.Background()
	stream := newStream(t)
	evs := events(0, 3)
	mustAppend(t, s, stream, eventstore.NoStream, evs)
	stored := readStream(t, s, stream)

	changed := func(mutate func(e *eventstore.EventData)) []eventstore.EventData {
		e := evs[1]
		mutate(&e)
		return []eventstore.EventData{e}
	}
	cases := []struct {
		name   string
		stream string
		batch  []eventstore.EventData
	}{
		{"DifferentData", stream, changed(func(e *eventstore.EventData) { e.Data = []byte(`{"n":"other"}`) })},
		{"DifferentType", stream, changed(func(e *eventstore.EventData) { e.Type = "OtherEvent" })},
		{"DifferentEffectiveAt", stream, changed(func(e *eventstore.EventData) { e.EffectiveAt = e.EffectiveAt.Add(time.Nanosecond) })},
		{"OtherStream", newStream(t), evs[1:2]},
		{"OtherStreamWholeBatch", newStream(t), evs},
		{"PartlyStoredAtEnd", stream, append(append([]eventstore.EventData(nil), evs...), event(10))},
		{"PartlyStoredAtStart", stream, []eventstore.EventData{event(11), evs[0]}},
		{"OutOfOrder", stream, []eventstore.EventData{evs[2], evs[0]}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range []eventstore.Version{eventstore.Any, 2, eventstore.NoStream} {
				_, err := s.Append(ctx, tc.stream, v, tc.batch)
				assert.ErrorIs(t, err, eventstore.ErrDuplicateID, "expected %d", v)
			}
			if tc.stream != stream {
				assert.Empty(t, readStream(t, s, tc.stream), "a refused append wrote something")
			}
		})
	}
	assertSameRecords(t, stored, readStream(t, s, stream))
}

func testReadStreamPaging(t *testing.T, s eventstore.Store) {
	ctx := context.Background()
	stream := newStream(t)
	mustAppend(t, s, stream, eventstore.NoStream, events(0, 10))
	all := readStream(t, s, stream)
	require.Len(t, all, 10)

	cases := []struct {
		from  int64
		limit int
		want  []eventstore.Record
	}{
		{0, 0, all},
		{0, -1, all},
		{0, 3, all[:3]},
		{3, 3, all[3:6]},
		{8, 5, all[8:]},
		{9, 1, all[9:]},
		{10, 0, nil},
		{11, 5, nil},
		{4, 0, all[4:]},
		{0, 10, all},
		{0, 100, all},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("from%d_limit%d", tc.from, tc.limit), func(t *testing.T) {
			got, err := s.ReadStream(ctx, stream, tc.from, tc.limit)
			require.NoError(t, err)
			assertSameRecords(t, tc.want, got)
		})
	}

	t.Run("PageThrough", func(t *testing.T) {
		var got []eventstore.Record
		for from := int64(0); ; {
			page, err := s.ReadStream(ctx, stream, from, 4)
			require.NoError(t, err)
			got = append(got, page...)
			if len(page) < 4 {
				break
			}
			from = page[len(page)-1].Version + 1
		}
		assertSameRecords(t, all, got)
	})

	t.Run("UnknownStream", func(t *testing.T) {
		got, err := s.ReadStream(ctx, newStream(t), 0, 0)
		assert.NoError(t, err)
		assert.Empty(t, got)
	})
}

func testReadAllPaging(t *testing.T, s eventstore.Store) {
	ctx := context.Background()
	a, b, c := newStream(t), newStream(t), newStream(t)
	var appended []eventstore.Record
	for _, step := range []struct {
		stream string
		n      int
	}{{a, 2}, {b, 1}, {a, 1}, {c, 3}, {b, 2}, {a, 1}} {
		res := mustAppend(t, s, step.stream, eventstore.Any, events(len(appended), step.n))
		appended = append(appended, res.Records...)
	}
	ours := map[uuid.UUID]bool{}
	for _, r := range appended {
		ours[r.ID] = true
	}
	filter := func(recs []eventstore.Record) []eventstore.Record {
		var out []eventstore.Record
		for _, r := range recs {
			if ours[r.ID] {
				out = append(out, r)
			}
		}
		return out
	}
	assertIncreasing := func(t *testing.T, recs []eventstore.Record, after eventstore.Position) {
		t.Helper()
		prev := after
		for _, r := range recs {
			assert.True(t, prev.Less(r.Position), "position %+v of %s does not follow %+v", r.Position, r.ID, prev)
			prev = r.Position
		}
	}

	t.Run("All", func(t *testing.T) {
		got, err := s.ReadAll(ctx, eventstore.Position{}, 0)
		require.NoError(t, err)
		assertIncreasing(t, got, eventstore.Position{})
		assertSameRecords(t, appended, filter(got))
	})

	for _, pageSize := range []int{1, 2, 3, 5} {
		t.Run(fmt.Sprintf("Pages%d", pageSize), func(t *testing.T) {
			var got []eventstore.Record
			after := eventstore.Position{}
			for {
				page, err := s.ReadAll(ctx, after, pageSize)
				require.NoError(t, err)
				require.LessOrEqual(t, len(page), pageSize)
				assertIncreasing(t, page, after)
				got = append(got, page...)
				if len(page) == 0 {
					break
				}
				after = page[len(page)-1].Position
			}
			assertSameRecords(t, appended, filter(got))
		})
	}

	t.Run("AfterARecord", func(t *testing.T) {
		for k := range appended {
			got, err := s.ReadAll(ctx, appended[k].Position, 0)
			require.NoError(t, err)
			assertIncreasing(t, got, appended[k].Position)
			assertSameRecords(t, appended[k+1:], filter(got))
		}
	})

	t.Run("JustBeforeARecord", func(t *testing.T) {
		// A position between two records, as a checkpoint taken by another
		// backend or built by hand may be, still reads from the next record.
		for k, r := range appended {
			if r.Position.Prepare == 0 {
				continue
			}
			before := eventstore.Position{Commit: r.Position.Commit, Prepare: r.Position.Prepare - 1}
			got, err := s.ReadAll(ctx, before, 0)
			require.NoError(t, err)
			assertIncreasing(t, got, before)
			assertSameRecords(t, appended[k:], filter(got))
		}
	})

	t.Run("AfterTheLast", func(t *testing.T) {
		got, err := s.ReadAll(ctx, appended[len(appended)-1].Position, 0)
		require.NoError(t, err)
		assert.Empty(t, filter(got))
	})
}

func testRecordedAt(t *testing.T, s eventstore.Store) {
	stream := newStream(t)
	var appended []eventstore.Record
	for i := 0; i < 5; i++ {
		res := mustAppend(t, s, stream, eventstore.Any, events(i*2, 2))
		appended = append(appended, res.Records...)
	}
	read := readStream(t, s, stream)
	require.Len(t, read, len(appended))
	var last time.Time
	for i, r := range read {
		assert.False(t, r.RecordedAt.IsZero(), "recorded_at of version %d is zero", r.Version)
		assert.False(t, r.RecordedAt.Before(last), "recorded_at of version %d (%s) is before the previous event's (%s)",
			r.Version, r.RecordedAt.Format(time.RFC3339Nano), last.Format(time.RFC3339Nano))
		last = r.RecordedAt
		// The value Append reported is the value stored, to the nanosecond:
		// a store that rounds on the way in or out breaks the hash chain.
		assert.True(t, appended[i].RecordedAt.Equal(r.RecordedAt), "recorded_at of version %d: appended %s, read %s",
			r.Version, appended[i].RecordedAt.Format(time.RFC3339Nano), r.RecordedAt.Format(time.RFC3339Nano))
	}
}

func testHashChain(t *testing.T, s eventstore.Store) {
	ctx := context.Background()
	stream := newStream(t)
	var appended []eventstore.Record
	for _, n := range []int{1, 3, 2} {
		res := mustAppend(t, s, stream, eventstore.Any, events(len(appended), n))
		appended = append(appended, res.Records...)
	}
	n, _, err := eventstore.VerifyStream(ctx, s, stream)
	require.NoError(t, err)
	assert.EqualValues(t, len(appended), n)

	recs := readStream(t, s, stream)
	require.Len(t, recs, len(appended))
	assert.Equal(t, [32]byte{}, recs[0].PrevHash, "the first record's prev_hash must be zero")
	v := &eventstore.ChainVerifier{Stream: stream}
	var prev [32]byte
	for i, r := range recs {
		assert.Equal(t, prev, r.PrevHash, "prev_hash of version %d", r.Version)
		assert.Equal(t, eventstore.RecordHash(prev, r), r.Hash, "hash of version %d", r.Version)
		assert.NoError(t, v.Check(r))
		// Append reported the hashes it stored.
		assert.Equal(t, r.Hash, appended[i].Hash, "appended hash of version %d", r.Version)
		assert.Equal(t, r.PrevHash, appended[i].PrevHash, "appended prev_hash of version %d", r.Version)
		prev = r.Hash
	}
	assert.EqualValues(t, len(recs), v.Count())

	// Chains are per stream: another stream starts again from zero.
	other := newStream(t)
	res := mustAppend(t, s, other, eventstore.NoStream, events(100, 1))
	assert.Equal(t, [32]byte{}, res.Records[0].PrevHash)
	n, _, err = eventstore.VerifyStream(ctx, s, other)
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)

	n, _, err = eventstore.VerifyStream(ctx, s, newStream(t))
	assert.NoError(t, err, "an empty stream verifies")
	assert.Zero(t, n)
}

func testRoundTrip(t *testing.T, s eventstore.Store) {
	stream := newStream(t)
	allBytes := make([]byte, 256)
	for i := range allBytes {
		allBytes[i] = byte(i)
	}
	evs := []eventstore.EventData{
		{
			ID:          uuid.New(),
			Type:        "RatingAdded",
			Data:        []byte(`{"instrument":"BABA","target":"165.690000","note":"caf\u00e9 \ud83d\udcc8"}`),
			Metadata:    []byte(`{"recorded_by":"j.smith@firm-a","source":"import:file.jsonl:12"}`),
			EffectiveAt: time.Date(2025, 9, 11, 23, 59, 59, 999999999, time.UTC),
		},
		{
			ID:          uuid.New(),
			Type:        "Typ\u00e9 \u4e2d\u6587",
			Data:        allBytes,
			Metadata:    nil,
			EffectiveAt: time.Date(1900, 1, 1, 0, 0, 0, 1, time.UTC),
		},
		{
			ID:          uuid.New(),
			Type:        "Zoned",
			Data:        []byte("x"),
			Metadata:    []byte{0, 1, 2, 0xff},
			EffectiveAt: time.Date(2030, 6, 30, 8, 15, 0, 123456789, time.FixedZone("HKT", 8*3600)),
		},
		{
			ID:          uuid.New(),
			Type:        "Large",
			Data:        bytes.Repeat([]byte(`{"k":"v"},`), 10000),
			EffectiveAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		},
	}
	res := mustAppend(t, s, stream, eventstore.NoStream, evs)
	read := readStream(t, s, stream)
	require.Len(t, read, len(evs))
	for i, e := range evs {
		assertEventStored(t, e, res.Records[i])
		assertEventStored(t, e, read[i])
		assert.Equal(t, e.EffectiveAt.UnixNano(), read[i].EffectiveAt.UnixNano(), "effective_at nanoseconds of %s", e.ID)
	}
	assertSameRecords(t, res.Records, read)
	n, _, err := eventstore.VerifyStream(context.Background(), s, stream)
	require.NoError(t, err)
	assert.EqualValues(t, len(evs), n)
}

// testLargeBatch appends batches of hundreds of events, an odd number,
// some without metadata, to two streams in turn, and checks that what each
// append returned, positions included, is what reading gives back: a store
// may write many events a statement, and must place each exactly.
func testLargeBatch(t *testing.T, s eventstore.Store) {
	a, b := newStream(t), newStream(t)
	batch := func(first, n int) []eventstore.EventData {
		evs := events(first, n)
		for i := range evs {
			if i%3 == 1 {
				evs[i].Metadata = nil
			}
		}
		return evs
	}
	var returned []eventstore.Record
	for round, size := range []int{1, 200, 131, 64, 65} {
		for _, stream := range []string{a, b} {
			res, err := s.Append(context.Background(), stream, eventstore.Any, batch(1000*round, size))
			require.NoError(t, err, "append %d events to %s", size, stream)
			require.Len(t, res.Records, size)
			returned = append(returned, res.Records...)
		}
	}
	byPosition := map[eventstore.Position]eventstore.Record{}
	for _, r := range returned {
		_, taken := byPosition[r.Position]
		require.False(t, taken, "position %v returned twice", r.Position)
		byPosition[r.Position] = r
	}
	for _, stream := range []string{a, b} {
		read := readStream(t, s, stream)
		require.Len(t, read, 1+200+131+64+65)
		assertVersions(t, read, 0)
		for _, r := range read {
			want, ok := byPosition[r.Position]
			if assert.True(t, ok, "%s version %d read at position %v, which no append returned", stream, r.Version, r.Position) {
				assertSameRecord(t, want, r)
			}
		}
		n, _, err := eventstore.VerifyStream(context.Background(), s, stream)
		require.NoError(t, err)
		assert.EqualValues(t, len(read), n)
	}
}

func testStreamLister(t *testing.T, s eventstore.Store) {
	l, ok := eventstore.AsStreamLister(s)
	if !ok {
		t.Skip("store does not implement eventstore.StreamLister")
	}
	ctx := context.Background()
	sizes := map[string]int{}
	last := map[string]time.Time{}
	lastHash := map[string][32]byte{}
	for _, step := range []int{3, 1, 2, 1} {
		stream := newStream(t)
		for i := 0; i < step; i++ {
			res := mustAppend(t, s, stream, eventstore.Any, events(i, 1))
			sizes[stream]++
			last[stream] = res.Records[0].RecordedAt
			lastHash[stream] = res.Records[0].Hash
		}
	}
	infos, err := l.Streams(ctx)
	require.NoError(t, err)
	for i := 1; i < len(infos); i++ {
		assert.Less(t, infos[i-1].Stream, infos[i].Stream, "streams are not ordered by name")
	}
	seen := map[string]bool{}
	for _, info := range infos {
		n, ours := sizes[info.Stream]
		if !ours {
			continue
		}
		seen[info.Stream] = true
		assert.EqualValues(t, n, info.Events, "events of %s", info.Stream)
		assert.EqualValues(t, n-1, info.Version, "version of %s", info.Stream)
		assert.True(t, last[info.Stream].Equal(info.LastRecordedAt), "last recorded_at of %s: got %s, want %s",
			info.Stream, info.LastRecordedAt.Format(time.RFC3339Nano), last[info.Stream].Format(time.RFC3339Nano))
		assert.Equal(t, lastHash[info.Stream], info.LastHash, "last hash of %s", info.Stream)
	}
	assert.Len(t, seen, len(sizes), "not every stream is listed")
}

// testEventReader: ReadStreamEvents gives ReadStream's records without the
// chain fields, for every range ReadStream is asked for.
func testEventReader(t *testing.T, s eventstore.Store) {
	er, ok := eventstore.AsEventReader(s)
	if !ok {
		t.Skip("store does not implement eventstore.EventReader")
	}
	ctx := context.Background()
	stream := newStream(t)
	mustAppend(t, s, stream, eventstore.NoStream, events(0, 10))
	mustAppend(t, s, newStream(t), eventstore.NoStream, events(10, 3)) // another stream, not to be read
	for _, r := range [][2]int{{0, 0}, {0, 3}, {3, 4}, {8, 5}, {10, 0}, {-1, 2}} {
		from, limit := int64(r[0]), r[1]
		want, err := s.ReadStream(ctx, stream, from, limit)
		require.NoError(t, err)
		for i := range want {
			want[i].Position, want[i].PrevHash, want[i].Hash, want[i].Chain = eventstore.Position{}, [32]byte{}, [32]byte{}, 0
		}
		got, err := er.ReadStreamEvents(ctx, stream, from, limit)
		require.NoError(t, err)
		assertSameRecords(t, want, got)
	}
	got, err := er.ReadStreamEvents(ctx, newStream(t), 0, 0)
	require.NoError(t, err)
	assert.Empty(t, got, "an unknown stream reads as empty")
}

func testFinder(t *testing.T, s eventstore.Store) {
	f, ok := eventstore.AsFinder(s)
	if !ok {
		t.Skip("store does not implement eventstore.Finder")
	}
	ctx := context.Background()
	stream := newStream(t)
	res := mustAppend(t, s, stream, eventstore.NoStream, events(0, 3))
	mustAppend(t, s, newStream(t), eventstore.NoStream, events(10, 2))
	for _, want := range res.Records {
		got, err := f.Find(ctx, want.ID)
		require.NoError(t, err)
		assertSameRecord(t, want, got)
	}
	_, err := f.Find(ctx, uuid.New())
	assert.ErrorIs(t, err, eventstore.ErrEventNotFound)
	_, err = f.Find(ctx, uuid.Nil)
	assert.ErrorIs(t, err, eventstore.ErrEventNotFound)
}

func testSnapshotter(t *testing.T, s eventstore.Store) {
	sn, ok := eventstore.AsSnapshotter(s)
	if !ok {
		t.Skip("store does not implement eventstore.Snapshotter")
	}
	ctx := context.Background()
	stream := newStream(t)
	name := "storetest:" + stream
	_, found, err := sn.LoadSnapshot(ctx, name)
	require.NoError(t, err)
	assert.False(t, found, "a snapshot that was never saved")

	recs := mustAppend(t, s, stream, eventstore.NoStream, events(0, 3)).Records
	older := eventstore.Snapshot{Name: name, Stream: stream, Version: 1, Hash: recs[1].Hash, Data: []byte("two")}
	newer := eventstore.Snapshot{Name: name, Stream: stream, Version: 2, Hash: recs[2].Hash, Data: []byte("three")}
	require.NoError(t, sn.SaveSnapshot(ctx, older))
	got, found, err := sn.LoadSnapshot(ctx, name)
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, older, got)

	require.NoError(t, sn.SaveSnapshot(ctx, newer))
	require.NoError(t, sn.SaveSnapshot(ctx, older), "saving an older snapshot is not an error")
	got, _, err = sn.LoadSnapshot(ctx, name)
	require.NoError(t, err)
	assert.Equal(t, newer, got, "an older snapshot must not replace a newer one")

	require.NoError(t, sn.DeleteSnapshot(ctx, name))
	_, found, err = sn.LoadSnapshot(ctx, name)
	require.NoError(t, err)
	assert.False(t, found, "a deleted snapshot")
	require.NoError(t, sn.DeleteSnapshot(ctx, name), "deleting a missing snapshot is not an error")
}

func testBatchAppender(t *testing.T, s eventstore.Store) {
	ba, ok := eventstore.AsBatchAppender(s)
	if !ok {
		t.Skip("store does not implement eventstore.BatchAppender")
	}
	ctx := context.Background()
	a, b := newStream(t), newStream(t)
	mustAppend(t, s, a, eventstore.NoStream, events(0, 2))

	results, err := ba.AppendBatches(ctx, []eventstore.StreamBatch{
		{Stream: a, Expected: 1, Events: events(2, 2)},
		{Stream: b, Expected: eventstore.NoStream, Events: events(4, 3)},
	})
	require.NoError(t, err)
	require.Len(t, results, 2)
	assert.EqualValues(t, 2, results[0].Records[0].Version, "a continues at 2")
	assert.EqualValues(t, 0, results[1].Records[0].Version, "b starts at 0")
	assert.Len(t, readStream(t, s, a), 4)
	assert.Len(t, readStream(t, s, b), 3)
	_, _, err = eventstore.VerifyStream(ctx, s, a)
	require.NoError(t, err)

	// All or nothing: the second batch's stale expectation undoes the first.
	c := newStream(t)
	_, err = ba.AppendBatches(ctx, []eventstore.StreamBatch{
		{Stream: c, Expected: eventstore.NoStream, Events: events(10, 2)},
		{Stream: a, Expected: 1, Events: events(12, 1)},
	})
	assert.ErrorIs(t, err, eventstore.ErrWrongVersion)
	assert.Contains(t, err.Error(), a, "the error names the stream at fault")
	assert.Empty(t, readStream(t, s, c), "nothing of a failed multi-stream append is written")
	assert.Len(t, readStream(t, s, a), 4)

	// One stream twice, around another and a replay, with enough events to
	// be hashed apart from the inserts: as if appended one after another.
	d, e := newStream(t), newStream(t)
	replayed := readStream(t, s, b)
	stored := make([]eventstore.EventData, len(replayed))
	for i, r := range replayed {
		stored[i] = r.EventData
	}
	results, err = ba.AppendBatches(ctx, []eventstore.StreamBatch{
		{Stream: d, Expected: eventstore.NoStream, Events: events(20, 70)},
		{Stream: e, Expected: eventstore.NoStream, Events: events(90, 3)},
		{Stream: b, Expected: eventstore.NoStream, Events: stored},
		{Stream: d, Expected: 69, Events: events(93, 130)},
	})
	require.NoError(t, err)
	assert.True(t, results[2].Replayed, "the stored batch is a replay")
	assert.EqualValues(t, 70, results[3].Records[0].Version, "d's second batch follows its first")
	assert.Equal(t, results[0].Records[69].Hash, results[3].Records[0].PrevHash, "and chains to it")
	got := readStream(t, s, d)
	require.Len(t, got, 200)
	assert.Equal(t, append(results[0].Records, results[3].Records...), got, "what the append returned is what was stored")
	for _, stream := range []string{d, e} {
		_, _, err = eventstore.VerifyStream(ctx, s, stream)
		require.NoError(t, err, stream)
	}
	_, err = ba.AppendBatches(ctx, []eventstore.StreamBatch{
		{Stream: e, Expected: 2, Events: events(300, 1)},
		{Stream: e, Expected: 2, Events: events(301, 1)},
	})
	assert.ErrorIs(t, err, eventstore.ErrWrongVersion, "a stream's second batch expects the version its first left")
	assert.Len(t, readStream(t, s, e), 3)
}

func testContextCancelled(t *testing.T, s eventstore.Store) {
	stream := newStream(t)
	stored := mustAppend(t, s, stream, eventstore.NoStream, events(0, 1)).Records[0]
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	_, err := s.Append(ctx, stream, 0, events(1, 1))
	assert.ErrorIs(t, err, context.Canceled, "Append")
	_, err = s.ReadStream(ctx, stream, 0, 0)
	assert.ErrorIs(t, err, context.Canceled, "ReadStream")
	_, err = s.ReadAll(ctx, eventstore.Position{}, 0)
	assert.ErrorIs(t, err, context.Canceled, "ReadAll")
	if l, ok := eventstore.AsStreamLister(s); ok {
		_, err = l.Streams(ctx)
		assert.ErrorIs(t, err, context.Canceled, "Streams")
	}
	if f, ok := eventstore.AsFinder(s); ok {
		_, err = f.Find(ctx, stored.ID)
		assert.ErrorIs(t, err, context.Canceled, "Find")
	}
	assert.Len(t, readStream(t, s, stream), 1, "a cancelled append wrote something")
}
