package backfill_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/backfill"
	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/gen"
)

// The reader is what the import reads its rows from.
var _ backfill.RowSource = (*backfill.Reader)(nil)

// fields are the import fields in the contract's order, as CSV columns.
var fields = []string{"type", "instrument", "analyst", "firm", "rating", "target", "price", "currency", "at", "id",
	"event_id", "reason", "source"}

// read is what reading a file gave: its lines and rejects in file order.
type read struct {
	lines   []backfill.Line
	rejects []backfill.Reject
	order   []int // line numbers of lines and rejects, in the order read
	reader  *backfill.Reader
}

// readAll reads a whole file, failing the test on an error other than
// io.EOF.
func readAll(t testing.TB, name, input string) read {
	t.Helper()
	r, err := backfill.NewReader(strings.NewReader(input), name)
	require.NoError(t, err)
	return drain(t, r, []byte(input))
}

// drain reads r to its end. Given the file's content, it checks that every
// line's text reads back from the file through the place the reader gave
// it; the lines it returns are without their places, to compare.
func drain(t testing.TB, r *backfill.Reader, content []byte) read {
	t.Helper()
	got := read{reader: r}
	for {
		l, rej, err := r.Next()
		if err == io.EOF {
			_, _, again := r.Next()
			require.Equal(t, io.EOF, again, "io.EOF is sticky")
			return got
		}
		require.NoError(t, err)
		if rej != nil {
			require.Equal(t, backfill.Line{}, l, "a reject comes with no line")
			got.rejects = append(got.rejects, *rej)
			got.order = append(got.order, rej.Line)
			continue
		}
		if content != nil {
			text, ok, err := backfill.TextAt(bytes.NewReader(content), l)
			require.NoError(t, err, "line %d", l.Number)
			require.True(t, ok, "line %d has a place", l.Number)
			require.Equal(t, l.Text, text, "line %d read back", l.Number)
		}
		got.lines = append(got.lines, backfill.WithoutPlace(l))
		got.order = append(got.order, l.Number)
	}
}

// jsonLine encodes values (field, value pairs) as one JSON object with
// string values, in the order given.
func jsonLine(kv ...string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(kv[i])
		v, _ := json.Marshal(kv[i+1])
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.String()
}

