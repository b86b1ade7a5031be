package projections_test

import (
	"math/rand/v2"
	"testing"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/projections"
)

// BenchmarkTrackRecords10y scores every call of one instrument's ten-year
// stream (3,650 daily closes, a rating about every six days, a few splits
// and retractions) into track records: the work `consensus analysts` does
// per instrument once the stream is loaded. Times the number of
// instruments over the cores, it bounds the engine's share of a ranking.
func BenchmarkTrackRecords10y(b *testing.B) {
	rng := rand.New(rand.NewPCG(10, 15))
	l := realisticHistory(b, rng, "BENCH", []string{"a@x", "b@x", "c@y", "d@y", "e@z", "f@z", "g@z"}, 3650)
	asOf := l.events[len(l.events)-1].Event.Effective()
	b.ReportMetric(float64(len(l.events)), "events")
	b.ReportAllocs()
	for b.Loop() {
		r := projections.NewRecords(asOf, later)
		r.Add(l.sym, domain.NewTimeline(l.events, later))
	}
}
