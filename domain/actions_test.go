package domain_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
)

// TestActionsEveryCase walks one analyst through every action of CONTRACT
// section 8, in effective order, with the exact actions expected of each.
func TestActionsEveryCase(t *testing.T) {
	s := newStream()
	type want struct {
		r domain.Recorded
		a domain.Actions
	}
	var wants []want
	add := func(e domain.Event, rating domain.RatingAction, target domain.TargetAction) {
		wants = append(wants, want{s.add(e), domain.Actions{Rating: rating, Target: target}})
	}
	add(revision(t, "a", "100", "2025-01-01"), domain.RatingSkipped, "")                        // no rating yet
	add(withdrawal(t, "a", "2025-01-02"), domain.RatingSkipped, "")                             // nothing to withdraw
	add(rating(t, "a", domain.Hold, "", "2025-01-03"), domain.RatingInitiation, "")             // no target: null
	add(revision(t, "a", "100", "2025-01-04"), "", domain.TargetSet)                            // the rating held has none
	add(revision(t, "a", "100.000001", "2025-01-05"), "", domain.TargetRaised)                  // exact decimals
	add(revision(t, "a", "100.000001", "2025-01-06"), "", domain.TargetMaintained)              //
	add(rating(t, "a", domain.Buy, "90", "2025-01-07"), domain.RatingUpgrade, domain.TargetCut) // against the revised target
	add(rating(t, "a", domain.Buy, "", "2025-01-08"), domain.RatingReiteration, "")             // a rating without target carries none
	add(rating(t, "a", domain.Sell, "95", "2025-01-09"), domain.RatingDowngrade, domain.TargetSet)
	add(rating(t, "a", domain.StrongSell, "95", "2025-01-10"), domain.RatingDowngrade, domain.TargetMaintained)
	add(rating(t, "a", domain.StrongBuy, "120", "2025-01-11"), domain.RatingUpgrade, domain.TargetRaised)
	add(withdrawal(t, "a", "2025-01-12"), domain.RatingCoverageDropped, "")
	add(revision(t, "a", "130", "2025-01-13"), domain.RatingSkipped, "")                            // held nothing after the withdrawal
	add(withdrawal(t, "a", "2025-01-14"), domain.RatingSkipped, "")                                 //
	add(rating(t, "a", domain.Buy, "120", "2025-01-15"), domain.RatingInitiation, domain.TargetSet) // the old 120 is gone
	add(rating(t, "b", domain.Buy, "50", "2025-01-15"), domain.RatingInitiation, domain.TargetSet)  // analysts are apart
	s.add(closing(t, "10", "2025-01-15"))

	got := domain.ActionsKnownAt(s.history(), farFuture)
	assert.Len(t, got, len(wants), "closes have no actions")
	for i, w := range wants {
		assert.Equal(t, w.a, got[w.r.ID], "event %d (%s, %s)", i, w.r.Event.Type(), w.r.Event.Effective().Format(time.DateOnly))
	}
}

// TestActionsBackfill: a rating backfilled before an initiation turns the
// initiation into an upgrade for every knowledge time after the backfill;
// known before it, the initiation stands.
func TestActionsBackfill(t *testing.T) {
	s := newStream()
	first := s.add(rating(t, "a", domain.Buy, "150", "2025-06-01"))
	later := s.add(revision(t, "a", "140", "2025-07-01"))
	before := s.clock
	backfilled := s.add(rating(t, "a", domain.Hold, "160", "2025-03-01"))

	then := domain.ActionsKnownAt(s.history(), before)
	assert.Equal(t, domain.Actions{Rating: domain.RatingInitiation, Target: domain.TargetSet}, then[first.ID])
	assert.Equal(t, domain.Actions{Target: domain.TargetCut}, then[later.ID])
	assert.NotContains(t, then, backfilled.ID, "not yet recorded")

	now := domain.ActionsKnownAt(s.history(), farFuture)
	assert.Equal(t, domain.Actions{Rating: domain.RatingInitiation, Target: domain.TargetSet}, now[backfilled.ID])
	assert.Equal(t, domain.Actions{Rating: domain.RatingUpgrade, Target: domain.TargetCut}, now[first.ID])
	assert.Equal(t, domain.Actions{Target: domain.TargetCut}, now[later.ID])
}

