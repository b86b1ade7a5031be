package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/eventstore"
)

// recordColumns is the column list every record query selects, in the
// order scanner expects.
const recordColumns = `seq, id, stream, version, type, data, metadata, effective_at, recorded_at, prev_hash, hash, chain`

// recordColumnsV1 reads a ledger opened read-only at schema version 2,
// before the chain column: every record there was hashed with chain
// version 1, so an archived ledger verifies without being upgraded.
const recordColumnsV1 = `seq, id, stream, version, type, data, metadata, effective_at, recorded_at, prev_hash, hash, 1`

// insertEvents and insertRow make the one-row insert statement;
// insertArgs gives a row's values in this order.
const (
	insertEvents = `INSERT INTO events (id, stream, version, type, data, metadata, effective_at, recorded_at, prev_hash, hash, chain) VALUES `
	insertRow    = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// insertRunSQL is the statement that inserts a run of rows records: records
// of one stream with consecutive versions (continuesRun). Its first row
// takes all of insertArgs' values; each later row takes runArgs', which
// leave out the stream and version: the row refers to the first row's
// stream and adds its place in the run to the first row's version. The
// driver copies every text or blob it binds into memory of its own and
// frees it after the statement, and the stream was one of a row's seven
// such copies. The shared parameters are the only ones numbered (?NNN):
// the driver asks SQLite for each parameter's name, which SQLite finds by
// scanning the list of named ones, so naming each row's previous hash too
// took more time than binding it.
func insertRunSQL(rows int) string {
	// The first row's parameters are 1 to insertColumns, in insertArgs'
	// order: the stream is ?2 and the version ?3.
	const stream, version = 2, 3
	var b strings.Builder
	b.WriteString(insertEvents + insertRow)
	for i := 1; i < rows; i++ {
		fmt.Fprintf(&b, ", (?, ?%d, ?%d + %d, ?, ?, ?, ?, ?, ?, ?, ?)", stream, version, i)
	}
	return b.String()
}

// eventColumns is what replaying a stream's events needs, in the order
// an event scanner expects. Without seq, stream and the two hashes a row
// comes out of database/sql in about 60 % of the time (1.1 against
// 1.6-1.9 µs, every stream of a 1-million-event ledger read with
// sql.RawBytes and nothing else).
const eventColumns = `version, id, type, data, metadata, effective_at, recorded_at`

// prepare compiles the store's statements once; database/sql re-prepares
// them on each connection that runs them.
func (s *Store) prepare(ctx context.Context) error {
	type stmt struct {
		dst  **sql.Stmt
		db   *sql.DB
		text string
	}
	readColumns := recordColumns
	if s.beforeChain {
		readColumns = recordColumnsV1
	}
	stmts := []stmt{
		{&s.readStream, s.rdb, `SELECT ` + readColumns + ` FROM events WHERE stream = ? AND version >= ? ORDER BY version LIMIT ?`},
		{&s.readStreamEvents, s.rdb, `SELECT ` + eventColumns + ` FROM events WHERE stream = ? AND version >= ? ORDER BY version LIMIT ?`},
		{&s.readAll, s.rdb, `SELECT ` + readColumns + ` FROM events WHERE seq >= ? ORDER BY seq LIMIT ?`},
		{&s.find, s.rdb, findByID(readColumns, s.idsInTable)},
		{&s.streams, s.rdb, `SELECT name, version, events, last_recorded_at, last_hash FROM streams ORDER BY name`},
		{&s.streamSize, s.rdb, `SELECT version + 1 FROM streams WHERE name = ?`},
		{&s.lastSeq, s.rdb, `SELECT coalesce(max(seq), 0) FROM events`},
	}
	if s.wdb != nil {
		stmts = append(stmts,
			// Writers look ids up after indexing every stored event
			// (indexAll), so event_ids answers alone.
			stmt{&s.lookupOne, s.wdb, `SELECT ` + recordColumns + ` FROM events WHERE seq = (SELECT seq FROM event_ids WHERE id = ?)`},
			stmt{&s.lookupMany, s.wdb, `SELECT ` + recordColumns + ` FROM events WHERE seq IN (SELECT seq FROM event_ids WHERE id IN (?` +
				strings.Repeat(", ?", lookupChunk-1) + `))`},
			stmt{&s.idStored, s.wdb, `SELECT 1 FROM event_ids WHERE id = ?`},
			stmt{&s.idMark, s.wdb, `SELECT (SELECT seq FROM event_ids_through), (SELECT coalesce(max(seq), 0) FROM events)`},
			stmt{&s.indexTail, s.wdb, `INSERT INTO event_ids (id, seq) SELECT id, seq FROM events WHERE seq > ? AND seq <= ? ORDER BY id`},
			stmt{&s.indexOne, s.wdb, `INSERT INTO event_ids (id, seq) VALUES (?, ?)`},
			stmt{&s.indexMany, s.wdb, `INSERT INTO event_ids (id, seq) VALUES (?, ?)` + strings.Repeat(", (?, ?)", indexPairChunk-1)},
			stmt{&s.moveMark, s.wdb, `UPDATE event_ids_through SET seq = ?`},
			stmt{&s.head, s.wdb, `SELECT version, last_hash, last_recorded_at FROM streams WHERE name = ?`},
			stmt{&s.insert, s.wdb, insertEvents + insertRow},
			stmt{&s.insertRun, s.wdb, insertRunSQL(insertChunk)},
			stmt{&s.upsertStream, s.wdb, `INSERT INTO streams (name, version, events, last_hash, last_recorded_at)
				VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (name) DO UPDATE SET version = excluded.version, events = excluded.events,
					last_hash = excluded.last_hash, last_recorded_at = excluded.last_recorded_at`},
		)
	}
	for _, st := range stmts {
		p, err := st.db.PrepareContext(ctx, st.text)
		if err != nil {
			return fmt.Errorf("prepare: %w", translate(err))
		}
		*st.dst = p
	}
	return nil
}

// findByID is the query of an event by id. From schema version 4 on, an
// event is found through event_ids, or among the events a bulk writer has
// appended past its mark and not yet indexed (at most bulkTailEvents a
// writer, scanned by seq: 0.24-0.25 s for a million here, against 26-30 ms
// for 131,072, so a lookup while an import runs is that much slower);
// before, through the unique index on events.id.
func findByID(columns string, idsInTable bool) string {
	if !idsInTable {
		return `SELECT ` + columns + ` FROM events WHERE id = ?`
	}
	return `SELECT ` + columns + ` FROM events WHERE seq = (SELECT seq FROM event_ids WHERE id = ?1)
		UNION ALL
		SELECT ` + columns + ` FROM events WHERE seq > (SELECT seq FROM event_ids_through) AND id = ?1`
}

// ReadStream implements eventstore.Store. An unknown stream reads as empty;
// from below 0 reads from the start.
func (s *Store) ReadStream(ctx context.Context, stream string, from int64, limit int) ([]eventstore.Record, error) {
	return s.readStreamWith(ctx, newScanner(), s.readStream, stream, from, limit)
}

// ReadStreamEvents implements eventstore.EventReader.
func (s *Store) ReadStreamEvents(ctx context.Context, stream string, from int64, limit int) ([]eventstore.Record, error) {
	return s.readStreamWith(ctx, newEventScanner(stream), s.readStreamEvents, stream, from, limit)
}

func (s *Store) readStreamWith(ctx context.Context, sc *scanner, st *sql.Stmt, stream string, from int64, limit int) ([]eventstore.Record, error) {
	from = max(from, 0)
	if limit <= 0 || limit > smallRead {
		var size int64
		if err := s.streamSize.QueryRowContext(ctx, stream).Scan(&size); err == nil {
			sc.sizeHint(size-from, limit)
		}
	}
	recs, err := sc.query(ctx, st, stream, from, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	return recs, nil
}

// ReadAll implements eventstore.Store. A record's Position is its seq for
// both Commit and Prepare, so the records after a position are those whose
// seq follows it.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.Record, error) {
	first, ok := firstSeq(after)
	if !ok {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read all: %w", err)
		}
		return nil, nil
	}
	sc := newScanner()
	if limit <= 0 || limit > smallRead {
		var last int64
		if err := s.lastSeq.QueryRowContext(ctx).Scan(&last); err == nil {
			sc.sizeHint(last-first+1, limit)
		}
	}
	recs, err := sc.query(ctx, s.readAll, first, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("read all: %w", err)
	}
	return recs, nil
}

