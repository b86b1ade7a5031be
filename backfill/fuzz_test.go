package backfill_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/backfill"
	"github.com/consensus-ledger/consensus/domain"
)

// The fuzz targets take a file to read and the fields of one row (in the
// order of fields) to write, read back and compare. Their corpora are in
// testdata/fuzz.

// FuzzReadJSONL reads arbitrary files as JSON Lines, checking the reader
// against encoding/json line by line, and round-trips a row written with
// json.Marshal.
func FuzzReadJSONL(f *testing.F) {
	f.Add([]byte(`{"type":"close","instrument":"BABA","price":155.44,"currency":"USD","at":"2025-09-11"}`+"\n"),
		"rating", "BABA", "a@x", "Firm", "buy", "165.690000", "", "USD", "2025-09-11", "", "", "", "")
	// A file cut inside its last row; an NFD analyst and firm at a leap second.
	f.Add([]byte(`{"type":"close","instrument":"BABA","price":155.44,"currency":"USD","at":"2025-09-11"}`+"\n"+`{"type":"close","price":155`),
		"rating", "BABA", "rene\u0301@x", "Soci\u0065\u0301t\u0065\u0301", "buy", "1", "", "USD", "2016-12-31T23:59:60Z", "", "", "", "")
	f.Add([]byte(`{"type":"retract","event_id":"0199a000-0000-7000-8000-000000000001","reason":"typo"}`),
		"retract", "", "", "", "", "", "", "", "", "", "0199a000-0000-7000-8000-000000000001", "typo", "")
	f.Fuzz(func(t *testing.T, file []byte, typ, instrument, analyst, firm, rating, target, price, currency, at, id,
		eventID, reason, source string) {
		checkJSONLFile(t, file)
		values := []string{typ, instrument, analyst, firm, rating, target, price, currency, at, id, eventID, reason, source}
		if !roundTrips(values) {
			return
		}
		line := marshalRow(values)
		got := readAll(t, "row.jsonl", string(line)+"\n")
		checkRow(t, values, 1, cutText(string(line)), got)
	})
}

// FuzzReadCSV reads arbitrary files as CSV, checking the reader against
// encoding/csv record by record, and round-trips a row written with
// csv.Writer.
func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("type,instrument,price,currency,at\nclose,BABA,155.44,USD,2025-09-11\n"),
		"rating", "BABA", "a@x", "Firm", "buy", "165.690000", "", "USD", "2025-09-11", "", "", "", "")
	// A file cut inside its last row; an NFD analyst and firm at a leap second.
	f.Add([]byte("type,instrument,price,currency,at\nclose,BABA,155.44,USD,2025-09-11\nclose,BABA,155"),
		"rating", "BABA", "rene\u0301@x", "Soci\u0065\u0301t\u0065\u0301", "buy", "1", "", "USD", "2016-12-31T23:59:60Z", "", "", "", "")
	f.Add([]byte("type,event_id,reason\nretract,0199a000-0000-7000-8000-000000000001,\"typo"),
		"retract", "", "", "", "", "", "", "", "", "", "0199a000-0000-7000-8000-000000000001", "typo", "")
	f.Fuzz(func(t *testing.T, file []byte, typ, instrument, analyst, firm, rating, target, price, currency, at, id,
		eventID, reason, source string) {
		checkCSVFile(t, file)
		values := []string{typ, instrument, analyst, firm, rating, target, price, currency, at, id, eventID, reason, source}
		if !roundTrips(values) {
			return
		}
		for _, v := range values {
			if strings.Contains(v, "\r\n") { // encoding/csv reads it as "\n"
				return
			}
		}
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		require.NoError(t, w.Write(fields))
		require.NoError(t, w.Write(values))
		w.Flush()
		file = b.Bytes()
		record := strings.TrimSuffix(string(file[bytes.IndexByte(file, '\n')+1:]), "\n")
		checkRow(t, values, 2, cutText(record), readAll(t, "row.csv", string(file)))
	})
}