// TestActionsRetraction: a retracted event has no actions once its
// retraction is known, and the events after it are judged without it; known
// before the retraction, it has its actions as then derived. Same effective
// time: ties go by stream order.
func TestActionsRetraction(t *testing.T) {
	s := newStream()
	s.add(rating(t, "p", domain.Buy, "140", "2025-07-15"))
	typo := s.add(revision(t, "p", "1650", "2025-09-03"))
	beforeRetraction := s.clock
	s.add(retraction(typo, "typo"))
	fixed := s.add(revision(t, "p", "165", "2025-09-03"))

	then := domain.ActionsKnownAt(s.history(), beforeRetraction)
	assert.Equal(t, domain.Actions{Target: domain.TargetRaised}, then[typo.ID])

	now := domain.ActionsKnownAt(s.history(), farFuture)
	assert.NotContains(t, now, typo.ID)
	assert.Equal(t, domain.Actions{Target: domain.TargetRaised}, now[fixed.ID], "165 against 140, not against 1650")
}

// TestActionsAgreeWithTheFoldsPositions: the actions the explain listing
// reads off a position are those of the events it names.
func TestActionsAgreeWithTheFoldsPositions(t *testing.T) {
	s := newStream()
	s.add(rating(t, "a", domain.Hold, "100", "2025-01-01"))
	s.add(rating(t, "a", domain.Buy, "110", "2025-02-01"))
	s.add(revision(t, "a", "105", "2025-03-01"))
	state := domain.NewTimeline(s.history(), farFuture).Replay(farFuture)
	p := state.Analysts["a"]
	assert.Equal(t, domain.RatingUpgrade, p.RatingAction)
	assert.Equal(t, domain.TargetCut, p.TargetAction)
}

// TestActionsMatchReference compares ActionsKnownAt with referenceActions,
// written here from the contract's words without the product's fold, over
// random histories: few analysts, few days (many ties), few target values
// (maintained happens), backfills, retractions, and random knowledge times.
func TestActionsMatchReference(t *testing.T) {
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 14))
		history := randomActionHistory(t, rng)
		for range 5 {
			knownAt := history[rng.IntN(len(history))].RecordedAt
			if rng.IntN(4) == 0 {
				knownAt = farFuture
			}
			want := referenceActions(history, knownAt)
			got := domain.ActionsKnownAt(history, knownAt)
			require.Equal(t, want, got, "seed %d, known at %s", seed, knownAt)
		}
	}
}

func randomActionHistory(t *testing.T, rng *rand.Rand) []domain.Recorded {
	s := newStream()
	analysts := []string{"a", "b", "c"}
	targets := []string{"", "100", "100.5", "120"}
	day := func() string { return fmt.Sprintf("2025-01-%02d", 1+rng.IntN(8)) }
	n := 5 + rng.IntN(30)
	for range n {
		a := analysts[rng.IntN(len(analysts))]
		var e domain.Event
		switch k := rng.IntN(10); {
		case k < 4:
			e = rating(t, a, domain.Rating(1+rng.IntN(5)), targets[rng.IntN(len(targets))], day())
		case k < 7:
			e = revision(t, a, targets[1+rng.IntN(len(targets)-1)], day())
		case k < 8:
			e = withdrawal(t, a, day())
		case k < 9:
			e = closing(t, "10", day())
		default:
			h := s.history()
			if len(h) == 0 {
				continue
			}
			victim := h[rng.IntN(len(h))]
			if victim.Event.Type() == domain.TypeEventRetracted {
				continue
			}
			e = retraction(victim, "wrong")
		}
		if rng.IntN(3) == 0 {
			s.addAt(s.clock, e) // recorded at the same instant as the previous event
		} else {
			s.add(e)
		}
	}
	if len(s.events) == 0 {
		s.add(rating(t, "a", domain.Buy, "100", day()))
	}
	return s.history()
}

