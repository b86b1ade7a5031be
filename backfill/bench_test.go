package backfill

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/gen"
	"github.com/consensus-ledger/consensus/ledger"
)

// benchFile is the import file the import benchmarks share: the file
// CONSENSUS_BENCH_IMPORT names (for instance the 1,000,000-event
// file from consensus gen), or else a generated one of about 100,000 rows.
// open gives a fresh reader of it for each run.
func benchFile(b *testing.B) (name string, size int64, open func() io.ReadCloser) {
	if path := os.Getenv("CONSENSUS_BENCH_IMPORT"); path != "" {
		info, err := os.Stat(path)
		require.NoError(b, err)
		return filepath.Base(path), info.Size(), func() io.ReadCloser {
			f, err := os.Open(path)
			require.NoError(b, err)
			return f
		}
	}
	var file bytes.Buffer
	_, err := gen.Generate(context.Background(), &file, gen.Config{Instruments: 36, Analysts: 150, Years: 10, Seed: 1}, gen.JSONL)
	require.NoError(b, err)
	return "bench.jsonl", int64(file.Len()), func() io.ReadCloser { return io.NopCloser(bytes.NewReader(file.Bytes())) }
}

// BenchmarkImport imports the benchmark file into a new embedded store, end
// to end: read, check, sort, judge, append.
func BenchmarkImport(b *testing.B) {
	name, size, open := benchFile(b)
	b.SetBytes(size)
	var rows int
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		store, err := sqlite.Open(filepath.Join(b.TempDir(), "import.db"), sqlite.Options{})
		require.NoError(b, err)
		file := open()
		src, err := NewReader(file, name)
		require.NoError(b, err)
		b.StartTimer()
		sum, err := Import(context.Background(), ledger.New(store), src, Options{Name: name})
		b.StopTimer()
		require.NoError(b, err)
		require.Zero(b, sum.Rejected+sum.Duplicates, "every row of a new store's import is imported")
		rows = sum.Imported
		require.NoError(b, file.Close())
		require.NoError(b, store.Close())
		b.StartTimer()
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkRawSQLiteInsert is the baseline for BenchmarkImport: the same
// rows (the records an import of the same file stores, hashes included)
// inserted into the same schema with plain prepared INSERTs through the same
// driver, 10,000 rows a transaction as the import commits them, and nothing
// else: no reading, checking, sorting, encoding or hashing. Import's
// events/s over this one's is the share of SQLite's own speed the import
// keeps.
func BenchmarkRawSQLiteInsert(b *testing.B) {
	records := importedRecords(b)
	b.ResetTimer()
	for b.Loop() {
		insertRaw(b, records, 10000, false)
	}
	b.ReportMetric(float64(len(records))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkRawSQLiteInsertShapes shows where SQLite's time goes in the
// baseline: the same rows in larger transactions, and in 10,000-row
// transactions into a table without the unique index on event ids. Ids are
// UUIDs (content-derived when the file gives none), so each transaction
// dirties pages all over that index and commits them again.
func BenchmarkRawSQLiteInsertShapes(b *testing.B) {
	records := importedRecords(b)
	for _, shape := range []struct {
		name     string
		txRows   int
		withoutI bool
	}{
		{"tx=50000", 50000, false},
		{"tx=200000", 200000, false},
		{"tx=10000/no-id-index", 10000, true},
	} {
		b.Run(shape.name, func(b *testing.B) {
			for b.Loop() {
				insertRaw(b, records, shape.txRows, shape.withoutI)
			}
			b.ReportMetric(float64(len(records))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// importedRecords imports the benchmark file into a scratch store and
// returns the records it stored, the rows the raw baselines insert.
func importedRecords(b *testing.B) []eventstore.Record {
	name, _, open := benchFile(b)
	source, err := sqlite.Open(filepath.Join(b.TempDir(), "source.db"), sqlite.Options{})
	require.NoError(b, err)
	file := open()
	src, err := NewReader(file, name)
	require.NoError(b, err)
	_, err = Import(context.Background(), ledger.New(source), src, Options{Name: name})
	require.NoError(b, err)
	require.NoError(b, file.Close())
	records, err := source.ReadAll(context.Background(), eventstore.Position{}, 0)
	require.NoError(b, err)
	require.NoError(b, source.Close())
	return records
}

// insertRaw inserts records into a new ledger file with plain prepared
// INSERTs, txRows a transaction; only the inserts are timed. Without the id
// index, the events table is made again with the same columns and the
// (stream, version) key but no unique index on id.
func insertRaw(b *testing.B, records []eventstore.Record, txRows int, withoutIDIndex bool) {
	b.StopTimer()
	path := filepath.Join(b.TempDir(), "raw.db")
	schema, err := sqlite.Open(path, sqlite.Options{}) // creates the ledger's schema
	require.NoError(b, err)
	require.NoError(b, schema.Close())
	db, err := sql.Open("sqlite", "file:"+path+"?_txlock=immediate&_pragma=synchronous(FULL)&_pragma=journal_mode(WAL)&_pragma=cache_size(-16384)")
	require.NoError(b, err)
	db.SetMaxOpenConns(1)
	if withoutIDIndex {
		_, err = db.Exec(`DROP TABLE events;
			CREATE TABLE events (seq INTEGER PRIMARY KEY, id BLOB NOT NULL, stream TEXT NOT NULL, version INTEGER NOT NULL,
				type TEXT NOT NULL, data BLOB NOT NULL, metadata BLOB, effective_at INTEGER NOT NULL, recorded_at INTEGER NOT NULL,
				prev_hash BLOB NOT NULL, hash BLOB NOT NULL, UNIQUE (stream, version)) STRICT`)
		require.NoError(b, err)
	}
	b.StartTimer()
	for start := 0; start < len(records); start += txRows {
		tx, err := db.Begin()
		require.NoError(b, err)
		stmt, err := tx.Prepare(`INSERT INTO events (id, stream, version, type, data, metadata, effective_at, recorded_at, prev_hash, hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		require.NoError(b, err)
		for _, r := range records[start:min(start+txRows, len(records))] {
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
