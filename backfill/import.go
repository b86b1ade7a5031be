package backfill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/ledger"
)

// RowSource yields an import file's rows; *Reader is the one the command
// line uses.
type RowSource interface {
	// Next returns the next row, or a reject for a row that could not be
	// read, or io.EOF at the end.
	Next() (Line, *Reject, error)
}

// Options configure an import.
type Options struct {
	// Name is the file's name, used in each event's source
	// ("import:NAME:LINE") when a row gives none.
	Name string
	// DryRun validates everything and writes nothing.
	DryRun bool
	// RecordedBy is the writer's identity kept in every event's metadata.
	RecordedBy string
	// BatchSize is the number of events appended in one transaction; an
	// interrupted import leaves whole batches only. Default 10,000. A store
	// that bounds an append's size (eventstore.AppendLimiter) gets smaller
	// batches when that many would not fit.
	BatchSize int
	// ChunkSize bounds the rows held in memory while sorting; default
	// DefaultChunkSize.
	ChunkSize int
	// TempDir holds the sort's temporary files; default os.TempDir().
	TempDir string
	// Now is the clock that bounds effective times; default time.Now.
	Now func() time.Time
	// OnReject, if set, is called for every rejected row, in the order
	// found. An error it returns stops the import.
	OnReject func(Reject) error
	// OnProgress, if set, is called as rows are read and applied.
	OnProgress func(Progress)
	// Source, if set, is the file the rows are read from, read again for
	// the text of a row rejected once it is judged: the sort then keeps
	// each row's place in the file instead of its text. The file must not
	// change during the import; a reject whose text no longer reads back
	// as it did stops the import.
	Source io.ReaderAt
}

// Progress reports how far an import has come.
type Progress struct {
	Read    int // rows read from the file
	Total   int // rows to apply, known once the file is read
	Applied int // rows applied (imported, skipped or rejected)
}

// Summary counts what an import did, in the words of its closing line.
type Summary struct {
	Imported   int
	Duplicates int
	Rejected   int
}

func (s Summary) String() string {
	return fmt.Sprintf("imported %d, skipped %d duplicates, rejected %d", s.Imported, s.Duplicates, s.Rejected)
}

// maxAttempts bounds how often one instrument is planned again because
// another writer appended to it during the import.
const maxAttempts = 8

// Import reads every row of src, sorts the valid ones by instrument and
// effective time, and applies each instrument's rows to the ledger in
// batches. It returns the counts; rejected rows are reported through
// opts.OnReject and do not make Import fail.
func Import(ctx context.Context, l *ledger.Ledger, src RowSource, opts Options) (Summary, error) {
	sorted, err := Read(ctx, src, opts)
	if err != nil {
		return sorted.summary, err
	}
	defer sorted.Close()
	return sorted.Apply(ctx, l)
}

// Sorted holds an import file's valid rows, sorted, ready to apply. Reading
// and applying are separate steps so that a caller can decide, once the file
// is read, whether there is anything to write at all.
type Sorted struct {
	spool    *spool
	unplaced unplaced // retraction rows without instrument
	opts     Options
	now      time.Time
	summary  Summary
	progress Progress
}

// Read reads and checks every row of src and sorts the valid ones, with
// bounded memory. Rejected rows are reported through opts.OnReject.
func Read(ctx context.Context, src RowSource, opts Options) (*Sorted, error) {
	opts = withDefaults(opts)
	s := &Sorted{spool: newSpool(opts.TempDir, opts.ChunkSize), opts: opts, now: opts.Now()}
	if err := s.read(ctx, src); err != nil {
		s.Close()
		return s, err
	}
	s.progress.Total = s.progress.Read - s.summary.Rejected
	s.report()
	return s, nil
}

// readAhead is how many rows the goroutine that reads the file passes on
// at a time, and readAheadChunks how many such chunks may wait.
const readAhead, readAheadChunks = 512, 4

// readRow is what RowSource.Next returned for one row.
type readRow struct {
	line Line
	rej  *Reject
	err  error
}

// read reads src to its end into the spool. The rows are parsed on a
// goroutine of their own, ahead of the checks (newItem) here, in order, so
// that parsing, checking and the spool's sort each have a core when one is
// free; that goroutine has stopped reading src when read returns.
func (s *Sorted) read(ctx context.Context, src RowSource) error {
	chunks := make(chan []readRow, readAheadChunks)
	// Chunks checked come back to be filled again: allocating each anew
	// was a twentieth of the import's allocations.
	free := make(chan []readRow, readAheadChunks+1)
	stop := make(chan struct{})
	var reading sync.WaitGroup
	reading.Go(func() {
		defer close(chunks)
		for {
			var chunk []readRow
			select {
			case chunk = <-free:
			default:
				chunk = make([]readRow, 0, readAhead)
			}
			var end bool
			for len(chunk) < readAhead && !end {
				line, rej, err := src.Next()
				chunk = append(chunk, readRow{line, rej, err})
				end = err != nil
			}
			select {
			case chunks <- chunk:
			case <-stop:
				return
			}
			if end {
				return
			}
		}
	})
	defer reading.Wait()
	defer close(stop)
	for chunk := range chunks {
		for _, r := range chunk {
			if err := ctx.Err(); err != nil {
				return err
			}
			if errors.Is(r.err, io.EOF) {
				return nil
			}
			if r.err != nil {
				return r.err
			}
			if err := s.readRow(r.line, r.rej); err != nil {
				return err
			}
		}
		clear(chunk) // let go of the rows' text
		select {
		case free <- chunk[:0]:
		default:
		}
	}
	return nil
}