// csvFile encodes values (field, value pairs) as a CSV file of every import
// field: the header and one record.
func csvFile(kv ...string) string {
	rec := make([]string, len(fields))
	for i := 0; i < len(kv); i += 2 {
		for j, f := range fields {
			if f == kv[i] {
				rec[j] = kv[i+1]
			}
		}
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(fields)
	_ = w.Write(rec)
	w.Flush()
	return b.String()
}

var (
	rating = []string{"type", "rating", "instrument", "BABA", "analyst", "a.smith@firm-a", "firm", "Firm A",
		"rating", "Outperform", "target", "165.69", "currency", "USD", "at", "2025-09-11"}
	ratingRow = domain.Row{Type: "rating", Instrument: "BABA", Analyst: "a.smith@firm-a", Firm: "Firm A",
		Rating: "Outperform", Target: "165.69", Currency: "USD", At: "2025-09-11"}
	anID = uuid.MustParse("0190a6c3-7d2e-7b3c-9f00-1234567890ab")
)

// with returns kv with more (field, value pairs) added, or set in place
// when kv has the field.
func with(kv []string, more ...string) []string {
	kv = append([]string(nil), kv...)
next:
	for i := 0; i < len(more); i += 2 {
		for j := 0; j < len(kv); j += 2 {
			if kv[j] == more[i] {
				kv[j+1] = more[i+1]
				continue next
			}
		}
		kv = append(kv, more[i], more[i+1])
	}
	return kv
}

// TestRowRules runs the rules both formats share on one row written in each.
func TestRowRules(t *testing.T) {
	rowWith := func(change func(*domain.Row)) domain.Row {
		r := ratingRow
		change(&r)
		return r
	}
	tests := []struct {
		name   string
		kv     []string
		raw    bool       // written to JSON unescaped, to keep bytes json.Marshal would replace
		row    domain.Row // the row read, when it is read
		id     uuid.UUID
		source string
		field  string // the field rejected, when it is not
		reason string
		// jsonlField is the field rejected in JSON Lines, where it differs:
		// the JSON Lines reader names the value that is not text.
		jsonlField string
	}{
		{name: "rating", kv: rating, row: ratingRow},
		{name: "every field", kv: []string{"type", "retract", "instrument", "BABA", "analyst", "x", "firm", "F",
			"rating", "buy", "target", "1", "price", "2", "currency", "USD", "at", "2025-01-01", "id", anID.String(),
			"event_id", "e", "reason", "typo", "source", "broker feed"},
			row: domain.Row{Type: "retract", Instrument: "BABA", Analyst: "x", Firm: "F", Rating: "buy", Target: "1",
				Price: "2", Currency: "USD", At: "2025-01-01", EventID: "e", Reason: "typo"},
			id: anID, source: "broker feed"},
		{name: "id", kv: with(rating, "id", anID.String()), row: ratingRow, id: anID},
		{name: "id in capitals", kv: with(rating, "id", strings.ToUpper(anID.String())), row: ratingRow, id: anID},
		{name: "id not a UUID", kv: with(rating, "id", "42"), field: "id", reason: "is not a UUID"},
		{name: "nil id", kv: with(rating, "id", uuid.Nil.String()), field: "id", reason: "is the nil UUID"},
		{name: "source", kv: with(rating, "source", "Refinitiv 2025-09"), row: ratingRow, source: "Refinitiv 2025-09"},
		{name: "no type", kv: rating[2:], field: "type", reason: "is required"},
		{name: "empty type", kv: with(rating[2:], "type", ""), field: "type", reason: "is required"},
		{name: "unknown type", kv: with(rating[2:], "type", "upgrade"), field: "type", reason: "is not a row type"},
		{name: "type in capitals", kv: with(rating[2:], "type", "RATING"), field: "type", reason: "is not a row type"},
		{name: "exponent kept as text", kv: with(rating, "target", "1.6569e2"),
			row: rowWith(func(r *domain.Row) { r.Target = "1.6569e2" })},
		{name: "thousands separator kept as text", kv: with(rating, "target", "1,165.69"),
			row: rowWith(func(r *domain.Row) { r.Target = "1,165.69" })},
		{name: "trailing zeros kept", kv: with(rating, "target", "165.690000"),
			row: rowWith(func(r *domain.Row) { r.Target = "165.690000" })},
		{name: "spaces kept", kv: with(rating, "target", " 165.69 "),
			row: rowWith(func(r *domain.Row) { r.Target = " 165.69 " })},
		{name: "bad values are Row.Command's to judge", kv: with(rating, "target", "-5", "at", "yesterday"),
			row: rowWith(func(r *domain.Row) { r.Target, r.At = "-5", "yesterday" })},
		{name: "non-ASCII text", kv: with(rating, "firm", "Société Générale 中金"),
			row: rowWith(func(r *domain.Row) { r.Firm = "Société Générale 中金" })},
		{name: "invalid UTF-8", raw: true, kv: with(rating, "firm", "Soci\xe9t\xe9"), reason: "is not text (invalid UTF-8 or NUL bytes)", jsonlField: "firm"},
		{name: "NUL byte", raw: true, kv: with(rating, "firm", "a\x00b"), reason: "is not text (invalid UTF-8 or NUL bytes)"},
	}
	for _, tt := range tests {
		for _, format := range []string{"jsonl", "csv"} {
			t.Run(tt.name+"/"+format, func(t *testing.T) {
				var input, text string
				number := 1
				if format == "jsonl" {
					input = jsonLine(tt.kv...)
					if tt.raw {
						input = rawJSONLine(tt.kv...)
					}
					text = input
				} else {
					input = csvFile(tt.kv...)
					text = strings.TrimSuffix(input[strings.IndexByte(input, '\n')+1:], "\n")
					number = 2
				}
				got := readAll(t, "rows."+format, input)
				if tt.reason != "" {
					require.Empty(t, got.lines)
					require.Len(t, got.rejects, 1)
					rej := got.rejects[0]
					assert.Equal(t, number, rej.Line)
					field := tt.field
					if format == "jsonl" && tt.jsonlField != "" {
						field = tt.jsonlField
					}
					assert.Equal(t, field, rej.Field)
					assert.Contains(t, rej.Reason, tt.reason)
					assert.Equal(t, strings.ToValidUTF8(text, "\uFFFD"), rej.Row)
					return
				}
				require.Empty(t, got.rejects)
				require.Len(t, got.lines, 1)
				assert.Equal(t, backfill.Line{Number: number, Row: tt.row, ID: tt.id, Source: tt.source, Text: text}, got.lines[0])
			})
		}
	}
}

// rawJSONLine is jsonLine without escaping, for bytes json.Marshal would
// replace.
func rawJSONLine(kv ...string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"%s":"%s"`, kv[i], kv[i+1])
	}
	b.WriteByte('}')
	return b.String()
}

func TestJSONLines(t *testing.T) {
	tests := []struct {
		name   string
		line   string
		row    domain.Row
		field  string
		reason string // a reject's reason contains it
	}{
		{name: "number as number", line: `{"type":"rating","target":165.690000}`, row: domain.Row{Type: "rating", Target: "165.690000"}},
		{name: "number as string", line: `{"type":"rating","target":"165.690000"}`, row: domain.Row{Type: "rating", Target: "165.690000"}},
		{name: "number forms kept", line: `{"type":"close","price":-0.5e+10,"target":1E2,"instrument":9988}`,
			row: domain.Row{Type: "close", Price: "-0.5e+10", Target: "1E2", Instrument: "9988"}},
		{name: "huge number kept", line: `{"type":"close","price":123456789012345678901234567890.123456789}`,
			row: domain.Row{Type: "close", Price: "123456789012345678901234567890.123456789"}},
		{name: "null is empty", line: `{"type":"rating","target":null,"firm":null}`, row: domain.Row{Type: "rating"}},
		{name: "white space", line: " \t{ \"type\" : \"close\" ,\r\"price\"\t:\t1 } \t", row: domain.Row{Type: "close", Price: "1"}},
		{name: "escapes", line: `{"type":"retract","reason":"\"q\" \\ \/ \b\f\n\r\t \u00e9\u4E2D \ud83d\ude00 \u003c"}`,
			row: domain.Row{Type: "retract", Reason: "\"q\" \\ / \b\f\n\r\t é中 😀 <"}},
		{name: "escaped key", line: `{"\u0074ype":"close"}`, row: domain.Row{Type: "close"}},
		{name: "unknown key", line: `{"type":"close","tagret":"1"}`, field: "tagret", reason: "is not an import field"},
		{name: "key in capitals", line: `{"Type":"close"}`, field: "Type", reason: "is not an import field"},
		{name: "duplicate key", line: `{"type":"close","price":"1","price":"2"}`, field: "price", reason: "is given twice"},
		{name: "duplicate key, once null", line: `{"type":"close","price":null,"price":"2"}`, field: "price", reason: "is given twice"},
		{name: "object value", line: `{"type":"close","price":{"amount":1}}`, field: "price", reason: "is an object"},
		{name: "array value", line: `{"type":"close","price":[1]}`, field: "price", reason: "is an array"},
		{name: "boolean value", line: `{"type":"close","price":true}`, field: "price", reason: "is true or false"},
		{name: "false value", line: `{"type":"close","firm":false}`, field: "firm", reason: "is true or false"},
		{name: "empty object", line: `{}`, field: "type", reason: "is required"},
		{name: "type as number", line: `{"type":1}`, field: "type", reason: "is not a row type"},
		{name: "not an object", line: `["type","close"]`, reason: "is not a JSON object"},
		{name: "a string", line: `"type"`, reason: "is not a JSON object"},
		{name: "truncated", line: `{"type":"close","price":"1`, reason: "is not valid JSON: unexpected end of JSON input"},
		{name: "trailing comma", line: `{"type":"close",}`, reason: "is not valid JSON: invalid character '}'"},
		{name: "two objects", line: `{"type":"close"}{"type":"close"}`, reason: "is not valid JSON: invalid character '{' after top-level value"},
		{name: "single quotes", line: `{'type':'close'}`, reason: "is not valid JSON"},
		{name: "bare word", line: `{"type":close}`, reason: "is not valid JSON"},
		{name: "bad escape", line: `{"type":"close","firm":"\x41"}`, reason: "is not valid JSON: invalid character 'x' in string escape code"},
		{name: "short unicode escape", line: `{"type":"close","firm":"\u41"}`, reason: "is not valid JSON"},
		{name: "raw control character", line: "{\"type\":\"close\",\"firm\":\"a\tb\"}", reason: "is not valid JSON: invalid character '\\t' in string literal"},
		{name: "leading zero", line: `{"type":"close","price":01}`, reason: "is not valid JSON"},
		{name: "leading plus", line: `{"type":"close","price":+1}`, reason: "is not valid JSON"},
		{name: "bare point", line: `{"type":"close","price":.5}`, reason: "is not valid JSON"},
		{name: "trailing point", line: `{"type":"close","price":1.}`, reason: "is not valid JSON"},
		{name: "empty exponent", line: `{"type":"close","price":1e}`, reason: "is not valid JSON"},
		{name: "NaN", line: `{"type":"close","price":NaN}`, reason: "is not valid JSON"},
		{name: "unknown key in broken line", line: `{"tagret":1,`, reason: "is not valid JSON"},
		{name: "object value in broken line", line: `{"price":{"a":1}`, reason: "is not valid JSON"},
		{name: "escaped NUL", line: `{"type":"close","firm":"a\u0000"}`, field: "firm", reason: "is not text"},
		{name: "lone high surrogate", line: `{"type":"close","firm":"\ud83d"}`, field: "firm", reason: "surrogate"},
		{name: "lone low surrogate", line: `{"type":"close","firm":"\ude00x"}`, field: "firm", reason: "surrogate"},
		{name: "high surrogate and a letter", line: `{"type":"close","firm":"\ud83d\u0041"}`, field: "firm", reason: "surrogate"},
		{name: "lone surrogate in a key", line: `{"\ud83d":"close"}`, reason: "has a key that is not text"},
		{name: "lone surrogate then bad JSON", line: `{"type":"close","firm":"\ud83d",}`, reason: "is not valid JSON"},
		{name: "long unknown key", line: `{"` + strings.Repeat("k", 500) + `":1}`, field: strings.Repeat("k", 100), reason: "is not an import field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A first row, so that a line that is not an object does not
			// look like a file holding a JSON array.
			got := readAll(t, "f.jsonl", `{"type":"close"}`+"\n"+tt.line+"\n")
			require.NotEmpty(t, got.lines)
			got.lines = got.lines[1:]
			if tt.reason == "" {
				require.Empty(t, got.rejects)
				require.Len(t, got.lines, 1)
				assert.Equal(t, tt.row, got.lines[0].Row)
				assert.Equal(t, tt.line, got.lines[0].Text)
				return
			}
			require.Empty(t, got.lines)
			require.Len(t, got.rejects, 1)
			assert.Equal(t, backfill.Reject{Line: 2, Field: tt.field, Reason: got.rejects[0].Reason, Row: tt.line}, got.rejects[0])
			assert.Contains(t, got.rejects[0].Reason, tt.reason)
			// The scanner and encoding/json agree on what is JSON.
			if strings.Contains(tt.reason, "is not valid JSON") {
				assert.False(t, json.Valid([]byte(tt.line)))
			} else {
				assert.True(t, json.Valid([]byte(tt.line)))
			}
		})
	}
}