// Head implements eventstore.HeadReader: the last record's seq, through
// the primary key.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	var last int64
	if err := s.lastSeq.QueryRowContext(ctx).Scan(&last); err != nil {
		return eventstore.Position{}, fmt.Errorf("read the store's head: %w", withContext(ctx, err))
	}
	return eventstore.Position{Commit: uint64(last), Prepare: uint64(last)}, nil
}

// firstSeq is the least seq whose position (seq, seq) comes after the given
// one; ok is false when none can.
func firstSeq(after eventstore.Position) (seq int64, ok bool) {
	if after.Commit > math.MaxInt64 {
		return 0, false
	}
	c := int64(after.Commit)
	if after.Prepare < after.Commit {
		return c, true // (c, c) itself comes after (c, Prepare)
	}
	if c == math.MaxInt64 {
		return 0, false
	}
	return c + 1, true
}

// sqlLimit turns the interface's "limit <= 0 means none" into SQLite's -1.
func sqlLimit(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}

// Streams implements eventstore.StreamLister from the streams table,
// without reading any event.
func (s *Store) Streams(ctx context.Context) ([]eventstore.StreamInfo, error) {
	rows, err := s.streams.QueryContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("list streams: %w", withContext(ctx, err))
	}
	defer rows.Close()
	var out []eventstore.StreamInfo
	for rows.Next() {
		var info eventstore.StreamInfo
		var last int64
		var hash []byte
		if err := rows.Scan(&info.Stream, &info.Version, &info.Events, &last, &hash); err != nil {
			return nil, fmt.Errorf("list streams: %w", withContext(ctx, err))
		}
		info.LastRecordedAt = fromNanos(last)
		copy(info.LastHash[:], hash)
		out = append(out, info)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list streams: %w", withContext(ctx, err))
	}
	return out, nil
}

