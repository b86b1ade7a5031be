package serve

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
)

// positionStore is an eventstore.Store of records at given positions, for
// finding the head of stores whose positions are not consecutive numbers
// (an EventStoreDB's are byte offsets in its log).
type positionStore struct {
	eventstore.Store // only ReadAll is used
	positions        []eventstore.Position
	reads            int
	fail             bool
}

func (s *positionStore) ReadAll(_ context.Context, after eventstore.Position, limit int) ([]eventstore.Record, error) {
	s.reads++
	if s.fail {
		return nil, errors.New("disk on fire")
	}
	var out []eventstore.Record
	for _, p := range s.positions {
		if after.Less(p) {
			out = append(out, eventstore.Record{Position: p})
			if limit > 0 && len(out) == limit {
				break
			}
		}
	}
	return out, nil
}

func TestHeadPosition(t *testing.T) {
	pos := func(c, p uint64) eventstore.Position { return eventstore.Position{Commit: c, Prepare: p} }
	var sequence []eventstore.Position
	for i := uint64(1); i <= 100_000; i++ {
		sequence = append(sequence, pos(i, i))
	}
	for _, c := range []struct {
		name      string
		positions []eventstore.Position
		maxReads  int
	}{
		{"empty", nil, 1},
		{"one record", []eventstore.Position{pos(1, 1)}, 5},
		{"consecutive, as SQLite numbers them", sequence, 50},
		{"sparse commits, several records each", []eventstore.Position{pos(7, 7), pos(7, 9), pos(500, 500), pos(500, 520),
			pos(1<<40, 1<<40), pos(1<<40, 1<<40+3), pos(1<<40, 1<<40+8)}, 100},
		{"near the top of the range", []eventstore.Position{pos(3, 3), pos(1<<63, 1<<63), pos(1<<63+5, 1<<63+5)}, 150},
	} {
		t.Run(c.name, func(t *testing.T) {
			store := &positionStore{positions: c.positions}
			head, err := headPosition(context.Background(), store)
			require.NoError(t, err)
			want := eventstore.Position{}
			if n := len(c.positions); n > 0 {
				want = c.positions[n-1]
			}
			assert.Equal(t, want, head)
			assert.LessOrEqual(t, store.reads, c.maxReads, "reads of the store")
		})
	}
	_, err := headPosition(context.Background(), &positionStore{positions: sequence, fail: true})
	assert.Error(t, err)
}

// headStore is a positionStore that also reads its head in one call.
type headStore struct {
	positionStore
	heads int
}

func (s *headStore) Head(context.Context) (eventstore.Position, error) {
	s.heads++
	return s.positions[len(s.positions)-1], nil
}

// A store that reads its own head is asked once, and not searched.
func TestHeadPositionAsksAHeadReader(t *testing.T) {
	store := &headStore{positionStore: positionStore{positions: []eventstore.Position{{Commit: 3, Prepare: 3}, {Commit: 9, Prepare: 12}}}}
	head, err := headPosition(context.Background(), store)
	require.NoError(t, err)
	assert.Equal(t, eventstore.Position{Commit: 9, Prepare: 12}, head)
	assert.Equal(t, 1, store.heads)
	assert.Zero(t, store.reads, "reads of the store")
}

func TestPositionText(t *testing.T) {
	for _, p := range []eventstore.Position{{}, {Commit: 42, Prepare: 42}, {Commit: 42, Prepare: 7}, {Commit: 1 << 63, Prepare: 1<<64 - 1}} {
		got, err := parsePosition(formatPosition(p))
		require.NoError(t, err)
		assert.Equal(t, p, got)
	}
	assert.Equal(t, "42", formatPosition(eventstore.Position{Commit: 42, Prepare: 42}))
	for _, bad := range []string{"", "x", "-1", "1/", "/1", "1/2/3", "18446744073709551616"} {
		_, err := parsePosition(bad)
		assert.Error(t, err, bad)
	}
}
