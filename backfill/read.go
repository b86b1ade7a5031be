package backfill

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf16"
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

// The import fields, as indexes into a row's values.
const (
	fieldType = iota
	fieldInstrument
	fieldAnalyst
	fieldFirm
	fieldRating
	fieldTarget
	fieldPrice
	fieldCurrency
	fieldAt
	fieldID
	fieldEventID
	fieldReason
	fieldSource
	numFields
)

// fieldNames are the import fields by index, in the contract's order.
var fieldNames = [numFields]string{"type", "instrument", "analyst", "firm", "rating", "target", "price",
	"currency", "at", "id", "event_id", "reason", "source"}

// fieldIndex returns the index of the import field called name, or -1.
func fieldIndex(name []byte) int {
	switch string(name) { // compiled without converting name to a string
	case "type":
		return fieldType
	case "instrument":
		return fieldInstrument
	case "analyst":
		return fieldAnalyst
	case "firm":
		return fieldFirm
	case "rating":
		return fieldRating
	case "target":
		return fieldTarget
	case "price":
		return fieldPrice
	case "currency":
		return fieldCurrency
	case "at":
		return fieldAt
	case "id":
		return fieldID
	case "event_id":
		return fieldEventID
	case "reason":
		return fieldReason
	case "source":
		return fieldSource
	}
	return -1
}