// roundTrips reports whether values can be written and read back unchanged:
// text without NUL bytes.
func roundTrips(values []string) bool {
	for _, v := range values {
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return false
		}
	}
	return true
}

// marshalRow writes values as a JSON object with json.Marshal: a value that
// is a JSON number as a number, an empty one as null or not at all.
func marshalRow(values []string) []byte {
	obj := make(map[string]json.RawMessage)
	for i, v := range values {
		switch {
		case v == "" && i%2 == 0:
		case v == "":
			obj[fields[i]] = json.RawMessage("null")
		case isJSONNumber(v):
			obj[fields[i]] = json.RawMessage(v)
		default:
			obj[fields[i]], _ = json.Marshal(v)
		}
	}
	line, err := json.Marshal(obj)
	if err != nil {
		panic(err)
	}
	return line
}

func isJSONNumber(s string) bool {
	var n json.Number
	return s != "" && (s[0] == '-' || '0' <= s[0] && s[0] <= '9') && strings.TrimSpace(s) == s &&
		json.Valid([]byte(s)) && json.Unmarshal([]byte(s), &n) == nil
}

// checkRow checks that what was read from a file holding one row of values
// is that row, or the right reject.
func checkRow(t *testing.T, values []string, number int, text string, got read) {
	t.Helper()
	want, rej := expectRow(values)
	if rej.Reason != "" {
		require.Empty(t, got.lines)
		require.Len(t, got.rejects, 1)
		assert.Equal(t, number, got.rejects[0].Line)
		assert.Equal(t, rej.Field, got.rejects[0].Field)
		assert.Contains(t, got.rejects[0].Reason, rej.Reason)
		assert.Equal(t, text, got.rejects[0].Row)
		return
	}
	require.Empty(t, got.rejects)
	require.Len(t, got.lines, 1)
	want.Number, want.Text = number, text
	assert.Equal(t, want, got.lines[0])
}

// expectRow returns the Line that values make, or the Reject.
func expectRow(values []string) (backfill.Line, backfill.Reject) {
	v := func(name string) string {
		for i, f := range fields {
			if f == name {
				return values[i]
			}
		}
		panic(name)
	}
	switch v("type") {
	case domain.RowRating, domain.RowTarget, domain.RowWithdraw, domain.RowClose, domain.RowRetract:
	case "":
		return backfill.Line{}, backfill.Reject{Field: "type", Reason: "is required"}
	default:
		return backfill.Line{}, backfill.Reject{Field: "type", Reason: "is not a row type"}
	}
	var id uuid.UUID
	if s := v("id"); s != "" {
		var err error
		if id, err = uuid.Parse(s); err != nil {
			return backfill.Line{}, backfill.Reject{Field: "id", Reason: "is not a UUID"}
		}
		if id == uuid.Nil {
			return backfill.Line{}, backfill.Reject{Field: "id", Reason: "is the nil UUID"}
		}
	}
	return backfill.Line{
		Row: domain.Row{Type: v("type"), Instrument: v("instrument"), Analyst: v("analyst"), Firm: v("firm"),
			Rating: v("rating"), Target: v("target"), Price: v("price"), Currency: v("currency"), At: v("at"),
			EventID: v("event_id"), Reason: v("reason")},
		ID:     id,
		Source: v("source"),
	}, backfill.Reject{}
}

