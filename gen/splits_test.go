package gen_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/gen"
)

// TestGenerateWithoutSplitsKeepsItsBytes pins the output of the small
// configuration without splits to the SHA-256 it had before splits existed
// (measured on commit b94fbc0): the option is off by default, and off it
// changes no byte, no id and no column.
func TestGenerateWithoutSplitsKeepsItsBytes(t *testing.T) {
	for format, want := range map[gen.Format]string{
		gen.JSONL: "9a1e199455de41a7e3859bd2223db71a176bd1119d4aeea561c0793dea4efdca",
		gen.CSV:   "18a22ba20cbb11220202e4565cdf62302b9bf0a9a757c03e8a3399e7c3267b8f",
	} {
		data, stats := generate(t, small, format)
		sum := sha256.Sum256(data)
		assert.Equal(t, want, hex.EncodeToString(sum[:]), format.String())
		assert.Zero(t, stats.Splits)
		assert.Equal(t, int64(12664), stats.Rows(), format.String())
	}
}

// withSplits is small with splits: 48 instrument-years, so about ten.
var withSplits = gen.Config{Instruments: small.Instruments, Analysts: small.Analysts, Years: small.Years, Seed: small.Seed, Splits: true}

// TestGenerateSplits checks the split rows of a history with splits: their
// shape (instrument, ratio, a bare ex-date, an id, nothing else), their
// ratios, their number, that every row of the history is still valid
// against the history before it, and that the closes go on on the new
// basis: the ex-date's close, adjusted back by the ratio, is within a day's
// move of the close before it.
func TestGenerateSplits(t *testing.T) {
	data, stats := generate(t, withSplits, gen.JSONL)
	rows := parseJSONL(t, data)
	assert.Equal(t, int64(9), stats.Splits, "seed 42's history has nine splits")
	assert.Equal(t, int64(len(rows)), stats.Rows())

	allowed := map[string]bool{"2:1": true, "3:2": true, "3:1": true, "4:1": true, "5:1": true, "10:1": true, "1:10": true}
	lastClose := map[string]int64{} // micros, by instrument
	var splits, checked int
	pendingSplit := map[string]domain.Ratio{}
	byInstrument := map[string][]row{}
	for _, r := range rows {
		sym := r.get("instrument")
		byInstrument[sym] = append(byInstrument[sym], r)
		switch r.get("type") {
		case "split":
			splits++
			keys := make([]string, 0, len(r.raw))
			for k := range r.raw {
				keys = append(keys, k)
			}
			assert.ElementsMatch(t, []string{"type", "instrument", "at", "id", "ratio"}, keys, "line %d", r.line)
			assert.Len(t, r.get("at"), len("2006-01-02"), "line %d: an ex-date is a bare date", r.line)
			assert.True(t, allowed[r.get("ratio")], "line %d: ratio %s", r.line, r.get("ratio"))
			ratio, err := domain.ParseRatio(r.get("ratio"))
			require.NoError(t, err, "line %d", r.line)
			pendingSplit[sym] = ratio
		case "close":
			m, err := domain.ParseMoney("price", r.get("price"))
			require.NoError(t, err, "line %d", r.line)
			if ratio, ok := pendingSplit[sym]; ok && lastClose[sym] > 0 {
				// The first close on the new basis, back on the old one,
				// against the last close on the old basis.
				back := m.Micros() * ratio.New / ratio.Old
				move := back * 1000 / lastClose[sym]
				assert.True(t, move > 500 && move < 2000, "line %d: close %s after a %s split, %d ‰ of the close before",
					r.line, r.get("price"), ratio, move)
				checked++
			}
			delete(pendingSplit, sym)
			lastClose[sym] = m.Micros()
		}
	}
	assert.Equal(t, int(stats.Splits), splits)
	assert.Equal(t, splits, checked, "every split is followed by a close")
	for sym, rows := range byInstrument {
		t.Run(sym, func(t *testing.T) {
			assert.Len(t, replay(t, rows), len(rows), "every row valid in file order")
		})
	}
}

// TestGenerateSplitsCSV checks that a history with splits has the ratio
// column in CSV, and the same rows as its JSON Lines.
func TestGenerateSplitsCSV(t *testing.T) {
	jsonl, _ := generate(t, withSplits, gen.JSONL)
	data, _ := generate(t, withSplits, gen.CSV)
	records, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, []string{"type", "instrument", "analyst", "firm", "rating", "target", "price", "currency", "at",
		"id", "event_id", "reason", "ratio"}, records[0])
	rows := parseJSONL(t, jsonl)
	require.Len(t, records[1:], len(rows))
	for i, rec := range records[1:] {
		for j, col := range gen.SplitColumns {
			require.Equal(t, rows[i].get(col), rec[j], "CSV line %d, column %s", i+2, col)
		}
	}
	again, _ := generate(t, withSplits, gen.CSV)
	assert.True(t, bytes.Equal(data, again), "a history with splits is deterministic too")
}
