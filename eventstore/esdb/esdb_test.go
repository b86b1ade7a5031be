package esdb_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/esdb"
	"github.com/consensus-ledger/consensus/eventstore/esdb/esdbtest"
	"github.com/consensus-ledger/consensus/eventstore/storetest"
)

// realServerEnv names the environment variable holding the connection
// string of a real EventStoreDB/KurrentDB server to test against.
const realServerEnv = "CONSENSUS_TEST_ESDB"

// testPrefixes lets ReadAll see the conformance suite's streams besides
// the ledger's.
var testPrefixes = []string{"instrument-", "storetest-"}

// startServer starts a test server that stops when the test ends.
func startServer(tb testing.TB, opts esdbtest.Options) *esdbtest.Server {
	tb.Helper()
	srv, err := esdbtest.Start(opts)
	require.NoError(tb, err)
	tb.Cleanup(func() { assert.NoError(tb, srv.Close()) })
	return srv
}

// mustOpen opens a store that is closed when the test ends.
func mustOpen(tb testing.TB, conn string, opts esdb.Options) *esdb.Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	s, err := esdb.Open(ctx, conn, opts)
	require.NoError(tb, err)
	tb.Cleanup(func() { assert.NoError(tb, s.Close()) })
	return s
}

// realServer returns the connection string of a real server, or skips the
// test, saying how to run it, when none is configured.
func realServer(t *testing.T) string {
	t.Helper()
	conn := os.Getenv(realServerEnv)
	if conn == "" {
		t.Skipf("skipped: no real EventStoreDB/KurrentDB server; set %s to a connection string (such as esdb://localhost:2113?tls=false) to run this test against one", realServerEnv)
	}
	t.Logf("testing against the real server %s", esdb.Redact(conn))
	return conn
}

func TestConformance(t *testing.T) {
	srv := startServer(t, esdbtest.Options{})
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		return mustOpen(t, srv.ConnectionString(), esdb.Options{StreamPrefixes: testPrefixes})
	})
}

// TestConformanceBefore2310 runs the suite against a server too old to end
// a catch-up with CaughtUp, where ReadAll reads $all unfiltered.
func TestConformanceBefore2310(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short: the whole conformance suite again against a server reporting 22.10; TestConformance covers the current protocol")
	}
	srv := startServer(t, esdbtest.Options{Version: "22.10.3"})
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		return mustOpen(t, srv.ConnectionString(), esdb.Options{StreamPrefixes: testPrefixes})
	})
}

func TestConformanceRealServer(t *testing.T) {
	conn := realServer(t)
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		return mustOpen(t, conn, esdb.Options{StreamPrefixes: testPrefixes})
	})
}

// TestStreamsListsTheLedgersStreamsOnly checks that a store lists only the
// streams its prefixes name, as ReadAll reads only those: a server shared
// with other users of the store (the conformance suite's storetest-
// streams, say) shows a ledger its own instruments alone.
func TestStreamsListsTheLedgersStreamsOnly(t *testing.T) {
	srv := startServer(t, esdbtest.Options{})
	ctx := context.Background()
	both := mustOpen(t, srv.ConnectionString(), esdb.Options{StreamPrefixes: testPrefixes})
	for _, stream := range []string{"instrument-A", "storetest-B"} {
		_, err := both.Append(ctx, stream, eventstore.NoStream, []eventstore.EventData{testEvent(1)})
		require.NoError(t, err)
	}
	names := func(s *esdb.Store) []string {
		infos, err := s.Streams(ctx)
		require.NoError(t, err)
		var out []string
		for _, info := range infos {
			out = append(out, info.Stream)
		}
		return out
	}
	assert.Equal(t, []string{"instrument-A", "storetest-B"}, names(both))
	assert.Equal(t, []string{"instrument-A"}, names(mustOpen(t, srv.ConnectionString(), esdb.Options{})))
}