// readRow checks one row read and adds it to the spool, or to the rows
// waiting for an instrument, or counts it rejected.
func (s *Sorted) readRow(line Line, rej *Reject) error {
	s.progress.Read++
	if s.progress.Read%4096 == 0 {
		s.report()
	}
	var it *item
	if rej == nil {
		it, rej = newItem(line, s.now, s.opts.Source != nil)
	}
	if rej == nil && it.instrument == "" {
		if rej = s.unplaced.add(it); rej == nil {
			return nil
		}
	}
	if rej != nil {
		return s.reject(*rej)
	}
	return s.spool.add(it)
}

// Rows is the number of valid rows to apply.
func (s *Sorted) Rows() int { return s.progress.Total }

// Summary is what has been counted so far: the rows rejected while reading,
// and after Apply, everything.
func (s *Sorted) Summary() Summary { return s.summary }

// Close removes the sort's temporary files.
func (s *Sorted) Close() { s.spool.close() }

func (s *Sorted) reject(r Reject) error {
	if err := s.rowText(&r); err != nil {
		return err
	}
	s.summary.Rejected++
	if s.opts.OnReject != nil {
		return s.opts.OnReject(r)
	}
	return nil
}

func (s *Sorted) report() {
	if s.opts.OnProgress != nil {
		s.opts.OnProgress(s.progress)
	}
}

// Apply applies the rows to the ledger, one instrument at a time, and
// returns the counts of the whole import. Store writes run on a goroutine of
// their own (see pipeline) while the next instruments are planned.
func (s *Sorted) Apply(ctx context.Context, l *ledger.Ledger) (Summary, error) {
	runID, err := uuid.NewV7()
	if err != nil {
		return s.summary, err
	}
	correlation := runID.String() // once, not for each of a million rows
	waiting, err := s.unplaced.place(ctx, l, s.spool.add)
	if err != nil {
		return s.summary, err
	}
	next, err := s.spool.sorted()
	if err != nil {
		return s.summary, err
	}
	sourcePrefix := "import:" + s.opts.Name + ":"
	meta := func(it *item) domain.Metadata {
		source := it.source
		if source == "" {
			// The line number appended to the prefix and made a string
			// once: fmt.Sprintf for each of a million rows took an eighth
			// of planning, and strconv.Itoa and a concatenation allocate
			// twice.
			var buf [64]byte
			source = string(strconv.AppendInt(append(buf[:0], sourcePrefix...), int64(it.line), 10))
		}
		return domain.Metadata{RecordedBy: s.opts.RecordedBy, Source: source, CorrelationID: correlation}
	}
	writer := newPipeline(1)
	// Small instruments are planned and gathered until they make a batch,
	// then appended together in one transaction; an instrument with more
	// rows than a batch goes on its own, in several.
	var (
		group         []*item
		claimed       []*item // retractions without instrument of the group's rows
		pending       []pendingInstrument
		pendingEvents int
	)
	// A store that bounds an append's size takes each instrument alone,
	// where batches are cut to fit (see batchLen).
	many := l.CanAppendMany() && !s.opts.DryRun && !l.BoundsAppendSize()
	// settle counts what an instrument's rows came to; it runs on the
	// writer, after the rows' events are stored.
	settle := func(done Summary, rejects []Reject, rows int) error {
		s.summary.Imported += done.Imported
		s.summary.Duplicates += done.Duplicates
		for _, r := range rejects {
			if err := s.reject(r); err != nil {
				return err
			}
		}
		s.progress.Applied += rows
		s.report()
		return nil
	}
	alone := func(items []*item) error {
		done, rejects, err := applyInstrument(ctx, l, items, s.now, meta, s.opts)
		if err != nil {
			return err
		}
		return settle(done, rejects, len(items))
	}
	flushPending := func() error {
		if len(pending) == 0 {
			return nil
		}
		planned := pending
		pending, pendingEvents = nil, 0
		plans := make([]*ledger.Plan, len(planned))
		for i, p := range planned {
			plans[i] = p.plan.Plan
		}
		encoded, err := ledger.Encode(plans...)
		if err != nil {
			return err
		}
		return writer.do(func() error {
			err := l.WriteEncoded(ctx, encoded)
			switch {
			case err == nil:
				for _, p := range planned {
					if err := settle(Summary{Imported: p.plan.Events(), Duplicates: p.plan.Duplicates()}, p.plan.rejects, len(p.items)); err != nil {
						return err
					}
				}
				return nil
			case errors.Is(err, eventstore.ErrWrongVersion), errors.Is(err, eventstore.ErrDuplicateID):
				// Nothing was written: take the instruments one by one, with
				// the retries and id checks of the careful path.
				for _, p := range planned {
					if err := alone(p.items); err != nil {
						return err
					}
				}
				return nil
			}
			return fmt.Errorf("import: %w", err)
		})
	}
	flush := func() error {
		if len(group) == 0 {
			return nil
		}
		items := group
		if len(claimed) > 0 {
			items = append(items, claimed...)
			slices.SortStableFunc(items, compareItems)
		}
		group, claimed = nil, nil
		if !many || len(items) > s.opts.BatchSize {
			if err := flushPending(); err != nil {
				return err
			}
			return writer.do(func() error { return alone(items) })
		}
		p, err := planInstrument(ctx, l, items, s.now, meta)
		if err != nil {
			return err
		}
		if p.Events() == 0 {
			return writer.do(func() error { return settle(Summary{Duplicates: p.Duplicates()}, p.rejects, len(items)) })
		}
		pending = append(pending, pendingInstrument{items: items, plan: p})
		pendingEvents += p.Events()
		if pendingEvents >= s.opts.BatchSize {
			return flushPending()
		}
		return nil
	}
	planAll := func() error {
		for {
			it, err := next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			if len(group) > 0 && group[0].instrument != it.instrument {
				if err := flush(); err != nil {
					return err
				}
			}
			group = append(group, it)
			claimed = append(claimed, waiting.claim(it)...)
		}
		if err := flush(); err != nil {
			return err
		}
		if err := flushPending(); err != nil {
			return err
		}
		if rejects := waiting.unclaimed(); len(rejects) > 0 {
			return writer.do(func() error { return settle(Summary{}, rejects, len(rejects)) })
		}
		return nil
	}
	err = planAll()
	// Always wait for the writer: the summary is its to write until then.
	if werr := writer.wait(); err == nil {
		err = werr
	}
	return s.summary, err
}

