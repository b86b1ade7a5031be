package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
)

// The figures these benchmarks produce are reproduced with
//
//	go test -run '^$' -bench . -benchmem ./eventstore/sqlite/
//
// Every append is durable (WAL, synchronous=FULL), so the single-event
// latency measures the disk's fsync as much as the store: run it on the
// file system the ledger will live on (TMPDIR selects it).

// benchEvent is a realistic ledger event: about 200 bytes of data and 50 of
// metadata, like a RatingAdded with its source.
func benchEvent(n int) eventstore.EventData {
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

func benchStore(b *testing.B) *sqlite.Store {
	b.Helper()
	return mustOpen(b, filepath.Join(b.TempDir(), "ledger.db"), sqlite.Options{})
}

// BenchmarkAppendSingle is one ledger command: one durable append of one
// event to an existing stream at its exact version. It reports the median
// and 99th percentile latency besides the mean (ns/op).
func BenchmarkAppendSingle(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	const stream = "instrument-BABA"
	_, err := s.Append(ctx, stream, eventstore.NoStream, []eventstore.EventData{benchEvent(0)})
	require.NoError(b, err)
	version := eventstore.Version(0)
	var took []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		e := []eventstore.EventData{benchEvent(int(version) + 1)}
		start := time.Now()
		_, err := s.Append(ctx, stream, version, e)
		took = append(took, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		version++
	}
	slices.Sort(took)
	b.ReportMetric(percentile(took, 0.50), "p50-µs")
	b.ReportMetric(percentile(took, 0.99), "p99-µs")
}

// percentile is the nearest-rank percentile of sorted durations, in µs.
func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	i = min(max(i, 0), len(sorted)-1)
	return float64(sorted[i]) / float64(time.Microsecond)
}

// BenchmarkAppendBatch500 is an import's unit of work: one durable batch of
// 500 events. It reports events/s.
func BenchmarkAppendBatch500(b *testing.B) {
	const batch = 500
	ctx := context.Background()
	s := benchStore(b)
	const stream = "instrument-BABA"
	expected := eventstore.NoStream
	evs := make([]eventstore.EventData, batch)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for i := range evs {
			evs[i] = benchEvent(n)
			n++
		}
		b.StartTimer()
		res, err := s.Append(ctx, stream, expected, evs)
		if err != nil {
			b.Fatal(err)
		}
		expected = eventstore.Version(res.Records[len(res.Records)-1].Version)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkReadStream5000 reads a whole 5000-event stream, as show, log and
// verify do for a busy instrument.
func BenchmarkReadStream5000(b *testing.B) {
	const size, batch = 5000, 500
	ctx := context.Background()
	s := benchStore(b)
	const stream = "instrument-BABA"
	expected := eventstore.NoStream
	for n := 0; n < size; n += batch {
		evs := make([]eventstore.EventData, batch)
		for i := range evs {
			evs[i] = benchEvent(n + i)
		}
		res, err := s.Append(ctx, stream, expected, evs)
		require.NoError(b, err)
		expected = eventstore.Version(res.Records[len(res.Records)-1].Version)
	}
	b.ReportAllocs()
	for b.Loop() {
		recs, err := s.ReadStream(ctx, stream, 0, 0)
		if err != nil {
			b.Fatal(err)
		}
		if len(recs) != size {
			b.Fatalf("read %d records, want %d", len(recs), size)
		}
	}
	b.ReportMetric(float64(size*b.N)/b.Elapsed().Seconds(), "events/s")
}
