package backfill

import (
	"bufio"
	"cmp"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
)

// item is a valid row on its way from the file to the ledger, with what the
// sort needs to put it in place.
type item struct {
	instrument string // the normalised symbol
	effective  int64  // unix nanoseconds; retractions sort after every fact
	line       int
	id         uuid.UUID // explicit or content-derived
	source     string
	row        domain.Row
	text       string // the row as it stood in the file, for rejects
	at         span   // where text lies in the file, when it is not kept (Options.Source)
}

// reject is the item's row refused: the Reject with its text, or the
// place of its text in the file.
func (it *item) reject(field, reason string) Reject {
	return Reject{Line: it.line, Field: field, Reason: reason, Row: it.text, at: it.at}
}

// retractionOrder places retractions after the facts of their instrument:
// their effective time is that of the event they retract, which the sort
// does not know.
const retractionOrder = math.MaxInt64

// compareItems orders items by instrument, then effective time, then line.
func compareItems(a, b *item) int {
	if c := cmp.Compare(a.instrument, b.instrument); c != 0 {
		return c
	}
	if c := cmp.Compare(a.effective, b.effective); c != 0 {
		return c
	}
	return cmp.Compare(a.line, b.line)
}

// spool sorts items of any number with bounded memory: it keeps up to
// chunkSize items in memory, in two halves. When one half is full it is
// sorted and written to a temporary file on a goroutine of its own while
// the other fills, so that reading the import file and writing the sort
// overlap on two cores; the files are merged when read back.
type spool struct {
	dir       string
	chunkSize int // items in memory: two halves of chunkSize/2
	chunk     []*item
	files     []*os.File
	// writing is the outcome of the half being written, nil when none
	// is; its file joins files once it is received.
	writing chan written
}

// written is what writing a half came to.
type written struct {
	file *os.File
	err  error
}

// DefaultChunkSize bounds the items an import holds in memory while
// sorting: at a few hundred bytes an item, about 40 MB.
const DefaultChunkSize = 100_000

func newSpool(dir string, chunkSize int) *spool {
	return &spool{dir: dir, chunkSize: chunkSize}
}

// half is the number of items written to a file at a time.
func (s *spool) half() int { return max(1, s.chunkSize/2) }

func (s *spool) add(it *item) error {
	s.chunk = append(s.chunk, it)
	if len(s.chunk) < s.half() {
		return nil
	}
	// One half is written at a time: wait for the one before.
	if err := s.wait(); err != nil {
		return err
	}
	chunk := s.chunk
	s.chunk = make([]*item, 0, s.half()) // the written half's items go with their array
	done := make(chan written, 1)
	s.writing = done
	go func() {
		f, err := s.write(chunk)
		done <- written{f, err}
	}()
	return nil
}

// wait waits for the half being written, if any.
func (s *spool) wait() error {
	if s.writing == nil {
		return nil
	}
	w := <-s.writing
	s.writing = nil
	if w.err != nil {
		return w.err
	}
	s.files = append(s.files, w.file)
	return nil
}

// write sorts items and writes them to a new temporary file.
func (s *spool) write(items []*item) (*os.File, error) {
	sortItems(items)
	return s.writeFile(each(items))
}

// sortItems sorts items in compareItems' order. It ranks the few distinct
// instruments once and sorts by rank, so that the many comparisons compare
// integers rather than symbols: compareItems took a fifth of the CPU of
// reading the million-row file (docs/performance.md).
func sortItems(items []*item) {
	rank := map[string]int{}
	for _, it := range items {
		rank[it.instrument] = 0
	}
	names := slices.Sorted(maps.Keys(rank))
	for i, name := range names {
		rank[name] = i
	}
	type ranked struct {
		rank      int
		effective int64
		line      int
		it        *item
	}
	keys := make([]ranked, len(items))
	for i, it := range items {
		keys[i] = ranked{rank[it.instrument], it.effective, it.line, it}
	}
	slices.SortFunc(keys, func(a, b ranked) int {
		if c := cmp.Compare(a.rank, b.rank); c != 0 {
			return c
		}
		if c := cmp.Compare(a.effective, b.effective); c != 0 {
			return c
		}
		return cmp.Compare(a.line, b.line)
	})
	for i := range keys {
		items[i] = keys[i].it
	}
}