func TestJSONLinesNumbersLinesAcrossBlankLinesAndRejects(t *testing.T) {
	input := "\xEF\xBB\xBF" + // a byte order mark, skipped
		`{"type":"close","price":"1"}` + "\r\n" +
		"\r\n" +
		"   \t \n" +
		"{broken\n" +
		"\n" +
		`{"type":"close","price":"2"}` + "\r\n" +
		`{"type":"close","price":"3"}` // no newline at the end
	got := readAll(t, "-", input)
	assert.Equal(t, backfill.JSONLines, got.reader.Format())
	assert.Equal(t, []int{1, 4, 6, 7}, got.order)
	require.Len(t, got.lines, 3)
	assert.Equal(t, `{"type":"close","price":"1"}`, got.lines[0].Text, "the BOM and \\r are not the row's")
	for i, l := range got.lines {
		assert.Equal(t, fmt.Sprint(i+1), l.Row.Price)
	}
	assert.Equal(t, "{broken", got.rejects[0].Row)
	assert.Equal(t, 7, got.reader.Lines())
	assert.Equal(t, int64(len(input)), got.reader.BytesRead())
}

func TestCSV(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		lines  []backfill.Line   // Text is not compared when empty
		reject []backfill.Reject // Reason compared by prefix
	}{
		{name: "header names any case, trimmed, any order, some columns",
			file: " Price ,TYPE,instrument\n155.44,close,BABA\n",
			lines: []backfill.Line{{Number: 2, Row: domain.Row{Type: "close", Instrument: "BABA", Price: "155.44"},
				Text: "155.44,close,BABA"}}},
		{name: "quoted fields, a newline inside",
			file: "type,instrument,reason,event_id\nretract,BABA,\"wrong \"\"target\"\",\nsee ticket\",x\nclose,BABA,,\n",
			lines: []backfill.Line{
				{Number: 2, Row: domain.Row{Type: "retract", Instrument: "BABA", Reason: "wrong \"target\",\nsee ticket", EventID: "x"},
					Text: "retract,BABA,\"wrong \"\"target\"\",\nsee ticket\",x"},
				{Number: 4, Row: domain.Row{Type: "close", Instrument: "BABA"}, Text: "close,BABA,,"}}},
		{name: "CRLF",
			file: "type,price\r\nclose,1\r\n\r\nclose,\"2\r\n3\"\r\nclose,4\r\n",
			lines: []backfill.Line{
				{Number: 2, Row: domain.Row{Type: "close", Price: "1"}, Text: "close,1"},
				{Number: 4, Row: domain.Row{Type: "close", Price: "2\n3"}, Text: "close,\"2\r\n3\""},
				{Number: 6, Row: domain.Row{Type: "close", Price: "4"}, Text: "close,4"}}},
		{name: "byte order mark", file: "\xEF\xBB\xBFtype,price\nclose,1\n",
			lines: []backfill.Line{{Number: 2, Row: domain.Row{Type: "close", Price: "1"}, Text: "close,1"}}},
		{name: "blank lines", file: "\n\ntype,price\n\nclose,1\n\n\nclose,2\n\n",
			lines: []backfill.Line{{Number: 5, Row: domain.Row{Type: "close", Price: "1"}}, {Number: 8, Row: domain.Row{Type: "close", Price: "2"}}}},
		{name: "field counts",
			file:  "type,instrument,price\nclose,BABA\nclose,BABA,1,2\nclose,BABA,1\nclose\n",
			lines: []backfill.Line{{Number: 4, Row: domain.Row{Type: "close", Instrument: "BABA", Price: "1"}}},
			reject: []backfill.Reject{
				{Line: 2, Reason: "has 2 fields, the header has 3", Row: "close,BABA"},
				{Line: 3, Reason: "has 4 fields, the header has 3", Row: "close,BABA,1,2"},
				{Line: 5, Reason: "has 1 fields, the header has 3", Row: "close"}}},
		{name: "bare quote",
			file:   "type,firm\nrating,Firm \"A\"\nclose,\n",
			lines:  []backfill.Line{{Number: 3, Row: domain.Row{Type: "close"}}},
			reject: []backfill.Reject{{Line: 2, Reason: `is not valid CSV: bare " in non-quoted-field`, Row: `rating,Firm "A"`}}},
		{name: "text after a closing quote",
			file:   "type,firm\nrating,\"A\"B\nclose,\n",
			lines:  []backfill.Line{{Number: 3, Row: domain.Row{Type: "close"}}},
			reject: []backfill.Reject{{Line: 2, Reason: `is not valid CSV: extraneous or missing " in quoted-field`, Row: `rating,"A"B`}}},
		{name: "unclosed quote",
			file:   "type,firm\nclose,\nrating,\"A\nclose,\n",
			lines:  []backfill.Line{{Number: 2, Row: domain.Row{Type: "close"}}},
			reject: []backfill.Reject{{Line: 3, Reason: `is not valid CSV: extraneous or missing " in quoted-field`, Row: "rating,\"A\nclose,"}}},
		{name: "not text",
			file:  "type,firm\nrating,\xff\xfe\nrating,a\x00b\nclose,\n",
			lines: []backfill.Line{{Number: 4, Row: domain.Row{Type: "close"}}},
			reject: []backfill.Reject{
				{Line: 2, Reason: "is not text (invalid UTF-8 or NUL bytes)", Row: "rating,\uFFFD"},
				{Line: 3, Reason: "is not text (invalid UTF-8 or NUL bytes)", Row: "rating,a\x00b"}}},
		{name: "header only", file: "type,instrument,price\n"},
		{name: "header only, no newline", file: "type,instrument,price"},
		{name: "empty", file: ""},
		{name: "blank", file: "\n\r\n\n"},
		{name: "byte order mark only", file: "\xEF\xBB\xBF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readAll(t, "f.csv", tt.file)
			assert.Equal(t, backfill.CSV, got.reader.Format())
			require.Len(t, got.lines, len(tt.lines))
			for i, want := range tt.lines {
				l := got.lines[i]
				if want.Text == "" {
					l.Text = ""
				}
				assert.Equal(t, want, l)
			}
			require.Len(t, got.rejects, len(tt.reject))
			for i, want := range tt.reject {
				rej := got.rejects[i]
				assert.Truef(t, strings.HasPrefix(rej.Reason, want.Reason), "reason %q", rej.Reason)
				rej.Reason = want.Reason
				assert.Equal(t, want, rej)
			}
			content := strings.TrimPrefix(tt.file, "\xEF\xBB\xBF")
			lines := strings.Count(content, "\n")
			if content != "" && !strings.HasSuffix(content, "\n") {
				lines++
			}
			assert.Equal(t, lines, got.reader.Lines())
			assert.Equal(t, int64(len(tt.file)), got.reader.BytesRead())
		})
	}
}

