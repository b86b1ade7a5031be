package esdb_test

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/esdb"
	"github.com/consensus-ledger/consensus/eventstore/esdb/esdbtest"
)

// TestReadAllFromPositionsTheServerRefuses reads after positions whose
// prepare part exceeds their commit part, or beyond any record, which the
// server refuses as they are: the store asks for an equivalent one.
func TestReadAllFromPositionsTheServerRefuses(t *testing.T) {
	srv := startServer(t, esdbtest.Options{})
	s := mustOpen(t, srv.ConnectionString(), esdb.Options{})
	ctx := context.Background()
	recs := appendN(t, s, "instrument-POS", 3)

	got, err := s.ReadAll(ctx, eventstore.Position{Commit: recs[0].Position.Commit, Prepare: math.MaxUint64}, 0)
	require.NoError(t, err)
	assertSameIDs(t, recs[1:], got)

	for _, p := range []eventstore.Position{
		{Commit: math.MaxUint64, Prepare: math.MaxUint64},
		{Commit: math.MaxInt64 + 1, Prepare: 0},
	} {
		got, err = s.ReadAll(ctx, p, 0)
		assert.NoError(t, err, "%+v", p)
		assert.Empty(t, got, "%+v", p)
	}

	c, _, _ := subscribe(t, s, eventstore.Position{Commit: recs[1].Position.Commit, Prepare: math.MaxUint64})
	assertSameIDs(t, recs[2:], c.waitFor(t, 1))
}
