package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/consensus-ledger/consensus/backfill"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/ledger"
	"github.com/consensus-ledger/consensus/outfile"
)

// maxRejectLines is how many rejected rows import lists on stderr; the rest
// are counted, and all are in the --rejects file.
const maxRejectLines = 20

type importCmd struct {
	storeFlag
	forceFlag
	dryRun  bool
	rejects string
	tempDir string
}

func (c *importCmd) usage() (string, string) {
	return "import FILE|- [--dry-run] [--rejects FILE [--force]]",
		"Backfills a JSON Lines or CSV file of ratings, targets, withdrawals, closes and retractions, in any order; re-running it writes nothing twice."
}

// details are the file rules a user is most likely to trip over, in the
// help of import (the whole format is in docs/events.md).
func (c *importCmd) details() string {
	return `The file is JSON Lines (one object per line) or CSV with a header row.
End the file with a newline. In CSV, a last line without one is rejected,
since a file cut off mid-line ("155.44" cut to "155") still reads as a row;
in JSON Lines, where a cut object never parses, a complete last object is
imported without one. A retract row needs event_id and reason;
its instrument may be left out. A new instrument's currency is the one
stated by its first row in the file.`
}

func (c *importCmd) define(fs *pflag.FlagSet) {
	c.storeFlag.define(fs)
	fs.BoolVar(&c.dryRun, "dry-run", false, "validate every row and write nothing")
	fs.StringVar(&c.rejects, "rejects", "", "write every rejected row to this new file as JSON Lines (written, empty if none, once the import has run to the end)")
	c.forceFlag.define(fs, "the --rejects file")
	fs.StringVar(&c.tempDir, "temp-dir", "", "where the sort of a large file spills (default the system's temporary directory)")
}

// isTerminal reports whether w is a terminal, where progress bars belong.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// importHeapLimit is the soft limit on the Go heap during an import,
// unless GOMEMLIMIT sets one. The import's own structures are bounded (the
// sort holds DefaultChunkSize rows, the merge 64 files' buffers, the writer
// a few batches), but left alone the collector lets the heap grow to twice
// what is live: on a generated 1,000,340-row file about 120 MB was live at
// the peak and the process reached 316 MB; with this limit, 245 MB (224-228
// MB once the sort stopped holding its last chunk).
const importHeapLimit = 180 << 20

func (c *importCmd) run(ctx context.Context, a *app, args []string) error {
	if len(args) != 1 {
		return usagef("expected one FILE argument (or - for standard input)")
	}
	if a.getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(importHeapLimit))
	}
	name := args[0]
	in, size, err := openInput(name)
	if err != nil {
		return err
	}
	defer in.Close()
	reader, err := backfill.NewReader(in, name)
	if err != nil {
		return err
	}

	rejects, err := c.rejectSink(a, name)
	if err != nil {
		return err
	}
	defer rejects.abort()
	bars := newImportBars(a, size, reader)
	opts := backfill.Options{Name: filepath.Base(name), DryRun: c.dryRun, RecordedBy: writer(a),
		TempDir: c.tempDir, Now: a.now, OnReject: rejects.report, OnProgress: bars.update}
	if f, ok := in.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			// A file read again for the rows it rejects, so that the
			// sort need not keep their text (backfill.Options.Source).
			opts.Source = f
		}
	}
	sorted, err := backfill.Read(ctx, reader, opts)
	var summary backfill.Summary
	if err == nil {
		defer sorted.Close()
		summary, err = c.apply(ctx, a, sorted)
	}
	bars.done() // before anything else is printed
	if err != nil {
		return err
	}
	verb := ""
	if c.dryRun {
		verb = "dry run, nothing written: "
	}
	// The summary first: the rows are in the store even if the rejects
	// file cannot be put in place (a file created at its path meanwhile).
	fmt.Fprintf(a.stdout, "%s%s\n", verb, summary)
	if err := rejects.commit(); err != nil {
		return err
	}
	if summary.Rejected > 0 {
		return errSilent
	}
	return nil
}

// apply writes the sorted rows, opening the store only when there is
// something to write, so a file of rejected rows creates no ledger.
func (c *importCmd) apply(ctx context.Context, a *app, sorted *backfill.Sorted) (backfill.Summary, error) {
	if sorted.Rows() == 0 {
		return sorted.Summary(), nil
	}
	l, done, err := c.ledgerFor(a)
	if err != nil {
		return sorted.Summary(), err
	}
	defer done()
	summary, err := sorted.Apply(ctx, l)
	if err != nil {
		return summary, fmt.Errorf("import stopped after whole batches only (%s so far); run it again to finish: %w", summary, err)
	}
	return summary, nil
}

