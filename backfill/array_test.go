package backfill_test

import (
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/backfill"
)

// arrayResult is one row an ArrayReader or a Reader returned: a line or a
// reject.
type arrayResult struct {
	Line   backfill.Line
	Reject *backfill.Reject
}

// readArray reads body to its end: the rows, and the error that ended the
// read (nil for the end of the array).
func readArray(t testing.TB, body string) ([]arrayResult, error) {
	t.Helper()
	ar := backfill.NewArrayReader(strings.NewReader(body))
	var got []arrayResult
	for {
		l, rej, err := ar.Next()
		if err != nil {
			_, _, again := ar.Next()
			require.Equal(t, err, again, "the error that ended the read is sticky")
			if errors.Is(err, io.EOF) {
				return got, nil
			}
			return got, err
		}
		if rej != nil {
			require.Equal(t, backfill.Line{}, l, "a reject comes with no line")
		}
		got = append(got, arrayResult{l, rej})
		require.Equal(t, len(got), ar.Rows())
	}
}

// readLines reads rows as the lines of a JSON Lines file, in the same
// form. The file begins with a line of its own, so that a file whose first
// row is an array is not refused whole; its reject is left out, and the
// rows' lines counted from 1 after it.
func readLines(t testing.TB, rows ...string) []arrayResult {
	t.Helper()
	got := readAll(t, "rows.jsonl", "{}\n"+strings.Join(rows, "\n")+"\n")
	require.Equal(t, 1, got.rejects[0].Line)
	got.rejects = got.rejects[1:]
	got.order = got.order[1:]
	for i := range got.rejects {
		got.rejects[i].Line--
	}
	for i := range got.lines {
		got.lines[i].Number--
	}
	results := make([]arrayResult, 0, len(got.order))
	lines, rejects := got.lines, got.rejects
	for range got.order {
		if len(rejects) > 0 && (len(lines) == 0 || rejects[0].Line < lines[0].Number) {
			results = append(results, arrayResult{Reject: &rejects[0]})
			rejects = rejects[1:]
			continue
		}
		results = append(results, arrayResult{Line: lines[0]})
		lines = lines[1:]
	}
	return results
}

