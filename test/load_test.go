package test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loadClients is how many clients TestLoadMixedReadsAndWrites runs at once.
const loadClients = 100

// loadDefaultSeconds keeps the load test short for `go test ./...`;
// CONSENSUS_LOAD_SECONDS asks for a longer run.
const loadDefaultSeconds = 3

// loadInstruments are written to during the load, besides BABA, whose
// consensus is read meanwhile.
var loadInstruments = []string{"LOAD1", "LOAD2", "LOAD3", "LOAD4"}

// loadReads are the read requests of the load, the API's questions with
// the parameters a dashboard would send, weighted towards the cheap ones
// that dashboards ask most.
var loadReads = []string{
	"/api/v1/instruments/BABA/consensus?as_of=2025-09-%02d",
	"/api/v1/instruments/BABA/consensus?as_of=2025-09-%02d&explain=true",
	"/api/v1/instruments/LOAD1/consensus?as_of=2025-09-%02d",
	"/api/v1/instruments/BABA/history?from=2025-08-01&to=2025-09-%02d&every=week",
	"/api/v1/instruments/BABA/events",
	"/api/v1/instruments/LOAD2/events",
	"/api/v1/instruments",
	"/api/v1/consensus?as_of=2025-09-%02d",
	"/healthz",
	"/metrics",
	"/api/v1/instruments/BABA/chart.svg?from=2025-08-01&to=2025-09-%02d",
}

// loadTally is what one client saw.
type loadTally struct {
	statuses      map[int]int
	reads, writes []time.Duration
	acked         []string // ids the server acknowledged
	busy          int      // reads refused for now (503 with Retry-After), then retried
	conflicted    []string // ids of batches answered 409, never sent again
	failures      []string
}

// loadClient sends a mix of reads (about 70%) and writes until the
// deadline, one request at a time, as one dashboard or script would.
func loadClient(ctx context.Context, w int, client *http.Client, base string, deadline time.Time) *loadTally {
	rng := rand.New(rand.NewPCG(uint64(w), 7))
	tally := &loadTally{statuses: map[int]int{}}
	fail := func(format string, args ...any) {
		if len(tally.failures) < 5 {
			tally.failures = append(tally.failures, fmt.Sprintf(format, args...))
		}
	}
	for k := 0; time.Now().Before(deadline); k++ {
		day := 1 + rng.IntN(12)
		if rng.IntN(10) < 7 {
			path := loadReads[rng.IntN(len(loadReads))]
			if strings.Contains(path, "%") {
				path = fmt.Sprintf(path, day)
			}
			began := time.Now()
			status, body, retryAfter, err := loadGet(ctx, client, base+path)
			tally.reads = append(tally.reads, time.Since(began))
			tally.statuses[status]++
			switch {
			case err != nil:
				fail("GET %s: %v", path, err)
			case status == http.StatusServiceUnavailable && retryAfter > 0:
				// The server's bound on expensive requests (serve
				// --max-expensive): a client waits as told and asks again.
				tally.busy++
				time.Sleep(min(retryAfter, time.Until(deadline)))
			case status != http.StatusOK:
				fail("GET %s: status %d: %.200s", path, status, body)
			}
			continue
		}
		at := fmt.Sprintf("2025-09-%02d", day)
		rows := []apiRow{{"type": "close", "instrument": loadInstruments[rng.IntN(len(loadInstruments))],
			"price": fmt.Sprintf("%d.%02d", 50+rng.IntN(50), rng.IntN(100)), "currency": "USD", "at": at, "id": uuid.NewString()}}
		if rng.IntN(2) == 0 {
			// A new analyst's rating of BABA: the consensus being read
			// changes under the readers.
			rows = append(rows, apiRow{"type": "rating", "instrument": "BABA", "analyst": fmt.Sprintf("load%d.%d@load", w, k),
				"rating": []string{"buy", "hold", "sell"}[rng.IntN(3)], "target": fmt.Sprintf("%d", 120+rng.IntN(60)),
				"currency": "USD", "at": at, "id": uuid.NewString()})
		}
		began := time.Now()
		status, answer, body, err := apiPost(ctx, client, base, rows)
		tally.writes = append(tally.writes, time.Since(began))
		tally.statuses[status]++
		switch {
		case err != nil:
			fail("POST: %v", err)
		case status == http.StatusConflict:
			for _, r := range rows {
				tally.conflicted = append(tally.conflicted, r["id"])
			}
		default:
			ids, _, err := apiAcknowledged(rows, status, answer, body)
			if err != nil {
				fail("POST: %v", err)
			}
			tally.acked = append(tally.acked, ids...)
		}
	}
	return tally
}

// loadGet sends one read with the read token and returns its status, body
// and Retry-After (0 when absent); err is a transport failure only.
func loadGet(ctx context.Context, client *http.Client, url string) (int, []byte, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return 0, nil, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+apiReadToken)
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, 0, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, 0, err
	}
	seconds, _ := strconv.Atoi(res.Header.Get("Retry-After"))
	return res.StatusCode, body, time.Duration(seconds) * time.Second, nil
}

