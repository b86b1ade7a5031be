package gen_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/gen"
)

// A ten-year history gives analysts enough closed calls to rank (CONTRACT
// section 10: show --top N ranks analysts with at least 5 scored rating
// calls). At the proportions of the 5,000-instrument, 20,000-analyst ledger
// (four analysts per instrument), counting the buy and sell ratings that
// closed (effective at least 365 days before the end; every trading day has
// a close, so each has p0 and p1): 163 of the 193 analysts with ratings
// (84 %) have five or more.
func TestTenYearsGiveAnalystsClosedCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 134,000 rows")
	}
	var file bytes.Buffer
	cfg := gen.Config{Instruments: 50, Analysts: 200, Years: 10, Seed: 1}
	_, err := gen.Generate(context.Background(), &file, cfg, gen.JSONL)
	require.NoError(t, err)
	end := time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
	closed := map[string]int{}
	rated := map[string]bool{}
	sc := bufio.NewScanner(&file)
	for sc.Scan() {
		var row struct{ Type, Analyst, Rating, At string }
		require.NoError(t, json.Unmarshal(sc.Bytes(), &row))
		if row.Type != "rating" {
			continue
		}
		r, err := domain.ParseRating(row.Rating)
		require.NoError(t, err)
		at, err := domain.ParseTime("at", row.At)
		require.NoError(t, err)
		rated[row.Analyst] = true
		if r.Bucket() != domain.BucketHold && !at.Add(365*24*time.Hour).After(end) {
			closed[row.Analyst]++
		}
	}
	enough := 0
	for a := range rated {
		if closed[a] >= 5 {
			enough++
		}
	}
	t.Logf("%d of %d analysts with ratings have 5 or more closed buy or sell calls", enough, len(rated))
	assert.GreaterOrEqual(t, len(rated), 190, "nearly every analyst rates")
	assert.GreaterOrEqual(t, enough*100, 80*len(rated), "at least 80 % can be ranked")
}