// ledgerFor opens the store for the import. A dry run against a store that
// does not exist judges the rows against an empty ledger in a temporary
// file, and never creates the named one.
func (c *importCmd) ledgerFor(a *app) (*ledger.Ledger, func(), error) {
	cache := ledger.WithCache(backfill.LedgerCache)
	if !c.dryRun || c.exists(a) {
		c.bulkWrites = true // one writer, batch after batch
		l, _, closeFn, err := c.openLedger(a, c.dryRun, cache)
		return l, closeFn, err
	}
	dir, err := os.MkdirTemp(c.tempDir, "consensus-dry-run-")
	if err != nil {
		return nil, nil, err
	}
	store, err := sqlite.Open(filepath.Join(dir, "empty.db"), sqlite.Options{Now: a.now})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return ledger.New(store, ledger.WithClock(a.now), cache), func() { store.Close(); os.RemoveAll(dir) }, nil
}

// openInput opens the file to import, or standard input for "-", and
// returns its size when known.
func openInput(name string) (io.ReadCloser, int64, error) {
	if name == "-" {
		return io.NopCloser(os.Stdin), -1, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, fmt.Errorf("cannot read %s: %w", name, errors.Unwrap(err))
	}
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		f.Close()
		return nil, 0, fmt.Errorf("cannot read %s: it is a directory", name)
	}
	return f, st.Size(), nil
}

// rejectSink reports each rejected row: on stderr (the first
// maxRejectLines) and in the --rejects file (all of them).
//
// The --rejects file is checked before anything is read or written (see
// outputOptions) and filled as a temporary file beside it; commit puts it
// in place once the import has run to the end, empty when no row was
// rejected, so that the file always describes this run. An import that
// fails leaves the path as it was.
type rejectSink struct {
	a    *app
	path string
	out  *outfile.File
	buf  *bufio.Writer
	enc  *json.Encoder
	n    int
}

func (c *importCmd) rejectSink(a *app, input string) (*rejectSink, error) {
	r := &rejectSink{a: a, path: c.rejects}
	if c.rejects == "" {
		return r, nil
	}
	var inputs []outfile.Protected
	if input != "-" {
		inputs = append(inputs, outfile.Protected{Path: input, What: "the file being imported"})
	}
	out, err := outfile.Create(c.rejects, outputOptions(a, &c.storeFlag, "--rejects", c.force, inputs...))
	if err != nil {
		return nil, err
	}
	r.out, r.buf = out, bufio.NewWriter(out)
	r.enc = json.NewEncoder(r.buf)
	return r, nil
}

func (r *rejectSink) report(rej backfill.Reject) error {
	r.n++
	switch {
	case r.n <= maxRejectLines:
		fmt.Fprintf(r.a.stderr, "line %d: %s\n", rej.Line, rej.Reason)
	case r.n == maxRejectLines+1:
		more := "the rest are counted in the summary"
		if r.enc != nil {
			more = "all are in " + r.path
		}
		fmt.Fprintf(r.a.stderr, "more rows were rejected; %s\n", more)
	}
	if r.enc != nil {
		return r.enc.Encode(rej)
	}
	return nil
}

// commit puts the --rejects file in place.
func (r *rejectSink) commit() error {
	if r.out == nil {
		return nil
	}
	if err := r.buf.Flush(); err != nil {
		r.out.Abort()
		return fmt.Errorf("cannot write --rejects %s: %w", r.path, err)
	}
	return r.out.Commit()
}

// abort drops the --rejects file unless it was committed.
func (r *rejectSink) abort() {
	if r.out != nil {
		r.out.Abort()
	}
}

// importBars draws progress on a terminal: a bar over the file's bytes
// while reading, then one over the rows while writing, each with its rate
// and the time left. Elsewhere it draws nothing.
type importBars struct {
	on      bool
	a       *app
	size    int64
	reader  *backfill.Reader
	reading *progressbar.ProgressBar
	writing *progressbar.ProgressBar
}

func newImportBars(a *app, size int64, r *backfill.Reader) *importBars {
	return &importBars{on: isTerminal(a.stderr), a: a, size: size, reader: r}
}

// barOptions are the settings every progress bar of the command line
// shares: on stderr, with the time taken and the time left.
func barOptions(a *app, description string) []progressbar.Option {
	return []progressbar.Option{progressbar.OptionSetWriter(a.stderr), progressbar.OptionSetDescription(description),
		progressbar.OptionSetPredictTime(true), progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(100 * time.Millisecond), progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30)}
}

func (b *importBars) update(p backfill.Progress) {
	if !b.on {
		return
	}
	if p.Total == 0 && p.Applied == 0 { // reading
		if b.reading == nil {
			opts := append(barOptions(b.a, "reading"), progressbar.OptionShowBytes(true))
			b.reading = progressbar.NewOptions64(b.size, opts...)
		}
		b.reading.Set64(b.reader.BytesRead())
		return
	}
	if b.reading != nil {
		b.reading.Finish()
		b.reading = nil
	}
	if b.writing == nil {
		opts := append(barOptions(b.a, "writing"), progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("rows"))
		b.writing = progressbar.NewOptions(p.Total, opts...)
	}
	b.writing.Set(p.Applied)
}

func (b *importBars) done() {
	for _, bar := range []*progressbar.ProgressBar{b.reading, b.writing} {
		if bar != nil {
			bar.Finish()
		}
	}
	b.reading, b.writing = nil, nil
}
