package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/ledger"
)

// row is a batch row with an id of its own.
func row(line int, cmd domain.Command) ledger.Row {
	return ledger.Row{Entry: domain.Entry{Line: line, ID: uuid.New(), Cmd: cmd}, Meta: domain.Metadata{Source: "test"}}
}

// TestWriteJudgesAgainAfterAnotherWriter: when another writer appends
// between the judgement and the append, Write appends nothing of the stale
// plan, judges the rows again against what was written, and writes them
// after it.
func TestWriteJudgesAgainAfterAnotherWriter(t *testing.T) {
	ctx := context.Background()
	l, _ := mustOpen(t)
	_, err := l.Record(ctx, rate("a@x", "buy", "100", "2025-09-01"), ledger.WriteOptions{})
	require.NoError(t, err)
	rows := []ledger.Row{row(1, domain.Revise{Instrument: "BABA", Analyst: "a@x", Target: money("120"), Currency: "USD", EffectiveAt: day("2025-09-05")})}
	attempts := 0
	plans, err := l.Write(ctx, func(ctx context.Context) ([]*ledger.Plan, error) {
		attempts++
		p, err := l.Judge(ctx, "BABA", rows, now)
		if err != nil {
			return nil, err
		}
		if attempts == 1 { // another writer comes first
			_, err := l.Record(ctx, rate("b@x", "hold", "90", "2025-09-02"), ledger.WriteOptions{})
			require.NoError(t, err)
		}
		return []*ledger.Plan{p}, nil
	})
	require.NoError(t, err)
	assert.Equal(t, 2, attempts)
	require.Len(t, plans, 1)
	written := plans[0].Written()
	require.Len(t, written, 1)
	assert.Equal(t, rows[0].ID, written[0].ID)
	assert.EqualValues(t, 2, written[0].Version, "after the rating and the other writer's")
	history, err := l.Load(ctx, "BABA")
	require.NoError(t, err)
	require.Len(t, history, 3)
	assert.Equal(t, rows[0].ID, history[2].ID)
	assert.Equal(t, domain.Metadata{Source: "test"}, history[2].Meta)
}

// TestWriteGivesUpAfterMaxAttempts: a write that loses the race every time
// ends with ErrConflict, naming the instrument, and writes nothing.
func TestWriteGivesUpAfterMaxAttempts(t *testing.T) {
	ctx := context.Background()
	l, store := mustOpen(t)
	l = ledger.New(store, ledger.WithMaxAttempts(3), ledger.WithClock(func() time.Time { return now }))
	attempts := 0
	id := uuid.New()
	_, err := l.Write(ctx, func(ctx context.Context) ([]*ledger.Plan, error) {
		attempts++
		p, err := l.Judge(ctx, "BABA", []ledger.Row{{Entry: domain.Entry{Line: 1, ID: id, Cmd: rate("a@x", "buy", "100", "2025-09-01")}}}, now)
		require.NoError(t, err)
		_, err = l.Record(ctx, domain.RecordClose{Instrument: "BABA", Price: money(fmt.Sprint(attempts)), Currency: "USD",
			EffectiveAt: day("2025-08-01")}, ledger.WriteOptions{})
		require.NoError(t, err)
		return []*ledger.Plan{p}, nil
	})
	assert.True(t, errors.Is(err, ledger.ErrConflict), "%v", err)
	assert.EqualError(t, err, "too many concurrent writers: BABA changed 3 times while writing; try again")
	assert.Equal(t, 3, attempts)
	_, found, err := l.Find(ctx, id)
	require.NoError(t, err)
	assert.False(t, found)
}

// TestWriteInstrumentRefusesAnotherStreamsID: a row whose id is an event of
// another instrument is refused with that stream, and the instrument's other
// rows are written in parts of the size asked.
func TestWriteInstrumentRefusesAnotherStreamsID(t *testing.T) {
	ctx := context.Background()
	l, _ := mustOpen(t)
	taken := uuid.New()
	_, err := l.Record(ctx, domain.RecordClose{Instrument: "JD", Price: money("30"), Currency: "USD", EffectiveAt: day("2025-09-01")},
		ledger.WriteOptions{ID: taken})
	require.NoError(t, err)
	rows := []ledger.Row{
		row(1, rate("a@x", "buy", "100", "2025-09-01")),
		row(2, rate("b@x", "hold", "90", "2025-09-02")),
		row(3, rate("c@x", "sell", "80", "2025-09-03")),
		row(4, rate("d@x", "buy", "110", "2025-09-04")),
	}
	rows[2].ID = taken
	w, err := l.WriteInstrument(ctx, "BABA", rows, now, 2)
	require.NoError(t, err)
	assert.Equal(t, []ledger.ForeignID{{Row: 2, Stream: "instrument-JD"}}, w.Foreign)
	assert.Equal(t, []int{0, 1, 3}, w.Kept)
	assert.Equal(t, 3, w.Written)
	// The first part (rows 1, 2) was written before the part holding the
	// taken id failed; judged again, they are duplicates.
	assert.Equal(t, 2, w.Plan.Duplicates())
	assert.Equal(t, 1, w.Plan.Events())
	history, err := l.Load(ctx, "BABA")
	require.NoError(t, err)
	var ids []uuid.UUID
	for _, r := range history {
		ids = append(ids, r.ID)
	}
	assert.Equal(t, []uuid.UUID{rows[0].ID, rows[1].ID, rows[3].ID}, ids)
}

// TestWriteEncodedLeavesConflictsToTheCaller: an encoded plan whose stream
// changed since it was judged is refused with the store's ErrWrongVersion,
// and nothing of it is written.
func TestWriteEncodedLeavesConflictsToTheCaller(t *testing.T) {
	ctx := context.Background()
	l, _ := mustOpen(t)
	r := row(1, rate("a@x", "buy", "100", "2025-09-01"))
	p, err := l.Judge(ctx, "BABA", []ledger.Row{r}, now)
	require.NoError(t, err)
	e, err := ledger.Encode(p)
	require.NoError(t, err)
	assert.Equal(t, 1, e.Events())
	_, err = l.Record(ctx, rate("b@x", "hold", "90", "2025-09-02"), ledger.WriteOptions{})
	require.NoError(t, err)
	err = l.WriteEncoded(ctx, e)
	assert.True(t, errors.Is(err, eventstore.ErrWrongVersion), "%v", err)
	assert.Empty(t, p.Written())
	_, found, err := l.Find(ctx, r.ID)
	require.NoError(t, err)
	assert.False(t, found)
}
