package ledger_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/ledger"
	"github.com/consensus-ledger/consensus/projections"
)

// now is the pinned clock of these tests.
var now = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

// mustOpen returns a ledger over a new embedded store whose clock advances by
// one millisecond per reading, so every append has a distinct recorded time.
func mustOpen(t *testing.T) (*ledger.Ledger, eventstore.Store) {
	t.Helper()
	var mu sync.Mutex
	clock := now
	tick := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Millisecond)
		return clock
	}
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "ledger.db"), sqlite.Options{Now: tick})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, store.Close()) })
	return ledger.New(store, ledger.WithClock(tick)), store
}

func day(s string) time.Time {
	t, err := domain.ParseTime("at", s)
	if err != nil {
		panic(err)
	}
	return t
}

func money(s string) domain.Money {
	m, err := domain.ParseMoney("amount", s)
	if err != nil {
		panic(err)
	}
	return m
}

func rate(analyst, rating, target, at string) domain.Rate {
	r, _ := domain.ParseRating(rating)
	t := money(target)
	return domain.Rate{Instrument: "BABA", Analyst: domain.Analyst(analyst), Rating: r, BrokerRating: rating,
		Target: &t, Currency: "USD", EffectiveAt: day(at)}
}

func TestRecordAndShow(t *testing.T) {
	ctx := context.Background()
	l, _ := mustOpen(t)
	_, err := l.Record(ctx, rate("a@x", "buy", "170", "2025-09-01"), ledger.WriteOptions{RecordedBy: "test"})
	require.NoError(t, err)
	_, err = l.Record(ctx, rate("b@y", "neutral", "150", "2025-09-02"), ledger.WriteOptions{})
	require.NoError(t, err)
	_, err = l.Record(ctx, domain.RecordClose{Instrument: "BABA", Price: money("155.44"), Currency: "USD", EffectiveAt: day("2025-09-11")}, ledger.WriteOptions{})
	require.NoError(t, err)

	c, err := l.Show(ctx, "BABA", projections.Query{AsOf: day("2025-09-11"), KnownAt: l.Now(), Window: projections.DefaultWindow})
	require.NoError(t, err)
	assert.Equal(t, 2, c.Analysts)
	assert.Equal(t, 1, c.Buy)
	assert.Equal(t, 1, c.Hold)
	require.NotNil(t, c.MeanTarget)
	assert.Equal(t, "160", c.MeanTarget.String())

	history, err := l.Load(ctx, "BABA")
	require.NoError(t, err)
	require.Len(t, history, 3)
	assert.Equal(t, "test", history[0].Meta.RecordedBy)
}

func TestShowUnknownInstrument(t *testing.T) {
	l, _ := mustOpen(t)
	_, err := l.Show(context.Background(), "NOPE", projections.Query{AsOf: now, KnownAt: now})
	assert.ErrorIs(t, err, ledger.ErrUnknownInstrument)
}

func TestRefusedCommandWritesNothing(t *testing.T) {
	ctx := context.Background()
	l, store := mustOpen(t)
	_, err := l.Record(ctx, rate("a@x", "buy", "170", "2025-09-01"), ledger.WriteOptions{})
	require.NoError(t, err)

	_, err = l.Record(ctx, domain.Revise{Instrument: "BABA", Analyst: "a@x", Target: money("180"), Currency: "USD", EffectiveAt: day("2025-08-01")}, ledger.WriteOptions{})
	var v *domain.ValidationError
	require.ErrorAs(t, err, &v, "a revision before the analyst's rating is effective must be refused")
	assert.Equal(t, "analyst", v.Field)

	_, err = l.Record(ctx, domain.RecordClose{Instrument: "BABA", Price: money("1"), Currency: "EUR", EffectiveAt: day("2025-09-01")}, ledger.WriteOptions{})
	require.ErrorAs(t, err, &v)
	assert.Equal(t, "currency", v.Field)

	recs, err := store.ReadStream(ctx, "instrument-BABA", 0, 0)
	require.NoError(t, err)
	assert.Len(t, recs, 1)
}

func TestFixedIDIsIdempotent(t *testing.T) {
	ctx := context.Background()
	l, store := mustOpen(t)
	id := uuid.New()
	first, err := l.Record(ctx, rate("a@x", "buy", "170", "2025-09-01"), ledger.WriteOptions{ID: id})
	require.NoError(t, err)
	assert.False(t, first.Replayed)

	again, err := l.Record(ctx, rate("a@x", "buy", "170", "2025-09-01"), ledger.WriteOptions{ID: id})
	require.NoError(t, err)
	assert.True(t, again.Replayed)
	assert.Equal(t, first.RecordedAt, again.RecordedAt)

	_, err = l.Record(ctx, rate("a@x", "buy", "171", "2025-09-01"), ledger.WriteOptions{ID: id})
	assert.ErrorIs(t, err, eventstore.ErrDuplicateID, "the same id with other content must be refused")

	recs, err := store.ReadStream(ctx, "instrument-BABA", 0, 0)
	require.NoError(t, err)
	assert.Len(t, recs, 1)
}

