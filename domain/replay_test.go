package domain_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
)

// farFuture is a transaction time after every test event was recorded.
var farFuture = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

func ids(rs []domain.Recorded) []uuid.UUID {
	out := make([]uuid.UUID, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func TestTimelineFoldOrder(t *testing.T) {
	s := newStream()
	v0 := s.add(rating(t, "a", domain.Buy, "", "2025-09-05"))
	v1 := s.add(closing(t, "150", "2025-09-01"))
	v2 := s.add(rating(t, "b", domain.Hold, "", "2025-09-03T10:00:00Z"))
	v3 := s.add(closing(t, "151", "2025-09-01")) // ties v1: stream order
	v4 := s.add(rating(t, "c", domain.Sell, "", "2025-09-03T10:00:00Z"))
	v5 := s.add(closing(t, "149", "1999-12-31"))

	tl := domain.NewTimeline(s.history(), farFuture)
	assert.Equal(t, ids([]domain.Recorded{v5, v1, v3, v2, v4, v0}), ids(tl.Events),
		"by effective time, ties by stream version")
	assert.Equal(t, farFuture, tl.KnownAt)
	assert.Equal(t, domain.Currency("USD"), tl.Currency)
	assert.Empty(t, tl.Retracted)
}

func TestTimelineTiesFollowVersionNotSliceOrder(t *testing.T) {
	// A history handed over out of stream order still folds ties by version.
	s := newStream()
	first := s.add(closing(t, "150", "2025-09-01"))
	second := s.add(closing(t, "151", "2025-09-01"))
	history := []domain.Recorded{second, first}

	tl := domain.NewTimeline(history, farFuture)
	assert.Equal(t, ids([]domain.Recorded{first, second}), ids(tl.Events))
	st := tl.Replay(at(t, "2025-09-02"))
	require.NotNil(t, st.Close)
	assert.Equal(t, second.ID, st.Close.EventID, "the later version supersedes")
}

func TestTimelineEmpty(t *testing.T) {
	for _, history := range [][]domain.Recorded{nil, {}} {
		tl := domain.NewTimeline(history, farFuture)
		assert.Empty(t, tl.Events)
		assert.Empty(t, tl.Retracted)
		assert.Empty(t, tl.Currency)
		st := tl.Replay(now)
		assert.Empty(t, st.Analysts)
		assert.Nil(t, st.Close)
		assert.Equal(t, now, st.AsOf)
		assert.Equal(t, farFuture, st.KnownAt)
	}
}

func TestTimelineKnownAt(t *testing.T) {
	s := newStream()
	t1 := time.Date(2025, 9, 2, 9, 0, 0, 0, time.UTC)
	t2 := time.Date(2025, 9, 3, 9, 0, 0, 0, time.UTC)
	t3 := time.Date(2025, 9, 4, 9, 0, 0, 0, time.UTC)
	r1 := s.addAt(t1, rating(t, "a", domain.Buy, "160", "2025-09-01"))
	r2 := s.addAt(t2, rating(t, "b", domain.Sell, "120", "2025-08-01")) // backfilled
	r3 := s.addAt(t3, revision(t, "a", "170", "2025-09-02"))

	tests := []struct {
		name    string
		knownAt time.Time
		want    []domain.Recorded
	}{
		{"before anything was recorded", t1.Add(-time.Nanosecond), nil},
		{"exactly when the first was recorded", t1, []domain.Recorded{r1}},
		{"between", t2.Add(-time.Microsecond), []domain.Recorded{r1}},
		{"after the backfill", t2, []domain.Recorded{r2, r1}},
		{"everything", t3, []domain.Recorded{r2, r1, r3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := domain.NewTimeline(s.history(), tt.knownAt)
			assert.Equal(t, ids(tt.want), ids(tl.Events))
		})
	}

	// The state as of 2025-09-05 as known at t2 ignores the revision recorded at t3.
	st := domain.NewTimeline(s.history(), t2).Replay(at(t, "2025-09-05"))
	require.True(t, st.Holds("a"))
	assert.Equal(t, money(t, "160"), *st.Analysts["a"].Target)
	st = domain.NewTimeline(s.history(), t3).Replay(at(t, "2025-09-05"))
	assert.Equal(t, money(t, "170"), *st.Analysts["a"].Target)
}

func TestTimelineRetractionKnownAt(t *testing.T) {
	s := newStream()
	rated := s.addAt(time.Date(2025, 9, 2, 9, 0, 0, 0, time.UTC), rating(t, "a", domain.Buy, "160", "2025-09-01"))
	retractedAt := time.Date(2025, 9, 5, 9, 0, 0, 0, time.UTC)
	retracting := s.addAt(retractedAt, retraction(rated, "wrong analyst"))
	asOf := at(t, "2025-09-04")

	before := domain.NewTimeline(s.history(), retractedAt.Add(-time.Nanosecond))
	assert.Equal(t, ids([]domain.Recorded{rated}), ids(before.Events), "the retraction is not yet known")
	assert.Empty(t, before.Retracted)
	assert.True(t, before.Replay(asOf).Holds("a"))

	after := domain.NewTimeline(s.history(), retractedAt)
	assert.Empty(t, after.Events, "neither the retracted event nor the retraction is folded")
	require.Len(t, after.Retracted, 1)
	assert.Equal(t, rated.ID, after.Retracted[0].Event.ID)
	assert.Equal(t, retracting.ID, after.Retracted[0].Retraction.ID)
	st := after.Replay(asOf)
	assert.False(t, st.Holds("a"))
	assert.NotContains(t, st.Analysts, domain.Analyst("a"))
	require.Len(t, st.Retracted, 1)
	assert.Equal(t, rated.ID, st.Retracted[0].Event.ID)

	// Retracted events are reported only once their effective time is reached.
	assert.Empty(t, after.Replay(at(t, "2025-08-31")).Retracted)
}

func TestTimelineIgnoresRetractionsOfUnknownEvents(t *testing.T) {
	s := newStream()
	rated := s.add(rating(t, "a", domain.Buy, "160", "2025-09-01"))
	s.add(domain.EventRetracted{Instrument: baba, Retracted: uuid.MustParse("0199a1b2-0000-7000-8000-000000000001"),
		Reason: "not ours", EffectiveAt: at(t, "2025-09-01")})
	tl := domain.NewTimeline(s.history(), farFuture)
	assert.Equal(t, ids([]domain.Recorded{rated}), ids(tl.Events))
	assert.Empty(t, tl.Retracted)
}

func TestTimelineFirstRetractionWins(t *testing.T) {
	// The ledger refuses a second retraction, but a copied or hand-made
	// history may hold one; the timeline credits the first.
	s := newStream()
	rated := s.add(rating(t, "a", domain.Buy, "160", "2025-09-01"))
	first := s.add(retraction(rated, "first"))
	s.add(retraction(rated, "second"))
	tl := domain.NewTimeline(s.history(), farFuture)
	require.Len(t, tl.Retracted, 1)
	assert.Equal(t, first.ID, tl.Retracted[0].Retraction.ID)
}

func TestTimelineCurrencyFromFirstEvent(t *testing.T) {
	s := newStream()
	s.add(domain.CloseRecorded{Instrument: "9988.HK", Price: money(t, "150"), Currency: "HKD", EffectiveAt: at(t, "2025-09-01")})
	assert.Equal(t, domain.Currency("HKD"), domain.NewTimeline(s.history(), farFuture).Currency)
	assert.Equal(t, domain.Currency("HKD"), domain.NewTimeline(s.history(), farFuture).Replay(now).Currency)
}

func TestReplayPositions(t *testing.T) {
	s := newStream()
	r1 := s.add(domain.RatingAdded{Instrument: baba, Analyst: "a", Firm: "Firm A", Rating: domain.Buy, BrokerRating: "Outperform",
		Target: ptr(money(t, "160")), Currency: "USD", EffectiveAt: at(t, "2025-09-01")})
	r2 := s.add(revision(t, "a", "170", "2025-09-03"))
	r3 := s.add(withdrawal(t, "a", "2025-09-05"))
	r4 := s.add(rating(t, "a", domain.Hold, "", "2025-09-08")) // no firm, no target
	tl := domain.NewTimeline(s.history(), farFuture)

	p := tl.Replay(at(t, "2025-09-02")).Analysts["a"]
	require.NotNil(t, p)
	assert.True(t, p.Held)
	assert.Equal(t, "Firm A", p.Firm)
	assert.Equal(t, domain.Buy, p.Rating)
	assert.Equal(t, "Outperform", p.BrokerRating)
	assert.Equal(t, r1.ID, p.RatingEvent)
	assert.Equal(t, at(t, "2025-09-01"), p.RatedAt)
	assert.Equal(t, money(t, "160"), *p.Target)
	assert.Equal(t, r1.ID, p.TargetEvent)
	assert.Equal(t, at(t, "2025-09-01"), p.LastActive)

	p = tl.Replay(at(t, "2025-09-04")).Analysts["a"]
	assert.True(t, p.Held)
	assert.Equal(t, money(t, "170"), *p.Target, "a revision replaces the target")
	assert.Equal(t, r2.ID, p.TargetEvent)
	assert.Equal(t, r1.ID, p.RatingEvent, "a revision keeps the rating")
	assert.Equal(t, at(t, "2025-09-03"), p.LastActive)

	p = tl.Replay(at(t, "2025-09-06")).Analysts["a"]
	assert.False(t, p.Held)
	assert.Equal(t, at(t, "2025-09-05"), p.WithdrawnAt)
	assert.Equal(t, r3.ID, p.WithdrawalEvent)

	p = tl.Replay(at(t, "2025-09-09")).Analysts["a"]
	assert.True(t, p.Held)
	assert.Equal(t, domain.Hold, p.Rating)
	assert.Equal(t, r4.ID, p.RatingEvent)
	assert.Nil(t, p.Target, "a new rating without a target carries none")
	assert.Equal(t, uuid.Nil, p.TargetEvent)
	assert.True(t, p.WithdrawnAt.IsZero())
	assert.Equal(t, uuid.Nil, p.WithdrawalEvent)
	assert.Equal(t, "Firm A", p.Firm, "a rating without a firm keeps the one known")
	assert.Empty(t, p.Skipped)
}

func TestReplayTargetIsACopy(t *testing.T) {
	target := money(t, "160")
	s := newStream()
	s.add(domain.RatingAdded{Instrument: baba, Analyst: "a", Rating: domain.Buy, BrokerRating: "buy",
		Target: &target, Currency: "USD", EffectiveAt: at(t, "2025-09-01")})
	st := domain.NewTimeline(s.history(), farFuture).Replay(now)
	*st.Analysts["a"].Target = 1
	assert.Equal(t, money(t, "160"), target, "changing a replayed state never changes an event")
}

func TestReplaySkipsEventsThatNoLongerApply(t *testing.T) {
	s := newStream()
	rated := s.add(rating(t, "a", domain.Buy, "160", "2025-09-01"))
	revised := s.add(revision(t, "a", "170", "2025-09-03"))
	withdrawn := s.add(withdrawal(t, "a", "2025-09-04"))
	s.add(retraction(rated, "wrong analyst"))
	orphan := s.add(revision(t, "b", "100", "2025-09-02")) // b never rated

	st := domain.NewTimeline(s.history(), farFuture).Replay(at(t, "2025-09-10"))
	a := st.Analysts["a"]
	require.NotNil(t, a)
	assert.False(t, a.Held)
	assert.Nil(t, a.Target, "a skipped revision refreshes nothing")
	assert.True(t, a.LastActive.IsZero())
	require.Len(t, a.Skipped, 2)
	assert.Equal(t, revised.ID, a.Skipped[0].Event.ID)
	assert.Equal(t, withdrawn.ID, a.Skipped[1].Event.ID)
	for _, sk := range a.Skipped {
		assert.NotEmpty(t, sk.Reason)
	}
	b := st.Analysts["b"]
	require.NotNil(t, b)
	assert.False(t, st.Holds("b"))
	require.Len(t, b.Skipped, 1)
	assert.Equal(t, orphan.ID, b.Skipped[0].Event.ID)
	assert.False(t, st.Holds("nobody"))
}

func TestReplayWithdrawalBeforeBackfilledRatingIsSkipped(t *testing.T) {
	s := newStream()
	s.add(rating(t, "a", domain.Buy, "160", "2025-09-01"))
	s.add(withdrawal(t, "a", "2025-09-05"))
	s.add(withdrawal(t, "a", "2025-09-06")) // a second withdrawal: nothing held
	st := domain.NewTimeline(s.history(), farFuture).Replay(at(t, "2025-09-07"))
	p := st.Analysts["a"]
	assert.False(t, p.Held)
	assert.Equal(t, at(t, "2025-09-05"), p.WithdrawnAt, "the skipped withdrawal changes nothing")
	assert.Len(t, p.Skipped, 1)
}

func TestReplayClose(t *testing.T) {
	s := newStream()
	s.addAt(time.Date(2025, 9, 12, 9, 0, 0, 0, time.UTC), closing(t, "155.44", "2025-09-11"))
	backfilled := s.addAt(time.Date(2025, 9, 13, 9, 0, 0, 0, time.UTC), closing(t, "150", "2025-09-10"))
	corrected := s.addAt(time.Date(2025, 9, 14, 9, 0, 0, 0, time.UTC), closing(t, "155.45", "2025-09-11"))
	tl := domain.NewTimeline(s.history(), farFuture)

	st := tl.Replay(at(t, "2025-09-10"))
	require.NotNil(t, st.Close)
	assert.Equal(t, backfilled.ID, st.Close.EventID)
	assert.Equal(t, money(t, "150"), st.Close.Price)
	assert.Equal(t, at(t, "2025-09-10"), st.Close.At)

	st = tl.Replay(at(t, "2025-09-12"))
	require.NotNil(t, st.Close)
	assert.Equal(t, corrected.ID, st.Close.EventID, "for equal effective times the later recorded supersedes")
	assert.Equal(t, money(t, "155.45"), st.Close.Price)

	assert.Nil(t, tl.Replay(at(t, "2025-09-09")).Close)
}

func TestReplayIncludesEventsEffectiveExactlyAtAsOf(t *testing.T) {
	s := newStream()
	s.add(rating(t, "a", domain.Buy, "", "2025-09-01T12:00:00Z"))
	tl := domain.NewTimeline(s.history(), farFuture)
	assert.True(t, tl.Replay(at(t, "2025-09-01T12:00:00Z")).Holds("a"))
	assert.False(t, tl.Replay(at(t, "2025-09-01T11:59:59.999999999Z")).Holds("a"))
}

// richHistory mixes every event type, backfills, ties and retractions, with
// recorded times spread so that knownAt matters.
func richHistory(t *testing.T) *stream {
	s := newStream()
	r0 := s.add(rating(t, "a", domain.Buy, "160", "2025-09-01"))
	s.add(rating(t, "b", domain.Sell, "120", "2025-09-02"))
	s.add(closing(t, "150", "2025-09-01"))
	s.add(revision(t, "a", "170", "2025-09-04"))
	s.add(rating(t, "c", domain.StrongBuy, "", "2025-08-15")) // backfilled
	s.add(withdrawal(t, "b", "2025-09-05"))
	c1 := s.add(closing(t, "151", "2025-09-05"))
	s.add(closing(t, "152", "2025-09-05")) // tie with c1
	s.add(retraction(c1, "bad feed"))
	s.add(revision(t, "b", "130", "2025-09-06")) // b no longer holds: skipped
	s.add(rating(t, "b", domain.Hold, "125", "2025-09-07"))
	s.add(retraction(r0, "wrong analyst"))
	s.add(rating(t, "a", domain.Buy, "165.69", "2025-09-02T10:00:00Z"))
	s.add(revision(t, "c", "200", "2025-09-10T15:00:00Z"))
	return s
}

func TestCursorMatchesReplay(t *testing.T) {
	s := richHistory(t)
	var points []time.Time
	for d := at(t, "2025-08-10"); !d.After(at(t, "2025-09-15")); d = d.AddDate(0, 0, 1) {
		points = append(points, d, d.Add(-time.Nanosecond))
	}
	// Ascending, with repeats, as a history of period ends may ask.
	ordered := make([]time.Time, 0, len(points))
	for _, p := range points {
		if len(ordered) == 0 || !p.Before(ordered[len(ordered)-1]) {
			ordered = append(ordered, p)
		}
	}
	ordered = append(ordered, ordered[len(ordered)-1])

	for i := range s.events {
		knownAt := s.events[i].RecordedAt
		tl := domain.NewTimeline(s.history(), knownAt)
		c := tl.Cursor()
		for _, p := range ordered {
			got := c.AdvanceTo(p)
			want := domain.NewTimeline(s.history(), knownAt).Replay(p)
			require.Equal(t, want, got, "known at %s, as of %s", domain.FormatTime(knownAt), domain.FormatTime(p))
			require.Same(t, c.State, got)
		}
	}
}

func TestCursorStartsEmpty(t *testing.T) {
	c := domain.NewTimeline(richHistory(t).history(), farFuture).Cursor()
	require.NotNil(t, c.State)
	assert.Empty(t, c.State.Analysts)
	assert.Nil(t, c.State.Close)
	assert.Equal(t, farFuture, c.State.KnownAt)
	assert.Equal(t, domain.Currency("USD"), c.State.Currency)
}

func TestReplayRichHistory(t *testing.T) {
	s := richHistory(t)
	st := domain.NewTimeline(s.history(), farFuture).Replay(at(t, "2025-09-11"))

	a := st.Analysts["a"]
	require.True(t, a.Held)
	assert.Equal(t, money(t, "165.69"), *domain.NewTimeline(s.history(), farFuture).Replay(at(t, "2025-09-03")).Analysts["a"].Target,
		"the retracted rating's target is gone; the backfilled rating's counts")
	assert.Equal(t, money(t, "170"), *a.Target,
		"the revision of 09-04 now applies to the backfilled rating of 09-02")

	b := st.Analysts["b"]
	require.True(t, b.Held)
	assert.Equal(t, domain.Hold, b.Rating)
	assert.Equal(t, money(t, "125"), *b.Target)
	require.Len(t, b.Skipped, 1, "the revision met while withdrawn")

	c := st.Analysts["c"]
	require.True(t, c.Held)
	assert.Equal(t, money(t, "200"), *c.Target)

	require.NotNil(t, st.Close)
	assert.Equal(t, money(t, "152"), st.Close.Price, "the retracted close does not count")
	require.Len(t, st.Retracted, 2)
}
