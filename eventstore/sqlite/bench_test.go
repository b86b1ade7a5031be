package sqlite_test

import (
	"context"
	"fmt"
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

// BenchmarkStreams20000 lists the heads of 20,000 streams from the streams
// table, which is all a checkpoint reads from the store (then
// checkpoint.Build signs them: BenchmarkBuild in package checkpoint).
func BenchmarkStreams20000(b *testing.B) {
	const streams = 20000
	ctx := context.Background()
	s := benchStore(b)
	batches := make([]eventstore.StreamBatch, 0, 1000)
	for i := 0; i < streams; i++ {
		batches = append(batches, eventstore.StreamBatch{Stream: fmt.Sprintf("instrument-S%05d", i), Expected: eventstore.NoStream,
			Events: []eventstore.EventData{storetest.BenchEvent(i)}})
		if len(batches) == cap(batches) || i == streams-1 {
			_, err := s.AppendBatches(ctx, batches)
			require.NoError(b, err)
			batches = batches[:0]
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		infos, err := s.Streams(ctx)
		if err != nil || len(infos) != streams {
			b.Fatalf("%d streams, %v", len(infos), err)
		}
	}
}
