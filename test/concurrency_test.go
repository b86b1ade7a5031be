package test

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// started is a process started by startAll.
type started struct {
	cmd            *exec.Cmd
	stdout, stderr *bytes.Buffer
}

// startAll starts every command line at once, then waits for all of them.
func startAll(t *testing.T, c *cli, lines [][]string) []result {
	t.Helper()
	procs := make([]started, len(lines))
	for i, args := range lines {
		cmd, stdout, stderr := c.command(args...)
		require.NoError(t, cmd.Start())
		procs[i] = started{cmd, stdout, stderr}
	}
	results := make([]result, len(procs))
	for i, p := range procs {
		results[i] = finish(t, p.cmd.Wait(), p.stdout, p.stderr)
	}
	return results
}

// rates are n rate commands on one symbol by n different analysts.
func rates(n int, symbol, store string) [][]string {
	lines := make([][]string, n)
	for i := range lines {
		lines[i] = []string{"rate", symbol, "--analyst", fmt.Sprintf("analyst%d@firm-%d", i, i), "--rating", "buy",
			"--target", strconv.Itoa(100 + i), "--currency", "USD", "--at", "2025-09-01", "--store", store}
	}
	return lines
}

// TestConcurrentRates starts six rate processes at once on one store and one
// symbol: every one succeeds, and the stream holds exactly their six events
// at versions 0 to 5 with an intact hash chain.
func TestConcurrentRates(t *testing.T) {
	skipShort(t, "many processes writing at once")
	t.Parallel()
	c := newCLI(t)
	store := newStore(t)
	// The store exists before the race (created by a write on another
	// instrument); TestConcurrentRatesOnNewStore races its creation too.
	c.ok(t, "close", "OTHER", "--price", "1", "--currency", "USD", "--at", "2025-09-01", "--store", store)

	const n = 6
	for i, r := range startAll(t, c, rates(n, "CONC", store)) {
		assert.Equal(t, 0, r.code, "rate %d: %s", i, r.stderr)
		assert.Regexp(t, `^[0-9a-f-]{36}\n$`, r.stdout, "rate %d prints its event id", i)
	}
	assertConcurrentStream(t, c, store, n)
	assert.Equal(t, "ok: 7 events in 2 streams\nchain version 1: 0 events, chain version 2: 7 events\n", c.ok(t, "verify", "--store", store).stdout)
}

// assertConcurrentStream checks that CONC holds exactly the n analysts'
// ratings at versions 0..n-1.
func assertConcurrentStream(t *testing.T, c *cli, store string, n int) {
	t.Helper()
	events := logJSON(t, c, store, "CONC")
	require.Len(t, events, n)
	var analysts []string
	for i, e := range events {
		assert.Equal(t, strconv.Itoa(i), num(e["version"]))
		assert.Equal(t, "RatingAdded", e["type"])
		analysts = append(analysts, e["data"].(map[string]any)["analyst"].(string))
	}
	sort.Strings(analysts)
	for i := range analysts {
		assert.Equal(t, fmt.Sprintf("analyst%d@firm-%d", i, i), analysts[i])
	}
	got := showJSON(t, c, store, "CONC", "--as-of", "2025-09-02")
	assertFigures(t, got, figures{"analysts": strconv.Itoa(n), "buy": strconv.Itoa(n)})
}

// TestConcurrentRatesOnNewStore races six first writes on a store that does
// not exist yet ("created on first write"): all must succeed. It repeats the
// race a few times, because losing it depends on timing.
func TestConcurrentRatesOnNewStore(t *testing.T) {
	skipShort(t, "many processes writing at once")
	t.Parallel()
	c := newCLI(t)
	const n, rounds = 6, 25
	for round := range rounds {
		store := newStore(t)
		failed := false
		for i, r := range startAll(t, c, rates(n, "CONC", store)) {
			if !assert.Equal(t, 0, r.code, "round %d, rate %d on a new store: %s", round, i, r.stderr) {
				failed = true
			}
		}
		if failed {
			return
		}
		assertConcurrentStream(t, c, store, n)
		assert.Equal(t, "ok: 6 events in 1 streams\nchain version 1: 0 events, chain version 2: 6 events\n", c.ok(t, "verify", "--store", store).stdout)
	}
}

// TestRefusedWriteNeverDeletesAnotherWritersStore races a refused write (a
// revision for an analyst with no rating) against a valid rating, both on a
// store that does not exist yet. A refused command writes nothing, and that
// includes never removing what another process wrote: the rating must
// succeed and stay in the store.
func TestRefusedWriteNeverDeletesAnotherWritersStore(t *testing.T) {
	skipShort(t, "many processes writing at once")
	t.Parallel()
	c := newCLI(t)
	const rounds = 20
	for round := range rounds {
		store := newStore(t)
		results := startAll(t, c, [][]string{
			{"revise", "CONC", "--analyst", "nobody@firm-n", "--target", "5", "--currency", "USD", "--at", "2025-09-01", "--store", store},
			{"rate", "CONC", "--analyst", "analyst0@firm-0", "--rating", "buy", "--currency", "USD", "--at", "2025-09-01", "--store", store},
		})
		assert.Equal(t, refused, results[0].code, "round %d: the revision is refused: %s", round, results[0].stderr)
		if !assert.Equal(t, 0, results[1].code, "round %d: the rating must succeed: %s", round, results[1].stderr) {
			return
		}
		r := c.run(t, "log", "CONC", "--json", "--store", store)
		if !assert.Equal(t, 0, r.code, "round %d: the rating that exited 0 must be in the store: %s", round, r.stderr) {
			return
		}
		if !assert.Len(t, array(t, r.stdout), 1, "round %d", round) {
			return
		}
	}
}