// pendingInstrument is an instrument planned and waiting to be appended
// with others in one transaction.
type pendingInstrument struct {
	items []*item
	plan  plan
}

func withDefaults(o Options) Options {
	if o.BatchSize <= 0 {
		o.BatchSize = 10000
	}
	if o.ChunkSize <= 0 {
		o.ChunkSize = DefaultChunkSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// newItem checks a row's fields and derives what the sort needs.
func newItem(line Line, now time.Time, placeText bool) (*item, *Reject) {
	cmd, id, err := line.Command(now)
	if err != nil {
		return nil, &Reject{Line: line.Number, Field: fieldOf(err), Reason: err.Error(), Row: line.Text}
	}
	it := &item{instrument: string(cmd.Symbol()), line: line.Number, id: id, source: line.Source, row: line.Row}
	if placeText && line.span.length > 0 {
		it.at = line.span
	} else {
		it.text = line.Text
	}
	if e, err := domain.Propose(cmd); err == nil && !isRetraction(cmd) {
		it.effective = e.Effective().UnixNano()
	} else {
		it.effective = retractionOrder
	}
	return it, nil
}

// applyInstrument writes an instrument's rows through the ledger
// (ledger.WriteInstrument), which judges them against the stored history and
// appends the accepted events in batches of opts.BatchSize. When another
// writer appends to the instrument meanwhile, the ledger judges again: rows
// this import already wrote are then stored and count as imported, not as
// duplicates.
func applyInstrument(ctx context.Context, l *ledger.Ledger, items []*item, now time.Time, meta func(*item) domain.Metadata, opts Options) (Summary, []Reject, error) {
	if opts.DryRun {
		p, err := planInstrument(ctx, l, items, now, meta)
		if err != nil {
			return Summary{}, nil, err
		}
		return Summary{Imported: p.Events(), Duplicates: p.Duplicates()}, p.rejects, nil
	}
	sym := domain.Symbol(items[0].instrument)
	rows, judged, rejects := rowsOf(items, now, meta)
	w, err := l.WriteInstrument(ctx, sym, rows, now, opts.BatchSize)
	if err != nil {
		return Summary{}, nil, fmt.Errorf("import %s: %w", sym, err)
	}
	// Rows of the rows being written that are refused for their id come
	// first, as they were found while writing.
	var foreign []Reject
	for _, f := range w.Foreign {
		foreign = append(foreign, foreignReject(judged[f.Row], f.Stream))
	}
	rejects = refusals(append(foreign, rejects...), w.Plan, judged, w.Kept)
	// Rows written by an earlier attempt are duplicates in the last one.
	writtenBefore := w.Written - w.Plan.Events()
	return Summary{Imported: w.Written, Duplicates: w.Plan.Duplicates() - writtenBefore}, rejects, nil
}