// cutText is a row's text as Lines and Rejects keep it. The bytes are cut
// before invalid UTF-8 is replaced, as the reader must: of a long line it
// holds only the first MaxRejectText bytes (and a character's worth more),
// so a run of invalid bytes past them never reaches the text.
func cutText(s string) string {
	if len(s) > backfill.MaxRejectText {
		n := backfill.MaxRejectText
		for i := n; i > n-utf8.UTFMax; i-- {
			if utf8.RuneStart(s[i]) {
				n = i
				break
			}
		}
		s = s[:n]
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return cut(s, backfill.MaxRejectText)
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// readChecked reads r, the reader of file, to its end, checking what holds
// for every file: line numbers increase, texts are short and valid, each
// line's text reads back from the file through its place, and the counts of
// lines and bytes at the end are the file's. content is the file without
// its byte order mark.
func readChecked(t *testing.T, r *backfill.Reader, file, content []byte) read {
	t.Helper()
	size := len(file)
	got := drain(t, r, file)
	last := 0
	for _, n := range got.order {
		require.Greater(t, n, last, "line numbers increase")
		last = n
	}
	for _, l := range got.lines {
		require.True(t, utf8.ValidString(l.Text) && len(l.Text) <= backfill.MaxRejectText)
	}
	for _, rej := range got.rejects {
		require.True(t, utf8.ValidString(rej.Row) && len(rej.Row) <= backfill.MaxRejectText)
		require.NotEmpty(t, rej.Reason)
	}
	lines := bytes.Count(content, []byte{'\n'})
	if len(content) > 0 && content[len(content)-1] != '\n' {
		lines++
	}
	require.LessOrEqual(t, last, lines)
	require.Equal(t, lines, r.Lines())
	require.Equal(t, int64(size), r.BytesRead())
	return got
}

var surrogateEscape = regexp.MustCompile(`\\u[dD][89a-fA-F][0-9a-fA-F]{2}`)

// checkJSONLFile reads file as JSON Lines and compares each line with what
// encoding/json makes of it.
func checkJSONLFile(t *testing.T, file []byte) {
	r, err := backfill.NewReader(bytes.NewReader(file), "f.jsonl")
	if err != nil {
		require.ErrorIs(t, err, backfill.ErrBadFile)
		return
	}
	content := bytes.TrimPrefix(file, []byte("\xEF\xBB\xBF"))
	got := readChecked(t, r, file, content)
	byLine := make(map[int]any)
	for _, l := range got.lines {
		byLine[l.Number] = l
	}
	for _, rej := range got.rejects {
		byLine[rej.Line] = rej
	}
	for i, line := range bytes.Split(content, []byte{'\n'}) {
		number := i + 1
		line = bytes.TrimSuffix(line, []byte{'\r'})
		result, found := byLine[number]
		if len(line) > backfill.MaxLineBytes {
			continue
		}
		if len(bytes.Trim(line, " \t\r")) == 0 {
			require.False(t, found, "line %d is blank", number)
			continue
		}
		require.True(t, found, "line %d", number)
		want, rej := decodeJSONLine(line)
		if got, ok := result.(backfill.Reject); ok && strings.Contains(got.Reason, "surrogate") {
			// encoding/json turns half a surrogate pair into U+FFFD.
			require.Regexp(t, surrogateEscape, string(line))
			continue
		}
		if rej.Reason != "" {
			got, ok := result.(backfill.Reject)
			require.Truef(t, ok, "line %d %q: want reject %+v, got %+v", number, line, rej, result)
			assert.Equal(t, rej.Field, got.Field, "line %d %q: %+v", number, line, got)
			assert.True(t, strings.HasPrefix(got.Reason, rej.Reason), "line %d %q: %q, want %q", number, line, got.Reason, rej.Reason)
			assert.Equal(t, cutText(string(line)), got.Row)
			continue
		}
		l, ok := result.(backfill.Line)
		require.Truef(t, ok, "line %d %q: want a row, got %+v", number, line, result)
		want.Number, want.Text = number, cutText(string(line))
		assert.Equal(t, want, l)
	}
}

// decodeJSONLine is the reader's rules for one line, applied with
// encoding/json.
func decodeJSONLine(line []byte) (backfill.Line, backfill.Reject) {
	const notText = "is not text (invalid UTF-8 or NUL bytes)"
	if bytes.IndexByte(line, 0) >= 0 || !utf8.Valid(line) {
		return backfill.Line{}, backfill.Reject{Field: notTextField(line), Reason: notText}
	}
	if !json.Valid(line) {
		return backfill.Line{}, backfill.Reject{Reason: "is not valid JSON"}
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if tok, _ := dec.Token(); tok != json.Delim('{') {
		return backfill.Line{}, backfill.Reject{Reason: "is not a JSON object"}
	}
	values := make([]string, len(fields))
	seen := make(map[string]bool)
	for dec.More() {
		tok, _ := dec.Token()
		key := tok.(string)
		i := fieldIndex(key)
		switch {
		case strings.ContainsRune(key, 0):
			return backfill.Line{}, backfill.Reject{Reason: "has a key that is not text"}
		case i < 0:
			return backfill.Line{}, backfill.Reject{Field: cut(key, 100), Reason: "is not an import field"}
		case seen[key]:
			return backfill.Line{}, backfill.Reject{Field: key, Reason: "is given twice"}
		}
		seen[key] = true
		tok, _ = dec.Token()
		switch v := tok.(type) {
		case nil:
		case string:
			if strings.ContainsRune(v, 0) {
				return backfill.Line{}, backfill.Reject{Field: key, Reason: notText}
			}
			values[i] = v
		case json.Number:
			values[i] = string(v)
		case bool:
			return backfill.Line{}, backfill.Reject{Field: key, Reason: "is true or false"}
		case json.Delim:
			if v == '{' {
				return backfill.Line{}, backfill.Reject{Field: key, Reason: "is an object"}
			}
			return backfill.Line{}, backfill.Reject{Field: key, Reason: "is an array"}
		}
	}
	return expectRow(values)
}

// notTextField is the field a line that is not text is rejected for: the
// first whose value holds invalid UTF-8, when the line is otherwise an
// object of import fields, each once, with values that are text, numbers or
// null; "" otherwise.
func notTextField(line []byte) string {
	if !json.Valid(line) {
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if tok, _ := dec.Token(); tok != json.Delim('{') {
		return ""
	}
	first := ""
	seen := make(map[string]bool)
	for dec.More() {
		tok, _ := dec.Token()
		key := tok.(string)
		if fieldIndex(key) < 0 || seen[key] || strings.ContainsRune(key, 0) {
			return ""
		}
		seen[key] = true
		before := dec.InputOffset()
		tok, _ = dec.Token()
		raw := line[before:dec.InputOffset()]
		switch v := tok.(type) {
		case string:
			if strings.ContainsRune(v, 0) || hasLoneSurrogate(raw) {
				return ""
			}
		case nil, json.Number:
		default: // a boolean, an object or an array
			return ""
		}
		if first == "" && !utf8.Valid(raw) {
			first = key
		}
	}
	return first
}

// hasLoneSurrogate reports whether JSON text escapes half of a UTF-16
// surrogate pair, which the reader refuses and encoding/json replaces.
func hasLoneSurrogate(raw []byte) bool {
	hex := func(i int) int {
		if i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
			return -1
		}
		v, err := strconv.ParseUint(string(raw[i+2:i+6]), 16, 16)
		if err != nil {
			return -1
		}
		return int(v)
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		r := hex(i)
		switch {
		case r < 0:
			i++ // another escape: skip its letter
		case 0xD800 <= r && r < 0xDC00:
			if r2 := hex(i + 6); r2 < 0xDC00 || r2 > 0xDFFF {
				return true
			}
			i += 11
		case 0xDC00 <= r && r <= 0xDFFF:
			return true
		default:
			i += 5
		}
	}
	return false
}

func fieldIndex(name string) int {
	for i, f := range fields {
		if f == name {
			return i
		}
	}
	return -1
}

// checkCSVFile reads file as CSV and compares each record with what
// encoding/csv makes of it.
func checkCSVFile(t *testing.T, file []byte) {
	if len(file) > backfill.MaxLineBytes {
		return // records may be too long; TestLongLinesAreSkippedInBoundedMemory has them
	}
	content := bytes.TrimPrefix(file, []byte("\xEF\xBB\xBF"))
	oracle := csv.NewReader(bytes.NewReader(content))
	oracle.FieldsPerRecord = -1
	header, err := oracle.Read()
	headerText := content[:oracle.InputOffset()]
	r, rerr := backfill.NewReader(bytes.NewReader(file), "f.csv")
	if err == io.EOF {
		require.NoError(t, rerr)
		got := readChecked(t, r, file, content)
		require.Empty(t, got.order)
		return
	}
	cols, ok := csvColumns(header)
	if !ok || err != nil || !isText(headerText) {
		require.ErrorIs(t, rerr, backfill.ErrBadFile, "header %q", headerText)
		return
	}
	require.NoError(t, rerr, "header %q", headerText)
	got := readChecked(t, r, file, content)
	i := 0
	for {
		start := oracle.InputOffset()
		record, err := oracle.Read()
		if err == io.EOF {
			break
		}
		region := content[start:oracle.InputOffset()]
		var want any
		var parse *csv.ParseError
		switch {
		case errors.As(err, &parse):
			want = backfill.Reject{Line: parse.StartLine, Reason: "is not valid CSV"}
		case err != nil:
			t.Fatal(err)
		}
		// After a parse error the record may hold no field, and FieldPos
		// panics on a field that is not there.
		var number int
		if parse != nil {
			number = parse.StartLine
		} else {
			number, _ = oracle.FieldPos(0)
		}
		switch {
		case !isText(region):
			want = backfill.Reject{Reason: "is not text (invalid UTF-8 or NUL bytes)"}
		case parse != nil:
		case !bytes.HasSuffix(region, []byte("\n")):
			// The last row without a newline may have been cut off.
			want = backfill.Reject{Reason: "is the last line and has no newline at its end"}
		case len(record) != len(cols):
			want = backfill.Reject{Reason: "has "}
		default:
			values := make([]string, len(fields))
			for j, f := range cols {
				values[f] = record[j]
			}
			l, rej := expectRow(values)
			want = l
			if rej.Reason != "" {
				want = rej
			}
		}
		require.Less(t, i, len(got.order), "record at line %d", number)
		require.Equal(t, number, got.order[i], "record %d", i)
		text := cutText(string(recordText(region)))
		if rej, ok := want.(backfill.Reject); ok {
			got := got.rejects[0]
			require.Equal(t, number, got.Line)
			assert.Equal(t, rej.Field, got.Field)
			assert.True(t, strings.HasPrefix(got.Reason, rej.Reason), "%q, want %q", got.Reason, rej.Reason)
			assert.Equal(t, text, got.Row)
		} else {
			l := want.(backfill.Line)
			l.Number, l.Text = number, text
			assert.Equal(t, l, got.lines[0])
		}
		if _, ok := want.(backfill.Reject); ok {
			got.rejects = got.rejects[1:]
		} else {
			got.lines = got.lines[1:]
		}
		i++
	}
	require.Len(t, got.order, i)
}

// csvColumns maps a header to field indexes as the reader's rules say.
func csvColumns(header []string) ([]int, bool) {
	cols := make([]int, len(header))
	seen := make(map[int]bool)
	for i, name := range header {
		f := fieldIndex(strings.ToLower(strings.TrimSpace(name)))
		if f < 0 || seen[f] {
			return nil, false
		}
		seen[f] = true
		cols[i] = f
	}
	return cols, seen[0]
}

// recordText is a record's text: without the blank lines encoding/csv skips
// before it and without its terminator.
func recordText(region []byte) []byte {
	for {
		switch {
		case bytes.HasPrefix(region, []byte("\n")):
			region = region[1:]
		case bytes.HasPrefix(region, []byte("\r\n")):
			region = region[2:]
		default:
			region = bytes.TrimSuffix(region, []byte("\n"))
			return bytes.TrimSuffix(region, []byte("\r"))
		}
	}
}

func isText(b []byte) bool { return bytes.IndexByte(b, 0) < 0 && utf8.Valid(b) }
