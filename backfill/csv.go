// This file is the CSV parser of the import: encoding/csv over a source
// that keeps line numbers and the text of each record for rejects.

package backfill

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/consensus-ledger/consensus/domain"
)

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
	number, _, raw, _ := r.src.record(r.csvBase + r.records.InputOffset())
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
		f := domain.RowFieldIndex([]byte(name))
		switch {
		case name == "":
			return refuseFile("line %d, the CSV header: column %d has no name", number, i+1)
		case f < 0:
			return refuseFile("line %d, the CSV header: column %d, %q, %s (the fields are %s)",
				number, i+1, cutString(header[i], maxFieldName), reasonUnknown, strings.Join(domain.RowFieldNames[:], ", "))
		case seen[f]:
			return refuseFile("line %d, the CSV header: column %q is given twice", number, name)
		}
		seen[f] = true
		r.cols[i] = f
	}
	if !seen[domain.FieldType] {
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
	number, start, raw, ended := r.src.record(r.csvBase + r.records.InputOffset())
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
	var v domain.RowValues
	for i, f := range r.cols {
		v[f] = record[i]
	}
	l, rej := rowLine(number, &v, text)
	if rej == nil {
		l.span = spanOf(r.bom+start, raw)
	}
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
// and offset (after any BOM) and its text without terminator, and whether a
// newline ended it (only the file's last record can end without one); the
// text is valid until the next Read.
func (s *csvSource) record(end int64) (number int, start int64, text []byte, ended bool) {
	s.skipBlankLines()
	n := int(end - s.off) // blank lines end before the record does
	raw := s.buf[s.start : s.start+n]
	number, start = s.lines+1, s.off
	s.lines += bytes.Count(raw, []byte{'\n'})
	s.advance(n)
	return number, start, trimEOL(raw), n > 0 && raw[n-1] == '\n'
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