func TestCSVHeaderRefusesTheFile(t *testing.T) {
	tests := []struct{ name, file, message string }{
		{"unknown column", "type,instrument,tagret\nrating,BABA,1\n", `line 1, the CSV header: column 3, "tagret", is not an import field (the fields are type, instrument,`},
		{"no header", "rating,BABA,a@x,,buy,165.69,,USD,2025-09-11\n", `line 1, the CSV header: column 2, "BABA", is not an import field`},
		{"duplicate column", "type,Price,price\n", `line 1, the CSV header: column "price" is given twice`},
		{"no type column", "instrument,price\nBABA,1\n", "line 1, the CSV header, has no type column"},
		{"empty column", "type,,price\n", "line 1, the CSV header: column 2 has no name"},
		{"bad quoting", "type,\"price\n", "line 1, the CSV header, is not valid CSV"},
		{"not text", "type,pr\xffice\n", "line 1, the CSV header, is not text"},
		{"binary", "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", "line 1, the CSV header, is not text"},
		{"too long", "type," + strings.Repeat("x", backfill.MaxLineBytes) + "\n", "line 1, the CSV header, is longer than 1048576 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := backfill.NewReader(strings.NewReader(tt.file), "f.csv")
			require.Error(t, err)
			assert.ErrorIs(t, err, backfill.ErrBadFile)
			assert.Contains(t, err.Error(), tt.message)
		})
	}
}

