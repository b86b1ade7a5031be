package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/gen"
	"github.com/consensus-ledger/consensus/ledger"
	"github.com/consensus-ledger/consensus/projections"
)

// trackBench is a generated ten-year ledger of CONSENSUS_BENCH_INSTRUMENTS
// instruments (default 200) with four analysts per instrument, the
// proportions of the 5,000-instrument, 20,000-analyst ledger of
// docs/performance.md, imported once for the benchmarks below.
var trackBench struct {
	once  sync.Once
	dir   string // the temporary folder, removed by TestMain
	store string
	err   error
}

// TestMain removes the benchmarks' generated ledger when the run ends.
func TestMain(m *testing.M) {
	code := m.Run()
	if trackBench.dir != "" {
		os.RemoveAll(trackBench.dir)
	}
	os.Exit(code)
}

func trackBenchStore(b *testing.B) string {
	trackBench.once.Do(func() {
		// CONSENSUS_BENCH_TRACK_STORE reuses a ledger imported before
		// (the store file of an earlier run's gen and import), since the
		// import takes longer than the benchmarks.
		if reuse := os.Getenv("CONSENSUS_BENCH_TRACK_STORE"); reuse != "" {
			trackBench.store = reuse
			return
		}
		n := 200
		if v, err := strconv.Atoi(os.Getenv("CONSENSUS_BENCH_INSTRUMENTS")); err == nil && v > 0 {
			n = v
		}
		dir, err := os.MkdirTemp("", "trackbench")
		if err != nil {
			trackBench.err = err
			return
		}
		trackBench.dir = dir
		rows := filepath.Join(dir, "rows.jsonl")
		var file bytes.Buffer
		if _, err := gen.Generate(context.Background(), &file, gen.Config{Instruments: n, Analysts: 4 * n, Years: 10, Seed: 1}, gen.JSONL); err != nil {
			trackBench.err = err
			return
		}
		if err := os.WriteFile(rows, file.Bytes(), 0o600); err != nil {
			trackBench.err = err
			return
		}
		trackBench.store = filepath.Join(dir, "ledger.db")
		var stdout, stderr bytes.Buffer
		a := newApp(&stdout, &stderr, func(string) string { return "" }, time.Now)
		if code := a.run(context.Background(), []string{"import", rows, "--store", trackBench.store}); code != exitOK {
			trackBench.err = &usageError{msg: stderr.String()}
		}
	})
	require.NoError(b, trackBench.err)
	return trackBench.store
}

// BenchmarkAnalystsRankSuccess runs `consensus analysts --rank success
// --as-of 2025-06-30 --json` in process, as a fresh command does it: open
// the store, load and fold every stream once, rank, write the JSON.
func BenchmarkAnalystsRankSuccess(b *testing.B) {
	store := trackBenchStore(b)
	b.ResetTimer()
	for b.Loop() {
		var stdout, stderr bytes.Buffer
		a := newApp(&stdout, &stderr, func(string) string { return "" }, time.Now)
		code := a.run(context.Background(), []string{"analysts", "--rank", "success", "--as-of", "2025-06-30", "--json", "--store", store})
		require.Equal(b, exitOK, code, stderr.String())
	}
}

// BenchmarkShowTop10Warm answers `show SYM --top 10` again and again from
// a long-lived ledger (a server): the track records of the point in time
// are cached, so each answer checks the ledger has not changed, takes the
// cut and folds one instrument.
func BenchmarkShowTop10Warm(b *testing.B) {
	store := trackBenchStore(b)
	s, err := sqlite.Open(store, sqlite.Options{ReadOnly: true})
	require.NoError(b, err)
	defer s.Close()
	l := ledger.New(s)
	ctx := context.Background()
	instruments, err := l.Instruments(ctx)
	require.NoError(b, err)
	sym := instruments[0].Symbol
	asOf, knownAt := time.Date(2025, 6, 30, 23, 59, 59, 999_999_999, time.UTC), time.Now()
	show := func() projections.Consensus {
		rec, err := l.TrackRecords(ctx, asOf, knownAt)
		require.NoError(b, err)
		q := projections.Query{AsOf: asOf, KnownAt: knownAt, Window: projections.DefaultWindow, Top: rec.Top(10)}
		c, err := l.Show(ctx, domain.Symbol(sym), q)
		require.NoError(b, err)
		return c
	}
	require.Len(b, show().Top.Analysts, 10)
	b.ResetTimer()
	for b.Loop() {
		show()
	}
}
