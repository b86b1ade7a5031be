package serve_test

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/backfill"
	"github.com/consensus-ledger/consensus/demo"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/gen"
	"github.com/consensus-ledger/consensus/ledger"
	"github.com/consensus-ledger/consensus/serve"
)

// benchClients is the number of concurrent clients of the consensus
// benchmark, as the serve issue sets it.
const benchClients = 50

// benchInstruments is the size of the generated history loaded beside the
// demo: CONSENSUS_BENCH_INSTRUMENTS instruments of ten years each, with four
// analysts in the pool per instrument. Each instrument brings about 2,780
// events, so the default of 36 gives about 100,000 events and 360 about
// 1,000,000 (the figure):
//
//	CONSENSUS_BENCH_INSTRUMENTS=360 go test ./serve -run '^$' -bench Consensus50 -benchtime 20000x
func benchInstruments(b *testing.B) int {
	n := 36
	if v := os.Getenv("CONSENSUS_BENCH_INSTRUMENTS"); v != "" {
		var err error
		n, err = strconv.Atoi(v)
		require.NoError(b, err, "CONSENSUS_BENCH_INSTRUMENTS must be a whole number")
	}
	return n
}

// benchEnv is one store (demo plus generated history) and server, built once
// per test binary and shared by the benchmarks.
type benchEnv struct {
	url       string
	events    int
	largest   string // the generated instrument with the most events
	largestN  int64
	client    *http.Client
	closeDown func()
}

var (
	benchOnce sync.Once
	bench     *benchEnv
	benchErr  error
)

func setUpBench(b *testing.B) *benchEnv {
	benchOnce.Do(func() { bench, benchErr = buildBenchEnv(benchInstruments(b)) })
	require.NoError(b, benchErr)
	return bench
}

func buildBenchEnv(instruments int) (*benchEnv, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "consensus-serve-bench-")
	if err != nil {
		return nil, err
	}
	store, err := sqlite.Open(filepath.Join(dir, "bench.db"), sqlite.Options{})
	if err != nil {
		return nil, err
	}
	l := ledger.New(store)
	if _, err := demo.Load(ctx, l); err != nil {
		return nil, err
	}
	file, err := os.Create(filepath.Join(dir, "history.jsonl"))
	if err != nil {
		return nil, err
	}
	cfg := gen.Config{Instruments: instruments, Analysts: 4*instruments + 10, Years: 10, Seed: 1}
	if _, err := gen.Generate(ctx, file, cfg, gen.JSONL); err != nil {
		return nil, err
	}
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	src, err := backfill.NewReader(file, "history.jsonl")
	if err != nil {
		return nil, err
	}
	if _, err := backfill.Import(ctx, l, src, backfill.Options{Name: "history.jsonl", RecordedBy: "bench", TempDir: dir}); err != nil {
		return nil, err
	}
	file.Close()
	env := &benchEnv{}
	list, err := l.Instruments(ctx)
	if err != nil {
		return nil, err
	}
	for _, in := range list {
		env.events += int(in.Events)
		if in.Symbol != "BABA" && in.Symbol != "9988.HK" && in.Events > env.largestN {
			env.largest, env.largestN = string(in.Symbol), in.Events
		}
	}
	// A fresh ledger, as a server process starts with.
	srv, err := serve.New(serve.Config{Ledger: ledger.New(store), Store: store, VerifyEvery: -1})
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	go srv.Run(runCtx)
	hs := httptest.NewServer(srv.Handler())
	env.url = hs.URL
	env.client = &http.Client{Transport: &http.Transport{MaxIdleConns: benchClients, MaxIdleConnsPerHost: benchClients}}
	env.closeDown = func() { hs.Close(); cancel(); store.Close(); os.RemoveAll(dir) }
	return env, nil
}

// BenchmarkConsensus50Clients measures GET /api/v1/instruments/{symbol}/consensus
// with 50 clients at once over loopback, each with its own keep-alive
// connection, and reports requests per second and latency percentiles.
//
//   - demo-fixed-date: BABA as of 2025-09-11, the same question again and
//     again (the server's answer cache serves it until BABA changes);
//   - demo-now: BABA as of now, computed afresh by every request;
//   - generated-dates: the largest generated instrument (some 3,000
//     events) as of a different minute of its ten years in each request,
//     so no answer is cached and every one is computed, from the read
//     model the server keeps (a checkpoint and at most
//     domain.CheckpointEvery events folded). With
//     CONSENSUS_BENCH_INSTRUMENTS=360 this is the case of a new
//     as_of on the largest instrument of a 1-million-event history.
func BenchmarkConsensus50Clients(b *testing.B) {
	env := setUpBench(b)
	b.Logf("store: %d events in total; largest generated instrument %s with %d events", env.events, env.largest, env.largestN)
	b.Run("demo-fixed-date", func(b *testing.B) {
		runClients(b, env, func(int) string { return "/api/v1/instruments/BABA/consensus?as_of=2025-09-11" })
	})
	b.Run("demo-now", func(b *testing.B) {
		runClients(b, env, func(int) string { return "/api/v1/instruments/BABA/consensus" })
	})
	b.Run("generated-dates", func(b *testing.B) {
		start := gen.DefaultEnd.AddDate(-10, 0, 1)
		const minutes = 10 * 365 * 24 * 60
		offset := int(askedMinutes.Add(int64(b.N) + 1)) // new minutes for every run, so none is cached
		runClients(b, env, func(i int) string {
			at := start.Add(time.Duration(((offset+i)*7919)%minutes) * time.Minute).Format(time.RFC3339)
			return "/api/v1/instruments/" + env.largest + "/consensus?as_of=" + at
		})
	})
}

// askedMinutes counts the minutes the generated-dates benchmark has asked
// about in this process.
var askedMinutes atomic.Int64

// runClients sends b.N requests from benchClients goroutines and reports
// the rate and the latency percentiles.
func runClients(b *testing.B, env *benchEnv, path func(i int) string) {
	// Warm up: the first request of an instrument loads its stream.
	res, err := env.client.Get(env.url + path(0))
	require.NoError(b, err)
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	require.Equal(b, http.StatusOK, res.StatusCode)

	latencies := make([][]time.Duration, benchClients)
	var next sync.Mutex
	issued := 0
	b.ResetTimer()
	began := time.Now()
	var wg sync.WaitGroup
	for c := range benchClients {
		wg.Go(func() {
			for {
				next.Lock()
				i := issued
				issued++
				next.Unlock()
				if i >= b.N {
					return
				}
				t0 := time.Now()
				res, err := env.client.Get(env.url + path(i))
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				latencies[c] = append(latencies[c], time.Since(t0))
				if res.StatusCode != http.StatusOK {
					b.Errorf("status %d", res.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(began)
	b.StopTimer()
	all := slices.Concat(latencies...)
	slices.Sort(all)
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
	b.ReportMetric(percentile(all, 0.50).Seconds()*1000, "p50-ms")
	b.ReportMetric(percentile(all, 0.99).Seconds()*1000, "p99-ms")
	b.ReportMetric(0, "ns/op") // per-request time is what req/s says; ns/op over 50 clients misleads
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(math.Ceil(p*float64(len(sorted))))-1)]
}

// TestMain removes the benchmark's store and the demo template when the
// tests and benchmarks are done.
func TestMain(m *testing.M) {
	code := m.Run()
	if bench != nil {
		bench.closeDown()
	}
	if demoTemplate.dir != "" {
		os.RemoveAll(demoTemplate.dir)
	}
	os.Exit(code)
}