func TestFormatDetection(t *testing.T) {
	jsonl := `{"type":"close","instrument":"BABA"}` + "\n"
	csvText := "type,instrument\nclose,BABA\n"
	tests := []struct {
		name, input string
		want        backfill.Format
	}{
		{"a.jsonl", csvText, backfill.JSONLines}, // the name decides
		{"a.ndjson", jsonl, backfill.JSONLines},
		{"a.json", jsonl, backfill.JSONLines},
		{"dir.d/A.JSONL", jsonl, backfill.JSONLines},
		{"a.csv", csvText, backfill.CSV},
		{"A.CSV", csvText, backfill.CSV},
		{"-", jsonl, backfill.JSONLines},
		{"-", "\xEF\xBB\xBF \n\t\r\n" + jsonl, backfill.JSONLines},
		{"-", csvText, backfill.CSV},
		{"facts.txt", jsonl, backfill.JSONLines},
		{"facts", csvText, backfill.CSV},
		{"-", strings.Repeat(" ", 100<<10) + jsonl, backfill.CSV}, // too far to look: CSV, whose header then fails
		{"-", "", backfill.CSV},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := backfill.NewReader(strings.NewReader(tt.input), tt.name)
			if err != nil {
				require.Equal(t, backfill.CSV, tt.want)
				require.ErrorIs(t, err, backfill.ErrBadFile)
				return
			}
			assert.Equal(t, tt.want, r.Format())
		})
	}
	t.Run("stdin reads rows", func(t *testing.T) {
		for _, input := range []string{jsonl, csvText} {
			got := readAll(t, "-", input)
			require.Len(t, got.lines, 1)
			assert.Equal(t, domain.Row{Type: "close", Instrument: "BABA"}, got.lines[0].Row)
		}
	})
	t.Run("JSON array", func(t *testing.T) {
		for _, name := range []string{"a.json", "-"} {
			_, err := backfill.NewReader(strings.NewReader("\n [\n"+strings.TrimSuffix(jsonl, "\n")+",\n"+jsonl+"]\n"), name)
			if name == "-" {
				require.ErrorIs(t, err, backfill.ErrBadFile) // as CSV
				continue
			}
			require.ErrorIs(t, err, backfill.ErrBadFile)
			assert.Contains(t, err.Error(), "JSON array")
		}
	})
}

