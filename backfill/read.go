package backfill

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
)

// ErrBadFile is returned, wrapped in an error naming the fault, by NewReader
// when a file cannot be read as an import file at all (a CSV header naming a
// column that is not an import field, a JSON array instead of JSON Lines):
// no row of it could be read correctly, so the command refuses the file
// instead of rejecting every row. Test for it with errors.Is.
var ErrBadFile = errors.New("not an import file")

// badFile is an error refusing a whole file; its message is one sentence for
// the user, and errors.Is matches it to ErrBadFile.
type badFile struct{ msg string }

func (e *badFile) Error() string        { return e.msg }
func (e *badFile) Is(target error) bool { return target == ErrBadFile }

func refuseFile(format string, args ...any) error {
	return &badFile{msg: fmt.Sprintf(format, args...)}
}

// Reasons shared by both formats.
const (
	reasonNotText = "is not text (invalid UTF-8 or NUL bytes)"
	reasonUnknown = "is not an import field"
)

var reasonTooLong = fmt.Sprintf("is longer than %d bytes", MaxLineBytes)

// How a last line without a newline is judged. An import file may be cut
// short (a copy interrupted, a disk full, a download stopped), and the cut
// falls anywhere. A JSON Lines row cut short never parses, since an object
// ends with its closing brace, so a complete object on a last line without
// newline is imported, and a broken one says it may have been cut. A CSV
// row cut short is still a row ("155.44" cut to "155"), so a CSV file's last
// row counts only when a newline ends it.
const (
	reasonCSVNoNewline = "is the last line and has no newline at its end, so it may have been cut off " +
		"(a price of 155.44 cut to 155 still reads as a row): it is not imported; " +
		"if the row is complete, end the file with a newline"
	reasonMayBeCut = "; it is the last line and has no newline at its end, so the file may have been cut off"
)

// readBufferSize is the reader's buffer: lines shorter than it are parsed in
// place, longer ones are gathered (up to MaxLineBytes) in a second buffer.
const readBufferSize = 64 << 10

// maxFieldName is how much of an unknown JSON key a Reject names.
const maxFieldName = 100

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Reader reads the rows of one import file, one at a time, in bounded memory
// whatever the file's size or its lines' lengths: rows that cannot be read
// become Rejects and reading goes on, so one bad row never costs a whole
// import. It is not safe for concurrent use, except BytesRead.
type Reader struct {
	format Format
	// read is BytesRead's answer as of the last Next, kept apart so that
	// a progress bar may ask while another goroutine reads.
	read atomic.Int64
	br   *bufio.Reader
	bom  int64 // bytes of the byte order mark skipped at the start
	err  error // returned by every Next once reading has ended (io.EOF included)

	// JSON Lines.
	lines    int    // lines read so far
	consumed int64  // bytes of those lines, terminators included
	ended    bool   // the last line read ended with a newline
	long     []byte // a line that did not fit in br's buffer
	scanner  jsonScanner

	// CSV.
	src     *csvSource
	records *csv.Reader
	csvBase int64 // src offset at which records started reading
	cols    []int // the field index of each column
}

// NewReader returns a Reader for the import file r called name, detecting
// its format from the name's extension (.jsonl, .ndjson and .json are JSON
// Lines, .csv is CSV) or, for other names and "-" (standard input), from the
// content: JSON Lines when the first byte that is not white space is '{', CSV
// otherwise. A UTF-8 byte order mark at the start is skipped.
//
// It refuses a file that no row of could be read correctly, with an error
// matching ErrBadFile: for CSV, it reads the header row, which must name
// import fields, each once, type among them; a JSON Lines file must not hold
// a JSON array. An empty input is not an error: its Reader returns io.EOF at
// once, and the caller decides what an empty import means. Other errors are
// the input's.
func NewReader(r io.Reader, name string) (*Reader, error) {
	rd := &Reader{br: bufio.NewReaderSize(r, readBufferSize)}
	head, err := rd.br.Peek(len(utf8BOM))
	if err != nil && err != io.EOF {
		return nil, err
	}
	if bytes.Equal(head, utf8BOM) {
		_, _ = rd.br.Discard(len(utf8BOM)) // cannot fail: the bytes are buffered
		rd.bom = int64(len(utf8BOM))
	}
	first, err := rd.firstByte()
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jsonl", ".ndjson", ".json":
		rd.format = JSONLines
	case ".csv":
		rd.format = CSV
	default:
		rd.format = CSV
		if first == '{' {
			rd.format = JSONLines
		}
	}
	if rd.format == JSONLines {
		if first == '[' {
			return nil, refuseFile("the file holds a JSON array, but an import file holds one JSON object per line (JSON Lines)")
		}
		rd.read.Store(rd.bytesConsumed())
		return rd, nil
	}
	if err := rd.readHeader(); err != nil {
		return nil, err
	}
	rd.read.Store(rd.bytesConsumed())
	return rd, nil
}