// Reasons shared by both formats.
const (
	reasonNotText = "is not text (invalid UTF-8 or NUL bytes)"
	reasonUnknown = "is not an import field"
	reasonNoType  = "is not a row type (use rating, target, withdraw, close or retract)"
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
// import. It is not safe for concurrent use.
type Reader struct {
	format Format
	br     *bufio.Reader
	bom    int64 // bytes of the byte order mark skipped at the start
	err    error // returned by every Next once reading has ended (io.EOF included)

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
		return rd, nil
	}
	if err := rd.readHeader(); err != nil {
		return nil, err
	}
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

// BytesRead returns how many bytes of the file have been consumed, so a
// progress bar can compare it with the file's size.
func (r *Reader) BytesRead() int64 {
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
	return l, rej, err
}

// rowLine turns a row's values into a Line, or the Reject for a missing or
// unknown type or an id that is not a UUID. text is the row as it stood in
// the file, cut to MaxRejectText bytes.
func rowLine(number int, v *[numFields]string, text string) (Line, *Reject) {
	switch v[fieldType] {
	case domain.RowRating, domain.RowTarget, domain.RowWithdraw, domain.RowClose, domain.RowRetract:
	case "":
		return Line{}, &Reject{Line: number, Field: "type", Reason: "is required", Row: text}
	default:
		return Line{}, &Reject{Line: number, Field: "type", Reason: reasonNoType, Row: text}
	}
	var id uuid.UUID
	if s := v[fieldID]; s != "" {
		var err error
		if id, err = uuid.Parse(s); err != nil {
			return Line{}, &Reject{Line: number, Field: "id", Reason: "is not a UUID", Row: text}
		}
		if id == uuid.Nil { // Nil means "no id": taking it would silently derive one
			return Line{}, &Reject{Line: number, Field: "id", Reason: "is the nil UUID, which names no event", Row: text}
		}
	}
	return Line{
		Number: number,
		Row: domain.Row{
			Type:       v[fieldType],
			Instrument: v[fieldInstrument],
			Analyst:    v[fieldAnalyst],
			Firm:       v[fieldFirm],
			Rating:     v[fieldRating],
			Target:     v[fieldTarget],
			Price:      v[fieldPrice],
			Currency:   v[fieldCurrency],
			At:         v[fieldAt],
			EventID:    v[fieldEventID],
			Reason:     v[fieldReason],
		},
		ID:     id,
		Source: v[fieldSource],
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

// ---- JSON Lines ----

// nextJSON reads lines until one holds a row, skipping blank lines.
func (r *Reader) nextJSON() (Line, *Reject, error) {
	for {
		line, tooLong, err := r.readLine()
		if err != nil {
			return Line{}, nil, err
		}
		number := r.lines
		if tooLong {
			return Line{}, &Reject{Line: number, Reason: reasonTooLong, Row: rejectText(line)}, nil
		}
		if skipSpace(line, 0) == len(line) {
			continue
		}
		l, rej := r.parseJSON(number, line)
		if rej != nil && !r.ended {
			rej.Reason += reasonMayBeCut
		}
		return l, rej, nil
	}
}

// readLine returns the next line without its terminator, valid until the
// next call. A line longer than MaxLineBytes is skipped to its end without
// being kept: readLine returns its start and tooLong. The error is io.EOF
// after the last line, or the input's.
func (r *Reader) readLine() (line []byte, tooLong bool, err error) {
	line, err = r.br.ReadSlice('\n')
	switch err {
	case nil:
	case bufio.ErrBufferFull:
		return r.readLongLine(line)
	case io.EOF:
		if len(line) == 0 {
			return nil, false, io.EOF
		}
	default:
		return nil, false, err
	}
	r.lines++
	r.consumed += int64(len(line))
	r.ended = line[len(line)-1] == '\n'
	return trimEOL(line), false, nil
}

// readLongLine finishes reading a line that did not fit in the buffer, of
// which start has been read.
func (r *Reader) readLongLine(start []byte) ([]byte, bool, error) {
	r.long = append(r.long[:0], start...)
	n := int64(len(start))
	tooLong := false
	for {
		part, err := r.br.ReadSlice('\n')
		n += int64(len(part))
		if !tooLong {
			r.long = appendDoubling(r.long, part)
			// Two bytes of slack for the terminator, which is not the row's.
			if len(r.long) > MaxLineBytes+2 {
				tooLong = true
				r.long = r.long[:MaxRejectText+utf8.UTFMax] // what a Reject keeps
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err != nil && err != io.EOF:
			return nil, false, err
		}
		break
	}
	r.lines++
	r.consumed += n
	r.ended = len(r.long) > 0 && r.long[len(r.long)-1] == '\n'
	line := r.long
	if !tooLong {
		line = trimEOL(line)
		tooLong = len(line) > MaxLineBytes
	}
	if cap(r.long) > 4*readBufferSize { // do not hold a megabyte for the rare long line
		r.long = nil
	}
	return line, tooLong, nil
}

// appendDoubling is append for the buffers of long lines, doubling their
// capacity (up to what a line of MaxLineBytes needs) rather than growing it
// by a quarter as append does for large slices: gathering a line of
// MaxLineBytes then allocates about three times that, rather than five.
func appendDoubling(b, more []byte) []byte {
	if n := len(b) + len(more); n > cap(b) {
		grown := make([]byte, len(b), max(n, min(2*cap(b), MaxLineBytes+2*readBufferSize)))
		copy(grown, b)
		b = grown
	}
	return append(b, more...)
}

// parseJSON reads one non-blank line as a row.
func (r *Reader) parseJSON(number int, line []byte) (Line, *Reject) {
	if !isText(line) {
		return Line{}, &Reject{Line: number, Reason: reasonNotText, Row: rejectText(line)}
	}
	s := &r.scanner
	if bad := s.scan(line); bad.reason != "" {
		return Line{}, jsonReject(number, line, bad)
	}
	// One string holds the whole line; unescaped values are slices of it.
	all := string(line)
	var v [numFields]string
	for f := range v {
		sp := s.vals[f]
		switch {
		case !sp.set:
		case sp.escaped:
			s.buf = appendUnescaped(s.buf[:0], line[sp.start:sp.end])
			v[f] = string(s.buf)
		default:
			v[f] = all[sp.start:sp.end]
		}
	}
	l, rej := rowLine(number, &v, cutString(all, MaxRejectText))
	return l, rej
}

// jsonReject is the Reject for a line the scanner refused. The scanner stops
// at the first fault, so before blaming a field, the line as a whole is
// checked: a line that is not JSON at all is reported as such, in the words
// of encoding/json.
func jsonReject(number int, line []byte, bad scanFault) *Reject {
	rej := &Reject{Line: number, Field: bad.field, Reason: bad.reason, Row: rejectText(line)}
	var raw json.RawMessage
	err := json.Unmarshal(line, &raw)
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		rej.Field = ""
		rej.Reason = fmt.Sprintf("is not valid JSON: %s (after byte %d)", syntax, syntax.Offset)
	} else if err != nil {
		rej.Field = ""
		rej.Reason = "is not valid JSON: " + err.Error()
	}
	return rej
}

// valueSpan is where a value lies in a line, between its quotes for a string.
type valueSpan struct {
	start, end int
	set        bool // the field is present and not null
	escaped    bool // the string holds escapes to decode
}

// scanFault is why the scanner refused a line; reason is "" when it did not.
type scanFault struct {
	field  string
	reason string
}

// jsonScanner parses a line as a flat JSON object of import fields whose
// values are strings, numbers or null. It is a hand-written parser because
// encoding/json costs several allocations per object and reads numbers
// through float64 or json.Number; this one allocates nothing, and keeps
// numbers as their exact text.
type jsonScanner struct {
	vals [numFields]valueSpan
	key  []byte // an escaped key, decoded
	buf  []byte // an escaped value, decoded
}

// The scanner's own words for syntax it refuses; jsonReject replaces them
// with encoding/json's when that agrees the line is not JSON.
var (
	faultSyntax    = scanFault{reason: "is not valid JSON"}
	faultNotObject = scanFault{reason: "is not a JSON object"}
)

// scan parses b, filling s.vals, and returns the first fault found.
func (s *jsonScanner) scan(b []byte) scanFault {
	s.vals = [numFields]valueSpan{}
	var seen uint16
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '{' {
		return faultNotObject
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			if i == len(b) || b[i] != '"' {
				return faultSyntax
			}
			ks, ke, escaped, fault := scanString(b, i)
			if fault != stringOK {
				if fault == stringSyntax {
					return faultSyntax
				}
				return scanFault{reason: "has a key that is not text (" + fault.String() + ")"}
			}
			key := b[ks:ke]
			if escaped {
				s.key = appendUnescaped(s.key[:0], key)
				key = s.key
			}
			i = skipSpace(b, ke+1)
			if i == len(b) || b[i] != ':' {
				return faultSyntax
			}
			i = skipSpace(b, i+1)
			f := fieldIndex(key)
			if f < 0 {
				return scanFault{field: cutString(string(key), maxFieldName), reason: reasonUnknown}
			}
			name := fieldNames[f]
			if seen&(1<<f) != 0 {
				return scanFault{field: name, reason: "is given twice"}
			}
			seen |= 1 << f
			if i == len(b) {
				return faultSyntax
			}
			switch c := b[i]; {
			case c == '"':
				vs, ve, escaped, fault := scanString(b, i)
				switch fault {
				case stringOK:
				case stringSyntax:
					return faultSyntax
				case stringNUL:
					return scanFault{field: name, reason: reasonNotText}
				default:
					return scanFault{field: name, reason: "is not text (" + fault.String() + ")"}
				}
				s.vals[f] = valueSpan{start: vs, end: ve, set: true, escaped: escaped}
				i = ve + 1
			case c == '-' || '0' <= c && c <= '9':
				end := scanNumber(b, i)
				if end < 0 {
					return faultSyntax
				}
				s.vals[f] = valueSpan{start: i, end: end, set: true}
				i = end
			case c == 'n' && bytes.HasPrefix(b[i:], []byte("null")):
				i += len("null")
			case c == 't' && bytes.HasPrefix(b[i:], []byte("true")), c == 'f' && bytes.HasPrefix(b[i:], []byte("false")):
				return scanFault{field: name, reason: "is true or false; give a string or a number"}
			case c == '{':
				return scanFault{field: name, reason: "is an object; give a string or a number"}
			case c == '[':
				return scanFault{field: name, reason: "is an array; give a string or a number"}
			default:
				return faultSyntax
			}
			i = skipSpace(b, i)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
				continue
			}
			if i < len(b) && b[i] == '}' {
				i++
				break
			}
			return faultSyntax
		}
	}
	if skipSpace(b, i) != len(b) {
		return faultSyntax
	}
	return scanFault{}
}

// skipSpace returns the index of the first byte of b from i that is not JSON
// white space, or len(b).
func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// scanNumber returns the end of the JSON number starting at b[i], or -1 when
// there is none.
func scanNumber(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i == len(b):
		return -1
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		i = skipDigits(b, i+1)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		end := skipDigits(b, i+1)
		if end == i+1 {
			return -1
		}
		i = end
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		end := skipDigits(b, i)
		if end == i {
			return -1
		}
		i = end
	}
	return i
}

