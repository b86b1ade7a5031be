package backfill_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/backfill"
	"github.com/consensus-ledger/consensus/domain"
)

// TestSplitRowsAreRead: both readers map a split row's ratio (a JSON string
// or number, a CSV column the header check accepts) into domain.Row, and an
// unknown column next to it still refuses the file naming the fields,
// ratio among them.
func TestSplitRowsAreRead(t *testing.T) {
	want := domain.Row{Type: "split", Instrument: "BABA", Ratio: "4:1", At: "2025-09-15"}
	for name, input := range map[string]string{
		"rows.jsonl": `{"type":"split","instrument":"BABA","ratio":"4:1","at":"2025-09-15"}` + "\n",
		"rows.csv":   "type,instrument,ratio,at\nsplit,BABA,4:1,2025-09-15\n",
	} {
		t.Run(name, func(t *testing.T) {
			got := readAll(t, name, input)
			require.Empty(t, got.rejects)
			require.Len(t, got.lines, 1)
			assert.Equal(t, want, got.lines[0].Row)
		})
	}
	// A JSON number is kept as its text, and judged by ParseRatio later.
	got := readAll(t, "rows.jsonl", `{"type":"split","instrument":"BABA","ratio":4,"at":"2025-09-15"}`+"\n")
	require.Len(t, got.lines, 1)
	assert.Equal(t, "4", got.lines[0].Row.Ratio)

	_, err := backfill.NewReader(strings.NewReader("type,instrument,ratios,at\nsplit,BABA,4:1,2025-09-15\n"), "rows.csv")
	require.ErrorIs(t, err, backfill.ErrBadFile)
	assert.Contains(t, err.Error(), `column 3, "ratios", is not an import field (the fields are type, instrument, analyst, firm, rating, target, price, currency, at, id, event_id, reason, source, ratio)`)
}
