package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
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
	run := inProcess(b, filepath.Join(dir, "ledger.db"))
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

// inProcess runs command lines in process on store, with the real clock
// and no environment, as the benchmarks time them, and returns what each
// printed.
func inProcess(b *testing.B, store string) func(args ...string) string {
	return func(args ...string) string {
		var stdout, stderr bytes.Buffer
		a := newApp(&stdout, &stderr, func(string) string { return "" }, time.Now)
		code := a.run(context.Background(), append(args, "--store", store))
		require.Equal(b, exitOK, code, stderr.String())
		return stdout.String()
	}
}

// BenchmarkDiffAllMonth runs `consensus diff --all --from-known T1 --from
// 2025-12-01 --to 2025-12-31 --every day --csv` in process over generated
// instruments (40 analysts, 10 years each): everything up to November is
// imported before T1 and December after it, so every instrument differs on
// every day and each costs two folds of its whole history and 62 rows of
// figures. The instruments are CONSENSUS_BENCH_INSTRUMENTS (default 20).
func BenchmarkDiffAllMonth(b *testing.B) {
	n := 20
	if s := os.Getenv("CONSENSUS_BENCH_INSTRUMENTS"); s != "" {
		var err error
		n, err = strconv.Atoi(s)
		require.NoError(b, err)
	}
	dir := b.TempDir()
	var file bytes.Buffer
	_, err := gen.Generate(context.Background(), &file, gen.Config{Instruments: n, Analysts: 40, Years: 10, Seed: 1}, gen.JSONL)
	require.NoError(b, err)
	var before, after bytes.Buffer
	part := &before
	for line := range bytes.Lines(file.Bytes()) {
		var row struct{ At string }
		require.NoError(b, json.Unmarshal(line, &row))
		if row.At != "" { // a retraction has none: it goes with the row before it
			part = &before
			if row.At >= "2025-12-01" {
				part = &after
			}
		}
		part.Write(line)
	}
	run := inProcess(b, filepath.Join(dir, "ledger.db"))
	var t1 string
	for i, part := range []*bytes.Buffer{&before, &after} {
		path := filepath.Join(dir, "part"+strconv.Itoa(i)+".jsonl")
		require.NoError(b, os.WriteFile(path, part.Bytes(), 0o600))
		run("import", path)
		if i == 0 {
			// After every instrument of the first import, before any of
			// the second: the store stamps records with this same clock.
			t1 = domain.FormatTime(time.Now())
		}
	}
	events := 0
	var instruments []struct{ Events int }
	require.NoError(b, json.Unmarshal([]byte(run("instruments", "--json")), &instruments))
	require.Len(b, instruments, n)
	for _, in := range instruments {
		events += in.Events
	}
	args := []string{"diff", "--all", "--from-known", t1, "--from", "2025-12-01", "--to", "2025-12-31", "--every", "day", "--csv"}
	rows := bytes.Count([]byte(run(args...)), []byte("\n")) - 1
	require.Greater(b, rows, n*31, "every instrument differs on every day")
	b.Logf("%d instruments, %d events, %d diff rows, T1 %s", n, events, rows, t1)
	b.ResetTimer()
	for b.Loop() {
		run(args...)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/instrument")
}