func TestEmptyInput(t *testing.T) {
	for _, name := range []string{"-", "a.jsonl", "a.csv", "x"} {
		for _, input := range []string{"", "\n\n", "\xEF\xBB\xBF"} {
			got := readAll(t, name, input)
			assert.Empty(t, got.order, "%s %q", name, input)
			assert.Equal(t, int64(len(input)), got.reader.BytesRead())
		}
	}
}

// errAfter reads data and then fails.
type errAfter struct {
	data []byte
	err  error
}

func (r *errAfter) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestInputErrorsEndTheRead(t *testing.T) {
	broken := errors.New("disk on fire")
	for _, tt := range []struct {
		name, data string
		number     int // of the row read before the error
	}{
		{"a.jsonl", `{"type":"close"}` + "\n" + `{"type":"cl`, 1},
		{"a.csv", "type,price\nclose,1\nclose,", 2},
		{"b.csv", "type,price\nclose,1\nclose,\"1\n", 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := backfill.NewReader(&errAfter{data: []byte(tt.data), err: broken}, tt.name)
			require.NoError(t, err)
			l, rej, err := r.Next()
			require.NoError(t, err)
			require.Nil(t, rej)
			assert.Equal(t, tt.number, l.Number)
			_, _, err = r.Next()
			assert.ErrorIs(t, err, broken)
			_, _, err = r.Next()
			assert.ErrorIs(t, err, broken, "the error is sticky")
		})
	}
	_, err := backfill.NewReader(&errAfter{err: broken}, "-")
	assert.ErrorIs(t, err, broken)
}

