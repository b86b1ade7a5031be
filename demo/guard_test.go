package demo_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/demo"
	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/ledger"
)

// plainStore hides every optional capability of a store, so Foreign takes
// its path of reading the whole store.
type plainStore struct{ s eventstore.Store }

func (p plainStore) Append(ctx context.Context, stream string, expected eventstore.Version, events []eventstore.EventData) (eventstore.AppendResult, error) {
	return p.s.Append(ctx, stream, expected, events)
}
func (p plainStore) ReadStream(ctx context.Context, stream string, from int64, limit int) ([]eventstore.Record, error) {
	return p.s.ReadStream(ctx, stream, from, limit)
}
func (p plainStore) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.Record, error) {
	return p.s.ReadAll(ctx, after, limit)
}
func (p plainStore) Close() error { return p.s.Close() }

func TestForeign(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "ledger.db"), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, store.Close()) })
	l := ledger.New(store)

	foreign := func() (int64, int64) {
		t.Helper()
		fast, err := demo.Foreign(ctx, store)
		require.NoError(t, err)
		slow, err := demo.Foreign(ctx, plainStore{store})
		require.NoError(t, err)
		return fast, slow
	}
	fast, slow := foreign()
	assert.Equal(t, [2]int64{0, 0}, [2]int64{fast, slow}, "an empty store is the demo's")

	res, err := demo.Load(ctx, l)
	require.NoError(t, err)
	require.Equal(t, len(demo.Steps()), res.Written)
	require.Len(t, demo.IDs(), 68)
	fast, slow = foreign()
	assert.Equal(t, [2]int64{0, 0}, [2]int64{fast, slow}, "a store holding only the demo is the demo's")

	for _, at := range []string{"2025-09-15", "2025-09-16"} {
		cmd, err := domain.Row{Type: domain.RowClose, Instrument: "BABA", Price: "150", Currency: "USD", At: at}.Command(l.Now())
		require.NoError(t, err)
		_, err = l.Record(ctx, cmd, ledger.WriteOptions{RecordedBy: "test"})
		require.NoError(t, err)
	}
	fast, slow = foreign()
	assert.Equal(t, [2]int64{2, 2}, [2]int64{fast, slow}, "two closes of someone else's")
}