func TestArrayReader(t *testing.T) {
	const close1 = `{"type":"close","instrument":"BABA","price":155.44,"currency":"USD","at":"2025-09-11"}`
	for _, c := range []struct {
		name, body string
		rows       int    // rows read before the end
		rejects    string // the rows' rejects, as ReaderSentence gives them, by row
		err        string // "" for the array's end
	}{
		{name: "one row", body: `[` + close1 + `]`, rows: 1},
		{name: "white space and newlines inside rows", body: " \n[\n " + strings.ReplaceAll(close1, ",", ",\n\t") + " ,\r\n" + close1 + "\n]\n ", rows: 2},
		{name: "empty array", body: `[ ]`},
		{name: "not an array", body: close1, err: backfill.ErrNotArray.Error()},
		{name: "empty input", body: ``, err: backfill.ErrNotArray.Error()},
		{name: "a byte order mark", body: "\uFEFF[]", err: backfill.ErrNotArray.Error()},
		{name: "not closed", body: `[` + close1, rows: 1, err: "the JSON array of rows is not closed"},
		{name: "not closed after a comma", body: `[` + close1 + `,`, rows: 1, err: "the JSON array of rows is not closed"},
		{name: "row cut short", body: `[{"type":"close","price":"1`, err: "row 1 is not valid JSON: unexpected end of JSON input"},
		{name: "two arrays", body: `[` + close1 + `][]`, rows: 1, err: `the input holds more than one JSON array: '[' follows the end of the first`},
		{name: "no comma", body: `[` + close1 + ` ` + close1 + `]`, rows: 1, err: `row 1 is followed by '{', not by a comma or the end of the array`},
		{name: "trailing comma", body: `[` + close1 + `,]`, rows: 1, err: "row 2 is missing: the array holds two commas in a row, or a comma before its end"},
		{name: "row not JSON", body: `[` + close1 + `,{"type":close}]`, rows: 1,
			err: "row 2 is not valid JSON: invalid character 'c' looking for beginning of value (after byte 9)"},
		{name: "rows with faults are rows", body: `[1, "x", [2], {"type":true}, {"type":"close","type":"close"}, {"tagret":1}, {"type":"close","id":"nope"},` +
			`{"type":"close","firm":"a\u0000b"}, {"type":"close","firm":"Soci` + "\xe9" + `t` + "\xe9" + `"}, {"firm":"]}\"{["},` + "{\"type\":\"close\",\"firm\":\"a\x00b\"}]",
			rows: 11,
			rejects: "1: the row is not a JSON object|2: the row is not a JSON object|3: the row is not a JSON object|" +
				"4: type is true or false; give a string or a number|5: type is given twice|6: tagret is not an import field|" +
				`7: id is not a UUID: "nope"|` + "8: firm is not text (invalid UTF-8 or NUL bytes)|9: firm is not text (invalid UTF-8 or NUL bytes)|10: type is required|" +
				"11: the row is not text (invalid UTF-8 or NUL bytes)"},
		{name: "row longer than a line may be", body: `[{"type":"close","reason":"` + strings.Repeat("x", backfill.MaxLineBytes) + `"},` + close1 + `]`,
			rows: 2, rejects: "1: the row is longer than 1048576 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := readArray(t, c.body)
			if c.err == "" {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
				assert.Equal(t, c.err, err.Error())
			}
			require.Len(t, got, c.rows)
			var rejects []string
			for i, r := range got {
				if r.Reject != nil {
					assert.Equal(t, i+1, r.Reject.Line)
					rejects = append(rejects, strings.Join([]string{itoa(i + 1), backfill.ReaderSentence(r.Reject)}, ": "))
				} else {
					assert.Equal(t, i+1, r.Line.Number)
				}
			}
			assert.Equal(t, c.rejects, strings.Join(rejects, "|"))
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestArrayReaderKeepsTheRowsText: a row's text is its element's bytes,
// cut as a JSON Lines reject's is.
func TestArrayReaderKeepsTheRowsText(t *testing.T) {
	long := `{"type":"close","instrument":"BABA","reason":"` + strings.Repeat("é", 600) + `"}`
	got, err := readArray(t, "[\n"+long+"\n]")
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, cutText(long), got[0].Line.Text)
	assert.Len(t, got[0].Line.Text, 1024)
	assert.Equal(t, strings.Repeat("é", 600), got[0].Line.Row.Reason)
}

// TestArrayRowsReadAsJSONLines is the property of the one row reader: the
// same random rows, written as a JSON Lines file and as a JSON array, are
// read as the same rows (values, ids, sources, text) or refused with the
// same reject; a row that is not JSON at all, which ends the reading of an
// array, is named there with the reason its line's reject gives. Rows keep
// their brackets and quotes balanced, so that each is one element of the
// array (unbalanced ones are TestArrayReader's).
func TestArrayRowsReadAsJSONLines(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 2026))
	rounds := 400
	if testing.Short() {
		rounds = 60
	}
	for round := range rounds {
		rows := make([]string, 1+rng.IntN(8))
		for i := range rows {
			rows[i] = randomRow(rng)
		}
		lines := readLines(t, rows...)
		got, err := readArray(t, "["+strings.Join(rows, ", ")+"]")
		require.Len(t, lines, len(rows), "round %d: one result a line", round)
		end := len(lines)
		for i, l := range lines {
			if l.Reject != nil && strings.HasPrefix(l.Reject.Reason, "is not valid JSON") {
				end = i
				var syntax *backfill.ArraySyntaxError
				require.ErrorAs(t, err, &syntax, "round %d, row %d: %s", round, i+1, rows[i])
				assert.Equal(t, backfill.ArraySyntaxError{Row: i + 1, Reason: l.Reject.Reason}, *syntax, "round %d: %s", round, rows[i])
				break
			}
		}
		if end == len(lines) {
			require.NoError(t, err, "round %d: %s", round, strings.Join(rows, "\n"))
		}
		require.Len(t, got, end, "round %d", round)
		if end > 0 {
			assert.Equal(t, lines[:end], got, "round %d:\n%s", round, strings.Join(rows, "\n"))
		}
	}
}

