package serve

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWriteJSONRowsIsMarshal: the rows streamed are the bytes json.Marshal
// writes for them, compressed exactly when a whole body would be, at every
// size around the thresholds.
func TestWriteJSONRowsIsMarshal(t *testing.T) {
	type row struct {
		N    int    `json:"n"`
		Text string `json:"text"`
	}
	for _, n := range []int{0, 1, 5, 20, 200, 5000} {
		rows := make([]row, n)
		for i := range rows {
			rows[i] = row{i, strings.Repeat("<&>", i%7)}
		}
		want, err := json.Marshal(rows)
		require.NoError(t, err)
		want = append(want, '\n')
		for _, gz := range []bool{false, true} {
			req := httptest.NewRequest("GET", "/", nil)
			if gz {
				req.Header.Set("Accept-Encoding", "gzip")
			}
			rec := httptest.NewRecorder()
			require.NoError(t, writeJSONRows(rec, req, rows))
			body := rec.Body.Bytes()
			compressed := rec.Header().Get("Content-Encoding") == "gzip"
			assert.Equal(t, gz && len(want) >= minCompressBytes, compressed, "%d rows, gzip accepted %t", n, gz)
			if compressed {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				require.NoError(t, err)
				body, err = io.ReadAll(zr)
				require.NoError(t, err)
			}
			assert.Equal(t, string(want), string(body), "%d rows, gzip accepted %t", n, gz)
			assert.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
		}
	}
	rec := httptest.NewRecorder()
	require.NoError(t, writeJSONRows[row](rec, httptest.NewRequest("GET", "/", nil), nil))
	assert.Equal(t, "null\n", rec.Body.String())
}