// longLine streams a file whose middle line is n bytes long, without ever
// holding it.
type longLine struct {
	head, tail []byte
	fill       byte
	n          int // bytes of the long line left
}

func (r *longLine) Read(p []byte) (int, error) {
	switch {
	case len(r.head) > 0:
		n := copy(p, r.head)
		r.head = r.head[n:]
		return n, nil
	case r.n > 0:
		n := min(len(p), r.n)
		for i := range p[:n] {
			p[i] = r.fill
		}
		r.n -= n
		return n, nil
	case len(r.tail) > 0:
		n := copy(p, r.tail)
		r.tail = r.tail[n:]
		return n, nil
	}
	return 0, io.EOF
}

// longLineTest is a file with a long line between two rows.
type longLineTest struct {
	name       string
	head, tail string
	fill       byte
	number     int // the long row's
}

func TestLongLinesAreSkippedInBoundedMemory(t *testing.T) {
	tests := []longLineTest{
		{"a.jsonl", `{"type":"close","price":"1"}` + "\n" + `{"type":"close","reason":"`, `"}` + "\n" + `{"type":"close","price":"2"}` + "\n", 'x', 2},
		{"a.jsonl", `{"type":"close","price":"1"}` + "\n", "\n" + `{"type":"close","price":"2"}`, 0xff, 2}, // binary
		{"a.csv", "type,price\nclose,1\nclose,", "\r\nclose,2\n", '9', 3},
		{"a.csv", "type,price\nclose,1\nclose,\"", "\"\nclose,2\n", 'x', 3},
		// An unclosed quote makes a record of many short lines: it is cut
		// at the limit, and reading goes on after the line where it was.
		{"a.csv", "type,price\nclose,1\nclose,\"", "\nclose,2\n", '\n', 3},
	}
	// The longer line is over six times the shorter one, so memory that grew
	// with the line would show; under -short both are smaller (the 64 MB
	// line of many newlines alone takes seconds), still well past the limit.
	shorter, longer := 10<<20, 64<<20
	if testing.Short() {
		shorter, longer = 2<<20, 13<<20
	}
	for i, tt := range tests {
		allocated := map[int]uint64{}
		for _, long := range []int{shorter, longer} {
			t.Run(fmt.Sprintf("%s/%d/%dMB", tt.name, i, long>>20), func(t *testing.T) {
				allocated[long] = readLongLine(t, tt, long)
			})
		}
		// Reading costs a few buffers of MaxLineBytes (the file's,
		// encoding/csv's, the text's), whatever the line's length.
		assert.Less(t, allocated[shorter], uint64(16*backfill.MaxLineBytes), "test %d", i)
		assert.Less(t, allocated[longer], allocated[shorter]+backfill.MaxLineBytes, "test %d", i)
	}
}