// skipDigits returns the end of the run of decimal digits starting at b[i].
func skipDigits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

// stringFault is what scanString found wrong with a string.
type stringFault int

const (
	stringOK        stringFault = iota
	stringSyntax                // not a JSON string
	stringNUL                   // escapes a NUL character
	stringSurrogate             // escapes half of a UTF-16 surrogate pair
)

func (f stringFault) String() string {
	switch f {
	case stringNUL:
		return `escapes a NUL character`
	case stringSurrogate:
		return `escapes half of a UTF-16 surrogate pair`
	}
	return "not a JSON string"
}

// scanString checks the JSON string whose opening quote is b[q]: it returns
// the bounds of its content (the closing quote is b[end]) and whether it
// holds escapes. Escapes that JSON allows but that make no text — a NUL
// character, half a surrogate pair (which encoding/json would quietly turn
// into U+FFFD) — are faults of their own, reported once the string's end is
// found. b is valid UTF-8.
func scanString(b []byte, q int) (start, end int, escaped bool, fault stringFault) {
	start = q + 1
	for i := start; i < len(b); {
		c := b[i]
		switch {
		case c == '"':
			return start, i, escaped, fault
		case c < 0x20:
			return 0, 0, false, stringSyntax
		case c != '\\':
			i++
			continue
		}
		escaped = true
		if i+1 == len(b) {
			return 0, 0, false, stringSyntax
		}
		switch b[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
			continue
		case 'u':
		default:
			return 0, 0, false, stringSyntax
		}
		r := hex4(b, i+2)
		if r < 0 {
			return 0, 0, false, stringSyntax
		}
		i += 6
		var f stringFault
		switch {
		case r == 0:
			f = stringNUL
		case 0xD800 <= r && r < 0xDC00: // a high surrogate, which a low one must follow
			f = stringSurrogate
			if i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' {
				if r2 := hex4(b, i+2); 0xDC00 <= r2 && r2 <= 0xDFFF {
					f = stringOK
					i += 6
				}
			}
		case 0xDC00 <= r && r <= 0xDFFF:
			f = stringSurrogate
		}
		if fault == stringOK {
			fault = f
		}
	}
	return 0, 0, false, stringSyntax
}

