package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/consensus-ledger/consensus/eventstore"
)

// Append implements eventstore.Store. The whole batch is one BEGIN
// IMMEDIATE transaction, fsynced before Append returns. Within it Append
// first looks the batch's ids up, so that a retried batch is answered with
// the stored records (Replayed) whatever the expected version, and a reused
// id is refused with eventstore.ErrDuplicateID naming it; only then does it
// check the expected version against the stream's head.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.Version, events []eventstore.EventData) (eventstore.AppendResult, error) {
	res, err := s.append(ctx, stream, expected, events)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	return res, nil
}

func (s *Store) append(ctx context.Context, stream string, expected eventstore.Version, events []eventstore.EventData) (eventstore.AppendResult, error) {
	results, err := s.appendBatches(ctx, []eventstore.StreamBatch{{Stream: stream, Expected: expected, Events: events}})
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	return results[0], nil
}

// AppendBatches implements eventstore.BatchAppender: every batch in one
// transaction, so one commit (and one fsync) covers them all.
func (s *Store) AppendBatches(ctx context.Context, batches []eventstore.StreamBatch) ([]eventstore.AppendResult, error) {
	return s.appendBatches(ctx, batches)
}

func (s *Store) appendBatches(ctx context.Context, batches []eventstore.StreamBatch) ([]eventstore.AppendResult, error) {
	if s.readOnly {
		return nil, eventstore.ErrReadOnly
	}
	for _, b := range batches {
		if err := validate(b.Stream, b.Expected, b.Events); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Most batches hold new ids only and find the stream where they expect
	// it, so they are inserted at once and event_ids' key (or, in bulk, the
	// store's check of its ids) speaks up for the rare id already stored.
	// Only then, or when the stream is not at the expected version, is the
	// transaction redone looking every id up first, since a replay of a
	// stored batch succeeds whatever version was expected. Looking up first
	// every time cost a tenth of a bulk import.
	results, err := s.appendTx(ctx, batches, false)
	if errors.Is(err, errNeedsLookup) {
		results, err = s.appendTx(ctx, batches, true)
	}
	return results, err
}

// errNeedsLookup is appendInTx's signal, when it did not look ids up, that
// the answer depends on them: an id of the batch is stored, or the stream is
// not at the expected version (which a replay of a stored batch is not
// refused for).
var errNeedsLookup = errors.New("the batch's ids must be looked up")

// appendTx appends the batches in one transaction; lookup makes it look the
// ids up before inserting.
//
// The ids of the events stored by the end of the transaction are in
// event_ids, except for a store opened for bulk writes, which claims its
// ids against what it knows (bulkIDs) and merges them every bulkTailEvents.
func (s *Store) appendTx(ctx context.Context, batches []eventstore.StreamBatch, lookup bool) (results []eventstore.AppendResult, err error) {
	bulk := s.bulk != nil
	if bulk {
		s.bulkMu.Lock()
		defer s.bulkMu.Unlock()
	}
	tx, err := s.wdb.BeginTx(ctx, nil) // BEGIN IMMEDIATE: see the _txlock DSN parameter
	if err != nil {
		return nil, withContext(ctx, err)
	}
	defer func() {
		if err != nil {
			if bulk {
				s.bulk.failed()
			}
			err = errors.Join(withCause(ctx, err), ignoreDone(tx.Rollback()))
		}
	}()
	m, err := s.readMark(ctx, tx)
	if err != nil {
		return nil, err
	}
	claim := bulk && !lookup
	if bulk {
		if m, err = s.bulk.begin(ctx, s, tx, m); err != nil {
			return nil, err
		}
	}
	var claimer *bulkIDs // claims the ids as they are hashed (see hasher)
	if claim {
		claimer = s.bulk
	} else if m, err = s.indexPast(ctx, tx, m); err != nil {
		return nil, err // lookups need every stored id in event_ids
	}
	results, err = s.appendAll(ctx, tx, batches, lookup, claimer)
	if err != nil {
		return nil, err
	}
	last, inserted := m.last, int64(0)
	for _, r := range results {
		if !r.Replayed {
			last = int64(r.Records[len(r.Records)-1].Position.Commit)
			inserted += int64(len(r.Records))
		}
	}
	if err := checkSeqs(m.last, inserted, last); err != nil {
		return nil, err
	}
	merge := !claim || len(s.bulk.tail) >= s.bulk.limit
	if merge {
		if err := s.mergeTail(ctx, tx, m, results, last); err != nil {
			switch {
			case !errors.Is(err, errIDTaken):
				return nil, err
			case claim:
				return nil, tailError(err, m.through)
			case !lookup:
				return nil, errNeedsLookup
			}
			return nil, fmt.Errorf("an event id is in two of the transaction's batches: %w", eventstore.ErrDuplicateID)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, withContext(ctx, err)
	}
	if bulk {
		if !claim {
			s.bulk.saw(results)
		}
		s.bulk.committed(results, last, merge)
		s.ckpt.committed(int(inserted))
	}
	return results, nil
}

// appendAll appends the batches inside the caller's transaction, with the
// outcome of appending them one after another. Every batch is worked out
// first (prepareBatch), then the records' hashes are chained on a goroutine
// of their own while this one inserts the records already hashed: hashing
// took a tenth of the writer's time in a bulk import, whose writer is its
// bottleneck, and the other core had time to spare. A store opened for bulk
// writes (claim not nil) claims the ids on that goroutine too, as they are
// hashed (bulkIDs.claimOne), and answers errNeedsLookup after the inserts
// when one may be stored or claimed before.
func (s *Store) appendAll(ctx context.Context, tx *sql.Tx, batches []eventstore.StreamBatch, lookup bool, claim *bulkIDs) ([]eventstore.AppendResult, error) {
	results := make([]eventstore.AppendResult, len(batches))
	chains := make([]chainStart, len(batches))
	latest := map[string]int{} // a stream's last batch so far that is not a replay
	total := 0
	for i, b := range batches {
		var earlier *eventstore.AppendResult
		chains[i].after = -1
		if j, ok := latest[b.Stream]; ok {
			earlier = &results[j]
			chains[i].after = j
		}
		var err error
		if results[i], chains[i].prev, err = s.prepareBatch(ctx, tx, b, lookup, earlier); err != nil {
			if len(batches) > 1 && !errors.Is(err, errNeedsLookup) {
				err = fmt.Errorf("append to %s: %w", b.Stream, err)
			}
			return nil, err
		}
		if !results[i].Replayed {
			latest[b.Stream] = i
			total += len(results[i].Records)
		}
	}
	h := newHasher(results, chains, total, claim)
	defer h.wait()
	for i, b := range batches {
		if results[i].Replayed {
			continue
		}
		if err := s.insertRecords(ctx, tx, results[i].Records, h.await); err != nil {
			if len(batches) > 1 {
				err = fmt.Errorf("append to %s: %w", b.Stream, err)
			}
			return nil, err
		}
	}
	h.wait()
	if h.claimErr != nil {
		return nil, h.claimErr
	}
	if err := s.checkStored(ctx, tx, h.maybe); err != nil {
		return nil, err
	}
	return results, nil
}

// chainStart is where a batch's hash chain starts: after the hash of its
// stream's head, or after the last record of an earlier batch of the same
// stream in the transaction (its index, -1 for none), not yet hashed when
// the batch is worked out.
type chainStart struct {
	prev  [32]byte
	after int
}

// prepareBatch works out one stream's batch: the stored records when lookup
// finds it stored (a replay), or else its records with their versions and
// recorded time, their hashes left to chain. earlier is the result of an
// earlier batch of the same stream in the transaction, which its head is;
// nil when the stored head is. Without lookup it answers errNeedsLookup
// when the version is not the expected one.
func (s *Store) prepareBatch(ctx context.Context, tx *sql.Tx, b eventstore.StreamBatch, lookup bool, earlier *eventstore.AppendResult) (res eventstore.AppendResult, prev [32]byte, err error) {
	var stored []*eventstore.Record
	if lookup {
		if stored, err = s.lookupIDs(ctx, tx, b.Events); err != nil {
			return res, prev, err
		}
	}
	if stored != nil {
		if err := replayable(b.Stream, b.Events, stored); err != nil {
			return res, prev, err
		}
		res.Replayed = true
		res.Records = make([]eventstore.Record, len(stored))
		for i, r := range stored {
			res.Records[i] = *r
		}
		return res, prev, nil
	}

	var head head
	if earlier != nil {
		last := earlier.Records[len(earlier.Records)-1]
		head.version, head.recordedAt = last.Version, last.RecordedAt
	} else if head, err = s.readHead(ctx, tx, b.Stream); err != nil {
		return res, prev, err
	}
	if b.Expected != eventstore.Any && int64(b.Expected) != head.version {
		if !lookup {
			return res, prev, errNeedsLookup
		}
		return res, prev, fmt.Errorf("expected %s, but the stream is at %s: %w",
			eventstore.DescribeVersion(int64(b.Expected)), eventstore.DescribeVersion(head.version), eventstore.ErrWrongVersion)
	}

	recordedAt, err := s.recordedAt(head.recordedAt)
	if err != nil {
		return res, prev, err
	}
	res.Records = make([]eventstore.Record, len(b.Events))
	for i, e := range b.Events {
		res.Records[i] = eventstore.Record{
			EventData: eventstore.EventData{
				ID:          e.ID,
				Type:        e.Type,
				Data:        e.Data,
				Metadata:    e.Metadata,
				EffectiveAt: e.EffectiveAt,
			},
			Stream:     b.Stream,
			Version:    head.version + 1 + int64(i),
			RecordedAt: recordedAt,
			Chain:      eventstore.CurrentChain,
		}
	}
	return res, head.hash, nil
}

// hashAhead is the least number of records a transaction appends for their
// hashes to be chained on a goroutine of their own; fewer are hashed before
// they are inserted, which is sooner than starting a goroutine.
const hashAhead = insertChunk

// hasher chains the hashes of a transaction's new records, batch after
// batch, and tells how many are done; given a bulk store's ids, it claims
// each record's id before hashing it.
type hasher struct {
	done     chan int // records hashed so far, sent every insertChunk and at each batch's end
	finished chan struct{}
	seen     int // records the inserting goroutine knows hashed
	awaited  int // records of the batches before the one being inserted

	claim    *bulkIDs   // nil: no ids to claim
	claimErr error      // the first claim refused; no more are claimed after it
	maybe    [][16]byte // ids the filter of stored ids may hold
}

// newHasher chains the hashes of the records of results not replayed, on
// a goroutine of its own when there are total records, at least hashAhead.
func newHasher(results []eventstore.AppendResult, chains []chainStart, total int, claim *bulkIDs) *hasher {
	signals := len(results) + total/insertChunk + 1
	h := &hasher{done: make(chan int, signals), finished: make(chan struct{}), claim: claim}
	if total < hashAhead {
		h.chain(results, chains)
	} else {
		go h.chain(results, chains)
	}
	return h
}

// chain hashes every new record in order. It never blocks: done holds a
// signal for every chunk.
func (h *hasher) chain(results []eventstore.AppendResult, chains []chainStart) {
	defer close(h.finished)
	n := 0
	for i := range results {
		if results[i].Replayed {
			continue
		}
		prev := chains[i].prev
		if j := chains[i].after; j >= 0 {
			prev = results[j].Records[len(results[j].Records)-1].Hash
		}
		records := results[i].Records
		for k := range records {
			r := &records[k]
			if h.claim != nil && h.claimErr == nil {
				h.claimErr = h.claim.claimOne(r.ID, &h.maybe)
			}
			r.PrevHash = prev
			r.Hash = eventstore.RecordHash(prev, *r)
			prev = r.Hash
			if n++; (k+1)%insertChunk == 0 && k+1 < len(records) {
				h.done <- n
			}
		}
		h.done <- n
	}
}

// await waits until the first n records of the batch being inserted are
// hashed; n equal to the batch's length moves on to the next batch.
func (h *hasher) await(n, of int) {
	for h.seen < h.awaited+n {
		h.seen = <-h.done
	}
	if n == of {
		h.awaited += of
	}
}

// wait waits until hashing has stopped, so that nothing writes to the
// records, or claims, after the transaction is over. It may be called
// more than once.
func (h *hasher) wait() { <-h.finished }

// insertChunk is how many rows one INSERT statement of insertRecords
// carries. Each statement executed costs far more in the driver than a row
// bound to it: a plain SQLite table took 1,000,340 of the import's rows in
// 11.98 s one row a statement, in 6.86 s fifty a statement and in 6.75 s two
// hundred (docs/performance.md).
const insertChunk = 64

// insertRecords inserts records of one stream (versions and times set),
// sets their positions, and moves the stream's head to the last. Times are
// stored as Unix nanoseconds and set back from them, so the records
// returned equal the records read later. The ids are left for the caller
// to index (indexIDs). hashed, unless nil, is called before each statement
// with the number of records it needs hashed and the batch's length, and
// returns once they are; a nil hashed means all are.
//
// Records go insertChunk to a statement while that many remain, the rest
// one at a time. A statement's rows take consecutive seqs, the one after
// the largest stored for each (SQLite's rowid rule for an INTEGER PRIMARY
// KEY when nothing is deleted and the largest is below 2^63-1), so the
// last one's seq places them all.
//
// The statements run without ctx's cancellation (uncancellable): the
// driver starts a goroutine to watch the context of every statement, which
// for tens of thousands of small inserts costs more than they do. A
// cancelled ctx still ends the append, as database/sql rolls the
// transaction back and its next statement fails.
func (s *Store) insertRecords(ctx context.Context, tx *sql.Tx, records []eventstore.Record, hashed func(n, of int)) error {
	run := uncancellable(ctx)
	args := make([]any, 0, insertColumns*min(len(records), insertChunk))
	for start, n := range statementRows(len(records), insertChunk) {
		if hashed != nil {
			hashed(start+n, len(records))
		}
		stmt := s.insert
		chunk := records[start : start+n]
		args = insertArgs(args[:0], &chunk[0])
		if n == insertChunk {
			if err := continuesRun(chunk); err != nil {
				return err
			}
			stmt = s.insertRun
			for i := 1; i < n; i++ {
				args = runArgs(args, &chunk[i])
			}
		}
		out, err := tx.StmtContext(run, stmt).ExecContext(run, args...)
		if err != nil {
			return insertError(ctx, chunk[0], err)
		}
		last, err := out.LastInsertId()
		if err != nil {
			return withContext(ctx, err)
		}
		for i := range chunk {
			seq := uint64(last - int64(n-1-i))
			chunk[i].Position = eventstore.Position{Commit: seq, Prepare: seq}
		}
	}
	last := records[len(records)-1]
	if _, err := tx.StmtContext(run, s.upsertStream).ExecContext(run,
		last.Stream, last.Version, last.Version+1, last.Hash[:], last.RecordedAt.UnixNano()); err != nil {
		return withContext(ctx, err)
	}
	return nil
}

// uncancellable is ctx without its cancellation, for the many small
// statements of an append (see insertRecords). It is only used inside a
// transaction begun with ctx, which database/sql rolls back when ctx ends.
func uncancellable(ctx context.Context) context.Context {
	return context.WithoutCancel(ctx)
}

// statementRows splits rows to be written by statements of up to size
// rows each: it yields each statement's first row and number of rows, size
// while that many remain, then one at a time, so that two prepared
// statements serve every count.
func statementRows(rows, size int) iter.Seq2[int, int] {
	return func(yield func(start, n int) bool) {
		for start := 0; start < rows; {
			n := 1
			if rows-start >= size {
				n = size
			}
			if !yield(start, n) {
				return
			}
			start += n
		}
	}
}

// checkSeqs checks that the n events inserted after the ledger's last seq
// before took the seqs that follow it, ending at last, as insertRecords
// assumes when it places a statement's rows by the last one's seq. SQLite
// gives each row the seq after the largest, but random ones in a file
// whose largest seq is 2^63-1.
func checkSeqs(before, n, last int64) error {
	if last != before+n {
		return fmt.Errorf("the ledger file is damaged: its events after seq %d were stored up to seq %d, not %d", before, last, before+n)
	}
	return nil
}

// insertColumns is how many values insertArgs gives for a record, and
// runColumns how many runArgs gives.
const insertColumns, runColumns = 11, 9

// insertArgs appends a record's values for the insert statements, in their
// column order, after normalising its times and metadata as they read back.
func insertArgs(args []any, r *eventstore.Record) []any {
	metadata := normalise(r)
	return append(args, r.ID[:], r.Stream, r.Version, r.Type, r.Data, metadata,
		r.EffectiveAt.UnixNano(), r.RecordedAt.UnixNano(), r.PrevHash[:], r.Hash[:], r.Chain)
}

// runArgs appends the values of a record after the first of a run
// (insertRunSQL): insertArgs' but the stream and version, which the
// statement takes from the first row.
func runArgs(args []any, r *eventstore.Record) []any {
	metadata := normalise(r)
	return append(args, r.ID[:], r.Type, r.Data, metadata,
		r.EffectiveAt.UnixNano(), r.RecordedAt.UnixNano(), r.PrevHash[:], r.Hash[:], r.Chain)
}

// normalise sets a record's times and metadata as they read back, and
// returns the metadata to bind: NULL when there is none, so that it reads
// back as nil.
func normalise(r *eventstore.Record) (metadata any) {
	r.EffectiveAt, r.RecordedAt = fromNanos(r.EffectiveAt.UnixNano()), fromNanos(r.RecordedAt.UnixNano())
	if len(r.Metadata) == 0 {
		r.Metadata = nil
		return nil
	}
	return r.Metadata
}

// continuesRun checks that records are a run, as insertRunSQL stores them:
// of one stream, with consecutive versions. Appends and copies
// (eventstore.CheckCopies) only make such batches; anything else would be
// stored under another stream or version than its own.
func continuesRun(records []eventstore.Record) error {
	first := &records[0]
	for i := 1; i < len(records); i++ {
		if r := &records[i]; r.Stream != first.Stream || r.Version != first.Version+int64(i) {
			return fmt.Errorf("record %s (version %d) does not continue the records before it in its batch: %w", r.ID, r.Version, eventstore.ErrInvalidEvent)
		}
	}
	return nil
}

// validate checks a batch before any I/O, so that an invalid batch never
// takes the write lock.
func validate(stream string, expected eventstore.Version, events []eventstore.EventData) error {
	return eventstore.CheckBatch(stream, expected, events, representable, "1678 to 2261")
}

// lookupChunk is how many ids one lookup query asks for. Looking ids up in
// chunks rather than one by one takes a quarter of the CPU out of a large
// batch; the statement is prepared once for this fixed size, and a short
// chunk repeats its last id, which IN ignores. Chunks shorter than
// lookupFew are looked up one id at a time instead, so that a single-event
// append does not bind 64 arguments.
const lookupChunk, lookupFew = 64, 8

// lookupIDs returns, for each event of the batch, its stored copy or nil.
// It returns a nil slice when none is stored, the common case.
func (s *Store) lookupIDs(ctx context.Context, tx *sql.Tx, events []eventstore.EventData) ([]*eventstore.Record, error) {
	var stored []*eventstore.Record
	sc := newScanner()
	var many *sql.Stmt
	var args []any
	for start := 0; start < len(events); start += lookupChunk {
		chunk := events[start:min(start+lookupChunk, len(events))]
		var recs []eventstore.Record
		if len(chunk) < lookupFew {
			one := tx.StmtContext(ctx, s.lookupOne)
			for j := range chunk {
				found, err := sc.query(ctx, one, chunk[j].ID[:])
				if err != nil {
					return nil, err
				}
				recs = append(recs, found...)
			}
		} else {
			if many == nil {
				many = tx.StmtContext(ctx, s.lookupMany)
				args = make([]any, lookupChunk)
			}
			for j := range args {
				args[j] = chunk[min(j, len(chunk)-1)].ID[:]
			}
			var err error
			if recs, err = sc.query(ctx, many, args...); err != nil {
				return nil, err
			}
		}
		for k := range recs {
			for j := range chunk {
				if chunk[j].ID == recs[k].ID {
					if stored == nil {
						stored = make([]*eventstore.Record, len(events))
					}
					stored[start+j] = &recs[k]
				}
			}
		}
	}
	return stored, nil
}

// replayable decides, when some ids of the batch are already stored,
// whether the batch is a replay (every event stored identically in this
// stream, in batch order) or a conflict, which it describes.
func replayable(stream string, events []eventstore.EventData, stored []*eventstore.Record) error {
	var missing, present *eventstore.EventData
	for i := range events {
		e, r := &events[i], stored[i]
		switch {
		case r == nil:
			if missing == nil {
				missing = e
			}
			continue
		case r.Stream != stream:
			return fmt.Errorf("event %s is already stored in stream %s: %w", e.ID, r.Stream, eventstore.ErrDuplicateID)
		case r.Type != e.Type || !bytes.Equal(r.Data, e.Data) || !r.EffectiveAt.Equal(e.EffectiveAt):
			return fmt.Errorf("event %s is already stored (version %d) with different content: %w", e.ID, r.Version, eventstore.ErrDuplicateID)
		}
		if present == nil {
			present = e
		}
	}
	if missing != nil {
		return fmt.Errorf("event %s is already stored but event %s of the same batch is not: %w", present.ID, missing.ID, eventstore.ErrDuplicateID)
	}
	for i := 1; i < len(stored); i++ {
		if stored[i].Version <= stored[i-1].Version {
			return fmt.Errorf("events %s and %s are already stored, in the other order: %w", events[i-1].ID, events[i].ID, eventstore.ErrDuplicateID)
		}
	}
	return nil
}

// head is what Append needs to know of a stream's last record.
type head struct {
	version    int64 // -1 (NoStream) when the stream has no records
	hash       [32]byte
	recordedAt time.Time
}

func (s *Store) readHead(ctx context.Context, tx *sql.Tx, stream string) (head, error) {
	h := head{version: int64(eventstore.NoStream)}
	var hash []byte
	var recordedAt int64
	err := tx.StmtContext(ctx, s.head).QueryRowContext(ctx, stream).Scan(&h.version, &hash, &recordedAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return head{version: int64(eventstore.NoStream)}, nil
	case err != nil:
		return h, withContext(ctx, err)
	case len(hash) != len(h.hash):
		return h, fmt.Errorf("the streams table holds a %d-byte hash: the ledger file is damaged", len(hash))
	}
	copy(h.hash[:], hash)
	h.recordedAt = fromNanos(recordedAt)
	return h, nil
}

// recordedAt is the batch's transaction time: the clock truncated to
// microseconds (the resolution the contract promises everywhere), but never
// before the stream's last record, so a clock stepping back cannot break
// the stream's order. A last record more than eventstore.MaxClockLead
// ahead of the clock is refused (eventstore.CheckClock).
func (s *Store) recordedAt(last time.Time) (time.Time, error) {
	now := s.now()
	if !representable(now) {
		return time.Time{}, fmt.Errorf("the clock reads %s, outside the years the store can hold", now.Format(time.RFC3339Nano))
	}
	t := fromNanos(now.UnixNano()).Truncate(time.Microsecond)
	if err := eventstore.CheckClock(last, t); err != nil {
		return time.Time{}, err
	}
	if t.Before(last) {
		t = last
	}
	return t, nil
}

// insertError explains a failed insert. The write lock and the head read
// before it make a constraint violation unexpected: only (stream, version)
// is unique in events, so one means the streams table disagrees with the
// events, and it is reported as the conflict it is rather than as a raw
// driver error.
func insertError(ctx context.Context, r eventstore.Record, err error) error {
	if !isUniqueViolation(err) {
		return withContext(ctx, err)
	}
	return fmt.Errorf("version %d is already stored, though the stream's head says %d (%v): %w",
		r.Version, r.Version-1, err, eventstore.ErrWrongVersion)
}

// representable reports whether t survives the round trip through int64
// unix nanoseconds, the column type of both times.
func representable(t time.Time) bool {
	return !t.IsZero() && time.Unix(0, t.UnixNano()).Equal(t)
}

// fromNanos is the one way times leave the database: UTC, without a
// monotonic reading, so stored and returned records compare equal.
func fromNanos(n int64) time.Time {
	return time.Unix(0, n).UTC()
}