// referenceActions states CONTRACT sections 3 and 8 directly, for the test:
// for each visible rating, revision or withdrawal, replay from scratch the
// same analyst's visible events that precede it in fold order, then name
// the action. Quadratic, and sharing nothing with the product's fold.
func referenceActions(history []domain.Recorded, knownAt time.Time) map[uuid.UUID]domain.Actions {
	retracted := map[uuid.UUID]bool{}
	for _, r := range history {
		if x, ok := r.Event.(domain.EventRetracted); ok && !r.RecordedAt.After(knownAt) {
			retracted[x.Retracted] = true
		}
	}
	type ev struct {
		r       domain.Recorded
		analyst domain.Analyst
	}
	var visible []ev
	for _, r := range history {
		if r.RecordedAt.After(knownAt) || retracted[r.ID] {
			continue
		}
		switch e := r.Event.(type) {
		case domain.RatingAdded:
			visible = append(visible, ev{r, e.Analyst})
		case domain.TargetRevised:
			visible = append(visible, ev{r, e.Analyst})
		case domain.RatingWithdrawn:
			visible = append(visible, ev{r, e.Analyst})
		}
	}
	precedes := func(x, y domain.Recorded) bool {
		ex, ey := x.Event.Effective(), y.Event.Effective()
		return ex.Before(ey) || ex.Equal(ey) && x.Version < y.Version
	}
	out := map[uuid.UUID]domain.Actions{}
	for _, e := range visible {
		var earlier []domain.Recorded
		for _, x := range visible {
			if x.analyst == e.analyst && precedes(x.r, e.r) {
				earlier = append(earlier, x.r)
			}
		}
		slices.SortFunc(earlier, func(x, y domain.Recorded) int {
			if precedes(x, y) {
				return -1
			}
			return 1
		})
		held, score, target := false, 0, (*domain.Money)(nil)
		for _, x := range earlier {
			switch x := x.Event.(type) {
			case domain.RatingAdded:
				held, score, target = true, x.Rating.Score(), x.Target
			case domain.TargetRevised:
				if held {
					target = &x.Target
				}
			case domain.RatingWithdrawn:
				held, target = false, nil
			}
		}
		var a domain.Actions
		targetAction := func(t domain.Money) domain.TargetAction {
			switch {
			case !held || target == nil:
				return "set"
			case t > *target:
				return "raised"
			case t < *target:
				return "cut"
			}
			return "maintained"
		}
		switch x := e.r.Event.(type) {
		case domain.RatingAdded:
			switch {
			case !held:
				a.Rating = "initiation"
			case x.Rating.Score() < score:
				a.Rating = "upgrade"
			case x.Rating.Score() > score:
				a.Rating = "downgrade"
			default:
				a.Rating = "reiteration"
			}
			if x.Target != nil {
				a.Target = targetAction(*x.Target)
			}
		case domain.TargetRevised:
			if !held {
				a.Rating = "skipped"
			} else {
				a.Target = targetAction(x.Target)
			}
		case domain.RatingWithdrawn:
			if held {
				a.Rating = "coverage_dropped"
			} else {
				a.Rating = "skipped"
			}
		}
		out[e.r.ID] = a
	}
	return out
}

// BenchmarkActionsKnownAt derives the actions of a 100,000-event instrument
// (150 analysts rating, revising and withdrawing over three years, plus a
// close every day) from its events, sorting them first, as `log` did once
// per call before it asked the read model (BenchmarkIndexActionsOf).
func BenchmarkActionsKnownAt(b *testing.B) {
	history := actionsBenchHistory()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if len(domain.ActionsKnownAt(history, farFuture)) == 0 {
			b.Fatal("no actions")
		}
	}
}