// hex4 returns the value of the four hex digits at b[i:], or -1.
func hex4(b []byte, i int) int {
	if i+4 > len(b) {
		return -1
	}
	v := 0
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		v = v<<4 | int(c)
	}
	return v
}

// appendUnescaped appends the text of the content of a JSON string that
// scanString accepted.
func appendUnescaped(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			j := bytes.IndexByte(s[i:], '\\')
			if j < 0 {
				return append(dst, s[i:]...)
			}
			dst = append(dst, s[i:i+j]...)
			i += j
			continue
		}
		switch s[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := rune(hex4(s, i+2))
			if utf16.IsSurrogate(r) {
				r = utf16.DecodeRune(r, rune(hex4(s, i+8)))
				i += 6
			}
			dst = utf8.AppendRune(dst, r)
			i += 6
			continue
		default: // '"', '\\', '/'
			dst = append(dst, s[i+1])
		}
		i += 2
	}
	return dst
}

// ---- CSV ----

// readHeader reads the CSV header and maps its columns to import fields.
func (r *Reader) readHeader() error {
	r.src = &csvSource{in: r.br, buf: make([]byte, 0, readBufferSize)}
	r.startCSV()
	header, err := r.records.Read()
	if r.src.over {
		return refuseFile("line 1, the CSV header, %s", reasonTooLong)
	}
	if err == io.EOF {
		r.src.finish()
		r.err = io.EOF
		return nil
	}
	var parse *csv.ParseError
	if err != nil {
		if parse = parseError(err); parse == nil {
			return err
		}
	}
	number, raw, _ := r.src.record(r.csvBase + r.records.InputOffset())
	switch {
	case len(raw) > MaxLineBytes:
		return refuseFile("line %d, the CSV header, %s", number, reasonTooLong)
	case !isText(raw):
		return refuseFile("line %d, the CSV header, %s", number, reasonNotText)
	case parse != nil:
		return refuseFile("line %d, the CSV header, is not valid CSV: %v", number, parse.Err)
	}
	r.cols = make([]int, len(header))
	seen := make(map[int]bool)
	for i, name := range header {
		name = strings.ToLower(strings.TrimSpace(name))
		f := fieldIndex([]byte(name))
		switch {
		case name == "":
			return refuseFile("line %d, the CSV header: column %d has no name", number, i+1)
		case f < 0:
			return refuseFile("line %d, the CSV header: column %d, %q, %s (the fields are %s)",
				number, i+1, cutString(header[i], maxFieldName), reasonUnknown, strings.Join(fieldNames[:], ", "))
		case seen[f]:
			return refuseFile("line %d, the CSV header: column %q is given twice", number, name)
		}
		seen[f] = true
		r.cols[i] = f
	}
	if !seen[fieldType] {
		return refuseFile("line %d, the CSV header, has no type column", number)
	}
	return nil
}