// firstByte returns the first byte of the input that is not white space, or
// 0 when the buffer's worth of input holds none, without consuming any.
func (r *Reader) firstByte() (byte, error) {
	for n := 512; ; n = min(2*n, r.br.Size()) {
		b, err := r.br.Peek(n)
		if i := skipSpace(b, 0); i < len(b) {
			return b[i], nil
		}
		switch {
		case err == io.EOF || err == bufio.ErrBufferFull || n == r.br.Size():
			return 0, nil // empty, blank, or a buffer of white space: CSV, say
		case err != nil:
			return 0, err
		}
	}
}

// Format returns the file's format, so the caller can say how it was read.
func (r *Reader) Format() Format { return r.format }

// Lines returns how many lines of the file have been consumed, blank lines
// and a CSV header included, for progress reports.
func (r *Reader) Lines() int {
	if r.format == CSV {
		return r.src.linesConsumed()
	}
	return r.lines
}

// BytesRead returns how many bytes of the file had been consumed when Next
// last returned, so a progress bar can compare it with the file's size. It
// may be called while another goroutine calls Next.
func (r *Reader) BytesRead() int64 { return r.read.Load() }

func (r *Reader) bytesConsumed() int64 {
	if r.format == CSV {
		return r.bom + r.src.off
	}
	return r.bom + r.consumed
}

// Next returns the file's next row: (line, nil, nil) for a row that was read,
// (Line{}, reject, nil) for one that could not be (reading goes on with the
// row after it), and io.EOF after the last row. Any other error is the
// input's and ends the read; later calls return it again.
//
// Rows are checked only as far as building a domain.Row needs: the fields
// must be import fields given once, as text, with a known type and an id that
// is a UUID. The values themselves are left to Row.Command, which names the
// field at fault.
func (r *Reader) Next() (Line, *Reject, error) {
	if r.err != nil {
		return Line{}, nil, r.err
	}
	var (
		l   Line
		rej *Reject
		err error
	)
	if r.format == CSV {
		l, rej, err = r.nextCSV()
	} else {
		l, rej, err = r.nextJSON()
	}
	if err != nil {
		r.err = err
	}
	r.read.Store(r.bytesConsumed())
	return l, rej, err
}

// rowLine turns a row's values into a Line, or the Reject for a missing or
// unknown type or an id that is not a UUID. text is the row as it stood in
// the file, cut to MaxRejectText bytes.
func rowLine(number int, v *domain.RowValues, text string) (Line, *Reject) {
	switch t := v[domain.FieldType]; {
	case t == "":
		return Line{}, &Reject{Line: number, Field: "type", Reason: "is required", Row: text}
	case !domain.IsRowType(t):
		return Line{}, &Reject{Line: number, Field: "type", Reason: "is not a row type: " + domain.Quote(t) +
			" (use " + domain.RowTypeList + ")", Row: text}
	}
	var id uuid.UUID
	if s := v[domain.FieldID]; s != "" {
		var err error
		if id, err = uuid.Parse(s); err != nil {
			return Line{}, &Reject{Line: number, Field: "id", Reason: "is not a UUID: " + domain.Quote(s), Row: text}
		}
		if id == uuid.Nil { // Nil means "no id": taking it would silently derive one
			return Line{}, &Reject{Line: number, Field: "id", Reason: "is the nil UUID, which names no event", Row: text}
		}
	}
	return Line{
		Number: number,
		Row:    v.Row(),
		ID:     id,
		Source: v[domain.FieldSource],
		Text:   text,
	}, nil
}

// isText reports whether b is UTF-8 without NUL bytes.
func isText(b []byte) bool {
	return bytes.IndexByte(b, 0) < 0 && utf8.Valid(b)
}

// rejectText returns b as a Reject's or Line's text: at most MaxRejectText
// bytes, cut at a character boundary, invalid UTF-8 replaced so the text can
// be written as JSON and shown.
func rejectText(b []byte) string {
	b = cutBytes(b, MaxRejectText)
	if utf8.Valid(b) {
		return string(b)
	}
	return cutString(strings.ToValidUTF8(string(b), "\uFFFD"), MaxRejectText)
}

// cutBytes returns at most n bytes of b, not splitting a UTF-8 character.
func cutBytes(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	for i := n; i > 0 && i > n-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			return b[:i]
		}
	}
	return b[:n]
}

// cutString is cutBytes for strings.
func cutString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for i := n; i > 0 && i > n-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i]
		}
	}
	return s[:n]
}

// trimEOL returns line without its terminator, "\n" or "\r\n" (or a lone
// "\r" ending the file).
func trimEOL(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line
}