// loadPercentile is the p-th loadPercentile of sorted durations.
func loadPercentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, len(sorted)*p/100)]
}

// TestLoadMixedReadsAndWrites runs a server under the mixed reads and
// writes of loadClients concurrent clients on loopback for a bounded time:
// no answer is a server fault (5xx) or a transport failure, every read
// succeeds or is refused for now as busy (503 with Retry-After, beyond
// serve --max-expensive), every acknowledged write is stored exactly once, a write
// answered 409 stores nothing, the chains verify, and the server's
// resident memory stays within a generous bound (it is logged before,
// after and at its peak, so that a longer run can be compared).
func TestLoadMixedReadsAndWrites(t *testing.T) {
	skipShort(t, "a load test")
	t.Parallel()
	seconds := relEnvInt(t, "CONSENSUS_LOAD_SECONDS", loadDefaultSeconds)
	c := newCLI(t)
	store := demoStore(t, c)
	for _, sym := range loadInstruments {
		c.ok(t, "close", sym, "--price", "50", "--currency", "USD", "--at", "2025-09-01", "--store", store)
	}
	before := relVerifiedEvents(t, c, store)
	s := startServe(t, c, "--store", store, "--tokens", apiTokenFile(t))
	pid := s.cmd.Process.Pid
	client := apiHTTPClient(loadClients)
	ctx := context.Background()

	// Every read once, so that the first figure includes the server's
	// working set rather than its state before the first request.
	for _, path := range loadReads {
		if strings.Contains(path, "%") {
			path = fmt.Sprintf(path, 11)
		}
		status, body, err := apiDo(ctx, client, "GET", s.url+path, apiReadToken, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status, "GET %s: %s", path, body)
	}
	rssBefore := relVmRSS(t, pid)

	began := time.Now()
	deadline := began.Add(time.Duration(seconds) * time.Second)
	tallies := make([]*loadTally, loadClients)
	var wg sync.WaitGroup
	for w := range tallies {
		wg.Go(func() { tallies[w] = loadClient(ctx, w, client, s.url, deadline) })
	}
	wg.Wait()
	took := time.Since(began)
	rssAfter, rssPeak := relVmRSS(t, pid), relVmHWM(t, pid)

	var (
		statuses          = map[int]int{}
		reads, writes     []time.Duration
		acked, conflicted []string
		busy              int
	)
	for w, tally := range tallies {
		assert.Empty(t, tally.failures, "client %d", w)
		for status, n := range tally.statuses {
			statuses[status] += n
		}
		reads, writes = append(reads, tally.reads...), append(writes, tally.writes...)
		acked, conflicted = append(acked, tally.acked...), append(conflicted, tally.conflicted...)
		busy += tally.busy
	}
	assert.Equal(t, statuses[http.StatusServiceUnavailable], busy, "every 503 is a busy refusal with Retry-After: %v", statuses)
	for status := range statuses {
		if status != http.StatusServiceUnavailable {
			assert.Less(t, status, 500, "no answer is a server fault: %v", statuses)
		}
	}
	status, body, err := apiDo(ctx, client, "GET", s.url+"/healthz", "", nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status, "healthy after the load: %s", body)
	s.stop(t, syscall.SIGTERM)
	assert.Equal(t, 0, s.code, "a graceful stop: %s", s.stderr)

	n := relVerifiedEvents(t, c, store)
	ids := relStoreIDs(t, c, store)
	assert.Len(t, ids, n)
	for _, id := range acked {
		assert.Equal(t, 1, ids[id], "acknowledged event %s is stored exactly once", id)
	}
	for _, id := range conflicted {
		assert.Zero(t, ids[id], "event %s of a batch answered 409 is not stored", id)
	}
	assert.Equal(t, before+len(acked), n, "the store holds what it held and what was acknowledged, nothing else")

	slices.Sort(reads)
	slices.Sort(writes)
	t.Logf("load: %d clients for %s: %d reads (p50 %s, p99 %s, max %s), %d writes (p50 %s, p99 %s, max %s), %.0f requests/s; "+
		"statuses %v (%d reads refused as busy, then retried); %d events acknowledged and stored, %d in batches answered 409 and not stored",
		loadClients, took.Round(time.Millisecond),
		len(reads), loadPercentile(reads, 50), loadPercentile(reads, 99), loadPercentile(reads, 100),
		len(writes), loadPercentile(writes, 50), loadPercentile(writes, 99), loadPercentile(writes, 100),
		float64(len(reads)+len(writes))/took.Seconds(), statuses, busy, len(acked), len(conflicted))
	t.Logf("load: server RSS %d KiB before, %d KiB after, %d KiB at its peak", rssBefore, rssAfter, rssPeak)
	// Generous: the store's page cache, the answer cache and a goroutine
	// per connection are bounded, so growth beyond this is a leak.
	const boundKiB = 512 << 10
	assert.Less(t, rssAfter-rssBefore, int64(boundKiB), "resident memory grew by less than 512 MiB")
	assert.Less(t, rssPeak, int64(1<<20), "resident memory peaked below 1 GiB")
}
