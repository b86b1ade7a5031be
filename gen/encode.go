package gen

import (
	"bufio"
	"strconv"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
)

// Columns are the import fields the generator writes, in the order of the
// CSV header and of the keys of each JSON object (CONTRACT section 5; the
// optional source is left to the importer).
var Columns = append([]string(nil), domain.RowFieldNames[:domain.FieldSource]...)

// SplitColumns are the columns of a history with splits (Config.Splits):
// Columns and ratio. Only such a history has the ratio column, so files
// generated without splits keep their bytes.
var SplitColumns = append(append([]string(nil), Columns...), domain.RowFieldNames[domain.FieldRatio])

// Row types of the import format.
const (
	typeRating   = domain.RowRating
	typeTarget   = domain.RowTarget
	typeWithdraw = domain.RowWithdraw
	typeClose    = domain.RowClose
	typeRetract  = domain.RowRetract
	typeSplit    = domain.RowSplit
)

// row is one import row before encoding. Amounts are in ticks of the
// instrument's currency (cents, or whole yen).
type row struct {
	typ     string
	analyst string
	firm    string
	rating  string
	target  int64 // 0 when absent
	price   int64 // 0 when absent
	at      []byte
	id      uuid.UUID
	eventID uuid.UUID // uuid.Nil when absent
	reason  string
	ratio   string // for a split: N:M
}

// encoder writes rows in one format through a buffered writer, keeping the
// first write error.
type encoder struct {
	w      *bufio.Writer
	format Format
	line   []byte
	first  bool     // no JSON key written yet on this line
	cols   []string // Columns or SplitColumns
	err    error
}

func (e *encoder) header() {
	if e.format != CSV {
		return
	}
	e.line = e.line[:0]
	for i, c := range e.cols {
		if i > 0 {
			e.line = append(e.line, ',')
		}
		e.line = append(e.line, c...)
	}
	e.line = append(e.line, '\n')
	e.flushLine()
}

func (e *encoder) flushLine() {
	if e.err != nil {
		return
	}
	_, e.err = e.w.Write(e.line)
}

// write encodes r, a row of instrument in, as one line.
func (e *encoder) write(in *instrument, r *row) {
	currency := in.market.currency
	if r.typ == typeWithdraw || r.typ == typeRetract || r.typ == typeSplit {
		currency = ""
	}
	dec := in.market.decimals
	e.line, e.first = e.line[:0], true
	if e.format == JSONL {
		e.line = append(e.line, '{')
	}
	e.str(0, r.typ)
	e.str(1, in.symbol)
	e.str(2, r.analyst)
	e.str(3, r.firm)
	e.str(4, r.rating)
	e.amount(5, r.target, dec)
	e.amount(6, r.price, dec)
	e.str(7, currency)
	e.bytes(8, r.at)
	e.uuid(9, r.id)
	e.uuid(10, r.eventID)
	e.str(11, r.reason)
	if len(e.cols) == len(SplitColumns) {
		e.str(12, r.ratio)
	}
	if e.format == JSONL {
		e.line = append(e.line, '}')
	}
	e.line = append(e.line, '\n')
	e.flushLine()
}

// key starts field i: the CSV separator, or the JSON key of a non-empty
// value. It reports whether the value is to be written; JSON omits empty
// fields.
func (e *encoder) key(i int, empty bool) bool {
	if e.format == CSV {
		if i > 0 {
			e.line = append(e.line, ',')
		}
		return !empty
	}
	if empty {
		return false
	}
	if !e.first {
		e.line = append(e.line, ',')
	}
	e.first = false
	e.line = append(e.line, '"')
	e.line = append(e.line, e.cols[i]...)
	e.line = append(e.line, '"', ':')
	return true
}

func (e *encoder) str(i int, s string) {
	if !e.key(i, s == "") {
		return
	}
	if e.format == CSV {
		e.line = appendCSV(e.line, s)
	} else {
		e.line = appendJSONString(e.line, s)
	}
}

func (e *encoder) bytes(i int, b []byte) {
	if !e.key(i, len(b) == 0) {
		return
	}
	if e.format == CSV {
		e.line = appendCSV(e.line, b)
	} else {
		e.line = appendJSONString(e.line, b)
	}
}

// amount writes an amount of ticks. JSON gets a number with the exact
// decimal text, which the import reads without a float conversion; CSV
// needs no quoting for it.
func (e *encoder) amount(i int, ticks int64, decimals int) {
	if !e.key(i, ticks <= 0) {
		return
	}
	e.line = appendTicks(e.line, ticks, decimals)
}

func (e *encoder) uuid(i int, id uuid.UUID) {
	if !e.key(i, id == uuid.Nil) {
		return
	}
	var text [36]byte
	encodeUUID(text[:], id)
	if e.format == CSV {
		e.line = append(e.line, text[:]...)
		return
	}
	e.line = append(e.line, '"')
	e.line = append(e.line, text[:]...)
	e.line = append(e.line, '"')
}

// appendTicks writes an amount of ticks with the currency's decimals:
// 16569 cents as "165.69", 2345 yen as "2345".
func appendTicks(b []byte, ticks int64, decimals int) []byte {
	if decimals == 0 {
		return strconv.AppendInt(b, ticks, 10)
	}
	b = strconv.AppendInt(b, ticks/100, 10)
	frac := ticks % 100
	return append(b, '.', byte('0'+frac/10), byte('0'+frac%10))
}

func encodeUUID(dst []byte, id uuid.UUID) {
	const hex = "0123456789abcdef"
	j := 0
	for i, c := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst[j] = '-'
			j++
		}
		dst[j], dst[j+1] = hex[c>>4], hex[c&0xf]
		j += 2
	}
}

// appendJSONString writes s as a JSON string. Generated text is ASCII, but
// quotes, backslashes and control characters are escaped all the same.
func appendJSONString[T string | []byte](b []byte, s T) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// appendCSV writes one CSV field, quoted when it holds a separator, a quote,
// a line break or surrounding spaces (the rules of encoding/csv).
func appendCSV[T string | []byte](b []byte, s T) []byte {
	quote := len(s) > 0 && (s[0] == ' ' || s[len(s)-1] == ' ')
	for i := 0; i < len(s) && !quote; i++ {
		switch s[i] {
		case ',', '"', '\r', '\n':
			quote = true
		}
	}
	if !quote {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}