// each yields items in turn, then io.EOF.
func each(items []*item) func() (*item, error) {
	i := 0
	return func() (*item, error) {
		if i == len(items) {
			return nil, io.EOF
		}
		i++
		return items[i-1], nil
	}
}

// writeFile writes the items next yields, in order, to a new temporary
// file.
func (s *spool) writeFile(next func() (*item, error)) (*os.File, error) {
	f, err := os.CreateTemp(s.dir, "consensus-import-*.spool")
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	// The file is needed only through the open handle: removing its name
	// now means nothing is left behind however the process ends.
	os.Remove(f.Name())
	w := bufio.NewWriterSize(f, 1<<20)
	var buf []byte
	for {
		it, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			f.Close()
			return nil, err
		}
		buf = encodeItem(buf[:0], it)
		if _, err := w.Write(buf); err != nil {
			f.Close()
			return nil, fmt.Errorf("spool: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return nil, fmt.Errorf("spool: %w", err)
	}
	return f, nil
}

// sorted returns every item added, in order. When everything fit in one
// half nothing was written to disk.
func (s *spool) sorted() (next func() (*item, error), err error) {
	if err := s.wait(); err != nil {
		return nil, err
	}
	if len(s.files) == 0 {
		sortItems(s.chunk)
		return each(s.chunk), nil
	}
	if len(s.chunk) > 0 {
		f, err := s.write(s.chunk)
		if err != nil {
			return nil, err
		}
		s.files = append(s.files, f)
	}
	s.chunk = nil // everything is in the files now
	// Merging reads every file at once, a buffer each: past mergeFanIn
	// files, merge the oldest ones into one first, so the buffers stay
	// bounded (mergeFanIn x mergeBuffer) however long the file is.
	for len(s.files) > mergeFanIn {
		merged, err := s.mergeToFile(s.files[:mergeFanIn])
		if err != nil {
			return nil, err
		}
		for _, f := range s.files[:mergeFanIn] {
			f.Close()
		}
		s.files = append(s.files[mergeFanIn:], merged)
	}
	return merge(s.files)
}

// Merge limits: at most mergeFanIn files are read at once, each through a
// buffer of mergeBuffer bytes (16 MiB in all).
const (
	mergeFanIn  = 64
	mergeBuffer = 256 << 10
)

// mergeToFile merges files into one new temporary file.
func (s *spool) mergeToFile(files []*os.File) (*os.File, error) {
	next, err := merge(files)
	if err != nil {
		return nil, err
	}
	return s.writeFile(next)
}

// merge reads sorted files back from their start as one sorted sequence.
func merge(files []*os.File) (next func() (*item, error), err error) {
	h := &mergeHeap{}
	for _, f := range files {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("spool: %w", err)
		}
		src := &chunkReader{r: bufio.NewReaderSize(f, mergeBuffer)}
		it, err := src.next()
		if errors.Is(err, io.EOF) {
			continue
		}
		if err != nil {
			return nil, err
		}
		h.sources = append(h.sources, mergeSource{head: it, src: src})
	}
	heap.Init(h)
	return func() (*item, error) {
		if h.Len() == 0 {
			return nil, io.EOF
		}
		top := &h.sources[0]
		it := top.head
		nextHead, err := top.src.next()
		switch {
		case errors.Is(err, io.EOF):
			heap.Pop(h)
		case err != nil:
			return nil, err
		default:
			top.head = nextHead
			heap.Fix(h, 0)
		}
		return it, nil
	}, nil
}

// close releases the temporary files.
func (s *spool) close() {
	_ = s.wait() // the file being written, if any, is closed with the rest
	for _, f := range s.files {
		f.Close()
	}
	s.files, s.chunk = nil, nil
}