// parseError returns err as a *csv.ParseError, or nil for other errors;
// as a function of its own, it costs no allocation when there is no error.
func parseError(err error) *csv.ParseError {
	var parse *csv.ParseError
	if errors.As(err, &parse) {
		return parse
	}
	return nil
}

// startCSV starts an encoding/csv reader at the source's current offset.
func (r *Reader) startCSV() {
	r.records = csv.NewReader(r.src)
	r.records.FieldsPerRecord = -1 // counts are checked here, as a reject per row
	r.records.ReuseRecord = true
	r.csvBase = r.src.off
}

// nextCSV reads the next CSV record as a row.
func (r *Reader) nextCSV() (Line, *Reject, error) {
	record, err := r.records.Read()
	if r.src.over {
		rej, err := r.skipLongRecord()
		return Line{}, rej, err
	}
	var parse *csv.ParseError
	switch {
	case err == io.EOF:
		r.src.finish()
		return Line{}, nil, io.EOF
	case err != nil:
		if parse = parseError(err); parse == nil {
			return Line{}, nil, err
		}
	}
	number, raw, ended := r.src.record(r.csvBase + r.records.InputOffset())
	text := rejectText(raw)
	switch {
	case len(raw) > MaxLineBytes:
		return Line{}, &Reject{Line: number, Reason: reasonTooLong, Row: text}, nil
	case !isText(raw):
		return Line{}, &Reject{Line: number, Reason: reasonNotText, Row: text}, nil
	case parse != nil:
		reason := fmt.Sprintf("is not valid CSV: %v (column %d)", parse.Err, parse.Column)
		if parse.Line != parse.StartLine {
			reason = fmt.Sprintf("is not valid CSV: %v (line %d, column %d)", parse.Err,
				number+parse.Line-parse.StartLine, parse.Column)
		}
		if !ended {
			reason += reasonMayBeCut
		}
		return Line{}, &Reject{Line: number, Reason: reason, Row: text}, nil
	case !ended:
		// A CSV row cut short is still a row: "155.44" cut to "155" reads
		// as a price. Only the newline shows the row was written whole.
		return Line{}, &Reject{Line: number, Reason: reasonCSVNoNewline, Row: text}, nil
	case len(record) != len(r.cols):
		return Line{}, &Reject{Line: number, Row: text,
			Reason: fmt.Sprintf("has %d fields, the header has %d", len(record), len(r.cols))}, nil
	}
	var v [numFields]string
	for i, f := range r.cols {
		v[f] = record[i]
	}
	l, rej := rowLine(number, &v, text)
	return l, rej, nil
}

// skipLongRecord rejects the record that grew past MaxLineBytes, skips the
// rest of its line unread, and restarts encoding/csv after it.
func (r *Reader) skipLongRecord() (*Reject, error) {
	number, text, err := r.src.skipRecord()
	if err != nil {
		return nil, err
	}
	r.startCSV()
	return &Reject{Line: number, Reason: reasonTooLong, Row: text}, nil
}

// errTooLong is what a csvSource gives encoding/csv instead of more of a
// record that is already too long; it never leaves the package.
var errTooLong = errors.New("backfill: record too long")

