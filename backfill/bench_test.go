package backfill

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
	return "bench.jsonl", int64(file.Len()), func() io.ReadCloser { return bytesFile{bytes.NewReader(file.Bytes())} }
}

// bytesFile is a file in memory: it can be read again, as a file on disk.
type bytesFile struct{ *bytes.Reader }

func (bytesFile) Close() error { return nil }

// benchOptions are an import's options for file, as consensus import sets
// them: the file is read again for its rejects (Options.Source).
func benchOptions(name string, file io.ReadCloser) Options {
	opts := Options{Name: name}
	if at, ok := file.(io.ReaderAt); ok {
		opts.Source = at
	}
	return opts
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
		store, err := sqlite.Open(filepath.Join(b.TempDir(), "import.db"), sqlite.Options{BulkWrites: true}) // as consensus import opens it
		require.NoError(b, err)
		file := open()
		src, err := NewReader(file, name)
		require.NoError(b, err)
		b.StartTimer()
		sum, err := Import(context.Background(), ledger.New(store), src, benchOptions(name, file))
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

// BenchmarkRead reads the benchmark file and checks its rows into the
// sort (Read), the part of an import before anything can be written.
func BenchmarkRead(b *testing.B) {
	name, size, open := benchFile(b)
	b.SetBytes(size)
	var rows int
	for b.Loop() {
		file := open()
		src, err := NewReader(file, name)
		require.NoError(b, err)
		sorted, err := Read(context.Background(), src, benchOptions(name, file))
		require.NoError(b, err)
		rows = sorted.Rows()
		sorted.Close()
		require.NoError(b, file.Close())
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkRawSQLiteInsert is the baseline for BenchmarkImport: the same
// rows (the records an import of the same file stores, hashes included)
// inserted into the same table, with the unique index on ids the ledger
// had up to schema version 4, with plain prepared INSERTs through the same
// driver, 10,000 rows a transaction as the import commits them, and nothing
// else: no reading, checking, sorting, encoding or hashing. Import's
// events/s over this one's is the share of SQLite's own speed the import
// keeps.
func BenchmarkRawSQLiteInsert(b *testing.B) {
	records := importedRecords(b)
	b.ResetTimer()
	for b.Loop() {
		insertRaw(b, records, rawShape{txRows: 10000})
	}
	b.ReportMetric(float64(len(records))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkRawSQLiteInsertShapes shows where SQLite's time goes in the
// baseline, and what other layouts of the unique index on event ids would
// give (the import's own, from schema version 4, is idTail's): the same rows in larger transactions, with a larger page cache,
// without the index, and with the ids kept unique in a table of their own
// (written in id order each transaction, keyed by an 8-byte prefix, or
// merged in sorted runs from a small table of recent ids). Ids are UUIDs
// (content-derived when the file gives none), so every layout that keeps
// them in one B-tree inserts all over it and commits the pages it touched
// again; docs/performance.md records what each gave.
func BenchmarkRawSQLiteInsertShapes(b *testing.B) {
	records := importedRecords(b)
	for _, shape := range []rawShape{
		{name: "tx=50000", txRows: 50000},
		{name: "tx=200000", txRows: 200000},
		{name: "tx=all", txRows: len(records)},
		{name: "tx=10000/cache=64MiB", txRows: 10000, cacheKiB: 65536},
		{name: "tx=10000/rows-in-id-order", txRows: 10000, rowsInIDOrder: true},
		{name: "tx=50000/rows-in-id-order", txRows: 50000, rowsInIDOrder: true},
		{name: "tx=10000/no-id-index", txRows: 10000, ids: noIDIndex},
		{name: "tx=10000/64-rows-a-statement", txRows: 10000, rowsPerStatement: 64},
		{name: "tx=10000/no-id-index/64-rows-a-statement", txRows: 10000, ids: noIDIndex, rowsPerStatement: 64},
		{name: "tx=10000/id-table-in-id-order", txRows: 10000, ids: idTableSorted},
		{name: "tx=50000/id-table-in-id-order", txRows: 50000, ids: idTableSorted},
		{name: "tx=10000/id-prefix-rowid-table", txRows: 10000, ids: idPrefixTable},
		{name: "tx=10000/id-runs-merged-every-262144", txRows: 10000, ids: idRuns, mergeEvery: 262144},
		{name: "tx=10000/id-tail-looked-up-merged-every-262144", txRows: 10000, ids: idTail, mergeEvery: 262144},
		{name: "tx=10000/id-tail-unchecked-merged-every-262144", txRows: 10000, ids: idTailUnchecked, mergeEvery: 262144},
	} {
		b.Run(shape.name, func(b *testing.B) {
			for b.Loop() {
				insertRaw(b, records, shape)
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

// rawShape is one way of inserting the raw records.
type rawShape struct {
	name       string
	txRows     int // rows a transaction
	cacheKiB   int // SQLite's page cache; 0 is the store's 16 MiB
	ids        idLayout
	mergeEvery int // idRuns: merge the recent ids into the rest at this many
	// rowsInIDOrder inserts each transaction's rows in id order, each with
	// the seq it has in the stream order: the same table, inserted
	// differently.
	rowsInIDOrder bool
	// rowsPerStatement is how many rows one INSERT carries (as the store
	// does from schema version 4 on, 64); 0 or 1 is one row a statement.
	rowsPerStatement int
}

// idLayout is how a raw insert keeps event ids unique.
type idLayout int

const (
	idIndex         idLayout = iota // the ledger's schema before version 4: a UNIQUE index on events.id
	noIDIndex                       // none: the upper bound
	idTableSorted                   // ids(id PRIMARY KEY, seq) WITHOUT ROWID, each transaction's ids inserted in id order
	idPrefixTable                   // ids(k INTEGER PRIMARY KEY, seq): the id's first 8 bytes as the rowid (collisions not handled)
	idRuns                          // recent ids in a small table, checked against and merged in id order into the rest
	idTail                          // ids(id PRIMARY KEY, seq) WITHOUT ROWID holds the ids of events up to a watermark; each transaction looks its ids up in one statement, and the events past the watermark are merged in id order every mergeEvery
	idTailUnchecked                 // idTail without the lookups
)

// insertRaw inserts records into a new ledger file with plain prepared
// INSERTs, shape.txRows a transaction; only the inserts are timed. Every
// layout but idIndex makes the events table again with the same columns
// and the (stream, version) key but no unique index on id.
func insertRaw(b *testing.B, records []eventstore.Record, shape rawShape) {
	b.StopTimer()
	path := filepath.Join(b.TempDir(), "raw.db")
	schema, err := sqlite.Open(path, sqlite.Options{}) // creates the ledger's schema
	require.NoError(b, err)
	require.NoError(b, schema.Close())
	cache := cmp.Or(shape.cacheKiB, 16384)
	// The settings of the store's write connection opened for an import
	// (synchronous, page cache, sqlite.Options.BulkWrites'
	// wal_autocheckpoint), and temp_store(MEMORY): the idRuns trigger
	// makes SQLite journal every statement, which would otherwise go to a
	// temporary file.
	db, err := sql.Open("sqlite", fmt.Sprintf("file:%s?_txlock=immediate&_pragma=synchronous(FULL)&_pragma=journal_mode(WAL)&_pragma=cache_size(-%d)&_pragma=wal_autocheckpoint(16000)&_pragma=temp_store(MEMORY)", path, cache))
	require.NoError(b, err)
	db.SetMaxOpenConns(1)
	if shape.ids == idIndex {
		// The ledger's schema before version 4, which keeps ids in
		// event_ids instead: the baseline the import is compared with.
		_, err = db.Exec(`CREATE UNIQUE INDEX events_id ON events (id)`)
		require.NoError(b, err)
	} else {
		_, err = db.Exec(`DROP TABLE events;
			CREATE TABLE events (seq INTEGER PRIMARY KEY, id BLOB NOT NULL, stream TEXT NOT NULL, version INTEGER NOT NULL,
				type TEXT NOT NULL, data BLOB NOT NULL, metadata BLOB, effective_at INTEGER NOT NULL, recorded_at INTEGER NOT NULL,
				prev_hash BLOB NOT NULL, hash BLOB NOT NULL, UNIQUE (stream, version)) STRICT`)
		require.NoError(b, err)
	}
	idInsert := ""
	switch shape.ids {
	case idTableSorted:
		idInsert = `INSERT INTO ids (id, seq) VALUES (?, ?)`
		_, err = db.Exec(`CREATE TABLE ids (id BLOB PRIMARY KEY, seq INTEGER NOT NULL) STRICT, WITHOUT ROWID`)
	case idPrefixTable:
		idInsert = `INSERT INTO ids (k, seq) VALUES (?, ?)`
		_, err = db.Exec(`CREATE TABLE ids (k INTEGER PRIMARY KEY, seq INTEGER NOT NULL) STRICT`)
	case idTail, idTailUnchecked:
		_, err = db.Exec(`CREATE TABLE ids (id BLOB PRIMARY KEY, seq INTEGER NOT NULL) STRICT, WITHOUT ROWID`)
	case idRuns:
		_, err = db.Exec(`
			CREATE TABLE ids_recent (id BLOB PRIMARY KEY, seq INTEGER NOT NULL) STRICT, WITHOUT ROWID;
			CREATE TABLE ids (id BLOB PRIMARY KEY, seq INTEGER NOT NULL) STRICT, WITHOUT ROWID;
			CREATE TRIGGER events_id AFTER INSERT ON events BEGIN
				SELECT RAISE(ABORT, 'duplicate id') WHERE EXISTS (SELECT 1 FROM ids WHERE id = NEW.id);
				INSERT INTO ids_recent (id, seq) VALUES (NEW.id, NEW.seq);
			END`)
	}
	require.NoError(b, err)
	b.StartTimer()
	recent := 0
	for start := 0; start < len(records); start += shape.txRows {
		batch := records[start:min(start+shape.txRows, len(records))]
		tx, err := db.Begin()
		require.NoError(b, err)
		seqs := make([]int64, len(batch))
		if shape.rowsInIDOrder {
			stmt, err := tx.Prepare(`INSERT INTO events (seq, id, stream, version, type, data, metadata, effective_at, recorded_at, prev_hash, hash)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
			require.NoError(b, err)
			order := make([]int, len(batch))
			for i := range order {
				order[i] = i
			}
			slices.SortFunc(order, func(i, j int) int { return bytes.Compare(batch[i].ID[:], batch[j].ID[:]) })
			for _, i := range order {
				r := batch[i]
				_, err := stmt.Exec(start+i+1, r.ID[:], r.Stream, r.Version, r.Type, r.Data, r.Metadata,
					r.EffectiveAt.UnixNano(), r.RecordedAt.UnixNano(), r.PrevHash[:], r.Hash[:])
				require.NoError(b, err)
			}
		} else {
			if shape.ids == idTail {
				var hexes strings.Builder
				hexes.WriteByte('[')
				for i, r := range batch {
					if i > 0 {
						hexes.WriteByte(',')
					}
					fmt.Fprintf(&hexes, "%q", hex.EncodeToString(r.ID[:]))
				}
				hexes.WriteByte(']')
				var found int
				require.NoError(b, tx.QueryRow(`SELECT count(*) FROM ids WHERE id IN (SELECT unhex(value) FROM json_each(?))`, hexes.String()).Scan(&found))
				require.Zero(b, found)
			}
			const insert, row = `INSERT INTO events (id, stream, version, type, data, metadata, effective_at, recorded_at, prev_hash, hash) VALUES `,
				`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
			one, err := tx.Prepare(insert + row)
			require.NoError(b, err)
			many := one
			perStatement := max(1, shape.rowsPerStatement)
			if perStatement > 1 {
				many, err = tx.Prepare(insert + row + strings.Repeat(", "+row, perStatement-1))
				require.NoError(b, err)
			}
			var args []any
			for i := 0; i < len(batch); {
				n, stmt := 1, one
				if len(batch)-i >= perStatement {
					n, stmt = perStatement, many
				}
				args = args[:0]
				for _, r := range batch[i : i+n] {
					args = append(args, r.ID[:], r.Stream, r.Version, r.Type, r.Data, r.Metadata,
						r.EffectiveAt.UnixNano(), r.RecordedAt.UnixNano(), r.PrevHash[:], r.Hash[:])
				}
				res, err := stmt.Exec(args...)
				require.NoError(b, err)
				last, err := res.LastInsertId()
				require.NoError(b, err)
				for k := range n {
					seqs[i+k] = last - int64(n-1-k)
				}
				i += n
			}
		}
		if idInsert != "" {
			order := make([]int, len(batch))
			for i := range order {
				order[i] = i
			}
			if shape.ids == idTableSorted {
				slices.SortFunc(order, func(i, j int) int { return bytes.Compare(batch[i].ID[:], batch[j].ID[:]) })
			}
			ins, err := tx.Prepare(idInsert)
			require.NoError(b, err)
			for _, i := range order {
				var key any = batch[i].ID[:]
				if shape.ids == idPrefixTable {
					key = int64(binary.BigEndian.Uint64(batch[i].ID[:8]) >> 1)
				}
				_, err := ins.Exec(key, seqs[i])
				require.NoError(b, err)
			}
		}
		if recent += len(batch); (shape.ids == idTail || shape.ids == idTailUnchecked) && (recent >= shape.mergeEvery || start+len(batch) == len(records)) {
			_, err = tx.Exec(`INSERT INTO ids SELECT id, seq FROM events WHERE seq > ? ORDER BY id`, start+len(batch)-recent)
			require.NoError(b, err)
			recent = 0
		}
		if shape.ids == idRuns && recent >= shape.mergeEvery {
			_, err = tx.Exec(`INSERT INTO ids SELECT id, seq FROM ids_recent ORDER BY id; DELETE FROM ids_recent`)
			require.NoError(b, err)
			recent = 0
		}
		require.NoError(b, tx.Commit())
	}
	b.StopTimer()
	require.NoError(b, db.Close())
	b.StartTimer()
}
