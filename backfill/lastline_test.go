package backfill_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/backfill"
	"github.com/consensus-ledger/consensus/domain"
)

// cutCSV is the reason a CSV file's last row without a newline is rejected.
const cutCSV = "is the last line and has no newline at its end, so it may have been cut off " +
	"(a price of 155.44 cut to 155 still reads as a row): it is not imported; " +
	"if the row is complete, end the file with a newline"

// A file cut in the middle of its last line (a copy interrupted, a disk
// full) must not import the cut value: "155.44" cut to "155" is a valid
// price, so a CSV row counts only when a newline ends it.
func TestCSVLastLineWithoutNewlineIsRejected(t *testing.T) {
	for _, tt := range []struct{ name, file, row string }{
		{"cut inside a price", "type,instrument,price\nclose,BABA,155.44\nclose,BABA,155", "close,BABA,155"},
		{"cut inside a target", "type,instrument,target\ntarget,BABA,170\ntarget,BABA,16", "target,BABA,16"},
		{"CRLF file", "type,instrument,price\r\nclose,BABA,155.44\r\nclose,BABA,155", "close,BABA,155"},
		{"complete but unterminated", "type,instrument,price\nclose,BABA,155.44\nclose,BABA,156.10", "close,BABA,156.10"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, name := range []string{"f.csv", "-"} { // a file, and standard input
				got := readAll(t, name, tt.file)
				require.Len(t, got.lines, 1, name)
				assert.Equal(t, 2, got.lines[0].Number)
				assert.Equal(t, []backfill.Reject{{Line: 3, Reason: cutCSV, Row: tt.row}}, got.rejects, name)
			}
		})
	}
	// A cut inside a quoted field is broken CSV; it says so, and why.
	got := readAll(t, "f.csv", "type,reason,event_id\nretract,\"wrong")
	require.Len(t, got.rejects, 1)
	assert.Equal(t, `is not valid CSV: extraneous or missing " in quoted-field (column 15); `+
		`it is the last line and has no newline at its end, so the file may have been cut off`, got.rejects[0].Reason)
	// With its newline, the same row is imported.
	got = readAll(t, "f.csv", "type,instrument,price\nclose,BABA,155.44\n")
	require.Len(t, got.lines, 1)
	assert.Equal(t, domain.Row{Type: "close", Instrument: "BABA", Price: "155.44"}, got.lines[0].Row)
	assert.Empty(t, got.rejects)
}

// A JSON Lines row cut short never parses, an object ending with its
// closing brace: a complete last object without a newline is imported, and
// a cut one is rejected saying the file may have been cut off.
func TestJSONLinesLastLineWithoutNewline(t *testing.T) {
	whole := `{"type":"close","instrument":"BABA","price":"155.44"}`
	got := readAll(t, "f.jsonl", whole+"\n"+whole)
	require.Len(t, got.lines, 2)
	assert.Empty(t, got.rejects)

	for _, cut := range []string{`{"type":"close","instrument":"BABA","price":"155`, `{"type":"close","instrument":"BABA","price":155`} {
		got = readAll(t, "-", whole+"\n"+cut)
		require.Len(t, got.lines, 1)
		require.Len(t, got.rejects, 1)
		assert.Equal(t, 2, got.rejects[0].Line)
		assert.Equal(t, fmt.Sprintf("is not valid JSON: unexpected end of JSON input (after byte %d); ", len(cut))+
			"it is the last line and has no newline at its end, so the file may have been cut off", got.rejects[0].Reason)
	}
	// A broken line that a newline ends is not called cut.
	got = readAll(t, "f.jsonl", `{"type":"close","price":"155`+"\n")
	require.Len(t, got.rejects, 1)
	assert.Equal(t, "is not valid JSON: unexpected end of JSON input (after byte 28)", got.rejects[0].Reason)
}