// Find implements eventstore.Finder through event_ids (see findByID).
func (s *Store) Find(ctx context.Context, id uuid.UUID) (eventstore.Record, error) {
	recs, err := newScanner().query(ctx, s.find, id[:])
	switch {
	case err != nil:
		return eventstore.Record{}, fmt.Errorf("find event %s: %w", id, err)
	case len(recs) == 0:
		return eventstore.Record{}, fmt.Errorf("find event %s: %w", id, eventstore.ErrEventNotFound)
	}
	return recs[0], nil
}

// smallRead is the limit below which a read does not first ask how many
// records to expect: for a few records, growing the result costs less than
// the extra query.
const smallRead = 64

// scanner turns rows of recordColumns into records. It scans into reused
// buffers, shares one string per distinct stream name and type, and copies
// small data and metadata into shared chunks, so reading a long stream
// allocates little beyond what the driver does per row.
type scanner struct {
	seq, version, effectiveAt, recordedAt, chain    int64
	id, stream, typ, data, metadata, prevHash, hash sql.RawBytes
	dest                                            []any
	names                                           map[string]string
	chunk                                           []byte // free space for data and metadata
	capHint                                         int
	// eventsOf is set for an event scanner (eventColumns): the stream every
	// row belongs to, which the query does not select.
	eventsOf string
}

// sizeHint sets the capacity of query's result from an estimate of the
// records to come, so that a long read does not copy its records again and
// again as the slice grows. The estimate is only a hint: it may be stale.
func (sc *scanner) sizeHint(n int64, limit int) {
	if limit > 0 {
		n = min(n, int64(limit))
	}
	sc.capHint = int(min(max(n, 0), 1<<16))
}

