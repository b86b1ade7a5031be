package ledger_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/ledger"
)

// The ledger keeps the track records of a point in time until it changes:
// a close recorded after the first answer (known "now" both times) gives a
// new answer at once, and a retraction takes the call out from then on.
func TestTrackRecordsFollowWrites(t *testing.T) {
	l, _ := mustOpen(t)
	ctx := context.Background()
	record := func(cmd domain.Command) ledger.Receipt {
		t.Helper()
		r, err := l.Record(ctx, cmd, ledger.WriteOptions{RecordedBy: "test"})
		require.NoError(t, err)
		return r
	}
	closeAt := func(price, at string) domain.Command {
		return domain.RecordClose{Instrument: "BABA", Price: money(price), Currency: "USD", EffectiveAt: day(at)}
	}
	rating := record(rate("a@x", "buy", "120", "2024-01-10"))
	record(closeAt("100", "2024-01-10"))
	asOf := day("2025-06-30")

	rec, err := l.TrackRecords(ctx, asOf, l.Now())
	require.NoError(t, err)
	got, ok := rec.Record("a@x")
	require.True(t, ok)
	// p1 is the latest close at or before the call's end: the same close.
	assert.Equal(t, "0", got.AvgReturnPct.String())
	assert.Equal(t, "0", got.SuccessRate.String(), "a return of 0 is no success")

	record(closeAt("110", "2025-01-09"))
	rec, err = l.TrackRecords(ctx, asOf, l.Now())
	require.NoError(t, err)
	got, _ = rec.Record("a@x")
	assert.Equal(t, "10", got.AvgReturnPct.String(), "(110 / 100 - 1) x 100")
	assert.Equal(t, "100", got.SuccessRate.String())
	beforeRetraction := l.Now()

	_, err = l.Retract(ctx, rating.EventID, "wrong analyst", ledger.WriteOptions{RecordedBy: "test"})
	require.NoError(t, err)
	_, err = l.Analyst(ctx, "a@x", asOf, l.Now())
	require.True(t, errors.Is(err, ledger.ErrUnknownAnalyst), "retracted: %v", err)
	report, err := l.Analyst(ctx, "a@x", asOf, beforeRetraction)
	require.NoError(t, err, "known before the retraction, the call is there")
	assert.Len(t, report.Calls, 1)
	assert.Equal(t, "10", report.Calls[0].ReturnPct.String())
}

// A long-lived ledger (a server) answers the same point in time from the
// track records it kept until the store changes, and a write by another
// process (another ledger on the same store) changes the answer: the
// ledger checks the store's head (eventstore.HeadReader) or, on a store
// that cannot read it, the streams' event counts.
func TestTrackRecordsKeptUntilAnotherWriter(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(eventstore.Store) eventstore.Store
	}{
		{"HeadReader", func(s eventstore.Store) eventstore.Store { return s }},
		{"StreamCounts", func(s eventstore.Store) eventstore.Store { return withoutHead{s} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writer, store := mustOpen(t)
			_, hasHead := eventstore.AsHeadReader(tc.wrap(store))
			require.Equal(t, tc.name == "HeadReader", hasHead)
			server := ledger.New(tc.wrap(store), ledger.WithClock(writer.Now))
			ctx := context.Background()
			record := func(cmd domain.Command) {
				t.Helper()
				_, err := writer.Record(ctx, cmd, ledger.WriteOptions{RecordedBy: "test"})
				require.NoError(t, err)
			}
			closeAt := func(price, at string) domain.Command {
				return domain.RecordClose{Instrument: "BABA", Price: money(price), Currency: "USD", EffectiveAt: day(at)}
			}
			record(rate("a@x", "buy", "120", "2024-01-10"))
			record(closeAt("100", "2024-01-10"))
			asOf := day("2025-06-30")

			first, err := server.TrackRecords(ctx, asOf, writer.Now())
			require.NoError(t, err)
			again, err := server.TrackRecords(ctx, asOf, writer.Now().Add(time.Hour))
			require.NoError(t, err)
			assert.Same(t, first, again, "nothing written since, known later: the kept answer")
			between := writer.Now()

			record(closeAt("110", "2025-01-09"))
			rec, err := server.TrackRecords(ctx, asOf, writer.Now())
			require.NoError(t, err)
			got, ok := rec.Record("a@x")
			require.True(t, ok)
			assert.Equal(t, "10", got.AvgReturnPct.String(), "the other writer's close counts at once")
			before, err := server.TrackRecords(ctx, asOf, between)
			require.NoError(t, err)
			got, ok = before.Record("a@x")
			require.True(t, ok)
			assert.Equal(t, "0", got.AvgReturnPct.String(), "known before that close: p1 is the first close")
		})
	}
}

// withoutHead hides a store's HeadReader (and every other capability).
type withoutHead struct{ eventstore.Store }
