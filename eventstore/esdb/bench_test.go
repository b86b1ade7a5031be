package esdb_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/esdb"
	"github.com/consensus-ledger/consensus/eventstore/esdb/esdbtest"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/eventstore/storetest"
)

// The figures these benchmarks produce are reproduced with
//
//	go test -run '^$' -bench . -benchtime 2s ./eventstore/esdb/
//
// Each benchmark runs on two stores side by side: "esdb", this backend
// over the in-process test server on loopback (client, gRPC and server
// share the machine's cores, and the server keeps everything in memory, so
// the figures are the backend's and the protocol's overhead, not a real
// server's disk), and "sqlite", the embedded store, durable (WAL,
// synchronous=FULL) on the file system of TMPDIR.

// backends are the stores compared.
var backends = []struct {
	name string
	open func(b *testing.B) eventstore.Store
}{
	{"esdb", func(b *testing.B) eventstore.Store {
		srv := startServer(b, esdbtest.Options{})
		return mustOpen(b, srv.ConnectionString(), esdb.Options{})
	}},
	{"sqlite", func(b *testing.B) eventstore.Store {
		s, err := sqlite.Open(filepath.Join(b.TempDir(), "ledger.db"), sqlite.Options{})
		require.NoError(b, err)
		b.Cleanup(func() { assert.NoError(b, s.Close()) })
		return s
	}},
}

func benchEvents(first, n int) []eventstore.EventData {
	evs := make([]eventstore.EventData, n)
	for i := range evs {
		evs[i] = storetest.BenchEvent(first + i)
	}
	return evs
}

// BenchmarkAppendBatch500 is an import's unit of work: one batch of 500 new
// events appended to one stream. It reports events/s.
func BenchmarkAppendBatch500(b *testing.B) {
	const batch = 500
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			s := be.open(b)
			expected := eventstore.NoStream
			n := 0
			for b.Loop() {
				b.StopTimer()
				evs := benchEvents(n, batch)
				n += batch
				b.StartTimer()
				res, err := s.Append(ctx, "instrument-BABA", expected, evs)
				if err != nil {
					b.Fatal(err)
				}
				expected = eventstore.Version(res.Records[len(res.Records)-1].Version)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkAppendSingle is one ledger command: one event appended at the
// stream's exact version. It reports the median and 99th percentile
// latency besides the mean (ns/op).
func BenchmarkAppendSingle(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) { storetest.BenchAppendSingle(b, be.open(b)) })
	}
}

// BenchmarkReadAll reads the whole ledger in store order, as rebuild and
// the fallback listing do: 10,000 events in 20 instrument streams (for the
// server, beside the 10,000 claims of its id index, which the server-side
// filter skips). It reports events/s.
func BenchmarkReadAll(b *testing.B) {
	const streams, perStream = 20, 500
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			s := be.open(b)
			for i := 0; i < streams; i++ {
				_, err := s.Append(ctx, fmt.Sprintf("instrument-S%02d", i), eventstore.NoStream, benchEvents(i*perStream, perStream))
				require.NoError(b, err)
			}
			for b.Loop() {
				recs, err := s.ReadAll(ctx, eventstore.Position{}, 0)
				if err != nil {
					b.Fatal(err)
				}
				if len(recs) != streams*perStream {
					b.Fatalf("read %d records, want %d", len(recs), streams*perStream)
				}
			}
			b.ReportMetric(float64(streams*perStream*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
