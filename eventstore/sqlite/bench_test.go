package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/eventstore/storetest"
)

// The figures these benchmarks produce are reproduced with
//
//	go test -run '^$' -bench . -benchmem ./eventstore/sqlite/
//
// Every append is durable (WAL, synchronous=FULL), so the single-event
// latency measures the disk's fsync as much as the store: run it on the
// file system the ledger will live on (TMPDIR selects it).

func benchStore(b *testing.B) *sqlite.Store {
	b.Helper()
	return mustOpen(b, filepath.Join(b.TempDir(), "ledger.db"), sqlite.Options{})
}

// BenchmarkAppendSingle is one ledger command: one durable append of one
// event to an existing stream at its exact version (p50 and p99 latency).
func BenchmarkAppendSingle(b *testing.B) {
	storetest.BenchAppendSingle(b, benchStore(b))
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
			evs[i] = storetest.BenchEvent(n)
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
			evs[i] = storetest.BenchEvent(n + i)
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
