// This file is the JSON Lines parser of the import: a hand-written scanner
// that reads each line in place, with the strictness the contract asks
// (duplicate keys, invalid UTF-8, exact numbers) and bounded memory.
//
// Why not jsontext (github.com/go-json-experiment/json; the standard
// library's encoding/json/jsontext still needs GOEXPERIMENT=jsonv2 in Go
// 1.26): one decoder over the whole file stops at the first malformed line,
// where the import must reject that line and go on, and buffers a whole
// value, where a 10 MB line must be skipped unheld; so it would decode line
// by line, and measured that way (a Decoder Reset on each line, names
// looked up with domain.RowFieldIndex, strings unquoted into a reused
// buffer) it took 6.3 to 14 µs a row against 0.8 to 1.9 µs for this scanner
// on the same machine and file (BenchmarkReadJSONL's rows), with 6 times
// the allocations.

package backfill

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/consensus-ledger/consensus/domain"
)

// nextJSON reads lines until one holds a row, skipping blank lines.
func (r *Reader) nextJSON() (Line, *Reject, error) {
	for {
		start := r.bom + r.consumed
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
		l, rej, _ := r.scanner.parseRow(number, line)
		if rej != nil && !r.ended {
			rej.Reason += reasonMayBeCut
		}
		if rej == nil {
			l.span = spanOf(start, line)
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

// parseRow reads one JSON object as the row numbered number: a non-blank
// line of a JSON Lines file, or an element of an API request's array
// (ArrayReader), so a row is read alike, in the same words, whichever way it
// comes. notJSON is true when the row is refused for not being JSON at all.
func (s *jsonScanner) parseRow(number int, line []byte) (l Line, rej *Reject, notJSON bool) {
	if !isText(line) {
		return Line{}, &Reject{Line: number, Field: s.notTextField(line), Reason: reasonNotText, Row: rejectText(line)}, false
	}
	if bad := s.scan(line); bad.reason != "" {
		rej, notJSON := jsonReject(number, line, bad)
		return Line{}, rej, notJSON
	}
	// One string holds the whole line; unescaped values are slices of it.
	all := string(line)
	var v domain.RowValues
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
	l, rej = rowLine(number, &v, cutString(all, MaxRejectText))
	return l, rej, false
}

// notTextField names the field whose value holds the bytes that make line
// no text (invalid UTF-8), the first in the line, when the line is otherwise
// a row object; "" when it is not, or when the fault lies outside the
// values.
func (s *jsonScanner) notTextField(line []byte) string {
	if bad := s.scan(line); bad.reason != "" {
		return ""
	}
	field, at := "", len(line)
	for f, sp := range s.vals {
		if sp.set && sp.start < at && !isText(line[sp.start:sp.end]) {
			field, at = domain.RowFieldNames[f], sp.start
		}
	}
	return field
}

// jsonReject is the Reject for a line the scanner refused. The scanner stops
// at the first fault, so before blaming a field, the line as a whole is
// checked: a line that is not JSON at all is reported as such, in the words
// of encoding/json, and notJSON is true.
func jsonReject(number int, line []byte, bad scanFault) (rej *Reject, notJSON bool) {
	rej = &Reject{Line: number, Field: bad.field, Reason: bad.reason, Row: rejectText(line)}
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
	return rej, err != nil
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
	vals [domain.NumRowFields]valueSpan
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
	s.vals = [domain.NumRowFields]valueSpan{}
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
			f := domain.RowFieldIndex(key)
			if f < 0 {
				return scanFault{field: cutString(string(key), maxFieldName), reason: reasonUnknown}
			}
			name := domain.RowFieldNames[f]
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
