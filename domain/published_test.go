package domain_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
)

// TestPublishedCursorMatchesFullFold is the cursor's defining property: at
// every point of an ascending walk, the state as of t known at t is what a
// full fold known at t replays to t, whatever was recorded late or retracted.
func TestPublishedCursorMatchesFullFold(t *testing.T) {
	seeds, points := uint64(12), 400
	if testing.Short() {
		seeds, points = 4, 150
	}
	for seed := range seeds {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 13))
			history := withSplits(rng, randomHistory(rng, 200+rng.IntN(600), 0, seed%2 == 0))
			walk := make([]time.Time, 0, points)
			for range points {
				// Both kinds of point: an event's effective time (the
				// fold moves) and a recording (what is known moves).
				walk = append(walk, randomPoint(rng, history, rng.IntN(2) == 0))
			}
			slices.SortFunc(walk, time.Time.Compare)
			c := domain.NewIndex(history).PublishedCursor()
			for _, at := range walk {
				want := domain.NewTimeline(history, at).Replay(at)
				require.Equal(t, want, c.AdvanceTo(at), "as of and known at %s", at)
			}
		})
	}
}

// withSplits inserts splits into a history, as many as one event in
// twenty: at the start of a day or at another event's very instant
// (where fold order may put the split after events it judges), recorded
// with the event before them, and some retracted later.
func withSplits(rng *rand.Rand, history []domain.Recorded) []domain.Recorded {
	var out []domain.Recorded
	var splits []domain.Recorded
	add := func(r domain.Recorded, e domain.Event) {
		r.ID, r.Version, r.Event = testID(100_000+len(out)), int64(len(out)), e
		out = append(out, r)
	}
	for _, r := range history {
		out = append(out, r)
		out[len(out)-1].Version = int64(len(out) - 1)
		switch k := rng.IntN(40); {
		case k < 2:
			at := r.Event.Effective().Truncate(24*time.Hour).AddDate(0, 0, rng.IntN(30)-10)
			if k == 0 {
				at = history[rng.IntN(len(history))].Event.Effective()
			}
			add(r, domain.SplitRecorded{Instrument: baba, Ratio: domain.Ratio{New: int64(2 + rng.IntN(3)), Old: 1}, EffectiveAt: at})
			splits = append(splits, out[len(out)-1])
		case k < 3 && len(splits) > 0:
			add(r, retraction(splits[rng.IntN(len(splits))], "wrong ratio"))
		}
	}
	return out
}

// TestPublishedCursorLateCorrection walks a typo's life: a target keyed as
// 1650 on 3 September, retracted and keyed again as 165 on the 5th. What
// was shown on the 3rd and 4th keeps the typo; from the 5th it is gone, and
// the events recorded the same day it took effect fold as usual.
func TestPublishedCursorLateCorrection(t *testing.T) {
	s := newStream()
	s.addAt(at(t, "2025-09-01T10:00:00Z"), rating(t, "p.rossi", domain.Buy, "140", "2025-09-01"))
	typo := s.addAt(at(t, "2025-09-03T10:00:00Z"), revision(t, "p.rossi", "1650", "2025-09-03"))
	s.addAt(at(t, "2025-09-04T10:00:00Z"), closing(t, "141.50", "2025-09-04"))
	s.addAt(at(t, "2025-09-05T10:00:00Z"), retraction(typo, "typo"))
	s.addAt(at(t, "2025-09-05T10:00:01Z"), revision(t, "p.rossi", "165", "2025-09-03"))
	// Recorded the day after it took effect: not yet shown on its own day.
	s.addAt(at(t, "2025-09-07T09:00:00Z"), closing(t, "142.10", "2025-09-06"))
	history := s.history()

	c := domain.NewIndex(history).PublishedCursor()
	for _, step := range []struct {
		day    string
		target string
		close  string
	}{
		{"2025-09-02", "140", ""},
		{"2025-09-03", "1650", ""},
		{"2025-09-04", "1650", "141.5"},
		{"2025-09-05", "165", "141.5"},
		{"2025-09-06", "165", "141.5"},
		{"2025-09-07", "165", "142.1"},
	} {
		end := at(t, step.day)
		got := c.AdvanceTo(end)
		require.Equal(t, domain.NewTimeline(history, end).Replay(end), got, step.day)
		assert.Equal(t, step.target, got.Analysts["p.rossi"].Target.String(), step.day)
		if step.close == "" {
			assert.Nil(t, got.Close, step.day)
		} else {
			assert.Equal(t, step.close, got.Close.Price.String(), step.day)
		}
		assert.Equal(t, end, got.KnownAt)
		assert.Equal(t, end, got.AsOf)
	}
}

// BenchmarkPublishedCursorManyCorrections walks, day by day for ten years
// (3,650 points), a two-year history of 7,300 events in which one event in
// sixteen retracts a random earlier one and one in twenty is recorded up to
// two days late: far more corrections than a real ledger has, so most
// points refold from the settled prefix. Compare
// BenchmarkPublishedPerPointIndex, the same points asked of the index.
func BenchmarkPublishedCursorManyCorrections(b *testing.B) {
	history := randomHistory(rand.New(rand.NewPCG(1, 1)), 7300, 0, true)
	ix := domain.NewIndex(history)
	first := history[0].Event.Effective()
	b.ReportAllocs()
	for b.Loop() {
		c := ix.PublishedCursor()
		for d := range 3650 {
			c.AdvanceTo(first.AddDate(0, 0, d))
		}
	}
}

func BenchmarkPublishedPerPointIndex(b *testing.B) {
	history := randomHistory(rand.New(rand.NewPCG(1, 1)), 7300, 0, true)
	ix := domain.NewIndex(history)
	first := history[0].Event.Effective()
	b.ReportAllocs()
	for b.Loop() {
		for d := range 3650 {
			at := first.AddDate(0, 0, d)
			ix.State(at, at)
		}
	}
}

// TestPublishedCursorSplitAtTheSameInstant: a 2:1 split at the very instant
// of a target revision, after it in fold order and recorded a day late.
// Shown on the 5th, the revision from 100 to 60 was a cut; from the 6th,
// with the split known, the held 100 is 50 on the revision's basis and 60
// a raise, though nothing after the split in fold order changed.
func TestPublishedCursorSplitAtTheSameInstant(t *testing.T) {
	s := newStream()
	instant := at(t, "2025-09-05T00:00:00Z")
	s.addAt(at(t, "2025-09-01T10:00:00Z"), rating(t, "a.one", domain.Buy, "100", "2025-09-01"))
	s.addAt(at(t, "2025-09-05T01:00:00Z"), domain.TargetRevised{Instrument: baba, Analyst: "a.one", Target: money(t, "60"), Currency: "USD", EffectiveAt: instant})
	s.addAt(at(t, "2025-09-06T09:00:00Z"), domain.SplitRecorded{Instrument: baba, Ratio: domain.Ratio{New: 2, Old: 1}, EffectiveAt: instant})
	history := s.history()

	c := domain.NewIndex(history).PublishedCursor()
	for _, step := range []struct {
		day  string
		want domain.TargetAction
	}{{"2025-09-05", domain.TargetCut}, {"2025-09-06", domain.TargetRaised}} {
		end := at(t, step.day)
		got := c.AdvanceTo(end)
		require.Equal(t, domain.NewTimeline(history, end).Replay(end), got, step.day)
		assert.Equal(t, step.want, got.Analysts["a.one"].TargetAction, step.day)
	}
}
