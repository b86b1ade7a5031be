package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
)

// chain returns n records of stream as another store would have stored
// them: versions from first, recorded times of their own (in the past, a
// microsecond apart), and hashes linked from prev, of the current chain
// version.
func chain(stream string, first int64, prev [32]byte, recordedFrom time.Time, n int) []eventstore.Record {
	return chainOf(eventstore.CurrentChain, stream, first, prev, recordedFrom, n)
}

// chainOf is chain with records hashed by the given chain version.
func chainOf(version int, stream string, first int64, prev [32]byte, recordedFrom time.Time, n int) []eventstore.Record {
	recs := make([]eventstore.Record, n)
	for i, e := range events(int(first), n) {
		r := eventstore.Record{EventData: e, Stream: stream, Version: first + int64(i),
			RecordedAt: recordedFrom.Add(time.Duration(i) * time.Microsecond), PrevHash: prev, Chain: version}
		r.Hash = eventstore.RecordHash(prev, r)
		recs[i], prev = r, r.Hash
	}
	return recs
}

// testCopier checks eventstore.Copier: copies keep ids, both times and
// hashes; a re-run is a replay; anything that would break the chain is
// refused whole; and ordinary appends continue the copied chain.
func testCopier(t *testing.T, s eventstore.Store) {
	c, ok := eventstore.AsCopier(s)
	if !ok {
		t.Skip("the store does not implement eventstore.Copier")
	}
	ctx := context.Background()
	stream := newStream(t)
	recordedFrom := time.Date(2024, 3, 1, 8, 0, 0, 123000, time.UTC)
	recs := chain(stream, 0, [32]byte{}, recordedFrom, 5)

	res, err := c.AppendCopies(ctx, stream, eventstore.NoStream, recs[:3])
	require.NoError(t, err)
	require.False(t, res.Replayed)
	got := readStream(t, s, stream)
	require.Len(t, got, 3)
	for i, r := range got {
		assertEventStored(t, recs[i].EventData, r)
		assert.Equal(t, recs[i].Version, r.Version)
		assert.True(t, recs[i].RecordedAt.Equal(r.RecordedAt), "recorded_at kept: got %s, want %s", r.RecordedAt, recs[i].RecordedAt)
		assert.Equal(t, recs[i].PrevHash, r.PrevHash)
		assert.Equal(t, recs[i].Hash, r.Hash)
	}

	// Copying the same records again (a resumed copy) writes nothing.
	res, err = c.AppendCopies(ctx, stream, eventstore.NoStream, recs[:3])
	require.NoError(t, err)
	assert.True(t, res.Replayed)
	assert.Len(t, readStream(t, s, stream), 3)

	// Each way of breaking the chain is refused and writes nothing.
	broken := map[string]func(r *eventstore.Record){
		"wrong version": func(r *eventstore.Record) { r.Version++ },
		"wrong link":    func(r *eventstore.Record) { r.PrevHash[0] ^= 1 },
		"wrong hash":    func(r *eventstore.Record) { r.Hash[0] ^= 1 },
		"changed data":  func(r *eventstore.Record) { r.Data = []byte(`{"n":-1}`) },
		"recorded before the last": func(r *eventstore.Record) {
			r.RecordedAt = recordedFrom.Add(-time.Hour)
			r.Hash = eventstore.RecordHash(r.PrevHash, *r)
		},
	}
	for name, breakIt := range broken {
		bad := append([]eventstore.Record(nil), recs[3:]...)
		breakIt(&bad[1])
		_, err := c.AppendCopies(ctx, stream, 2, bad)
		assert.ErrorIs(t, err, eventstore.ErrInvalidEvent, name)
		assert.Len(t, readStream(t, s, stream), 3, "%s: nothing written", name)
	}
	_, err = c.AppendCopies(ctx, stream, 7, recs[3:])
	assert.ErrorIs(t, err, eventstore.ErrWrongVersion)

	_, err = c.AppendCopies(ctx, stream, 2, recs[3:])
	require.NoError(t, err)
	// A new event appended after the copies links onto them and is not
	// recorded before them.
	next := mustAppend(t, s, stream, 4, events(100, 1)).Records[0]
	assert.Equal(t, recs[4].Hash, next.PrevHash)
	assert.False(t, next.RecordedAt.Before(recs[4].RecordedAt))
	var v eventstore.ChainVerifier
	v.Stream = stream
	for _, r := range readStream(t, s, stream) {
		require.NoError(t, v.Check(r))
	}
}
