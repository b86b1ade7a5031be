package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/gen"
)

// BenchmarkHistoryCommand10y runs `consensus history SYM --from 2016-01-01
// --to 2025-12-31 --every day --csv` in process, as the command line does
// it (open the store, load the stream from its snapshot, fold 3,653 daily
// rows, write the CSV), over a generated 10-year history of one
// instrument. Only the process start is left out; it is timed separately
// in docs/performance.md.
func BenchmarkHistoryCommand10y(b *testing.B) {
	dir := b.TempDir()
	rows := filepath.Join(dir, "history.jsonl")
	var file bytes.Buffer
	_, err := gen.Generate(context.Background(), &file, gen.Config{Instruments: 1, Analysts: 40, Years: 10, Seed: 1}, gen.JSONL)
	require.NoError(b, err)
	require.NoError(b, os.WriteFile(rows, file.Bytes(), 0o600))
	store := filepath.Join(dir, "ledger.db")
	run := func(args ...string) string {
		var stdout, stderr bytes.Buffer
		a := newApp(&stdout, &stderr, func(string) string { return "" }, time.Now)
		code := a.run(context.Background(), append(args, "--store", store))
		require.Equal(b, exitOK, code, stderr.String())
		return stdout.String()
	}
	run("import", rows)
	var instruments []struct {
		Symbol string `json:"instrument"`
	}
	require.NoError(b, json.Unmarshal([]byte(run("instruments", "--json")), &instruments))
	require.Len(b, instruments, 1)
	sym := instruments[0].Symbol
	require.Equal(b, 3653+1, bytes.Count([]byte(run("history", sym, "--from", "2016-01-01", "--to", "2025-12-31", "--every", "day", "--csv")), []byte("\n")),
		"a header and one row a day")

	b.ResetTimer()
	for b.Loop() {
		run("history", sym, "--from", "2016-01-01", "--to", "2025-12-31", "--every", "day", "--csv")
	}
}
