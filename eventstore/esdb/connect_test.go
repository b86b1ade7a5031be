package esdb_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/esdb"
	"github.com/consensus-ledger/consensus/eventstore/esdb/esdbtest"
)

// closedPort returns a local address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := lis.Addr().String()
	require.NoError(t, lis.Close())
	return addr
}

func TestOpenUnreachableFailsFast(t *testing.T) {
	addr := closedPort(t)
	start := time.Now()
	_, err := esdb.Open(context.Background(), "esdb://"+addr+"?tls=false", esdb.Options{})
	took := time.Since(start)
	require.Error(t, err)
	assert.Less(t, took, 5*time.Second, "an unreachable server must fail within seconds")
	assert.ErrorIs(t, err, esdb.ErrUnreachable)
	assert.Contains(t, err.Error(), addr, "the error names the server")
	assert.NotContains(t, err.Error(), "\n", "one line")
	t.Logf("after %s: %v", took.Round(time.Millisecond), err)
}

// TestOpenSilentServerTimesOut connects to a port that accepts connections
// but never answers, where the client alone would wait for most of a
// minute.
func TestOpenSilentServerTimesOut(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = lis.Close() })
	go func() {
		for {
			conn, err := lis.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = conn.Close() })
		}
	}()
	start := time.Now()
	_, err = esdb.Open(context.Background(), "esdb://"+lis.Addr().String()+"?tls=false", esdb.Options{ConnectTimeout: time.Second})
	took := time.Since(start)
	require.Error(t, err)
	assert.Less(t, took, 3*time.Second)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "did not answer within 1s")
}

func TestOpenHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := esdb.Open(ctx, "esdb://"+closedPort(t)+"?tls=false", esdb.Options{})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestOpenRefusesBadConnectionStrings(t *testing.T) {
	cases := map[string]struct{ conn, want string }{
		"OtherScheme":    {"http://localhost:2113", "starts with esdb://"},
		"NoHost":         {"esdb://?tls=false", "host"},
		"UnknownSetting": {"esdb://localhost:2113?nodePref=leader", `unknown setting "nodePref"`},
		"BadBool":        {"esdb://localhost:2113?tls=maybe", "tls"},
		"BadPreference":  {"esdb://localhost:2113?nodePreference=sideways", "NodePreference"},
		"MissingCAFile":  {"esdb://localhost:2113?tlsCAFile=/nonexistent/ca.pem", "/nonexistent/ca.pem"},
		"HidesPassword":  {"esdb://admin:secret@localhost:2113?bogus=1", "esdb://***@localhost:2113?bogus=1"},
		"HidesAwkward":   {"esdb://admin:secret/?@#:@localhost:2113", "esdb://***@localhost:2113: the user name or password holds a character"},
		"PortTooLarge":   {"esdb://localhost:67648?tls=false", `host localhost has port "67648"; a port is a number from 1 to 65535`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := esdb.Open(context.Background(), tc.conn, esdb.Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "secret")
		})
	}
}

// TestConnectionStringSchemes opens the test server by every scheme the
// contract names, discovery included, and with a node preference.
func TestConnectionStringSchemes(t *testing.T) {
	srv := startServer(t, esdbtest.Options{})
	for _, conn := range []string{
		"esdb://" + srv.Addr() + "?tls=false",
		"kurrentdb://" + srv.Addr() + "?tls=false",
		"KurrentDB://" + srv.Addr() + "?tls=false",
		"esdb+discover://" + srv.Addr() + "?tls=false",
		"kurrentdb+discover://" + srv.Addr() + "?tls=false&nodePreference=follower",
		"esdb://" + srv.Addr() + "," + closedPort(t) + "?tls=false&nodePreference=leader",
	} {
		t.Run(conn, func(t *testing.T) {
			assert.True(t, esdb.IsConnectionString(conn))
			s := mustOpen(t, conn, esdb.Options{})
			stream := "instrument-T" + strings.ToUpper(uuid.NewString()[:8])
			_, err := s.Append(context.Background(), stream, eventstore.NoStream, []eventstore.EventData{testEvent(1)})
			require.NoError(t, err)
			recs, err := s.ReadStream(context.Background(), stream, 0, 0)
			require.NoError(t, err)
			assert.Len(t, recs, 1)
		})
	}
	assert.False(t, esdb.IsConnectionString("./consensus.db"))
	assert.False(t, esdb.IsConnectionString("sqlite:ledger.db"))
}