func TestRetractFindsTheStream(t *testing.T) {
	ctx := context.Background()
	l, _ := mustOpen(t)
	r, err := l.Record(ctx, rate("a@x", "buy", "1700", "2025-09-01"), ledger.WriteOptions{})
	require.NoError(t, err)
	before := l.Now()

	x, err := l.Retract(ctx, r.EventID, "typo", ledger.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, "instrument-BABA", x.Stream)
	assert.Equal(t, day("2025-09-01"), x.Event.Effective(), "a retraction takes the retracted event's effective time")

	_, err = l.Retract(ctx, r.EventID, "again", ledger.WriteOptions{})
	var v *domain.ValidationError
	require.ErrorAs(t, err, &v)
	assert.Contains(t, v.Reason, "already retracted")

	_, err = l.Retract(ctx, x.EventID, "undo", ledger.WriteOptions{})
	require.ErrorAs(t, err, &v)
	assert.Contains(t, v.Reason, "retraction")

	_, err = l.Retract(ctx, uuid.New(), "unknown", ledger.WriteOptions{})
	require.ErrorAs(t, err, &v)
	assert.Equal(t, "event_id", v.Field)

	then, err := l.Show(ctx, "BABA", projections.Query{AsOf: day("2025-09-02"), KnownAt: before})
	require.NoError(t, err)
	assert.Equal(t, 1, then.Analysts, "known before the retraction, the rating counts")
	nowShow, err := l.Show(ctx, "BABA", projections.Query{AsOf: day("2025-09-02"), KnownAt: l.Now()})
	require.NoError(t, err)
	assert.Equal(t, 0, nowShow.Analysts, "known after the retraction, it does not")
}

// TestConcurrentWritersRetry runs writers on one instrument through separate
// ledgers (as separate processes would be): every write lands exactly once.
func TestConcurrentWritersRetry(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	const writers, each = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := 0; w < writers; w++ {
		store, err := sqlite.Open(path, sqlite.Options{})
		require.NoError(t, err)
		t.Cleanup(func() { store.Close() })
		l := ledger.New(store, ledger.WithMaxAttempts(50))
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				analyst := uuid.NewString()[:8] + "@w"
				_, err := l.Record(ctx, rate(analyst, "buy", "100", "2025-09-01"), ledger.WriteOptions{})
				errs <- err
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	store, err := sqlite.Open(path, sqlite.Options{ReadOnly: true})
	require.NoError(t, err)
	defer store.Close()
	report, err := ledger.New(store).Verify(ctx, "")
	require.NoError(t, err)
	assert.Equal(t, int64(writers*each), report.Events)
}

func TestLoadCatchesUpWithOtherWriters(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	open := func() *ledger.Ledger {
		store, err := sqlite.Open(path, sqlite.Options{})
		require.NoError(t, err)
		t.Cleanup(func() { store.Close() })
		return ledger.New(store)
	}
	reader, writer := open(), open()
	_, err := writer.Record(ctx, rate("a@x", "buy", "100", "2025-09-01"), ledger.WriteOptions{})
	require.NoError(t, err)
	h, err := reader.Load(ctx, "BABA")
	require.NoError(t, err)
	require.Len(t, h, 1)
	_, err = writer.Record(ctx, rate("b@x", "sell", "90", "2025-09-02"), ledger.WriteOptions{})
	require.NoError(t, err)
	h, err = reader.Load(ctx, "BABA")
	require.NoError(t, err)
	assert.Len(t, h, 2, "a cached stream must pick up events appended by another writer")
}

func TestVerifyDetectsNothingOnACleanStore(t *testing.T) {
	ctx := context.Background()
	l, store := mustOpen(t)
	for i, a := range []string{"a@x", "b@x", "c@x"} {
		_, err := l.Record(ctx, rate(a, "buy", "100", "2025-09-0"+string(rune('1'+i))), ledger.WriteOptions{})
		require.NoError(t, err)
	}
	report, err := l.Verify(ctx, "")
	require.NoError(t, err)
	assert.Equal(t, int64(3), report.Events)
	assert.Equal(t, 1, report.Streams)
	require.Len(t, report.Heads, 1)
	recs, err := store.ReadStream(ctx, "instrument-BABA", 2, 1)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, ledger.Head{Stream: "instrument-BABA", Version: 2, Hash: recs[0].Hash}, report.Heads[0])

	assert.EqualValues(t, 3, report.ByChain[eventstore.ChainV2], "new events are hashed with chain version 2")
	assert.Zero(t, report.ByChain[eventstore.ChainV1])

	against := func(heads ...ledger.Head) error {
		_, err := l.CheckAgainst(ctx, ledger.Anchor{Heads: heads, Name: "the heads file"}, "")
		return err
	}
	assert.NoError(t, against(report.Heads...), "the heads just seen still match")
	wrong := report.Heads[0]
	wrong.Hash[0] ^= 1
	var chainErr *eventstore.ChainError
	assert.ErrorAs(t, against(wrong), &chainErr, "a head with another hash")
	gone := report.Heads[0]
	gone.Version = 7
	assert.ErrorAs(t, against(gone), &chainErr, "a head beyond the stream")
	assert.Contains(t, chainErr.Error(), "the heads file saw 8 events in the stream, and it now holds 3: the stream was truncated")

	_, err = l.Verify(ctx, "NOPE")
	assert.True(t, errors.Is(err, ledger.ErrUnknownInstrument))
}

// Verify while another writer appends: the chain read after the list of
// streams may be longer than the record in that list, which is an append,
// not an event written outside the ledger (a server verifies on a timer
// while it writes; CI once saw the false alarm).
func TestVerifyDuringAppends(t *testing.T) {
	l, _ := mustOpen(t)
	ctx := context.Background()
	_, err := l.Record(ctx, domain.RecordClose{Instrument: "BABA", Price: money("100"), Currency: "USD", EffectiveAt: day("2025-01-01")}, ledger.WriteOptions{})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		for i := range 300 {
			_, err := l.Record(ctx, domain.RecordClose{Instrument: "BABA", Price: money("100"), Currency: "USD",
				EffectiveAt: day("2025-01-02").AddDate(0, 0, i)}, ledger.WriteOptions{})
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for {
		select {
		case err := <-done:
			require.NoError(t, err)
			_, err = l.Verify(ctx, "")
			require.NoError(t, err)
			return
		default:
			_, err := l.Verify(ctx, "")
			require.NoError(t, err)
		}
	}
}