// csvSource sits between the file and encoding/csv. encoding/csv gives
// neither a record's raw text nor a bound on its length, so the source keeps
// the bytes it has handed over since the end of the last record (the current
// record's text, plus at most a buffer's worth read ahead), and refuses to
// hand over more once those pass MaxLineBytes: encoding/csv then fails the
// record, and the reader skips the rest of its line without reading it into
// memory.
//
// It relies on how encoding/csv reads: through a bufio.Reader that asks for
// more input only when the line being read has not ended, so whenever Read
// is called, every byte handed over since the last record ended belongs to
// the record being read or to blank lines before it.
type csvSource struct {
	in    *bufio.Reader
	buf   []byte // buf[start:] holds the bytes handed over since off
	start int
	off   int64 // the file offset (after any BOM) of buf[start]
	lines int   // newlines before off
	mid   bool  // off is not at the start of a line
	over  bool  // the record being read passed MaxLineBytes
	err   error // the input's error, returned again on every Read
}

// Read hands encoding/csv the next bytes of the file.
func (s *csvSource) Read(p []byte) (int, error) {
	if s.over {
		return 0, errTooLong
	}
	if s.err != nil {
		return 0, s.err
	}
	// Two bytes of slack for the terminator, which is not the record's.
	if len(s.buf)-s.start > MaxLineBytes+2 {
		s.skipBlankLines()
		if len(s.buf)-s.start > MaxLineBytes+2 {
			s.over = true
			return 0, errTooLong
		}
	}
	if len(s.buf)+len(p) > cap(s.buf) && s.start > 0 {
		n := copy(s.buf, s.buf[s.start:])
		s.buf, s.start = s.buf[:n], 0
	}
	n, err := s.in.Read(p)
	s.buf = appendDoubling(s.buf, p[:n])
	if err != nil {
		s.err = err
	}
	return n, err
}

// skipBlankLines passes over the blank lines that encoding/csv skips before
// a record, so they count neither towards its length nor in its text.
func (s *csvSource) skipBlankLines() {
	b := s.buf[s.start:]
	n := 0
	for {
		switch {
		case n < len(b) && b[n] == '\n':
			n++
		case n+1 < len(b) && b[n] == '\r' && b[n+1] == '\n':
			n += 2
		default:
			s.advance(n)
			return
		}
		s.lines++
	}
}

// advance passes over n bytes of buf whose newlines have been counted.
func (s *csvSource) advance(n int) {
	if n == 0 {
		return
	}
	s.mid = s.buf[s.start+n-1] != '\n'
	s.start += n
	s.off += int64(n)
}

// record passes over the bytes up to the file offset end, where
// encoding/csv says a record ended, returning the record's first line number
// and its text without terminator, and whether a newline ended it (only the
// file's last record can end without one); the text is valid until the
// next Read.
func (s *csvSource) record(end int64) (number int, text []byte, ended bool) {
	s.skipBlankLines()
	n := int(end - s.off) // blank lines end before the record does
	raw := s.buf[s.start : s.start+n]
	number = s.lines + 1
	s.lines += bytes.Count(raw, []byte{'\n'})
	s.advance(n)
	return number, trimEOL(raw), n > 0 && raw[n-1] == '\n'
}

// finish passes over what is left at the end of the file: blank lines.
func (s *csvSource) finish() {
	rest := s.buf[s.start:]
	s.lines += bytes.Count(rest, []byte{'\n'})
	s.advance(len(rest))
}

// skipRecord passes over the record that grew too long: what was handed over
// of it, then the rest of its line straight from the input. It returns the
// record's first line number and the start of its text.
func (s *csvSource) skipRecord() (int, string, error) {
	s.skipBlankLines()
	number := s.lines + 1
	raw := s.buf[s.start:]
	text := rejectText(raw)
	s.lines += bytes.Count(raw, []byte{'\n'})
	s.advance(len(raw))
	s.buf, s.start, s.over = s.buf[:0], 0, false
	for s.mid && s.err == nil {
		part, err := s.in.ReadSlice('\n')
		s.off += int64(len(part))
		switch err {
		case nil:
			s.lines++
			s.mid = false
		case bufio.ErrBufferFull:
		default:
			s.err = err
		}
	}
	if s.err != nil && s.err != io.EOF {
		return 0, "", s.err
	}
	return number, text, nil
}

// linesConsumed returns the number of lines passed over, a last line without
// a newline included.
func (s *csvSource) linesConsumed() int {
	if s.mid {
		return s.lines + 1
	}
	return s.lines
}