// randomRow writes one row object, or something else, from pieces that
// exercise the reader's rules: import fields and others, escaped keys,
// every kind of value, escapes that make no text, invalid UTF-8, numbers
// with exponents, and syntax faults that keep brackets balanced.
func randomRow(rng *rand.Rand) string {
	keys := []string{"type", "type", "instrument", "analyst", "firm", "rating", "target", "price", "currency", "at", "id",
		"event_id", "reason", "source", "tagret", "Type", `\u0074ype`, `pri\"ce`}
	values := []string{`"rating"`, `"close"`, `"retract"`, `"upgrade"`, `"BABA"`, `"a@x"`, `"buy"`, `"USD"`, `"2025-09-11"`,
		`155.44`, `-0.5`, `1e3`, `0`, `null`, `true`, `false`, `{"a":[1]}`, `[1,"]"]`, `"a\"b"`, `"x\u0000y"`, `"\ud800"`,
		`"\ud83d\ude00"`, `"caf\u00e9"`, `"{[,"`, "\"Soci\xe9t\xe9\"", `"0199a000-0000-7000-8000-000000000001"`,
		`"00000000-0000-0000-0000-000000000000"`, `"nope"`, `""`, `01`, `'x'`, `bare`, `"tab\there"`, `1.`, `-`}
	switch rng.IntN(20) {
	case 0:
		return []string{`1`, `"x"`, `true`, `[1]`, `null`, `{}`}[rng.IntN(6)]
	case 1:
		return `{"type":"close",}`
	case 2:
		return `{"type" "close"}`
	}
	var b strings.Builder
	b.WriteString("{")
	n := rng.IntN(7)
	for i := range n {
		if i > 0 {
			b.WriteString([]string{",", ", ", " ,\t"}[rng.IntN(3)])
		}
		key := keys[rng.IntN(len(keys))]
		value := values[rng.IntN(len(values))]
		if key == "type" && rng.IntN(2) == 0 {
			value = []string{`"rating"`, `"target"`, `"withdraw"`, `"close"`, `"retract"`}[rng.IntN(5)]
		}
		b.WriteString(`"` + key + `"` + []string{":", " : "}[rng.IntN(2)] + value)
	}
	b.WriteString("}")
	return b.String()
}

// FuzzReadArray reads arbitrary bodies as JSON arrays of rows. The reader
// never fails on a body encoding/json accepts as an array whose elements
// fit in a line, and reads each element as the JSON Lines reader reads it
// on a line of its own; a body it reads to the end is valid JSON, unless a
// row of it was refused as not text (a NUL byte, which JSON forbids raw).
func FuzzReadArray(f *testing.F) {
	f.Add([]byte(`[{"type":"close","instrument":"BABA","price":155.44,"currency":"USD","at":"2025-09-11"}]`))
	f.Add([]byte(`[1, "x", [2], {"type":true}, {"type":"close","type":"close"}, {"firm":"]}\"{["}]`))
	f.Add([]byte("[\n {\"type\":\"close\",\n  \"firm\":\"a\\u0000b\"} ,{} ]\n"))
	f.Add([]byte(`[{"type":"close"},]`))
	f.Add([]byte(`[{"type":close}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := readArray(t, string(body))
		var elements []json.RawMessage
		// Not null (with white space around it or not), which Unmarshal
		// takes for an empty array: the reader wants an array.
		if json.Unmarshal(body, &elements) == nil && strings.TrimSpace(string(body)) != "null" {
			fits := true
			for _, e := range elements {
				fits = fits && len(e) <= backfill.MaxLineBytes
			}
			if fits {
				require.NoError(t, err, "a valid array is read to its end")
				require.Len(t, got, len(elements))
				for i, e := range elements {
					if strings.ContainsAny(string(e), "\r\n") {
						continue // white space a line cannot hold
					}
					want := readLines(t, string(e))
					require.Len(t, want, 1)
					if want[0].Reject != nil {
						want[0].Reject.Line = i + 1
					} else {
						want[0].Line.Number = i + 1
					}
					assert.Equal(t, want[0], got[i], "element %d: %s", i, e)
				}
			}
		}
		if err == nil && !json.Valid(body) {
			notText := false
			for _, r := range got {
				notText = notText || r.Reject != nil && strings.Contains(r.Reject.Reason, "is not text")
			}
			assert.True(t, notText, "an invalid body was read to its end: %q", body)
		}
	})
}
