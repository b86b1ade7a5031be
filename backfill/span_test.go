package backfill

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// spanFile is a JSON Lines file whose rows are rejected only once judged,
// after the sort: a revision whose rating the file retracts, a retraction
// of an unknown event, a second retraction, an id taken by another
// instrument, and a row with a multi-byte character across the cut of a
// reject's text; with a BOM, CRLF line ends and a blank line.
func spanFile(t *testing.T) (path string, lines []string) {
	rating, taken := "0199a000-0000-7000-8000-000000000001", "0199a000-0000-7000-8000-000000000002"
	// The reason's first é takes the cut's last byte and the one after.
	long := strings.Repeat("x", MaxRejectText-1-len(`{"type":"retract","instrument":"BABA","event_id":"`+rating+`","reason":"`)) + "\u00e9\u00e9\u00e9"
	lines = []string{
		`{"type":"rating","instrument":"BABA","analyst":"a@x","rating":"buy","target":"170","currency":"USD","at":"2025-09-01","id":"` + rating + `"}`,
		`{"type":"close","instrument":"MSFT","price":"400","currency":"USD","at":"2025-09-01","id":"` + taken + `"}`,
		`{"type":"retract","instrument":"BABA","event_id":"` + rating + `","reason":"wrong analyst"}`,
		`{"type":"target","instrument":"BABA","analyst":"a@x","target":"165","currency":"USD","at":"2025-09-03"}`,
		`{"type":"retract","instrument":"BABA","event_id":"` + uuid.NewString() + `","reason":"unknown"}`,
		`{"type":"retract","instrument":"BABA","event_id":"` + rating + `","reason":"` + long + `"}`,
		`{"type":"close","instrument":"BABA","price":"155","currency":"USD","at":"2025-09-02","id":"` + taken + `"}`,
	}
	path = filepath.Join(t.TempDir(), "rows.jsonl")
	content := "\xEF\xBB\xBF" + strings.Join(lines[:3], "\r\n") + "\r\n\r\n" + strings.Join(lines[3:], "\n") + "\n"
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path, lines
}

// readFile reads the file at path for an import, through its place in the
// file when placed.
func readFile(t *testing.T, path string, placed bool, rejects *[]Reject) *Sorted {
	f, err := os.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	r, err := NewReader(f, path)
	require.NoError(t, err)
	opts := Options{Now: func() time.Time { return importNow }, ChunkSize: 2, TempDir: t.TempDir(),
		OnReject: func(r Reject) error { *rejects = append(*rejects, r); return nil }}
	if placed {
		opts.Source = f
	}
	sorted, err := Read(context.Background(), r, opts)
	require.NoError(t, err)
	t.Cleanup(sorted.Close)
	return sorted
}

// TestRejectsQuoteTheFileThroughItsPlaces: sorted with each row's place in
// the file instead of its text, an import reports the same rejects, each
// quoting its row as the file holds it.
func TestRejectsQuoteTheFileThroughItsPlaces(t *testing.T) {
	path, lines := spanFile(t)
	var got [2][]Reject
	var sums [2]Summary
	for i, placed := range []bool{false, true} {
		sorted := readFile(t, path, placed, &got[i])
		sum, err := sorted.Apply(context.Background(), openLedger(t))
		require.NoError(t, err)
		sums[i] = sum
	}
	assert.Equal(t, sums[0], sums[1])
	assert.Equal(t, Summary{Imported: 3, Rejected: 4}, sums[1])
	require.Len(t, got[1], 4)
	for i := range got[1] {
		assert.Equal(t, got[0][i].Row, got[1][i].Row)
		assert.Equal(t, got[0][i].Line, got[1][i].Line)
		assert.Equal(t, got[0][i].Reason, got[1][i].Reason)
		n := got[1][i].Line
		if n > 3 {
			n-- // the blank line
		}
		assert.Equal(t, cutString(lines[n-1], MaxRejectText), got[1][i].Row, "line %d", got[1][i].Line)
	}
	cut := false
	for _, r := range got[1] {
		if r.Line == 7 { // the long reason's
			cut = true
			assert.Len(t, r.Row, MaxRejectText-1, "the é across the cut is left out whole")
		}
	}
	assert.True(t, cut)
}

// TestChangedFileStopsTheImport: a reject whose row no longer reads back
// from the file as it was read stops the import, rather than quoting
// something else.
func TestChangedFileStopsTheImport(t *testing.T) {
	for name, change := range map[string]func(b []byte) []byte{
		"a byte changed": func(b []byte) []byte { return []byte(strings.Replace(string(b), "unknown", "UNKNOWN", 1)) },
		"cut short":      func(b []byte) []byte { return b[:len(b)/2] },
	} {
		t.Run(name, func(t *testing.T) {
			path, _ := spanFile(t)
			var rejects []Reject
			sorted := readFile(t, path, true, &rejects)
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(path, change(b), 0o600))
			_, err = sorted.Apply(context.Background(), openLedger(t))
			require.ErrorIs(t, err, errFileChanged)
			assert.Contains(t, err.Error(), "cannot be quoted")
		})
	}
}
