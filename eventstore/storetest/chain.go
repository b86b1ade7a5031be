package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
)

// testChainVersions checks the hash chain's versions: new records are
// hashed with the current version over their metadata too; records copied
// with version 1 keep it and their hash; a stream mixing both verifies and
// counts each; and a copy that would put version 1 after version 2, or
// whose metadata differs from what its version-2 hash covers, is refused.
func testChainVersions(t *testing.T, s eventstore.Store) {
	ctx := context.Background()
	stream := newStream(t)
	res := mustAppend(t, s, stream, eventstore.NoStream, events(0, 2))
	for _, r := range append(res.Records, readStream(t, s, stream)...) {
		assert.Equal(t, eventstore.ChainV2, r.Chain, "chain version of a new record")
		want := eventstore.HashV2(r.PrevHash, r.ID.String(), r.Type, r.Data, r.EffectiveAt, r.RecordedAt, r.Metadata)
		assert.Equal(t, want, r.Hash, "a new record's hash covers its metadata")
	}
	// The metadata is in the hash: the same record with other metadata
	// does not verify.
	forged := readStream(t, s, stream)[0]
	forged.Metadata = []byte(`{"recorded_by":"mallory"}`)
	err := (&eventstore.ChainVerifier{Stream: stream}).Check(forged)
	var chainErr *eventstore.ChainError
	require.ErrorAs(t, err, &chainErr)
	assert.Contains(t, chainErr.Problem, "metadata")

	c, ok := eventstore.AsCopier(s)
	if !ok {
		return
	}
	mixed := newStream(t)
	old := chainOf(eventstore.ChainV1, mixed, 0, [32]byte{}, time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC), 3)
	_, err = c.AppendCopies(ctx, mixed, eventstore.NoStream, old)
	require.NoError(t, err)
	for i, r := range readStream(t, s, mixed) {
		assert.Equal(t, eventstore.ChainV1, r.Chain, "a copied version-1 record keeps its version")
		assert.Equal(t, old[i].Hash, r.Hash, "and its hash")
	}
	newer := mustAppend(t, s, mixed, 2, events(10, 2)).Records
	assert.Equal(t, eventstore.ChainV2, newer[0].Chain)
	sum, err := eventstore.VerifyChain(ctx, s, &eventstore.ChainVerifier{Stream: mixed})
	require.NoError(t, err, "a stream mixing versions 1 and 2 verifies")
	assert.EqualValues(t, 5, sum.Events)
	assert.EqualValues(t, 3, sum.ByChain[eventstore.ChainV1])
	assert.EqualValues(t, 2, sum.ByChain[eventstore.ChainV2])

	// Version 1 after version 2 is refused: a record moved back to the
	// older rule would escape the metadata check.
	back := chainOf(eventstore.ChainV1, mixed, 5, newer[1].Hash, newer[1].RecordedAt, 1)
	_, err = c.AppendCopies(ctx, mixed, 4, back)
	assert.ErrorIs(t, err, eventstore.ErrInvalidEvent)
	// A version-2 copy whose metadata was changed after hashing is refused.
	changed := chainOf(eventstore.ChainV2, mixed, 5, newer[1].Hash, newer[1].RecordedAt, 1)
	changed[0].Metadata = []byte(`{"recorded_by":"mallory"}`)
	_, err = c.AppendCopies(ctx, mixed, 4, changed)
	assert.ErrorIs(t, err, eventstore.ErrInvalidEvent)
	// So is a version this program does not know.
	unknown := chainOf(eventstore.ChainV2, mixed, 5, newer[1].Hash, newer[1].RecordedAt, 1)
	unknown[0].Chain = 3
	_, err = c.AppendCopies(ctx, mixed, 4, unknown)
	assert.ErrorIs(t, err, eventstore.ErrInvalidEvent)
	assert.Len(t, readStream(t, s, mixed), 5, "nothing written by the refused copies")
}

// testClockAhead checks that an append is refused when the stream's last
// record was recorded more than eventstore.MaxClockLead ahead of the
// store's clock (as a writer with a clock running ahead would leave it),
// and accepted, at that record's time, when it is less. The stream is made
// with copies, which keep their recorded times.
func testClockAhead(t *testing.T, s eventstore.Store) {
	c, ok := eventstore.AsCopier(s)
	if !ok {
		t.Skip("the store does not implement eventstore.Copier, so a record cannot be given a future time")
	}
	ctx := context.Background()
	ahead := newStream(t)
	future := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	_, err := c.AppendCopies(ctx, ahead, eventstore.NoStream, chain(ahead, 0, [32]byte{}, future, 1))
	require.NoError(t, err)
	_, err = s.Append(ctx, ahead, eventstore.Any, events(1, 1))
	require.ErrorIs(t, err, eventstore.ErrClockBehind)
	var clock *eventstore.ClockError
	require.ErrorAs(t, err, &clock)
	assert.True(t, clock.Last.Equal(future), "the refusal names the stream's last time")
	assert.Len(t, readStream(t, s, ahead), 1, "nothing written")

	near := newStream(t)
	soon := time.Now().Add(20 * time.Second).UTC().Truncate(time.Microsecond)
	_, err = c.AppendCopies(ctx, near, eventstore.NoStream, chain(near, 0, [32]byte{}, soon, 1))
	require.NoError(t, err)
	res, err := s.Append(ctx, near, eventstore.Any, events(1, 1))
	require.NoError(t, err, "a lead within a minute is the ordinary drift of clocks")
	assert.False(t, res.Records[0].RecordedAt.Before(soon), "recorded times never decrease")
}