func newScanner() *scanner {
	sc := &scanner{}
	sc.dest = []any{&sc.seq, &sc.id, &sc.stream, &sc.version, &sc.typ, &sc.data, &sc.metadata,
		&sc.effectiveAt, &sc.recordedAt, &sc.prevHash, &sc.hash, &sc.chain}
	return sc
}

// newEventScanner scans eventColumns rows of stream.
func newEventScanner(stream string) *scanner {
	sc := &scanner{eventsOf: stream}
	sc.dest = []any{&sc.version, &sc.id, &sc.typ, &sc.data, &sc.metadata, &sc.effectiveAt, &sc.recordedAt}
	return sc
}

// query runs a record query and scans every row.
func (sc *scanner) query(ctx context.Context, st *sql.Stmt, args ...any) ([]eventstore.Record, error) {
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, withContext(ctx, err)
	}
	defer rows.Close()
	out := make([]eventstore.Record, 0, sc.capHint)
	for rows.Next() {
		r, err := sc.scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, withContext(ctx, err)
	}
	return out, nil
}

func (sc *scanner) scan(rows *sql.Rows) (eventstore.Record, error) {
	if err := rows.Scan(sc.dest...); err != nil {
		return eventstore.Record{}, translate(err)
	}
	var r eventstore.Record
	id, err := uuid.FromBytes(sc.id)
	if err != nil && sc.eventsOf != "" {
		return r, fmt.Errorf("record %d of %s has a %d-byte id: the ledger file is damaged", sc.version, sc.eventsOf, len(sc.id))
	}
	if err != nil {
		return r, fmt.Errorf("record at position %d has a %d-byte id: the ledger file is damaged", sc.seq, len(sc.id))
	}
	r.ID = id
	r.Type = sc.intern(sc.typ)
	r.Data = sc.keep(sc.data)
	r.Metadata = sc.keep(sc.metadata)
	r.EffectiveAt = fromNanos(sc.effectiveAt)
	r.Version = sc.version
	r.RecordedAt = fromNanos(sc.recordedAt)
	if sc.eventsOf != "" {
		r.Stream = sc.eventsOf
		return r, nil
	}
	if len(sc.prevHash) != len(r.PrevHash) || len(sc.hash) != len(r.Hash) {
		return r, fmt.Errorf("record %s has a %d-byte prev_hash and a %d-byte hash: the ledger file is damaged", id, len(sc.prevHash), len(sc.hash))
	}
	r.Stream = sc.intern(sc.stream)
	r.Position = eventstore.Position{Commit: uint64(sc.seq), Prepare: uint64(sc.seq)}
	r.Chain = int(sc.chain)
	copy(r.PrevHash[:], sc.prevHash)
	copy(r.Hash[:], sc.hash)
	return r, nil
}

// keep copies a column's bytes out of the driver's buffer. Small values
// share chunks of memory, each value's slice capped at its own length so
// that appending to one never overwrites the next; NULL stays nil.
func (sc *scanner) keep(b sql.RawBytes) []byte {
	const maxChunk, maxShared = 64 << 10, 4 << 10
	if b == nil {
		return nil
	}
	n := len(b)
	if n > maxShared {
		return append([]byte(nil), b...)
	}
	if cap(sc.chunk)-len(sc.chunk) < n {
		// Chunks grow with the read, so a one-record read stays small.
		size := min(max(2*cap(sc.chunk), 4*maxShared), maxChunk)
		sc.chunk = make([]byte, 0, size)
	}
	start := len(sc.chunk)
	sc.chunk = append(sc.chunk, b...)
	return sc.chunk[start:len(sc.chunk):len(sc.chunk)]
}

// intern returns b as a string, sharing one copy per distinct value. A
// stream holds few distinct types and one name; the map stays small even
// in ReadAll by refusing new entries past a bound.
func (sc *scanner) intern(b []byte) string {
	if s, ok := sc.names[string(b)]; ok {
		return s
	}
	s := string(b)
	if sc.names == nil {
		sc.names = make(map[string]string)
	}
	if len(sc.names) < 256 {
		sc.names[s] = s
	}
	return s
}
