package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"

	"github.com/bits-and-blooms/bloom/v3"

	"github.com/consensus-ledger/consensus/eventstore"
)

// idsSchema is the schema version that moved event ids from a unique index
// on events into the event_ids table (0004_event_ids.sql).
const idsSchema = 4

// bulkTailEvents is how many events a store opened for bulk writes appends
// past the id index's mark before it merges their ids into event_ids; their
// ids are held in memory meanwhile. Each merge rewrites pages all over
// event_ids, so the fewer merges the less the writer does: on the
// 1,000,340-row import, eight merges of 131,072 took 1.8 s of the writer's
// CPU, and one merge of this size, at close, into an empty event_ids 1.0 s
// (0.9 s with sortPairs, whose sort uses every core), for 18 MB more memory
// (251 MB peak). A lookup by id scans the events past the mark (findByID),
// so while an import runs it reads up to this many events.
const bulkTailEvents = 1 << 20

// errIDTaken is indexIDs' answer when an id it merges is in event_ids
// already.
var errIDTaken = errors.New("an event id is stored twice")

// mark is where the id index stands in a write transaction: every event
// with a seq up to through is in event_ids; last is the ledger's last seq.
type mark struct{ through, last int64 }

func (s *Store) readMark(ctx context.Context, tx *sql.Tx) (mark, error) {
	var m mark
	if err := tx.StmtContext(ctx, s.idMark).QueryRowContext(ctx).Scan(&m.through, &m.last); err != nil {
		return m, withContext(ctx, err)
	}
	return m, nil
}

// indexIDs merges the ids of the events after seq from, up to seq to, into
// event_ids, and moves the mark to seq to. An id found there already is
// errIDTaken, and the caller's transaction must then not commit. The merge
// is one statement in one transaction, so each page of event_ids it
// touches is written to the log once, however many of its ids land there.
// The ids are sorted first (indexTail's ORDER BY id), so that the merge
// walks event_ids in order instead of reading its pages at random again
// and again through a page cache that holds few of them: the first plain
// write after an import killed with a million events past the mark, on the
// 14,073,806-event ledger, took 7.1 s sorted against 18.4 s, and 3.9 s against
// 5.1 s with 131,072; SQLite's sorter took 33 MB more memory.
func (s *Store) indexIDs(ctx context.Context, tx *sql.Tx, from, to int64) error {
	if to <= from {
		return nil
	}
	if err := execIndex(ctx, tx, s.indexTail, from, to); err != nil {
		return err
	}
	return execIndex(ctx, tx, s.moveMark, to)
}

// execIndex runs one statement that writes event_ids or its mark, and
// answers errIDTaken when it would store an id twice.
func execIndex(ctx context.Context, tx *sql.Tx, stmt *sql.Stmt, args ...any) error {
	if _, err := tx.StmtContext(ctx, stmt).ExecContext(ctx, args...); err != nil {
		if isUniqueViolation(err) {
			return errIDTaken
		}
		return fmt.Errorf("index event ids: %w", withContext(ctx, err))
	}
	return nil
}

// indexPairChunk is how many rows one statement of indexPairs inserts
// into event_ids.
const indexPairChunk = 256

// indexPairs merges pairs, the ids of every event after the mark up to seq
// to, into event_ids as indexIDs does, but from memory and sorted by id,
// so that the merge walks event_ids' pages in order and touches each once,
// rather than reading the events back and landing at random. It sorts
// pairs in place.
func (s *Store) indexPairs(ctx context.Context, tx *sql.Tx, pairs []idSeq, to int64) error {
	sortPairs(pairs)
	run := uncancellable(ctx) // many small statements, as insertRecords'
	args := make([]any, 0, 2*min(len(pairs), indexPairChunk))
	for start, n := range statementRows(len(pairs), indexPairChunk) {
		stmt := s.indexOne
		if n == indexPairChunk {
			stmt = s.indexMany
		}
		args = args[:0]
		for _, p := range pairs[start : start+n] {
			args = append(args, p.id[:], p.seq)
		}
		if err := execIndex(run, tx, stmt, args...); err != nil {
			return err
		}
	}
	return execIndex(ctx, tx, s.moveMark, to)
}

