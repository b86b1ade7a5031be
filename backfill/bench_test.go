package backfill

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
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

// BenchmarkRawSQLiteInsert is the baseline for BenchmarkImport: the same
// rows (the records an import of the same file stores, hashes included)
// inserted into the same schema with plain prepared INSERTs through the same
// driver, 10,000 rows a transaction, and nothing else: no reading, checking,
// sorting, encoding or hashing. Import's events/s over this one's is the
// share of SQLite's own speed the import keeps.
func BenchmarkRawSQLiteInsert(b *testing.B) {
	var file bytes.Buffer
	_, err := gen.Generate(context.Background(), &file, gen.Config{Instruments: 36, Analysts: 150, Years: 10, Seed: 1}, gen.JSONL)
	require.NoError(b, err)
	source, err := sqlite.Open(filepath.Join(b.TempDir(), "source.db"), sqlite.Options{})
	require.NoError(b, err)
	src, err := NewReader(bytes.NewReader(file.Bytes()), "bench.jsonl")
	require.NoError(b, err)
	_, err = Import(context.Background(), ledger.New(source), src, Options{Name: "bench.jsonl"})
	require.NoError(b, err)
	records, err := source.ReadAll(context.Background(), eventstore.Position{}, 0)
	require.NoError(b, err)
	require.NoError(b, source.Close())

	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "raw.db")
		schema, err := sqlite.Open(path, sqlite.Options{}) // creates the ledger's schema
		require.NoError(b, err)
		require.NoError(b, schema.Close())
		db, err := sql.Open("sqlite", "file:"+path+"?_txlock=immediate&_pragma=synchronous(FULL)&_pragma=journal_mode(WAL)&_pragma=cache_size(-16384)")
		require.NoError(b, err)
		db.SetMaxOpenConns(1)
		b.StartTimer()
		for start := 0; start < len(records); start += 10000 {
			tx, err := db.Begin()
			require.NoError(b, err)
			stmt, err := tx.Prepare(`INSERT INTO events (id, stream, version, type, data, metadata, effective_at, recorded_at, prev_hash, hash)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
			require.NoError(b, err)
			for _, r := range records[start:min(start+10000, len(records))] {
				_, err := stmt.Exec(r.ID[:], r.Stream, r.Version, r.Type, r.Data, r.Metadata,
					r.EffectiveAt.UnixNano(), r.RecordedAt.UnixNano(), r.PrevHash[:], r.Hash[:])
				require.NoError(b, err)
			}
			require.NoError(b, tx.Commit())
		}
		b.StopTimer()
		require.NoError(b, db.Close())
		b.StartTimer()
	}
	b.ReportMetric(float64(len(records))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
