package domain_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
)

// randomHistory builds a stream of n events with everything the fold must
// get right: ratings, revisions (some with no rating held), withdrawals,
// closes on the same day as others, effective times in any order, recorded
// times in bursts, and retractions (some of events recorded much later,
// some of already retracted events, some of retractions).
//
// With chronological set, events mostly arrive in date order, as a live
// ledger records them, so that late retractions and late recordings are what
// decides which checkpoints a question may use.
func randomHistory(rng *rand.Rand, n int, inOrderTail int, chronological bool) []domain.Recorded {
	s := newStream()
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	analysts := []domain.Analyst{"a.one", "b.two", "c.three", "d.four", "e.five", "f.six"}
	ratings := []domain.Rating{domain.StrongBuy, domain.Buy, domain.Hold, domain.Sell, domain.StrongSell}
	tailDay := 800
	for i := range n {
		day := rng.IntN(730)
		if chronological && rng.IntN(10) > 0 {
			day = i * 730 / n
		}
		if i >= n-inOrderTail { // appended later, each after the last in fold order
			tailDay++
			day = tailDay
		}
		eff := start.Add(time.Duration(day)*24*time.Hour + time.Duration(rng.IntN(3))*8*time.Hour)
		analyst := analysts[rng.IntN(len(analysts))]
		var e domain.Event
		switch k := rng.IntN(100); {
		case k < 30:
			r := ratings[rng.IntN(len(ratings))]
			ra := domain.RatingAdded{Instrument: baba, Analyst: analyst, Rating: r, BrokerRating: r.String(), Currency: "USD", EffectiveAt: eff}
			if rng.IntN(4) > 0 {
				ra.Target = ptr(domain.Money(int64(100+rng.IntN(100)) * domain.MoneyScale))
			}
			e = ra
		case k < 50:
			e = domain.TargetRevised{Instrument: baba, Analyst: analyst, Target: domain.Money(int64(100+rng.IntN(100)) * domain.MoneyScale), Currency: "USD", EffectiveAt: eff}
		case k < 60:
			e = domain.RatingWithdrawn{Instrument: baba, Analyst: analyst, EffectiveAt: eff}
		case k < 94 || len(s.events) == 0 || i >= n-inOrderTail:
			e = domain.CloseRecorded{Instrument: baba, Price: domain.Money(int64(90+rng.IntN(100)) * domain.MoneyScale), Currency: "USD", EffectiveAt: eff}
		default:
			e = retraction(s.events[rng.IntN(len(s.events))], "typo")
		}
		recorded := s.clock.Add(time.Second)
		if chronological {
			recorded = later(s.clock, eff.Add(time.Duration(18+rng.IntN(6))*time.Hour))
		}
		if rng.IntN(20) == 0 {
			recorded = s.clock.Add(time.Duration(rng.IntN(48)) * time.Hour)
		}
		s.addAt(recorded, e)
	}
	return s.history()
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// randomPoint picks a valid or transaction time around the history: often
// exactly an event's own time (where ties and "at or before" matter), else
// anywhere from before the first event to after the last.
func randomPoint(rng *rand.Rand, history []domain.Recorded, valid bool) time.Time {
	r := history[rng.IntN(len(history))]
	t := r.RecordedAt
	if valid {
		t = r.Event.Effective()
	}
	switch rng.IntN(4) {
	case 0:
		return t
	case 1:
		return t.Add(-time.Nanosecond)
	case 2:
		return t.Add(time.Duration(rng.IntN(10*24)) * time.Hour)
	}
	return t.Add(-time.Duration(rng.IntN(10*24)) * time.Hour)
}

// TestIndexMatchesFullFold is the read model's defining property: at any
// (as_of, known_at), the index answers exactly what a full fold answers.
func TestIndexMatchesFullFold(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short: 12 random histories of up to 2,800 events, 200 points each (about 9 s); TestIndexExtend and the table tests cover the index")
	}
	for seed := range uint64(12) {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			history := randomHistory(rng, 300+rng.IntN(2500), 0, seed%2 == 0)
			ix := domain.NewIndex(history)
			for range 200 {
				asOf, knownAt := randomPoint(rng, history, true), randomPoint(rng, history, false)
				want := domain.NewTimeline(history, knownAt).Replay(asOf)
				require.Equal(t, want, ix.State(asOf, knownAt), "as of %s known at %s", asOf, knownAt)
			}
		})
	}
}

// TestIndexExtend checks that an index extended as events land answers like
// one built from scratch, both when new events only add later dates (the
// fold is continued) and when they do not (the index is rebuilt).
func TestIndexExtend(t *testing.T) {
	seeds := uint64(6)
	if testing.Short() {
		seeds = 2 // one history of each kind (seed%2), a third of the time
	}
	for seed := range seeds {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 11))
			history := randomHistory(rng, 1500, 1000, seed%2 == 0)
			ix := domain.NewIndex(history[:200])
			for n := 200; n < len(history); {
				n = min(len(history), n+1+rng.IntN(300))
				previous := ix
				ix = ix.Extend(history[:n])
				require.Equal(t, n, ix.Len())
				// The earlier index still answers for its own history.
				asOf, knownAt := randomPoint(rng, previous.History(), true), randomPoint(rng, previous.History(), false)
				require.Equal(t, domain.NewTimeline(previous.History(), knownAt).Replay(asOf), previous.State(asOf, knownAt))
			}
			for range 200 {
				asOf, knownAt := randomPoint(rng, history, true), randomPoint(rng, history, false)
				require.Equal(t, domain.NewTimeline(history, knownAt).Replay(asOf), ix.State(asOf, knownAt), "as of %s known at %s", asOf, knownAt)
			}
		})
	}
}

// TestIndexStateIsTheCallers checks that folding into an answered state
// leaves the index's checkpoints untouched.
func TestIndexStateIsTheCallers(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	history := randomHistory(rng, 1200, 0, false)
	ix := domain.NewIndex(history)
	far := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	before := domain.NewTimeline(history, far).Replay(far)
	got := ix.State(far, far)
	for _, p := range got.Analysts {
		p.Held, p.Skipped = !p.Held, append(p.Skipped, domain.Skipped{Reason: "scribble"})
	}
	got.Retracted = append(got.Retracted, domain.Retracted{})
	require.Equal(t, before, ix.State(far, far))
}

func BenchmarkIndexState5000(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	history := randomHistory(rng, 5000, 0, true)
	ix := domain.NewIndex(history)
	far := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		ix.State(randomPoint(rng, history, true), far)
	}
}

func BenchmarkNewIndex5000(b *testing.B) {
	history := randomHistory(rand.New(rand.NewPCG(1, 1)), 5000, 0, true)
	b.ReportAllocs()
	for b.Loop() {
		domain.NewIndex(history)
	}
}