// mergeTail merges the events after the mark m, up to seq last, into
// event_ids and moves the mark there, as indexIDs does: from the (id, seq)
// pairs a bulk writer holds when those events are all its own, results
// being what its transaction has just stored (bulkIDs.known), else read
// back from events.
func (s *Store) mergeTail(ctx context.Context, tx *sql.Tx, m mark, results []eventstore.AppendResult, last int64) error {
	if s.bulk != nil {
		if pairs := s.bulk.known(m, results, last); pairs != nil {
			return s.indexPairs(ctx, tx, pairs, last)
		}
	}
	return s.indexIDs(ctx, tx, m.through, last)
}

// indexPast merges whatever events lie past the mark m into event_ids, so
// that it answers for every stored event, and returns the mark moved to
// m.last. A repeated id there is damage (tailError).
func (s *Store) indexPast(ctx context.Context, tx *sql.Tx, m mark) (mark, error) {
	if err := s.indexIDs(ctx, tx, m.through, m.last); err != nil {
		return m, tailError(err, m.through)
	}
	m.through = m.last
	return m, nil
}

// indexAll, at the start of a write transaction, reads the mark and merges
// whatever events a bulk writer left past it (indexPast), and returns the
// ledger's last seq.
func (s *Store) indexAll(ctx context.Context, tx *sql.Tx) (int64, error) {
	m, err := s.readMark(ctx, tx)
	if err != nil {
		return 0, err
	}
	m, err = s.indexPast(ctx, tx, m)
	return m.last, err
}

// tailError explains a failed merge of the events past the mark. Every
// writer checks ids before it writes, so a repeated id there means the file
// was changed by something else.
func tailError(err error, through int64) error {
	if errors.Is(err, errIDTaken) {
		return fmt.Errorf("the events stored after seq %d repeat a stored id, so the ledger file is damaged: %w", through, eventstore.ErrDuplicateID)
	}
	return err
}

// bulkIDs is what a store opened for bulk writes knows of the ledger's ids,
// so that it can append events without indexing their ids in the same
// transaction and still refuse every id stored before. Its transactions
// hold the store's bulkMu from begin to end.
//
// The events past the mark that this store wrote itself are the tail, whose
// ids it keeps exactly. Every other stored id is in event_ids, which seen,
// a Bloom filter of every id stored up to covered, spares it from asking
// about almost every new id: only an id seen may have been stored, and only
// then is event_ids asked.
type bulkIDs struct {
	limit   int // the tail's size at which it is merged: bulkTailEvents
	seen    *bloom.BloomFilter
	seenIDs uint // ids added to seen, and what it was made for
	seenCap uint
	covered int64
	// tail holds the ids of the events after from, up to to, all written
	// by this store; nil when it does not know them (before its first
	// transaction, or after one failed), and the events past the mark are
	// then merged first.
	tail     map[[16]byte]struct{}
	from, to int64
	// pairs are the tail's ids with their seqs, in the order stored: what
	// a merge writes into event_ids, without reading the events again.
	pairs []idSeq
}

// idSeq is one row of event_ids.
type idSeq struct {
	id  [16]byte
	seq int64
}

// seenCapacity is the number of ids the filter is first made for (or
// twice the ids stored, if more), and seenFalsePositives its rate at that
// many: about 10 bits an id, 17 MB for 14 million. An id it lets through
// costs one lookup in event_ids. Past its capacity it is made again, twice
// as large, from event_ids and the tail.
const (
	seenCapacity       = 1 << 20
	seenFalsePositives = 0.01
)