// TestTLSAndCredentials runs over TLS with a server that requires
// credentials, given in the connection string or in the environment.
func TestTLSAndCredentials(t *testing.T) {
	srv := startServer(t, esdbtest.Options{TLS: true, Username: "ledger", Password: "s3cret"})
	_, port, err := net.SplitHostPort(srv.Addr())
	require.NoError(t, err)
	noCreds := "esdb://localhost:" + port + "?tlsCAFile=" + srv.CAFile()
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}

	t.Run("InConnectionString", func(t *testing.T) {
		s := mustOpen(t, srv.ConnectionString(), esdb.Options{Getenv: env(nil)})
		assertWrites(t, s)
	})
	t.Run("FromEnvironment", func(t *testing.T) {
		s := mustOpen(t, noCreds, esdb.Options{Getenv: env(map[string]string{esdb.EnvUsername: "ledger", esdb.EnvPassword: "s3cret"})})
		assertWrites(t, s)
	})
	t.Run("StringWinsOverEnvironment", func(t *testing.T) {
		s := mustOpen(t, srv.ConnectionString(), esdb.Options{Getenv: env(map[string]string{esdb.EnvUsername: "ledger", esdb.EnvPassword: "wrong"})})
		assertWrites(t, s)
	})
	t.Run("WrongPassword", func(t *testing.T) {
		_, err := esdb.Open(context.Background(), "esdb://ledger:wrong@localhost:"+port+"?tlsCAFile="+srv.CAFile(), esdb.Options{Getenv: env(nil)})
		assert.ErrorIs(t, err, esdb.ErrRefused)
		assert.NotContains(t, err.Error(), "wrong")
	})
	t.Run("NoCredentials", func(t *testing.T) {
		_, err := esdb.Open(context.Background(), noCreds, esdb.Options{Getenv: env(nil)})
		assert.ErrorIs(t, err, esdb.ErrRefused)
		assert.Contains(t, err.Error(), esdb.EnvUsername)
	})
	t.Run("UnknownCertificate", func(t *testing.T) {
		_, err := esdb.Open(context.Background(), "esdb://ledger:s3cret@localhost:"+port, esdb.Options{Getenv: env(nil), ConnectTimeout: 3 * time.Second})
		require.Error(t, err)
		assert.ErrorIs(t, err, esdb.ErrUnreachable)
		assert.Contains(t, err.Error(), "certificate")
	})
}

// assertWrites appends one event and reads it back.
func assertWrites(t *testing.T, s *esdb.Store) {
	t.Helper()
	stream := "instrument-TLS" + strings.ToUpper(uuid.NewString()[:6])
	res, err := s.Append(context.Background(), stream, eventstore.NoStream, []eventstore.EventData{testEvent(1)})
	require.NoError(t, err)
	got, err := s.ReadStream(context.Background(), stream, 0, 0)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, res.Records[0].Hash, got[0].Hash)
}

// TestCallsFailFastWhenTheServerGoes checks that calls on an open store
// fail with one clear error, not a hang, once the server is gone.
func TestCallsFailFastWhenTheServerGoes(t *testing.T) {
	srv, err := esdbtest.Start(esdbtest.Options{})
	require.NoError(t, err)
	s := mustOpen(t, srv.ConnectionString(), esdb.Options{Timeout: 2 * time.Second})
	require.NoError(t, srv.Close())

	start := time.Now()
	_, err = s.Append(context.Background(), "instrument-GONE", eventstore.Any, []eventstore.EventData{testEvent(1)})
	require.Error(t, err)
	assert.ErrorIs(t, err, esdb.ErrUnreachable)
	_, err = s.ReadStream(context.Background(), "instrument-GONE", 0, 0)
	assert.ErrorIs(t, err, esdb.ErrUnreachable)
	assert.Less(t, time.Since(start), 8*time.Second)
}

// testEvent is a valid event with a fresh id.
func testEvent(n int) eventstore.EventData {
	return eventstore.EventData{
		ID:          uuid.New(),
		Type:        "TestEvent",
		Data:        []byte(fmt.Sprintf(`{"n":%d}`, n)),
		Metadata:    []byte(`{"source":"esdb_test"}`),
		EffectiveAt: time.Date(2025, 9, 11, 23, 59, 59, 999999999, time.UTC).Add(time.Duration(n) * time.Second),
	}
}
