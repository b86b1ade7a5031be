package esdb_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/esdb"
	"github.com/consensus-ledger/consensus/eventstore/esdb/esdbtest"
)

// copied returns n records of a chain as another store recorded them.
func copied(stream string, n int) []eventstore.Record {
	recs := make([]eventstore.Record, n)
	var prev [32]byte
	for i := range recs {
		r := eventstore.Record{EventData: testEvent(i), Stream: stream, Version: int64(i),
			RecordedAt: time.Date(2024, 1, 2, 3, 4, 5, 678000, time.UTC).Add(time.Duration(i) * time.Second), PrevHash: prev,
			Chain: eventstore.CurrentChain}
		r.Hash = eventstore.RecordHash(prev, r)
		recs[i], prev = r, r.Hash
	}
	return recs
}

// TestAppendCopiesWithAny checks the documented meaning of Any for copies:
// the records' own versions say where they go.
func TestAppendCopiesWithAny(t *testing.T) {
	srv := startServer(t, esdbtest.Options{})
	s := mustOpen(t, srv.ConnectionString(), esdb.Options{})
	ctx := context.Background()
	recs := copied("instrument-COPY", 4)

	_, err := s.AppendCopies(ctx, "instrument-COPY", eventstore.Any, recs[2:])
	assert.ErrorIs(t, err, eventstore.ErrInvalidEvent, "records that do not continue the stream")

	res, err := s.AppendCopies(ctx, "instrument-COPY", eventstore.Any, recs[:2])
	require.NoError(t, err)
	assert.False(t, res.Replayed)
	assert.Equal(t, recs[1].Hash, res.Records[1].Hash)
	assert.True(t, recs[1].RecordedAt.Equal(res.Records[1].RecordedAt), "recorded_at kept")

	res, err = s.AppendCopies(ctx, "instrument-COPY", eventstore.Any, recs[:2])
	require.NoError(t, err)
	assert.True(t, res.Replayed, "copying the same records again")

	res, err = s.AppendCopies(ctx, "instrument-COPY", eventstore.Any, recs[2:])
	require.NoError(t, err)
	assert.False(t, res.Replayed)
	n, last, err := eventstore.VerifyStream(ctx, s, "instrument-COPY")
	require.NoError(t, err)
	assert.EqualValues(t, 4, n)
	assert.Equal(t, recs[3].Hash, last)

	other := copied("instrument-COPY", 1) // another ledger's version 0
	_, err = s.AppendCopies(ctx, "instrument-COPY", eventstore.Any, other)
	assert.ErrorIs(t, err, eventstore.ErrInvalidEvent)
}