// begin brings what the store knows up to the ledger at m, in the write
// transaction tx: it merges a tail it does not know (another writer's, or a
// failed transaction's), and adds to seen the ids of events it has not seen
// (all of them the first time, read from event_ids). It returns the mark as
// it then stands.
func (b *bulkIDs) begin(ctx context.Context, s *Store, tx *sql.Tx, m mark) (mark, error) {
	if b.tail == nil || b.from != m.through || b.to != m.last {
		var err error
		if m, err = s.indexPast(ctx, tx, m); err != nil {
			return m, err
		}
		b.tail, b.from, b.to = map[[16]byte]struct{}{}, m.last, m.last
		b.pairs = b.pairs[:0]
	}
	if b.seen != nil && b.covered < m.last {
		// Another writer appended (and indexed) these since this store's
		// last transaction.
		if err := b.add(ctx, tx, `SELECT id FROM events WHERE seq > ?`, b.covered); err != nil {
			return m, err
		}
		b.covered = m.last
	}
	if b.seen == nil || b.seenIDs > b.seenCap {
		// Every stored id is now in event_ids or in the tail.
		var n uint
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM event_ids`).Scan(&n); err != nil {
			return m, withContext(ctx, err)
		}
		n += uint(len(b.tail))
		b.seenCap, b.seenIDs = max(2*n, seenCapacity), 0
		b.seen = bloom.NewWithEstimates(b.seenCap, seenFalsePositives)
		if err := b.add(ctx, tx, `SELECT id FROM event_ids`); err != nil {
			return m, err
		}
		for id := range b.tail {
			b.see(id[:])
		}
		b.covered = m.last
	}
	return m, nil
}

func (b *bulkIDs) see(id []byte) {
	b.seen.Add(id)
	b.seenIDs++
}

// add adds the ids a query returns to seen.
func (b *bulkIDs) add(ctx context.Context, tx *sql.Tx, query string, args ...any) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return withContext(ctx, err)
	}
	defer rows.Close()
	var id sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&id); err != nil {
			return withContext(ctx, err)
		}
		b.see(id)
	}
	return withContext(ctx, rows.Err())
}

// claimOne claims an id of a transaction's events, in their order, as the
// hashing goroutine chains them (see hasher): it answers errNeedsLookup
// when the id is claimed before (in the tail, or earlier in the
// transaction), and adds it to maybe when the filter of stored ids holds
// it, for checkStored to look up once the inserts are done.
//
// The filter is tested and added to in one pass (TestAndAdd hashes the id
// once, where Test and Add hashed it twice): an id refused stays in it,
// which only makes the filter hold one id more than the ledger.
func (b *bulkIDs) claimOne(id [16]byte, maybe *[][16]byte) error {
	if b.seen.TestAndAdd(id[:]) {
		if _, ok := b.tail[id]; ok {
			return errNeedsLookup
		}
		*maybe = append(*maybe, id)
	}
	b.seenIDs++
	b.tail[id] = struct{}{}
	return nil
}

// checkStored answers errNeedsLookup when one of the ids the filter may
// hold is stored: the careful path then looks them all up. event_ids is
// as it was before the transaction's inserts until its merge.
func (s *Store) checkStored(ctx context.Context, tx *sql.Tx, maybe [][16]byte) error {
	if len(maybe) == 0 {
		return nil
	}
	stored := tx.StmtContext(ctx, s.idStored)
	for _, id := range maybe {
		var one int
		switch err := stored.QueryRowContext(ctx, id[:]).Scan(&one); {
		case err == nil:
			return errNeedsLookup
		case !errors.Is(err, sql.ErrNoRows):
			return withContext(ctx, err)
		}
	}
	return nil
}

// known returns the tail's (id, seq) pairs, followed by those of the
// results, when they are all the events after the mark m up to seq last:
// the tail is this store's and nothing else lies past the mark. Otherwise
// it returns nil, and the events must be read to be merged.
func (b *bulkIDs) known(m mark, results []eventstore.AppendResult, last int64) []idSeq {
	if b.tail == nil || b.from != m.through || b.to != m.last {
		return nil
	}
	pairs := appendPairs(b.pairs, results)
	if int64(len(pairs)) != last-m.through {
		return nil
	}
	return pairs
}

// appendPairs appends the (id, seq) pairs of the events the results
// stored.
func appendPairs(pairs []idSeq, results []eventstore.AppendResult) []idSeq {
	for _, r := range results {
		if r.Replayed {
			continue
		}
		for i := range r.Records {
			pairs = append(pairs, idSeq{r.Records[i].ID, int64(r.Records[i].Position.Commit)})
		}
	}
	return pairs
}

// committed records a transaction that stored the results and left the
// ledger's last seq at last; merged says whether it merged the tail.
func (b *bulkIDs) committed(results []eventstore.AppendResult, last int64, merged bool) {
	b.covered = last
	if merged {
		b.tail, b.from = map[[16]byte]struct{}{}, last
		b.pairs = b.pairs[:0]
	} else {
		b.pairs = appendPairs(b.pairs, results)
	}
	b.to = last
}

// saw adds the ids of the events a careful transaction stored to seen.
func (b *bulkIDs) saw(results []eventstore.AppendResult) {
	for _, r := range results {
		for _, rec := range r.Records {
			b.see(rec.ID[:])
		}
	}
}

// failed forgets the tail after a transaction that did not commit: its
// claims are undone with it, and the next transaction merges whatever lies
// past the mark.
func (b *bulkIDs) failed() { b.tail, b.pairs = nil, b.pairs[:0] }

// mergeBulkTail indexes the ids a store opened for bulk writes left past
// the mark, when it closes; a later writer would do it otherwise.
func (s *Store) mergeBulkTail(ctx context.Context) (err error) {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return withContext(ctx, err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, ignoreDone(tx.Rollback()))
		}
	}()
	m, err := s.readMark(ctx, tx)
	if err != nil {
		return err
	}
	if err := s.mergeTail(ctx, tx, m, nil, m.last); err != nil {
		return tailError(err, m.through)
	}
	return withContext(ctx, tx.Commit())
}

// CheckIDs implements eventstore.IDChecker, on one snapshot of the ledger
// (one read transaction): event_ids holds exactly the (id, seq) pairs of the
// events up to the mark, and the events past it repeat no id, among them or
// in event_ids. With event_ids' key, that is every stored id stored once. A
// ledger before schema version 4 keeps ids unique in its table's own
// constraint and has nothing apart to check.
//
// The pairs are compared as two sums of keyed hashes, each side read in its
// own order: joining them row by row reads the events table at random, 94 s
// for 14 million events where the two scans take a fraction of that.
func (s *Store) CheckIDs(ctx context.Context) (err error) {
	if !s.idsInTable {
		return nil
	}
	tx, err := s.rdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("check event ids: %w", withContext(ctx, err))
	}
	defer func() { err = errors.Join(err, ignoreDone(tx.Rollback())) }()
	var through, repeatedPast, indexedPast int64
	if err := tx.QueryRowContext(ctx, `SELECT seq FROM event_ids_through`).Scan(&through); err != nil {
		return fmt.Errorf("check event ids: %w", withContext(ctx, err))
	}
	seed := maphash.MakeSeed()
	indexed, err := sumPairs(ctx, tx, seed, `SELECT id, seq FROM event_ids`)
	if err != nil {
		return err
	}
	stored, err := sumPairs(ctx, tx, seed, `SELECT id, seq FROM events WHERE seq <= ?`, through)
	if err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, `SELECT
			(SELECT count(*) - count(DISTINCT id) FROM events WHERE seq > ?1),
			(SELECT count(*) FROM events e JOIN event_ids i ON i.id = e.id WHERE e.seq > ?1)`, through).
		Scan(&repeatedPast, &indexedPast); err != nil {
		return fmt.Errorf("check event ids: %w", withContext(ctx, err))
	}
	switch {
	case indexed.n != stored.n:
		return fmt.Errorf("event_ids holds %d ids for the %d events up to seq %d: %w", indexed.n, stored.n, through, eventstore.ErrIDIndex)
	case indexed.sum != stored.sum:
		return fmt.Errorf("event_ids holds %d ids for the %d events up to seq %d, but not the same ids at the same positions: %w",
			indexed.n, stored.n, through, eventstore.ErrIDIndex)
	case repeatedPast > 0 || indexedPast > 0:
		return fmt.Errorf("the events after seq %d repeat %d ids among them and %d ids stored before: %w",
			through, repeatedPast, indexedPast, eventstore.ErrIDIndex)
	}
	return nil
}

// pairSum is an order-free summary of (id, seq) pairs: their count and the
// sum of their keyed hashes. Two equal multisets have equal sums; a seed
// drawn afresh for each check leaves an editor no way to aim at a collision.
type pairSum struct {
	n   int64
	sum uint64
}

func sumPairs(ctx context.Context, tx *sql.Tx, seed maphash.Seed, query string, args ...any) (pairSum, error) {
	var p pairSum
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return p, fmt.Errorf("check event ids: %w", withContext(ctx, err))
	}
	defer rows.Close()
	var (
		id  sql.RawBytes
		seq int64
		buf [24]byte
	)
	for rows.Next() {
		if err := rows.Scan(&id, &seq); err != nil {
			return p, fmt.Errorf("check event ids: %w", withContext(ctx, err))
		}
		copy(buf[:16], id)
		binary.LittleEndian.PutUint64(buf[16:], uint64(seq))
		p.n++
		p.sum += maphash.Bytes(seed, buf[:])
	}
	if err := rows.Err(); err != nil {
		return p, fmt.Errorf("check event ids: %w", withContext(ctx, err))
	}
	return p, nil
}