type mergeSource struct {
	head *item
	src  *chunkReader
}

// mergeHeap orders the chunks by their next item.
type mergeHeap struct{ sources []mergeSource }

func (h *mergeHeap) Len() int { return len(h.sources) }
func (h *mergeHeap) Less(i, j int) bool {
	return compareItems(h.sources[i].head, h.sources[j].head) < 0
}
func (h *mergeHeap) Swap(i, j int) { h.sources[i], h.sources[j] = h.sources[j], h.sources[i] }
func (h *mergeHeap) Push(x any)    { h.sources = append(h.sources, x.(mergeSource)) }
func (h *mergeHeap) Pop() any {
	last := h.sources[len(h.sources)-1]
	h.sources = h.sources[:len(h.sources)-1]
	return last
}

// encodeItem appends an item's binary form: varints and length-prefixed
// strings, in a fixed field order.
func encodeItem(buf []byte, it *item) []byte {
	str := func(s string) {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	str(it.instrument)
	buf = binary.AppendVarint(buf, it.effective)
	buf = binary.AppendUvarint(buf, uint64(it.line))
	buf = append(buf, it.id[:]...)
	str(it.source)
	r := &it.row
	for _, f := range []string{r.Type, r.Instrument, r.Analyst, r.Firm, r.Rating, r.Target, r.Price, r.Currency, r.At, r.EventID, r.Reason} {
		str(f)
	}
	str(it.text)
	buf = binary.AppendUvarint(buf, uint64(it.at.offset))
	buf = binary.AppendUvarint(buf, uint64(it.at.length))
	return binary.LittleEndian.AppendUint32(buf, it.at.sum)
}

// chunkReader reads back what encodeItem wrote. The spool files are the
// import's own, so a short read is an I/O failure, not bad input.
type chunkReader struct {
	r       *bufio.Reader
	err     error
	scratch []byte
}

func (c *chunkReader) next() (*item, error) {
	if _, err := c.r.Peek(1); err != nil {
		return nil, err // io.EOF at a clean end
	}
	it := &item{}
	it.instrument = c.str()
	it.effective = c.varint()
	it.line = int(c.uvarint())
	if _, err := io.ReadFull(c.r, it.id[:]); err != nil && c.err == nil {
		c.err = err
	}
	it.source = c.str()
	r := &it.row
	for _, f := range []*string{&r.Type, &r.Instrument, &r.Analyst, &r.Firm, &r.Rating, &r.Target, &r.Price, &r.Currency, &r.At, &r.EventID, &r.Reason} {
		*f = c.str()
	}
	it.text = c.str()
	it.at = span{offset: int64(c.uvarint()), length: int(c.uvarint()), sum: c.uint32()}
	if c.err != nil {
		return nil, fmt.Errorf("spool: read back: %w", c.err)
	}
	return it, nil
}

func (c *chunkReader) uvarint() uint64 {
	v, err := binary.ReadUvarint(c.r)
	if err != nil && c.err == nil {
		c.err = err
	}
	return v
}

func (c *chunkReader) varint() int64 {
	v, err := binary.ReadVarint(c.r)
	if err != nil && c.err == nil {
		c.err = err
	}
	return v
}

func (c *chunkReader) uint32() uint32 {
	var b [4]byte
	if _, err := io.ReadFull(c.r, b[:]); err != nil && c.err == nil {
		c.err = err
	}
	return binary.LittleEndian.Uint32(b[:])
}

// str reads a string through the reader's scratch buffer, so that each
// costs one allocation, the string's own (none when empty): reading the
// spool back allocated twice for each of an item's fourteen strings.
func (c *chunkReader) str() string {
	n := c.uvarint()
	if c.err != nil || n == 0 {
		return ""
	}
	if uint64(cap(c.scratch)) < n {
		c.scratch = make([]byte, n)
	}
	b := c.scratch[:n]
	if _, err := io.ReadFull(c.r, b); err != nil {
		c.err = err
		return ""
	}
	return string(b)
}
