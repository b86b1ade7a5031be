package backfill

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/gen"
	"github.com/consensus-ledger/consensus/ledger"
)

// BenchmarkImport imports a generated file (about 100,000 rows) into a new
// embedded store, end to end: read, check, sort, judge, append.
func BenchmarkImport(b *testing.B) {
	var file bytes.Buffer
	stats, err := gen.Generate(context.Background(), &file, gen.Config{Instruments: 36, Analysts: 150, Years: 10, Seed: 1}, gen.JSONL)
	require.NoError(b, err)
	rows := stats.Rows()
	b.SetBytes(int64(file.Len()))
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		store, err := sqlite.Open(filepath.Join(b.TempDir(), "import.db"), sqlite.Options{})
		require.NoError(b, err)
		src, err := NewReader(bytes.NewReader(file.Bytes()), "bench.jsonl")
		require.NoError(b, err)
		b.StartTimer()
		sum, err := Import(context.Background(), ledger.New(store), src, Options{Name: "bench.jsonl"})
		b.StopTimer()
		require.NoError(b, err)
		require.Equal(b, Summary{Imported: int(rows)}, sum)
		require.NoError(b, store.Close())
		b.StartTimer()
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