// readLongLine reads the file of tt whose long line is long bytes, checks
// the rows around it, and returns the bytes allocated meanwhile.
func readLongLine(t *testing.T, tt longLineTest, long int) uint64 {
	in := &longLine{head: []byte(tt.head), tail: []byte(tt.tail), fill: tt.fill, n: long}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r, err := backfill.NewReader(in, tt.name)
	require.NoError(t, err)
	got := drain(t, r, nil) // the file is made as it is read: not kept to read back
	runtime.ReadMemStats(&after)

	require.Len(t, got.lines, 2)
	assert.Equal(t, "1", got.lines[0].Row.Price)
	assert.Equal(t, "2", got.lines[1].Row.Price)
	require.Len(t, got.rejects, 1)
	rej := got.rejects[0]
	assert.Equal(t, tt.number, rej.Line)
	assert.Equal(t, "is longer than 1048576 bytes", rej.Reason)
	assert.LessOrEqual(t, len(rej.Row), backfill.MaxRejectText)
	assert.True(t, strings.HasPrefix(rej.Row, tt.head[strings.LastIndexByte(tt.head, '\n')+1:]), "the row's start")
	assert.Equal(t, got.lines[1].Number, got.reader.Lines())
	assert.Equal(t, int64(len(tt.head)+long+len(tt.tail)), got.reader.BytesRead())
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("reading past a line of %d MB allocated %.1f MB", long>>20, float64(allocated)/(1<<20))
	return allocated
}

// TestLineLengthLimit checks that the limit counts a row's bytes without its
// line terminator.
func TestLineLengthLimit(t *testing.T) {
	for _, format := range []string{"jsonl", "csv"} {
		for _, eol := range []string{"\n", "\r\n"} {
			for _, extra := range []int{-1, 0, 1} {
				t.Run(fmt.Sprintf("%s/%q/%+d", format, eol, extra), func(t *testing.T) {
					size := backfill.MaxLineBytes + extra
					var file string
					if format == "jsonl" {
						prefix, suffix := `{"type":"retract","reason":"`, `"}`
						file = prefix + strings.Repeat("x", size-len(prefix)-len(suffix)) + suffix + eol + `{"type":"close"}` + eol
					} else {
						file = "type,reason" + eol + "retract," + strings.Repeat("x", size-len("retract,")) + eol + "close," + eol
					}
					got := readAll(t, "f."+format, file)
					if extra <= 0 {
						require.Len(t, got.lines, 2)
						assert.Equal(t, strings.Repeat("x", len(got.lines[0].Row.Reason)), got.lines[0].Row.Reason)
						assert.Len(t, got.lines[0].Text, backfill.MaxRejectText)
					} else {
						require.Len(t, got.lines, 1)
						require.Len(t, got.rejects, 1)
						assert.Equal(t, "is longer than 1048576 bytes", got.rejects[0].Reason)
						assert.Len(t, got.rejects[0].Row, backfill.MaxRejectText)
					}
					assert.Equal(t, domain.RowClose, got.lines[len(got.lines)-1].Row.Type)
				})
			}
		}
	}
}

func TestRejectTextIsCutOnACharacterBoundary(t *testing.T) {
	line := `{"type":"nope","reason":"` + strings.Repeat("中", 2000) + `"}`
	got := readAll(t, "f.jsonl", line)
	require.Len(t, got.rejects, 1)
	row := got.rejects[0].Row
	assert.LessOrEqual(t, len(row), backfill.MaxRejectText)
	assert.Greater(t, len(row), backfill.MaxRejectText-3)
	assert.True(t, strings.HasPrefix(line, row))
}

// BenchmarkReadJSONL reads a generated file of about 100,000 realistic rows
// (every row with an id, amounts as JSON numbers).
func BenchmarkReadJSONL(b *testing.B) { benchmarkRead(b, gen.JSONL, "bench.jsonl") }

// BenchmarkReadCSV reads the same rows as CSV.
func BenchmarkReadCSV(b *testing.B) { benchmarkRead(b, gen.CSV, "bench.csv") }

func benchmarkRead(b *testing.B, format gen.Format, name string) {
	var file bytes.Buffer
	_, err := gen.Generate(context.Background(), &file, gen.Config{Instruments: 36, Analysts: 150, Years: 10, Seed: 1}, format)
	require.NoError(b, err)
	b.SetBytes(int64(file.Len()))
	b.ReportAllocs()
	rows := 0
	for b.Loop() {
		r, err := backfill.NewReader(bytes.NewReader(file.Bytes()), name)
		require.NoError(b, err)
		for {
			_, rej, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil || rej != nil {
				b.Fatal(err, rej)
			}
			rows++
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows), "ns/row")
}
