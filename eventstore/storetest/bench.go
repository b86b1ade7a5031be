package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
)

// Helpers for the stores' benchmarks, so each backend is measured with the
// same events and the same loops.

// BenchEvent is a realistic ledger event: about 200 bytes of data and 50 of
// metadata, like a RatingAdded with its source.
func BenchEvent(n int) eventstore.EventData {
	return eventstore.EventData{
		ID:   uuid.New(),
		Type: "RatingAdded",
		Data: []byte(fmt.Sprintf(`{"instrument":"BABA","analyst":"analyst-%06d@firm-a","firm":"Firm A Securities",`+
			`"rating":"buy","broker_rating":"outperform","target":"165.690000","currency":"USD",`+
			`"effective_at":"2025-09-11T23:59:59.999999999Z"}`, n)),
		Metadata:    []byte(`{"recorded_by":"bench","source":"import:bench.jsonl"}`),
		EffectiveAt: time.Date(2025, 9, 11, 23, 59, 59, 999999999, time.UTC),
	}
}

// BenchAppendSingle is one ledger command: one append of one event to an
// existing stream at its exact version. It reports the median and 99th
// percentile latency besides the mean (ns/op).
func BenchAppendSingle(b *testing.B, s eventstore.Store) {
	ctx := context.Background()
	const stream = "instrument-BABA"
	_, err := s.Append(ctx, stream, eventstore.NoStream, []eventstore.EventData{BenchEvent(0)})
	require.NoError(b, err)
	version := eventstore.Version(0)
	var took []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		e := []eventstore.EventData{BenchEvent(int(version) + 1)}
		start := time.Now()
		_, err := s.Append(ctx, stream, version, e)
		took = append(took, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		version++
	}
	slices.Sort(took)
	b.ReportMetric(Percentile(took, 0.50), "p50-µs")
	b.ReportMetric(Percentile(took, 0.99), "p99-µs")
}

// Percentile is the nearest-rank percentile of sorted durations, in µs.
func Percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	i = min(max(i, 0), len(sorted)-1)
	return float64(sorted[i]) / float64(time.Microsecond)
}
