package esdb_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/demo"
	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/esdb"
	"github.com/consensus-ledger/consensus/eventstore/esdb/esdbtest"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/ledger"
	"github.com/consensus-ledger/consensus/projections"
)

// scenarioNow is the pinned "now" of the scenario tests, well after the
// scenario's September 2025.
var scenarioNow = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

// tickingClock returns a clock that advances a millisecond per reading, so
// every append has its own recorded time.
func tickingClock() func() time.Time {
	var mu sync.Mutex
	t := scenarioNow
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Millisecond)
		return t
	}
}

func TestAlibabaScenario(t *testing.T) {
	srv := startServer(t, esdbtest.Options{})
	clock := tickingClock()
	s := mustOpen(t, srv.ConnectionString(), esdb.Options{Now: clock})
	runAlibabaScenario(t, s, clock)
}

func TestAlibabaScenarioRealServer(t *testing.T) {
	conn := realServer(t)
	clock := tickingClock()
	s := mustOpen(t, conn, esdb.Options{Now: clock})
	runAlibabaScenario(t, s, clock)
}

// runAlibabaScenario loads the demo scenario through the ledger, as
// consensus demo does, and checks the article's consensus of Thursday 11
// September 2025, the hash chains, and that loading again writes nothing.
func runAlibabaScenario(t *testing.T, s eventstore.Store, clock func() time.Time) {
	ctx := context.Background()
	l := ledger.New(s, ledger.WithClock(clock))
	loaded, err := demo.Load(ctx, l)
	require.NoError(t, err)
	t.Logf("demo: %d events written, %d already present", loaded.Written, loaded.AlreadyPresent)

	// Known after everything recorded, by this run or (on a shared real
	// server) by an earlier one with the real clock.
	knownAt := clock()
	if now := time.Now().UTC(); now.After(knownAt) {
		knownAt = now
	}
	c := showThursday(t, l, knownAt.Add(time.Hour))
	assert.Equal(t, 17, c.Buy, "buy")
	assert.Equal(t, 1, c.Hold, "hold")
	assert.Equal(t, 0, c.Sell, "sell")
	require.NotNil(t, c.MeanTarget)
	assert.Equal(t, "165.69", c.MeanTarget.String(), "mean target")
	require.NotNil(t, c.UpsidePct)
	assert.Equal(t, "6.59", c.UpsidePct.String(), "upside")

	report, err := l.Verify(ctx, "BABA")
	require.NoError(t, err)
	assert.Positive(t, report.Events)

	again, err := demo.Load(ctx, ledger.New(s, ledger.WithClock(clock)))
	require.NoError(t, err)
	assert.Zero(t, again.Written, "a second load writes nothing")
	assert.Equal(t, loaded.Written+loaded.AlreadyPresent, again.AlreadyPresent)
}

// showThursday is BABA's consensus at the close on Thursday 11 September
// 2025, as known at knownAt.
func showThursday(t *testing.T, l *ledger.Ledger, knownAt time.Time) projections.Consensus {
	t.Helper()
	at, err := domain.ParseTime("as-of", demo.Thursday)
	require.NoError(t, err)
	c, err := l.Show(context.Background(), "BABA", projections.Query{AsOf: at, KnownAt: knownAt, Window: projections.DefaultWindow})
	require.NoError(t, err)
	return c
}

// showJSON is showThursday as the contract's JSON, for comparisons.
func showJSON(t *testing.T, l *ledger.Ledger, knownAt time.Time) string {
	t.Helper()
	b, err := json.Marshal(showThursday(t, l, knownAt))
	require.NoError(t, err)
	return string(b)
}

// TestCopyRoundTrip copies a ledger from the embedded store to the server
// and back with eventstore.Copy (what consensus copy runs): every copy
// verifies, ends its chains at the same hashes and answers show alike, and
// copying again writes nothing.
func TestCopyRoundTrip(t *testing.T) {
	ctx := context.Background()
	clock := tickingClock()
	source, err := sqlite.Open(filepath.Join(t.TempDir(), "source.db"), sqlite.Options{Now: clock})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, source.Close()) })
	_, err = demo.Load(ctx, ledger.New(source, ledger.WithClock(clock)))
	require.NoError(t, err)

	srv := startServer(t, esdbtest.Options{})
	server := mustOpen(t, srv.ConnectionString(), esdb.Options{Now: clock})
	sum, err := eventstore.Copy(ctx, source, server, nil)
	require.NoError(t, err)
	assert.Positive(t, sum.Copied)
	assert.Zero(t, sum.Present)

	again, err := eventstore.Copy(ctx, source, server, nil)
	require.NoError(t, err)
	assert.Zero(t, again.Copied, "a second copy writes nothing")
	assert.Equal(t, sum.Copied, again.Present)

	back, err := sqlite.Open(filepath.Join(t.TempDir(), "back.db"), sqlite.Options{Now: clock})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, back.Close()) })
	_, err = eventstore.Copy(ctx, server, back, nil)
	require.NoError(t, err)

	want := ledger.New(source, ledger.WithClock(clock))
	wantHeads := verifiedHeads(t, want)
	knownAt := clock()
	for name, st := range map[string]eventstore.Store{"server": server, "back": back} {
		l := ledger.New(st, ledger.WithClock(clock))
		assert.Equal(t, wantHeads, verifiedHeads(t, l), "%s: chain heads", name)
		assert.JSONEq(t, showJSON(t, want, knownAt), showJSON(t, l, knownAt), "%s: show", name)
	}

	// The copied chain continues: a new event links onto the copied head.
	l := ledger.New(server, ledger.WithClock(clock))
	_, err = l.Record(ctx, domain.RecordClose{Instrument: "BABA", Price: mustMoney(t, "156.10"), Currency: "USD", EffectiveAt: mustTime(t, "2025-09-15")}, ledger.WriteOptions{RecordedBy: "test"})
	require.NoError(t, err)
	_, err = l.Verify(ctx, "")
	require.NoError(t, err)
}

// verifiedHeads verifies every chain and returns its heads.
func verifiedHeads(t *testing.T, l *ledger.Ledger) []ledger.Head {
	t.Helper()
	report, err := l.Verify(context.Background(), "")
	require.NoError(t, err)
	return report.Heads
}

func mustMoney(t *testing.T, s string) domain.Money {
	t.Helper()
	m, err := domain.ParseMoney("price", s)
	require.NoError(t, err)
	return m
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := domain.ParseTime("at", s)
	require.NoError(t, err)
	return at
}