// concWrite is one write of TestConcurrentWritersCommandLineAndAPI and
// what its event must hold once stored.
type concWrite struct {
	args []string // the command line, or nil for a write through the API
	want map[string]string
}

// concDefaultRounds keeps TestConcurrentWritersCommandLineAndAPI to a few
// seconds; CONSENSUS_CONCURRENCY_ROUNDS asks for more.
const concDefaultRounds = 2

// concMaxConflicts bounds how often one client of
// TestConcurrentWritersCommandLineAndAPI sends batches again after a 409,
// so that a server that always answers 409 fails the test instead of
// hanging it.
const concMaxConflicts = 100

// TestConcurrentWritersCommandLineAndAPI has many writers on the same two
// instruments at once: rate, revise and close processes, revisions that
// must be refused, and goroutines posting batches to a running server,
// which has to notice the processes' writes to judge its own. Afterwards
// every write that reported success is stored exactly once with the
// content it asked for, nothing else is stored, every refusal or conflict
// was reported (exit status 1 naming it, or 409 and sent again), the
// streams' versions have no gaps, the hash chains verify, and the server
// answers with the same events as the command line.
func TestConcurrentWritersCommandLineAndAPI(t *testing.T) {
	skipShort(t, "many processes writing at once")
	t.Parallel()
	c := newCLI(t)
	store := newStore(t)
	tokens := apiTokenFile(t)
	seedIDs := map[string]bool{}
	for i := range 4 {
		r := c.ok(t, "rate", "CONCA", "--analyst", fmt.Sprintf("a%d@seed", i), "--rating", "buy", "--target", "100",
			"--currency", "USD", "--at", "2025-09-01", "--store", store)
		seedIDs[strings.TrimSpace(r.stdout)] = true
	}
	s := startServe(t, c, "--store", store, "--tokens", tokens)
	client := apiHTTPClient(8)

	rounds := relEnvInt(t, "CONSENSUS_CONCURRENCY_ROUNDS", concDefaultRounds)
	var stored, cliConflicts, apiConflicts, refusedOK int
	want := map[string]map[string]string{}
	for round := range rounds {
		// The command lines, all started at once.
		var procs []concWrite
		for i := range 4 {
			at := fmt.Sprintf("2025-09-%02d", 2+i)
			procs = append(procs,
				concWrite{[]string{"revise", "CONCA", "--analyst", fmt.Sprintf("a%d@seed", i), "--target", fmt.Sprintf("%d", 200+10*round+i),
					"--currency", "USD", "--at", at}, map[string]string{"type": "TargetRevised", "analyst": fmt.Sprintf("a%d@seed", i), "target": fmt.Sprintf("%d", 200+10*round+i)}},
				concWrite{[]string{"close", "CONCA", "--price", fmt.Sprintf("%d.5", 100+10*round+i), "--currency", "USD", "--at", at},
					map[string]string{"type": "CloseRecorded", "price": fmt.Sprintf("%d.5", 100+10*round+i)}},
				concWrite{[]string{"rate", "CONCB", "--analyst", fmt.Sprintf("p%d.%d@proc", round, i), "--rating", "hold", "--target", "50",
					"--currency", "USD", "--at", at}, map[string]string{"type": "RatingAdded", "analyst": fmt.Sprintf("p%d.%d@proc", round, i), "target": "50"}},
			)
		}
		// Revisions by an analyst without a rating: refused, and nothing
		// written, even in the middle of the race.
		for range 2 {
			procs = append(procs, concWrite{args: []string{"revise", "CONCB", "--analyst", "nobody@none", "--target", "1",
				"--currency", "USD", "--at", "2025-09-03"}})
		}
		running := make([]started, len(procs))
		for i, p := range procs {
			cmd, stdout, stderr := c.command(append(p.args, "--store", store)...)
			require.NoError(t, cmd.Start())
			running[i] = started{cmd, stdout, stderr}
		}

		// The API clients, meanwhile: each sends batches until written,
		// sending a batch again on a conflict.
		type acked struct {
			ids       []string
			wants     []map[string]string
			conflicts int
			err       error
		}
		results := make([]acked, 8)
		var wg sync.WaitGroup
		for g := range results {
			wg.Go(func() {
				res := &results[g]
				for k := range 5 {
					var rows []apiRow
					var wants []map[string]string
					if g%2 == 0 {
						analyst, target := fmt.Sprintf("a%d@seed", (g+k)%4), fmt.Sprintf("%d", 300+100*round+10*g+k)
						rows = append(rows, apiRow{"type": "target", "instrument": "CONCA", "analyst": analyst, "target": target,
							"currency": "USD", "at": fmt.Sprintf("2025-09-%02d", 6+k), "id": uuid.NewString()})
						wants = append(wants, map[string]string{"type": "TargetRevised", "analyst": analyst, "target": target})
					} else {
						analyst, price := fmt.Sprintf("h%d.%d.%d@api", round, g, k), fmt.Sprintf("%d.25", 100+g+k)
						rows = append(rows,
							apiRow{"type": "rating", "instrument": "CONCB", "analyst": analyst, "rating": "sell", "target": "40",
								"currency": "USD", "at": "2025-09-02", "id": uuid.NewString()},
							apiRow{"type": "close", "instrument": "CONCA", "price": price, "currency": "USD",
								"at": fmt.Sprintf("2025-09-%02d", 6+k), "id": uuid.NewString()})
						wants = append(wants, map[string]string{"type": "RatingAdded", "analyst": analyst, "target": "40"},
							map[string]string{"type": "CloseRecorded", "price": price})
					}
					for {
						status, answer, body, err := apiPost(context.Background(), client, s.url, rows)
						if err == nil && status == 409 && res.conflicts < concMaxConflicts {
							res.conflicts++
							continue
						}
						if err == nil {
							var ids []string
							ids, _, err = apiAcknowledged(rows, status, answer, body)
							res.ids = append(res.ids, ids...)
							res.wants = append(res.wants, wants...)
						}
						if err != nil {
							res.err = err
							return
						}
						break
					}
				}
			})
		}

		for i, p := range running {
			r := finish(t, p.cmd.Wait(), p.stdout, p.stderr)
			switch {
			case procs[i].want == nil:
				assert.Equal(t, refused, r.code, "round %d: %v is refused", round, procs[i].args)
				assert.Contains(t, r.stderr, "nobody@none", "the refusal names the analyst")
				refusedOK++
			case r.code == 0:
				id := strings.TrimSpace(r.stdout)
				require.Regexp(t, `^[0-9a-f-]{36}$`, id)
				want[id] = procs[i].want
			case r.code == refused && strings.Contains(r.stderr, "concurrent writers"):
				cliConflicts++ // reported, and nothing written: checked below
			default:
				t.Errorf("round %d: %v: exit %d: %s", round, procs[i].args, r.code, r.stderr)
			}
		}
		wg.Wait()
		for g, res := range results {
			require.NoError(t, res.err, "round %d, client %d", round, g)
			for i, id := range res.ids {
				want[id] = res.wants[i]
			}
			apiConflicts += res.conflicts
		}

		// What the store holds is exactly the seed and what was
		// acknowledged, each once, with its content.
		events := append(logJSON(t, c, store, "CONCA"), logJSON(t, c, store, "CONCB")...)
		seen := map[string]bool{}
		for _, e := range events {
			id := e["event_id"].(string)
			require.False(t, seen[id], "round %d: event %s is stored twice", round, id)
			seen[id] = true
			if seedIDs[id] {
				continue
			}
			w, ok := want[id]
			require.True(t, ok, "round %d: event %s was stored, but no writer reported it: %v", round, id, e)
			data := e["data"].(map[string]any)
			assert.Equal(t, w["type"], e["type"], "event %s", id)
			for _, field := range []string{"analyst", "target", "price"} {
				if v, ok := w[field]; ok {
					assert.Equal(t, v, data[field], "event %s: %s", id, field)
				}
			}
		}
		require.Len(t, events, len(seedIDs)+len(want), "round %d: every acknowledged write is stored", round)
		for _, sym := range []string{"CONCA", "CONCB"} {
			for v, e := range logJSON(t, c, store, sym) {
				assert.Equal(t, strconv.Itoa(v), num(e["version"]), "%s has no gap in its versions", sym)
			}
		}
		stored = relVerifiedEvents(t, c, store)
		require.Equal(t, len(events), stored)

		// The server follows the processes' writes: it answers with the
		// same events as the command line.
		for _, sym := range []string{"CONCA", "CONCB"} {
			cli := logJSON(t, c, store, sym)
			require.Eventually(t, func() bool {
				status, body, err := apiDo(context.Background(), client, "GET", s.url+"/api/v1/instruments/"+sym+"/events", apiReadToken, nil)
				return err == nil && status == 200 && assert.ObjectsAreEqual(cli, array(t, string(body)))
			}, 5*time.Second, 50*time.Millisecond, "the server's events of %s are the command line's", sym)
		}
	}
	t.Logf("%d rounds: %d events stored, every one acknowledged; %d refusals reported by exit status 1; "+
		"conflicts: %d reported by processes (exit status 1), %d answered 409 to the API and sent again",
		rounds, stored, refusedOK, cliConflicts, apiConflicts)
}