// BenchmarkIndexActionsOf derives the same actions from the instrument's
// read model, already in fold order: what `log` and the API's events
// answer do now (ledger.LogAt).
func BenchmarkIndexActionsOf(b *testing.B) {
	ix := domain.NewIndex(actionsBenchHistory())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if len(ix.ActionsOf(farFuture)) == 0 {
			b.Fatal("no actions")
		}
	}
}

// BenchmarkIndexActionsOfEvent derives the actions of the instrument's last
// event alone, from the checkpoint before it: what the event stream does
// for each new event (ledger.EventActions), against a whole fold
// (BenchmarkIndexActionsOf) for one event.
func BenchmarkIndexActionsOfEvent(b *testing.B) {
	history := actionsBenchHistory()
	ix := domain.NewIndex(history)
	last := history[len(history)-1]
	for i := len(history) - 1; ; i-- { // the last analyst event
		if _, ok := domain.AnalystOf(history[i].Event); ok {
			last = history[i]
			break
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if ix.ActionsOfEvent(last, farFuture) == (domain.Actions{}) {
			b.Fatal("no actions")
		}
	}
}

// actionsBenchHistory is the 100,000-event instrument of the actions
// benchmarks.
func actionsBenchHistory() []domain.Recorded {
	rng := rand.New(rand.NewPCG(100_000, 8))
	s := newStream()
	start := time.Date(2022, 9, 1, 23, 59, 59, 999_999_999, time.UTC)
	for i := range 100_000 {
		at := start.Add(time.Duration(i) * 15 * time.Minute)
		a := domain.Analyst(fmt.Sprintf("analyst-%03d", rng.IntN(150)))
		target := domain.Money(100_000_000 + rng.Int64N(100_000_000))
		var e domain.Event
		switch k := rng.IntN(10); {
		case k < 3:
			r := domain.Rating(1 + rng.IntN(5))
			e = domain.RatingAdded{Instrument: baba, Analyst: a, Rating: r, BrokerRating: r.String(), Target: &target, Currency: "USD", EffectiveAt: at}
		case k < 6:
			e = domain.TargetRevised{Instrument: baba, Analyst: a, Target: target, Currency: "USD", EffectiveAt: at}
		case k < 7:
			e = domain.RatingWithdrawn{Instrument: baba, Analyst: a, EffectiveAt: at}
		default:
			e = domain.CloseRecorded{Instrument: baba, Price: target, Currency: "USD", EffectiveAt: at}
		}
		s.add(e)
	}
	return s.history()
}

// TestChangesCompared: a timeline's changes in a period carry the actions
// ActionsKnownAt gives, the analyst's firm as then known, and for raised,
// cut and maintained the held target compared with, on the new event's
// basis: 100 before a 1-for-3 reverse split is 300 after it, and 301 before
// a 9-for-1 split is 33.444444 (6 dp, half away from zero).
func TestChangesCompared(t *testing.T) {
	s := newStream()
	first := rating(t, "a", domain.Buy, "100", "2025-01-01")
	first.Firm = "Firm A"
	set := s.add(first)
	s.add(domain.SplitRecorded{Instrument: baba, Ratio: domain.Ratio{New: 1, Old: 3}, EffectiveAt: at(t, "2025-01-02T00:00:00Z")})
	raised := s.add(revision(t, "a", "301", "2025-01-03"))
	s.add(domain.SplitRecorded{Instrument: baba, Ratio: domain.Ratio{New: 9, Old: 1}, EffectiveAt: at(t, "2025-01-04T00:00:00Z")})
	cut := s.add(rating(t, "a", domain.Hold, "33.44", "2025-01-05"))
	dropped := s.add(withdrawal(t, "a", "2025-01-06"))
	s.add(closing(t, "10", "2025-01-06"))

	tl := domain.NewTimeline(s.history(), farFuture)
	changes := tl.Changes(at(t, "2025-01-03T00:00:00Z"), at(t, "2025-01-06"))
	require.Len(t, changes, 3, "the first rating is before the period; splits and closes are no changes")
	assert.Equal(t, raised.ID, changes[0].Event.ID)
	assert.Equal(t, domain.Actions{Target: domain.TargetRaised}, changes[0].Actions)
	assert.Equal(t, "Firm A", changes[0].Firm, "a revision has the firm of the analyst's rating")
	assert.Equal(t, set.ID, changes[0].Compared.Event)
	assert.Equal(t, "300", domain.FormatMicros(changes[0].Compared.AdjustedMicros()), "100 times 3 after the 1:3 split")

	assert.Equal(t, cut.ID, changes[1].Event.ID)
	assert.Equal(t, domain.Actions{Rating: domain.RatingDowngrade, Target: domain.TargetCut}, changes[1].Actions)
	assert.Equal(t, raised.ID, changes[1].Compared.Event)
	assert.Equal(t, "33.444444", domain.FormatMicros(changes[1].Compared.AdjustedMicros()), "301 / 9 = 33.4444…, more than 33.44")

	assert.Equal(t, dropped.ID, changes[2].Event.ID)
	assert.Equal(t, domain.Actions{Rating: domain.RatingCoverageDropped}, changes[2].Actions)
	assert.False(t, changes[2].Compared.Compares(), "a withdrawal compares no target")

	all := domain.ActionsKnownAt(s.history(), farFuture)
	for _, c := range changes {
		assert.Equal(t, all[c.Event.ID], c.Actions, "the same actions as the log's")
	}
}

// TestIndexActionsOf: the read model's actions are the fold's, as known at
// any time, for the whole stream (ActionsOf) and for one event from the
// checkpoint before it (ActionsOfEvent), over histories long enough to have
// checkpoints, with splits, backfills and late retractions. Then the worked
// example: a revision judged against a typo until the typo is retracted.
func TestIndexActionsOf(t *testing.T) {
	seeds := uint64(6)
	if testing.Short() {
		seeds = 2
	}
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(seed, 8))
		history := withSplits(rng, randomHistory(rng, 600+rng.IntN(900), 0, seed%2 == 0))
		ix := domain.NewIndex(history)
		for range 12 {
			knownAt := randomPoint(rng, history, false)
			want := domain.ActionsKnownAt(history, knownAt)
			require.Equal(t, want, ix.ActionsOf(knownAt), "seed %d, known at %s", seed, knownAt)
			for _, r := range history {
				require.Equal(t, want[r.ID], ix.ActionsOfEvent(r, knownAt), "seed %d, event %d known at %s", seed, r.Version, knownAt)
			}
		}
	}

	s := newStream()
	s.add(rating(t, "p.rossi", domain.Buy, "140", "2025-07-15"))
	typo := s.add(revision(t, "p.rossi", "1650", "2025-09-03"))
	later := s.add(revision(t, "p.rossi", "170", "2025-09-09"))
	beforeRetraction := s.clock
	s.add(retraction(typo, "typo: 1650 keyed instead of 165"))
	ix := domain.NewIndex(s.history())
	then, now := ix.ActionsOf(beforeRetraction), ix.ActionsOf(farFuture)
	assert.Equal(t, domain.Actions{Target: domain.TargetRaised}, then[typo.ID], "140 to 1650")
	assert.Equal(t, domain.Actions{Target: domain.TargetCut}, then[later.ID], "1650 to 170, as known before the retraction")
	assert.NotContains(t, now, typo.ID, "retracted: no actions")
	assert.Equal(t, domain.Actions{Target: domain.TargetRaised}, now[later.ID], "140 to 170 once the typo is retracted")
	assert.Equal(t, domain.Actions{Target: domain.TargetCut}, ix.ActionsOfEvent(later, beforeRetraction))
	assert.Equal(t, domain.Actions{Target: domain.TargetRaised}, ix.ActionsOfEvent(later, farFuture))
	assert.Equal(t, domain.Actions{}, ix.ActionsOfEvent(later, typo.RecordedAt), "not recorded yet")
}
