// This file is the reader of a JSON array of import rows, the body of POST
// /api/v1/events. It finds each element's bytes, with the bounds of a JSON
// Lines line (MaxLineBytes, a longer element skipped unheld), and hands each
// to the JSON Lines object parser (jsonScanner.parseRow), so a row is read
// with the same strictness, in the same words, whether it comes as a line of
// an import file or as an element of an array.

package backfill

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// ArrayReader reads the rows of a JSON array of import rows, one at a time.
// It is not safe for concurrent use.
type ArrayReader struct {
	br      *bufio.Reader
	scanner jsonScanner
	elem    []byte // the element being read, up to MaxLineBytes
	rows    int    // elements read so far
	opened  bool   // the opening bracket was read
	err     error  // returned by every Next once reading has ended
}

// NewArrayReader returns an ArrayReader of r.
func NewArrayReader(r io.Reader) *ArrayReader {
	return &ArrayReader{br: bufio.NewReaderSize(r, readBufferSize)}
}

// ErrNotArray is returned by the first Next when the input does not begin
// (after white space) with a JSON array.
var ErrNotArray = errors.New("the input is not a JSON array")

// ArraySyntaxError is returned by Next when the array cannot be read on: a
// row that is not JSON at all, or a fault between the rows. Its Reason is
// the words a JSON Lines file's reject would give for the row.
type ArraySyntaxError struct {
	// Row is the row at fault, counted from 1, or the row after which the
	// array's syntax breaks; 0 for a fault of the array as a whole, which
	// Reason then states in full.
	Row    int
	Reason string
}

func (e *ArraySyntaxError) Error() string {
	if e.Row == 0 {
		return e.Reason
	}
	return fmt.Sprintf("row %d %s", e.Row, e.Reason)
}

// Next returns the array's next row, as Reader.Next does: (line, nil, nil)
// for a row that was read, numbered from 1 in the array; (Line{}, reject,
// nil) for one that could not be, reading going on with the next; io.EOF
// after the closing bracket when nothing but white space follows it. Other
// errors end the read: ErrNotArray, an *ArraySyntaxError, or the input's.
func (a *ArrayReader) Next() (Line, *Reject, error) {
	if a.err != nil {
		return Line{}, nil, a.err
	}
	l, rej, err := a.next()
	if err != nil {
		a.err = err
	}
	return l, rej, err
}

// Rows is the number of rows read so far.
func (a *ArrayReader) Rows() int { return a.rows }

func (a *ArrayReader) next() (Line, *Reject, error) {
	c, err := a.nonSpace()
	if !a.opened {
		if err != nil && !errors.Is(err, io.EOF) {
			return Line{}, nil, err
		}
		if err != nil || c != '[' {
			return Line{}, nil, ErrNotArray
		}
		a.opened = true
		if c, err = a.nonSpace(); err == nil && c == ']' {
			return Line{}, nil, a.end()
		}
	} else {
		// After a row: a comma and the next row, or the end.
		switch {
		case err != nil:
		case c == ']':
			return Line{}, nil, a.end()
		case c == ',':
			c, err = a.nonSpace()
		default:
			return Line{}, nil, &ArraySyntaxError{Row: a.rows, Reason: fmt.Sprintf("is followed by %q, not by a comma or the end of the array", c)}
		}
	}
	if errors.Is(err, io.EOF) {
		return Line{}, nil, &ArraySyntaxError{Reason: "the JSON array of rows is not closed"}
	}
	if err != nil {
		return Line{}, nil, err
	}
	if c == ',' || c == ']' {
		return Line{}, nil, &ArraySyntaxError{Row: a.rows + 1, Reason: "is missing: the array holds two commas in a row, or a comma before its end"}
	}
	a.rows++
	tooLong, err := a.element(c)
	if errors.Is(err, io.EOF) {
		return Line{}, nil, &ArraySyntaxError{Row: a.rows, Reason: "is not valid JSON: unexpected end of JSON input"}
	}
	if err != nil {
		return Line{}, nil, err
	}
	if tooLong {
		return Line{}, &Reject{Line: a.rows, Reason: reasonTooLong, Row: rejectText(a.elem)}, nil
	}
	l, rej, notJSON := a.scanner.parseRow(a.rows, a.elem)
	if notJSON {
		return Line{}, nil, &ArraySyntaxError{Row: a.rows, Reason: rej.Reason}
	}
	return l, rej, nil
}

// end checks that nothing but white space follows the closing bracket.
func (a *ArrayReader) end() error {
	c, err := a.nonSpace()
	switch {
	case errors.Is(err, io.EOF):
		return io.EOF
	case err != nil:
		return err
	}
	return &ArraySyntaxError{Reason: fmt.Sprintf("the input holds more than one JSON array: %q follows the end of the first", c)}
}

// nonSpace returns the next byte that is not JSON white space.
func (a *ArrayReader) nonSpace() (byte, error) {
	for {
		c, err := a.br.ReadByte()
		if err != nil {
			return 0, err
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c, nil
	}
}

// element reads the element whose first byte, first, has been read, into
// a.elem, leaving the byte after it unread. It finds the element's end by
// its brackets and strings only, without judging its syntax (the parser
// does): an object or array ends with the bracket that closes its first, a
// string with its closing quote, anything else before white space, a comma
// or a closing bracket. An element longer than MaxLineBytes is read to its
// end, keeping only what a Reject shows, and reported tooLong.
func (a *ArrayReader) element(first byte) (tooLong bool, err error) {
	if cap(a.elem) > 4*readBufferSize { // as Reader.readLongLine: do not keep a megabyte after the rare long row
		a.elem = nil
	}
	a.elem = append(a.elem[:0], first)
	n := 1
	depth, inString, escaped := 0, false, false
	switch first {
	case '{', '[':
		depth = 1
	case '"':
		inString = true
	}
	for depth > 0 || inString || (first != '"' && !isScalarEnd(a.peek())) {
		c, err := a.br.ReadByte()
		if err != nil {
			return false, err
		}
		n++
		if n <= MaxLineBytes {
			a.elem = append(a.elem, c)
		} else if !tooLong {
			tooLong = true
			a.elem = cutBytes(a.elem, MaxRejectText)
		}
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
			if !inString && depth == 0 {
				return tooLong, nil // a string element ends with its quote
			}
		case inString:
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		}
		if (first == '{' || first == '[') && depth == 0 {
			return tooLong, nil
		}
	}
	return tooLong, nil
}

// peek returns the next byte without reading it, or 0 at the end of the
// input (or on its error, which the next read returns).
func (a *ArrayReader) peek() byte {
	b, err := a.br.Peek(1)
	if err != nil {
		return 0
	}
	return b[0]
}

// isScalarEnd reports whether c ends an element that is neither an object,
// an array nor a string (a number, true, a bare word): white space, a comma,
// a closing bracket, or the end of the input (0).
func isScalarEnd(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', ',', ']', '}', 0:
		return true
	}
	return false
}
